#pragma once

// Rebuild: throw away everything derived from the accepted-event log (identity graph, profiles,
// merge records, timelines, dead letters, resolver positions, profile counters, audience members,
// their change history and counters) and replay the log into fresh derived state under the given
// rules. The graph, profiles and timelines equal what live ingestion of the same log under the
// same rules produces, byte for byte, except for audience memberships: those are evaluated at the
// end of the replay, as of the time of the rebuild (with their entry times). Definitions of
// computed traits and audiences are kept. A space's resolver position stays where it was when the
// log's last records of the space were deleted (erasure), since the replay has seen everything
// up to it.
//
// The store must not be in use by a running server.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "privacy/privacy_store.h"
#include "privacy/suppression.h"
#include "profile_store/store.h"
#include "resolve/derived_state_options.h"

namespace tessera::resolve {

struct RebuildReport {
  std::vector<std::string> spaces;  // Spaces found in the log, each replayed.
  uint64_t events = 0;              // Log events applied (dead letters included).
  uint64_t dead_letters = 0;
  uint64_t profiles = 0;  // Profiles created (merged-away ones included).
  uint64_t merges = 0;
};

// What a replay's resolvers carry out erasures with, as live ones do: the store's privacy store and
// its suppression list, loaded for `spaces` (erasure commands still in the log are carried out;
// events of erased people are dropped).
struct ReplayPrivacy {
  std::unique_ptr<privacy::PrivacyStore> store;
  std::unique_ptr<privacy::SuppressionList> list;
};
absl::StatusOr<ReplayPrivacy> OpenReplayPrivacy(profile_store::Store& store, const std::vector<std::string>& spaces);

// Spaces that have at least one event in the log, in key order.
absl::StatusOr<std::vector<std::string>> LoggedSpaces(profile_store::Store& store);

// Deletes all derived state (see above) of every space.
absl::Status ClearDerivedState(profile_store::Store& store);

// ClearDerivedState, then replays the log of every logged space with `options`, as live
// resolution does.
absl::StatusOr<RebuildReport> Rebuild(profile_store::Store& store, const DerivedStateOptions& options);

}  // namespace tessera::resolve
