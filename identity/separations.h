#pragma once

// Separations: an admin's decision that two identifiers are not the same person ("unmerge",
// docs/stewardship.md). The identity graph never puts two separated identifiers into one profile:
// an event or a merge that would is treated like one that would break a limit. Separations are
// derived state (the resolver records them when it carries out a logged decision, and a rebuild
// records them again), kept in `meta` under
//   identity/separated/<space> 0x00 <varint length of A> A B       (and the same with A and B swapped)
// where A and B are "type 0x00 value", so a prefix scan on one identifier finds its partners.
//
// Thread-safety: the functions read the store and may run on any thread.

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "identity/identifier.h"
#include "profile_store/store.h"

namespace tessera::identity {

// The key prefix of every separation of `space`.
std::string SeparationPrefix(std::string_view space);
// The key recording that `a` is not the same person as `b` (one of the two rows of the pair).
std::string SeparationKey(std::string_view space, const Identifier& a, const Identifier& b);
// The partner named by a key under SeparationPrefix(space), and the identifier it is a partner of;
// InvalidArgument for a key of another layout.
absl::StatusOr<std::pair<Identifier, Identifier>> ParseSeparationKey(std::string_view space, std::string_view key);

// The identifiers `identifier` has been separated from, as the store holds them now.
absl::StatusOr<std::vector<Identifier>> SeparatedPartners(const profile_store::Store& store, std::string_view space,
                                                          const Identifier& identifier);

}  // namespace tessera::identity
