#pragma once

// KpiSnapshot: what the KPI dashboard (GET /v1/kpis, docs/kpis.md) is computed from, read from one
// space's derived state in one pass: the timeline (one row per applied event: its profile, time and
// channel), the merge records, the profiles (who was merged into whom, purchases by local day) and
// the audiences' change history. It holds per-day totals and, per person, the distinct (day,
// channel) pairs with events, so that any date range, granularity and channel is answered from it
// exactly (audiences/kpi_figures.h), distinct people counted once per period.
//
// Every figure is a function of derived state, itself a function of the log: a rebuild gives the
// same snapshot, and an erasure (which removes the person's timeline and profile) takes the person
// out of every figure. Days are local days of the space's time zone (the purchase rules' zone; UTC
// when unset), of each event's own time (a back-filled 1997 event counts in 1997).
//
// Reading costs one scan of the space's timeline, profiles and merges; the caller keeps the
// snapshot and decides when to read it again (api/kpi_handler.h).

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "base/time.h"
#include "base/time_zone.h"
#include "profile_store/purchase_history.h"
#include "profile_store/store.h"

namespace tessera::audiences {

struct KpiPerson {
  // Distinct (local day, channel index) pairs with at least one event, sorted.
  std::vector<std::pair<int32_t, uint16_t>> days;
  profile_store::PurchaseHistory purchases;
};

struct KpiAudienceHistory {
  std::string name;
  int64_t size = 0;  // Members now.
  // Each entry (+1) or exit (-1), by the local day it was recorded (wall clock, not event time).
  std::vector<std::pair<int32_t, int32_t>> changes;
};

struct KpiSnapshot {
  std::string space;
  std::optional<base::TimeZone> time_zone;
  base::Timestamp computed_at{};
  std::vector<std::string> channels;                           // By index, in name order.
  std::map<std::pair<int32_t, uint16_t>, uint64_t> events;     // (day, channel) -> events.
  std::map<int32_t, uint64_t> merges;                          // Day of the causing event -> merges.
  std::vector<KpiPerson> people;                               // Profiles not merged away.
  std::vector<KpiAudienceHistory> audiences;                   // In name order.
  std::optional<int32_t> first_day;                            // Days with any event.
  std::optional<int32_t> last_day;
};

// Reads `space`'s snapshot.
absl::StatusOr<KpiSnapshot> ReadKpiSnapshot(const profile_store::Store& store, const std::string& space,
                                            const std::optional<base::TimeZone>& time_zone);

}  // namespace tessera::audiences
