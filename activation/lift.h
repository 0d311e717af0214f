#pragma once

// A campaign's lift (issue 23): an audience's treated members (sent to destinations) against its
// holdout, on the share who converted (e.g. `Order Completed` within N days of entering) and on
// revenue per member, with 95% confidence intervals:
// - each conversion rate with Wilson's score interval;
// - the absolute lift (treated rate - holdout rate) with Newcombe's hybrid score interval (his
//   method 10, 1998), which keeps its coverage where the normal approximation does not (small
//   groups, rates near 0);
// - the relative lift (treated / holdout - 1) with the log risk-ratio interval (Katz), when both
//   groups converted at least once.
//
// Thread-safety: pure functions.

#include <cstdint>
#include <optional>

namespace tessera::activation {

struct GroupOutcome {
  uint64_t members = 0;
  uint64_t converted = 0;
  double revenue = 0;  // Sum over the group's conversions.
};

struct Interval {
  double low = 0;
  double high = 0;
};

struct Lift {
  double treated_rate = 0;
  double holdout_rate = 0;
  Interval treated_rate_ci;
  Interval holdout_rate_ci;
  double absolute = 0;  // treated_rate - holdout_rate
  Interval absolute_ci;
  std::optional<double> relative;  // treated_rate / holdout_rate - 1; unset when the holdout never converted.
  std::optional<Interval> relative_ci;
  double treated_revenue_per_member = 0;
  double holdout_revenue_per_member = 0;
};

// 95% Wilson score interval of `successes` out of `trials` (trials > 0).
Interval WilsonInterval(uint64_t successes, uint64_t trials);

// The lift of `treated` over `holdout`; nullopt when either group has no members.
std::optional<Lift> ComputeLift(const GroupOutcome& treated, const GroupOutcome& holdout);

}  // namespace tessera::activation
