#pragma once

// Measures a campaign on an audience (GET /v1/audiences/{name}/lift): every profile that entered
// the audience in [since, until) is in the treated group or in the holdout (activation/holdout.h,
// the same choice the outbox made), and converted if its timeline (merged profiles included) has
// the audience's conversion event within `within_days` of its first entry in that period, for the
// revenue those events carry. The groups are compared by activation/lift.h.
//
// Erased profiles are left out of both groups (nothing is left to measure them by).
// Thread-safety: pure over the store, which may change meanwhile (a read, not a snapshot).

#include <cstdint>
#include <optional>
#include <string_view>

#include "absl/status/statusor.h"
#include "activation/lift.h"
#include "audiences/definitions.h"
#include "base/time.h"
#include "profile_store/store.h"

namespace tessera::activation {

struct LiftReport {
  GroupOutcome treated;
  GroupOutcome holdout;
  uint64_t entries = 0;            // Profiles that entered in the period.
  uint64_t erased = 0;             // Of those, left out: erased since.
  uint64_t window_not_over = 0;    // Of those, entered less than within_days before `now`.
  std::optional<Lift> lift;        // Unset while a group is empty.
};

absl::StatusOr<LiftReport> MeasureLift(profile_store::Store& store, std::string_view space,
                                       const audiences::Audience& audience, base::Timestamp since,
                                       base::Timestamp until, base::Timestamp now);

}  // namespace tessera::activation
