#pragma once

// The figures of the KPI dashboard (GET /v1/kpis; docs/kpis.md has the answer member by member),
// computed from a space's KpiSnapshot (audiences/kpi_snapshot.h) for one date range, granularity
// and channel: per period, events (in all and by channel), distinct active people, new people,
// merges, orders, revenue, customers and repeat customers, audience sizes; totals over the range;
// and as of the range's last day the RFM grid, the distributions of P(alive) and CLV, and the
// purchase model's tracking plot (actual against predicted cumulative repeat transactions by week,
// calibration and holdout).
//
// Periods are whole: a week runs Monday to Sunday, a month from its first day, and the range is
// widened to whole periods. A channel filters the event figures (events, active and new people);
// purchase figures are every channel's, since purchases are kept per person and day, not per
// channel.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "audiences/kpi_snapshot.h"
#include "audiences/purchase_traits.h"

namespace tessera::audiences {

enum class KpiGranularity { kDay, kWeek, kMonth };

std::optional<KpiGranularity> ParseKpiGranularity(std::string_view text);

struct KpiQuery {
  std::optional<int32_t> from_day = std::nullopt;  // Default: 89 days before `to_day`.
  std::optional<int32_t> to_day = std::nullopt;    // Default: the last day with an event (today when none).
  KpiGranularity granularity = KpiGranularity::kDay;
  std::optional<std::string> channel = std::nullopt;
};

// At most this many periods in one answer.
inline constexpr size_t kMaxKpiPeriods = 3700;

// The answer's JSON. InvalidArgument naming the parameter for a range that ends before it starts
// or spans more than kMaxKpiPeriods periods.
// `model`: the purchase model the predictions and the tracking plot use (its as_of day ends the
// calibration period); null leaves them out.
absl::StatusOr<std::string> KpiJson(const KpiSnapshot& snapshot, const KpiQuery& query, const PurchaseModelState* model,
                                    base::Timestamp now);

}  // namespace tessera::audiences
