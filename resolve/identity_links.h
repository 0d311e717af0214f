#pragma once

// IdentityLinks answers "which events tied this person's identifiers together?" for the identity
// graph (GET /v1/profiles/{ref}/graph, the console's picture). The resolver keeps no per-link
// record, and need not: the accepted-event log is the truth. Links are recomputed from the
// profile's timeline (newest first, its merged profiles' included): each event's identifiers are
// extracted and normalized exactly as ingestion did, and the first one it carries (userId before
// anonymousId before traits, the extractor's order) is linked to each other one it carries.
// Identifiers no longer the profile's (erased, or kept out by an identity rule) are left out.
//
// Thread-safety: a pure read of the store through ProfileReader; call from any thread.

#include <cstddef>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "identity/normalizer.h"
#include "ingest/identifier_extractor.h"
#include "profile_store/profile_reader.h"

namespace tessera::resolve {

// The events that carried two identifiers ("type:value", normalized) together.
struct IdentityLink {
  std::string from = {};  // The first identifier those events carried.
  std::string to = {};
  size_t events = 0;
  std::set<std::string> event_names = {};  // Track names, else the type ("identify"); at most kMaxLinkNames.
  std::set<std::string> sources = {};
  std::set<std::string> channels = {};
  base::Timestamp first{};  // Oldest and newest of those events (event time).
  base::Timestamp last{};
  std::string first_message_id = {};  // The oldest one: the event that linked them first.
};

struct IdentityLinks {
  std::vector<IdentityLink> links = {};  // Ordered by (from, to).
  size_t scanned_events = 0;
  bool complete = true;  // False when the timeline held more than the events scanned.
};

inline constexpr size_t kMaxLinkNames = 8;

// Scans at most `max_events` of `profile`'s newest events. Errors are the store's.
absl::StatusOr<IdentityLinks> FindIdentityLinks(const profile_store::ProfileReader& reader,
                                                std::string_view space, const profile_store::Profile& profile,
                                                const ingest::IdentifierExtractor& extractor,
                                                const identity::Normalizer& normalizer, size_t max_events);

// "type:value", the identifiers' form in links and in the graph's nodes.
std::string IdentifierKey(std::string_view type, std::string_view value);

}  // namespace tessera::resolve
