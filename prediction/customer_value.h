#pragma once

// Customer lifetime value over a horizon: the discounted sum, month by month, of the purchases BG/NBD
// expects in each month times the order value Gamma-Gamma expects (Fader, Hardie & Lee 2005, "RFM and
// CLV"; computed as lifetimes' customer_lifetime_value does with freq="W"):
//
//   CLV = Σ_{k=1..K} v · (E[Y(t_k)] − E[Y(t_{k−1})]) / (1 + d)^(t_k / m),   t_k = min(k·m, H), t_0 = 0,
//
// with v the expected order value, E[Y(t)] the expected purchases in the first t weeks after the
// summary's T (bg_nbd.h), d the monthly discount rate, m the month in weeks, H the horizon and
// K = ⌈H/m⌉. When H is a whole number of months this is exactly lifetimes' sum; a last, partial
// month is discounted at its own end. Pure and thread-safe.

#include "absl/status/statusor.h"
#include "prediction/bg_nbd.h"
#include "prediction/calibration_summary.h"

namespace tessera::prediction {

struct ValueOptions {
  // How far ahead to count purchases.
  Weeks horizon{52};
  // Discount per month, as a fraction (0.01 = 1 % a month); 0 for none.
  double monthly_discount_rate = 0.01;
  // The month the rate is per, in weeks: lifetimes' 4.345 (its freq="W" factor); 365.25/12/7 = 4.348
  // would be the calendar's average.
  Weeks month{4.345};
};

// InvalidArgument for bad parameters, summary or options (negative horizon, a rate ≤ −1, a month ≤ 0,
// a non-finite order value).
absl::StatusOr<double> CustomerLifetimeValue(const BgNbdParameters& parameters,
                                             const CalibrationSummary& customer, double expected_order_value,
                                             const ValueOptions& options = {});

}  // namespace tessera::prediction
