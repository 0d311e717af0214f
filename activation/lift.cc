#include "activation/lift.h"

#include <algorithm>
#include <cmath>

namespace tessera::activation {
namespace {

constexpr double kZ = 1.959963984540054;  // The 97.5th percentile of the standard normal.

}  // namespace

Interval WilsonInterval(uint64_t successes, uint64_t trials) {
  const double n = static_cast<double>(trials);
  const double p = static_cast<double>(successes) / n;
  const double z2 = kZ * kZ;
  const double centre = (p + z2 / (2 * n)) / (1 + z2 / n);
  const double half = kZ * std::sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / (1 + z2 / n);
  return {std::max(0.0, centre - half), std::min(1.0, centre + half)};
}

std::optional<Lift> ComputeLift(const GroupOutcome& treated, const GroupOutcome& holdout) {
  if (treated.members == 0 || holdout.members == 0) return std::nullopt;
  Lift lift;
  lift.treated_rate = static_cast<double>(treated.converted) / static_cast<double>(treated.members);
  lift.holdout_rate = static_cast<double>(holdout.converted) / static_cast<double>(holdout.members);
  lift.treated_rate_ci = WilsonInterval(treated.converted, treated.members);
  lift.holdout_rate_ci = WilsonInterval(holdout.converted, holdout.members);
  lift.absolute = lift.treated_rate - lift.holdout_rate;
  const double p1 = lift.treated_rate;
  const double p0 = lift.holdout_rate;
  const Interval w1 = lift.treated_rate_ci;
  const Interval w0 = lift.holdout_rate_ci;
  lift.absolute_ci = {lift.absolute - std::sqrt((p1 - w1.low) * (p1 - w1.low) + (w0.high - p0) * (w0.high - p0)),
                      lift.absolute + std::sqrt((w1.high - p1) * (w1.high - p1) + (p0 - w0.low) * (p0 - w0.low))};
  if (treated.converted > 0 && holdout.converted > 0) {
    const double ratio = p1 / p0;
    lift.relative = ratio - 1;
    const double se = std::sqrt((1 - p1) / (static_cast<double>(treated.members) * p1) +
                                (1 - p0) / (static_cast<double>(holdout.members) * p0));
    lift.relative_ci = Interval{std::exp(std::log(ratio) - kZ * se) - 1, std::exp(std::log(ratio) + kZ * se) - 1};
  }
  lift.treated_revenue_per_member = treated.revenue / static_cast<double>(treated.members);
  lift.holdout_revenue_per_member = holdout.revenue / static_cast<double>(holdout.members);
  return lift;
}

}  // namespace tessera::activation
