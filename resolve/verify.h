#pragma once

// VerifyDerivedState checks the promise that derived state is a function of the accepted-event
// log: the store's identity graph, profiles, merges and timelines, once its resolvers have applied
// the whole log, must equal what a rebuild from the log (resolve/rebuild.h) gives, row for row.
//
// It never changes the contents of the store it checks. It works on two checkpoints of it (hard
// links when on the same file system, so cheap in time and space), in a work directory it removes
// afterwards:
//   1. "live": the resolvers apply whatever part of the log they had not yet applied, exactly as a
//      server does when it starts (after a crash, that is the suffix of derived writes the crash
//      lost);
//   2. "rebuilt": a checkpoint of the caught-up live copy, rebuilt from the log;
// then compares, key by key, these rows of the two copies:
//   identifiers, profiles, merges, timeline, dead_letter, and in meta the resolver positions
//   (`resolver/position/<space>`), profile id counters (`profiles/next_id/<space>`) and the
//   admins' separations (`identity/separated/<space>`, identity/separations.h).
// Audience memberships are evaluated at rebuild time (resolve/rebuild.h), so they are left out:
// the members and audience_changes families, the audience counters and RFM cut points in meta,
// and the `audiences` member of profile records. Computed-trait state in profiles is compared.
//
// The store must not be written while this runs (the server stopped; see `tessera verify`).

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "profile_store/store.h"
#include "resolve/derived_state_options.h"

namespace tessera::resolve {

struct VerifyOptions {
  // Where the two copies go: a fresh subdirectory of it, removed at the end. Empty: a fresh
  // directory next to the store (same file system, so the copies are hard links).
  std::string work_dir = {};
  size_t max_differences = 10;  // Differences kept in the report (all are counted).
};

// One row that differs: present in only one copy (the other is nullopt), or with other values.
struct DerivedDifference {
  std::string family;                  // "profiles", "meta", ...
  std::string key;                     // The key, with bytes that are not printable as \xHH.
  std::optional<std::string> live;     // The value after catching up.
  std::optional<std::string> rebuilt;  // The value after the rebuild.
};

struct VerifyReport {
  std::vector<std::string> spaces;  // Spaces in the log.
  uint64_t caught_up_events = 0;    // Log events the live copy's resolvers had not yet applied.
  uint64_t replayed_events = 0;     // Log events the rebuild applied.
  uint64_t rows_compared = 0;       // Distinct keys compared.
  uint64_t differing_rows = 0;
  std::vector<DerivedDifference> differences;  // The first max_differences, in key order per family.

  bool identical() const { return differing_rows == 0; }
};

// See above. `options` are the derived-state options of the store's configuration (rules, normalizer,
// mappings, definitions), as for Rebuild. Errors are the store's or the file system's; differences
// are not errors but part of the report.
absl::StatusOr<VerifyReport> VerifyDerivedState(profile_store::Store& store,
                                                const DerivedStateOptions& options,
                                                const VerifyOptions& verify = {});

}  // namespace tessera::resolve
