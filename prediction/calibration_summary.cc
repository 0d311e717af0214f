#include "prediction/calibration_summary.h"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"

namespace tessera::prediction {
namespace {

// Days since 1970-01-01 on the zone's calendar: the day a purchase counts for.
int64_t LocalDay(base::Timestamp instant, const base::TimeZone& zone) {
  return std::chrono::floor<std::chrono::days>(zone.ToLocal(instant)).time_since_epoch().count();
}

Weeks DaysAsWeeks(int64_t days) { return std::chrono::days(days); }

}  // namespace

absl::StatusOr<CalibrationSummary> SummarizeCalibration(std::span<const Transaction> transactions,
                                                        base::Timestamp as_of, const base::TimeZone& zone) {
  if (transactions.empty()) return absl::InvalidArgumentError("calibration summary: no transactions");
  // (local day, value) of every transaction in the calibration period, then one entry per day.
  std::vector<std::pair<int64_t, double>> days;
  days.reserve(transactions.size());
  for (size_t i = 0; i < transactions.size(); ++i) {
    const Transaction& transaction = transactions[i];
    if (!std::isfinite(transaction.value)) {
      return absl::InvalidArgumentError(
          absl::StrCat("calibration summary: transactions[", i, "].value is not a finite number"));
    }
    if (transaction.time <= as_of) days.emplace_back(LocalDay(transaction.time, zone), transaction.value);
  }
  if (days.empty()) {
    return absl::NotFoundError(
        "calibration summary: every transaction is after as_of (no first purchase yet)");
  }
  std::sort(days.begin(), days.end());

  const int64_t first_day = days.front().first;
  int64_t purchase_days = 0;
  double repeat_total = 0;
  // Summed day by day, so that a day's purchases become one transaction before anything is counted.
  for (size_t i = 0; i < days.size();) {
    const int64_t day = days[i].first;
    double day_total = 0;
    for (; i < days.size() && days[i].first == day; ++i) day_total += days[i].second;
    ++purchase_days;
    if (day != first_day) repeat_total += day_total;
  }

  CalibrationSummary summary;
  summary.repeat_transactions = purchase_days - 1;
  summary.recency = DaysAsWeeks(days.back().first - first_day);
  summary.age = DaysAsWeeks(LocalDay(as_of, zone) - first_day);
  summary.mean_repeat_value =
      summary.repeat_transactions > 0 ? repeat_total / static_cast<double>(summary.repeat_transactions) : 0.0;
  return summary;
}

int64_t CountRepeatTransactions(std::span<const Transaction> transactions, base::Timestamp after,
                                base::Timestamp until, const base::TimeZone& zone) {
  if (transactions.empty()) return 0;
  base::Timestamp first_purchase = transactions.front().time;
  for (const Transaction& transaction : transactions)
    first_purchase = std::min(first_purchase, transaction.time);

  std::vector<int64_t> counted_days;  // Days that had a purchase at or before `after`, and the first.
  std::vector<int64_t> interval_days;
  counted_days.push_back(LocalDay(first_purchase, zone));
  for (const Transaction& transaction : transactions) {
    if (transaction.time <= after) {
      counted_days.push_back(LocalDay(transaction.time, zone));
    } else if (transaction.time <= until) {
      interval_days.push_back(LocalDay(transaction.time, zone));
    }
  }
  std::sort(counted_days.begin(), counted_days.end());
  std::sort(interval_days.begin(), interval_days.end());
  interval_days.erase(std::unique(interval_days.begin(), interval_days.end()), interval_days.end());
  int64_t repeats = 0;
  for (int64_t day : interval_days) {
    if (!std::binary_search(counted_days.begin(), counted_days.end(), day)) ++repeats;
  }
  return repeats;
}

absl::Status ValidateSummary(const CalibrationSummary& summary) {
  const double recency = summary.recency.count();
  const double age = summary.age.count();
  if (summary.repeat_transactions < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("repeat_transactions (x) is negative: ", summary.repeat_transactions));
  }
  if (!std::isfinite(recency) || recency < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("recency (t_x) must be a finite number >= 0, got ", recency));
  }
  if (!std::isfinite(age) || age < 0) {
    return absl::InvalidArgumentError(absl::StrCat("age (T) must be a finite number >= 0, got ", age));
  }
  if (recency > age) {
    return absl::InvalidArgumentError(
        absl::StrCat("recency (t_x) ", recency, " weeks is after the age (T) ", age, " weeks"));
  }
  if (summary.repeat_transactions == 0 && recency != 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "recency (t_x) is ", recency, " weeks with no repeat transaction (x = 0): it must be 0"));
  }
  if (!std::isfinite(summary.mean_repeat_value)) {
    return absl::InvalidArgumentError("mean_repeat_value (zbar) is not a finite number");
  }
  return absl::OkStatus();
}

}  // namespace tessera::prediction
