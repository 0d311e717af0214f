#include "prediction/calibration_summary.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "base/time.h"
#include "base/time_zone.h"

namespace tessera::prediction {
namespace {

base::Timestamp At(std::string_view iso) { return base::ParseIso8601(iso).value(); }
base::TimeZone Zone(std::string_view name) { return base::TimeZone::Parse(name).value(); }

TEST(CalibrationSummaryTest, SameLocalDayIsOneTransactionWithTheSummedValue) {
  // 23:30 and 23:50 UTC on the 1st are the 2nd in Seoul, as is 10:00 UTC on the 2nd: one transaction.
  const std::vector<Transaction> purchases = {
      {.time = At("2024-03-01T08:00:00Z"), .value = 10},
      {.time = At("2024-03-01T23:30:00Z"), .value = 5},
      {.time = At("2024-03-01T23:50:00Z"), .value = 7},
      {.time = At("2024-03-02T10:00:00Z"), .value = 3},
  };
  const CalibrationSummary seoul =
      SummarizeCalibration(purchases, At("2024-03-15T00:00:00Z"), Zone("+09:00")).value();
  EXPECT_EQ(seoul.repeat_transactions, 1) << "the 1st and the 2nd in Seoul";
  EXPECT_DOUBLE_EQ(seoul.mean_repeat_value, 15) << "5 + 7 + 3 on the 2nd in Seoul";
  EXPECT_DOUBLE_EQ(seoul.recency.count(), 1.0 / 7);

  const CalibrationSummary utc =
      SummarizeCalibration(purchases, At("2024-03-15T00:00:00Z"), Zone("UTC")).value();
  EXPECT_EQ(utc.repeat_transactions, 1) << "the 1st (three purchases) and the 2nd in UTC";
  EXPECT_DOUBLE_EQ(utc.mean_repeat_value, 3);
}

TEST(CalibrationSummaryTest, CountsWeeksFromTheFirstPurchaseDay) {
  // In any order; the one after as_of is not part of the calibration.
  const std::vector<Transaction> purchases = {
      {.time = At("2024-01-15T12:00:00Z"), .value = 20},
      {.time = At("2024-01-01T09:00:00Z"), .value = 99},
      {.time = At("2024-01-08T18:00:00Z"), .value = 10},
      {.time = At("2024-02-01T00:00:00Z"), .value = 1000},
  };
  const CalibrationSummary summary =
      SummarizeCalibration(purchases, At("2024-01-29T23:59:59Z"), Zone("UTC")).value();
  EXPECT_EQ(summary.repeat_transactions, 2);
  EXPECT_DOUBLE_EQ(summary.recency.count(), 2.0) << "Jan 1 to Jan 15";
  EXPECT_DOUBLE_EQ(summary.age.count(), 4.0) << "Jan 1 to Jan 29";
  EXPECT_DOUBLE_EQ(summary.mean_repeat_value, 15) << "(10 + 20) / 2; the first purchase's 99 is left out";
}

TEST(CalibrationSummaryTest, OnePurchaseHasNoRepeatAndZeroRecency) {
  const std::vector<Transaction> purchases = {{.time = At("2024-01-01T09:00:00Z"), .value = 50}};
  const CalibrationSummary summary =
      SummarizeCalibration(purchases, At("2024-01-22T00:00:00Z"), Zone("UTC")).value();
  EXPECT_EQ(summary.repeat_transactions, 0);
  EXPECT_EQ(summary.recency.count(), 0);
  EXPECT_DOUBLE_EQ(summary.age.count(), 3);
  EXPECT_EQ(summary.mean_repeat_value, 0);
}

TEST(CalibrationSummaryTest, RefusesWhatCannotBeSummarized) {
  EXPECT_EQ(SummarizeCalibration({}, At("2024-01-01T00:00:00Z"), Zone("UTC")).status().code(),
            absl::StatusCode::kInvalidArgument);
  const std::vector<Transaction> later = {{.time = At("2024-02-01T00:00:00Z"), .value = 1}};
  EXPECT_EQ(SummarizeCalibration(later, At("2024-01-01T00:00:00Z"), Zone("UTC")).status().code(),
            absl::StatusCode::kNotFound)
      << "a customer whose first purchase is after as_of is not in the calibration";
  const std::vector<Transaction> not_a_number = {{.time = At("2024-01-01T00:00:00Z"), .value = NAN}};
  const absl::Status status =
      SummarizeCalibration(not_a_number, At("2024-02-01T00:00:00Z"), Zone("UTC")).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("transactions[0].value"), std::string_view::npos) << status;
}

TEST(CalibrationSummaryTest, RepeatTransactionsInAHoldoutSkipDaysAlreadyCounted) {
  const std::vector<Transaction> purchases = {
      {.time = At("2024-01-01T09:00:00Z"), .value = 1},  // First purchase.
      {.time = At("2024-01-10T09:00:00Z"), .value = 1},  // Calibration, at or before `after`.
      {.time = At("2024-01-10T20:00:00Z"), .value = 1},  // Same day as the calibration's last: counted.
      {.time = At("2024-01-12T09:00:00Z"), .value = 1},  // Holdout.
      {.time = At("2024-01-12T10:00:00Z"), .value = 1},  // Same holdout day.
      {.time = At("2024-01-20T09:00:00Z"), .value = 1},  // Holdout.
      {.time = At("2024-03-01T09:00:00Z"), .value = 1},  // After `until`.
  };
  EXPECT_EQ(
      CountRepeatTransactions(purchases, At("2024-01-10T12:00:00Z"), At("2024-01-31T23:59:59Z"), Zone("UTC")),
      2);
  EXPECT_EQ(CountRepeatTransactions({}, At("2024-01-10T12:00:00Z"), At("2024-01-31T23:59:59Z"), Zone("UTC")),
            0);
  // A customer whose first purchase falls in the interval: that day is not a repeat.
  const std::vector<Transaction> new_customer = {{.time = At("2024-01-15T09:00:00Z"), .value = 1},
                                                 {.time = At("2024-01-16T09:00:00Z"), .value = 1}};
  EXPECT_EQ(CountRepeatTransactions(new_customer, At("2024-01-10T12:00:00Z"), At("2024-01-31T23:59:59Z"),
                                    Zone("UTC")),
            1);
}

TEST(CalibrationSummaryTest, ValidationNamesTheBadField) {
  CalibrationSummary summary{
      .repeat_transactions = 2, .recency = Weeks(3), .age = Weeks(5), .mean_repeat_value = 1};
  EXPECT_TRUE(ValidateSummary(summary).ok());
  CalibrationSummary after_age = summary;
  after_age.recency = Weeks(6);
  EXPECT_NE(ValidateSummary(after_age).message().find("recency (t_x)"), std::string_view::npos);
  CalibrationSummary negative = summary;
  negative.repeat_transactions = -1;
  EXPECT_EQ(ValidateSummary(negative).code(), absl::StatusCode::kInvalidArgument);
  CalibrationSummary recency_without_repeat = summary;
  recency_without_repeat.repeat_transactions = 0;
  EXPECT_EQ(ValidateSummary(recency_without_repeat).code(), absl::StatusCode::kInvalidArgument);
  CalibrationSummary infinite_age = summary;
  infinite_age.age = Weeks(INFINITY);
  EXPECT_NE(ValidateSummary(infinite_age).message().find("age (T)"), std::string_view::npos);
}

}  // namespace
}  // namespace tessera::prediction
