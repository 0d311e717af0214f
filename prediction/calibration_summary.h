#pragma once

// A customer's purchases reduced to what the models read, the papers' "calibration summary" (Fader,
// Hardie & Lee 2005): purchases on the same local calendar day are one transaction whose value is
// their sum; days are counted in the space's time zone, and time is in weeks (days / 7).
//
//   x     repeat transactions: purchase days up to as_of, minus the first one
//   t_x   last purchase day − first purchase day
//   T     as_of's day − first purchase day
//   zbar  mean value of the repeat transactions (the first one says how the customer was acquired,
//         not how they spend, so the spend model leaves it out); 0 when x = 0
//
// On CDNOW (1997-01-01 .. 1997-09-30) customer 1 has x = 2, t_x = 30.43, T = 38.86, zbar = 22.35.

#include <chrono>
#include <cstdint>
#include <ratio>
#include <span>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "base/time.h"
#include "base/time_zone.h"

namespace tessera::prediction {

// Time as the models count it: weeks, fractional. std::chrono::days converts to it implicitly.
using Weeks = std::chrono::duration<double, std::ratio<7 * 24 * 60 * 60>>;

struct Transaction {
  base::Timestamp time;
  // In the space's currency units. Zero (a free order) and negative (a refund) are kept: they count as
  // purchases and in the day's sum, and the spend model decides what it can use.
  double value = 0;
};

struct CalibrationSummary {
  int64_t repeat_transactions = 0;  // x
  Weeks recency{0};                 // t_x
  Weeks age{0};                     // T
  double mean_repeat_value = 0;     // zbar
};

// The summary of one customer's transactions (any order) at or before `as_of`; later ones are
// ignored. InvalidArgument for no transactions or a non-finite value; NotFound when every
// transaction is after `as_of` (the customer had not yet bought then, so is not in the calibration).
absl::StatusOr<CalibrationSummary> SummarizeCalibration(std::span<const Transaction> transactions,
                                                        base::Timestamp as_of, const base::TimeZone& zone);

// Repeat transactions in (after, until]: the local days with a purchase in that interval, except a day
// that already had one at or before `after` (it was counted then) and the customer's first purchase
// day (not a repeat). The holdout's actual figure to set against ExpectedPurchases (bg_nbd.h).
int64_t CountRepeatTransactions(std::span<const Transaction> transactions, base::Timestamp after,
                                base::Timestamp until, const base::TimeZone& zone);

// OK, or InvalidArgument naming what is wrong: x < 0, a negative or non-finite time, t_x > T, t_x > 0
// with x = 0, a non-finite mean value.
absl::Status ValidateSummary(const CalibrationSummary& summary);

}  // namespace tessera::prediction
