#include "prediction/customer_value.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"

namespace tessera::prediction {

absl::StatusOr<double> CustomerLifetimeValue(const BgNbdParameters& parameters,
                                             const CalibrationSummary& customer, double expected_order_value,
                                             const ValueOptions& options) {
  const double horizon = options.horizon.count();
  const double month = options.month.count();
  const double rate = options.monthly_discount_rate;
  if (!std::isfinite(horizon) || horizon < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("CLV: horizon must be a finite number of weeks >= 0, got ", horizon));
  }
  if (!std::isfinite(month) || month <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("CLV: month must be a finite number of weeks > 0, got ", month));
  }
  if (!std::isfinite(rate) || rate <= -1) {
    return absl::InvalidArgumentError(
        absl::StrCat("CLV: monthly discount rate must be finite and > -1, got ", rate));
  }
  if (!std::isfinite(expected_order_value)) {
    return absl::InvalidArgumentError("CLV: expected order value is not a finite number");
  }

  double value = 0;
  double previous_end = 0;
  double previous_expected = 0;
  // E[Y(t)] is cumulative, so a month's purchases are the difference of its end's and its start's.
  while (previous_end < horizon) {
    const double end = std::min(previous_end + month, horizon);
    absl::StatusOr<double> expected = ExpectedPurchases(parameters, customer, Weeks(end));
    if (!expected.ok()) return expected.status();
    value += expected_order_value * (*expected - previous_expected) / std::pow(1 + rate, end / month);
    previous_end = end;
    previous_expected = *expected;
  }
  return value;
}

}  // namespace tessera::prediction
