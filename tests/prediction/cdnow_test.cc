// The published CDNOW results, reproduced from the raw purchases: the calibration summaries, BG/NBD's
// and Gamma-Gamma's parameters, customer 1's conditional expectation, and the 39-week holdout. The
// figures printed here are the ones quoted in docs/prediction.md.

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "base/time_zone.h"
#include "prediction/purchase_model.h"
#include "tests/prediction/cdnow_data.h"

namespace tessera::prediction {
namespace {

// Calibration 1997-01-01 .. 1997-09-30 (39 weeks), holdout 1997-10-01 .. 1998-06-30 (39 weeks).
const base::Timestamp kCalibrationEnd = testing::EndOfDay(1997, 9, 30);
const base::Timestamp kHoldoutEnd = testing::EndOfDay(1998, 6, 30);
constexpr Weeks kHoldout{39};

class CdnowTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    absl::StatusOr<std::vector<std::vector<Transaction>>> read = testing::ReadCdnow();
    ASSERT_TRUE(read.ok()) << read.status();
    purchases_ = new std::vector<std::vector<Transaction>>(*std::move(read));
    summaries_ = new std::vector<CalibrationSummary>();
    const base::TimeZone utc = base::TimeZone::Parse("UTC").value();
    for (size_t i = 0; i < purchases_->size(); ++i) {
      absl::StatusOr<CalibrationSummary> summary =
          SummarizeCalibration((*purchases_)[i], kCalibrationEnd, utc);
      ASSERT_TRUE(summary.ok()) << "customer " << i + 1 << ": " << summary.status();
      summaries_->push_back(*summary);
    }
    absl::StatusOr<PurchaseModelFit> fit = FitPurchaseModel(*summaries_);
    ASSERT_TRUE(fit.ok()) << fit.status();
    fit_ = new PurchaseModelFit(*std::move(fit));
  }
  static void TearDownTestSuite() {
    delete purchases_;
    delete summaries_;
    delete fit_;
  }

  static std::vector<std::vector<Transaction>>* purchases_;
  static std::vector<CalibrationSummary>* summaries_;
  static PurchaseModelFit* fit_;
};

std::vector<std::vector<Transaction>>* CdnowTest::purchases_ = nullptr;
std::vector<CalibrationSummary>* CdnowTest::summaries_ = nullptr;
PurchaseModelFit* CdnowTest::fit_ = nullptr;

void ExpectWithinPercent(double actual, double published, double percent, const std::string& what) {
  EXPECT_LE(std::abs(actual - published), percent / 100 * std::abs(published))
      << what << ": fitted " << actual << ", published " << published;
}

TEST_F(CdnowTest, SummarizesEveryCustomerAsPublished) {
  ASSERT_EQ(summaries_->size(), 2357u);
  const CalibrationSummary& customer_one = (*summaries_)[0];
  EXPECT_EQ(customer_one.repeat_transactions, 2);
  EXPECT_NEAR(customer_one.recency.count(), 30.43, 0.005);
  EXPECT_NEAR(customer_one.age.count(), 38.86, 0.005);
  // (29.73 + 14.96) / 2 = 22.345, which the README (and lifetimes) print rounded as 22.35.
  EXPECT_NEAR(customer_one.mean_repeat_value, 22.345, 1e-9);
  int64_t repeaters = 0;
  for (const CalibrationSummary& summary : *summaries_) repeaters += summary.repeat_transactions > 0 ? 1 : 0;
  EXPECT_EQ(repeaters, 946) << "the paper's 946 customers with a repeat transaction";
}

TEST_F(CdnowTest, BgNbdReproducesThePublishedFit) {
  const BgNbdFit& fit = fit_->bg_nbd;
  std::printf(
      "BG/NBD: r %.4f alpha %.4f a %.4f b %.4f LL %.2f; %lld customers, %lld repeat; %s, %d evaluations, "
      "gradient norm %.2g, converged %d (%s), %.1f ms\n",
      fit.parameters.r, fit.parameters.alpha, fit.parameters.a, fit.parameters.b, fit.log_likelihood,
      static_cast<long long>(fit.customers), static_cast<long long>(fit.repeat_customers),
      fit.convergence.algorithm.c_str(), fit.convergence.evaluations, fit.convergence.gradient_norm,
      fit.convergence.converged, fit.convergence.stop_reason.c_str(), 1e3 * fit.convergence.elapsed.count());
  EXPECT_TRUE(fit.convergence.converged) << fit.convergence.stop_reason;
  ExpectWithinPercent(fit.parameters.r, 0.243, 1, "r");
  ExpectWithinPercent(fit.parameters.alpha, 4.414, 1, "alpha");
  ExpectWithinPercent(fit.parameters.a, 0.793, 1, "a");
  ExpectWithinPercent(fit.parameters.b, 2.426, 1, "b");
  EXPECT_NEAR(fit.log_likelihood, -9582.4, 0.5);
  EXPECT_EQ(fit.customers, 2357);
  EXPECT_EQ(fit.repeat_customers, 946);
}

TEST_F(CdnowTest, GammaGammaReproducesThePublishedFit) {
  const GammaGammaFit& fit = fit_->gamma_gamma;
  std::printf(
      "Gamma-Gamma: p %.4f q %.4f gamma %.4f LL %.2f; %lld customers, %lld left out without a repeat, "
      "%lld with mean value <= 0; %s, %d evaluations, converged %d (%s), %.1f ms\n",
      fit.parameters.p, fit.parameters.q, fit.parameters.gamma, fit.log_likelihood,
      static_cast<long long>(fit.customers), static_cast<long long>(fit.left_out_no_repeat),
      static_cast<long long>(fit.left_out_non_positive_value), fit.convergence.algorithm.c_str(),
      fit.convergence.evaluations, fit.convergence.converged, fit.convergence.stop_reason.c_str(),
      1e3 * fit.convergence.elapsed.count());
  EXPECT_TRUE(fit.convergence.converged) << fit.convergence.stop_reason;
  ExpectWithinPercent(fit.parameters.p, 6.25, 1, "p");
  ExpectWithinPercent(fit.parameters.q, 3.74, 1, "q");
  ExpectWithinPercent(fit.parameters.gamma, 15.44, 1, "gamma");
  EXPECT_EQ(fit.customers, 946);
  EXPECT_EQ(fit.left_out_no_repeat, 2357 - 946);
  EXPECT_EQ(fit.left_out_non_positive_value, 0);
}

TEST_F(CdnowTest, CustomerOnesExpectationsMatchThePaper) {
  const PurchaseModel model = fit_->model();
  const CalibrationSummary& customer_one = (*summaries_)[0];
  const double expected = ExpectedPurchases(model.bg_nbd, customer_one, kHoldout).value();
  EXPECT_NEAR(expected, 1.226, 0.005) << "the paper's E[Y(39) | x=2, t_x=30.43, T=38.86]";
  const CustomerPrediction prediction =
      PredictCustomer(model, customer_one, {.horizon = kHoldout, .monthly_discount_rate = 0.01}).value();
  std::printf(
      "Customer 1 over 39 weeks: expected purchases %.4f, P(alive) %.4f, expected order value %.2f, "
      "CLV at 1%%/month %.2f\n",
      prediction.expected_purchases, prediction.p_alive, prediction.expected_order_value, prediction.clv);
}

TEST_F(CdnowTest, HoldoutForecastTracksTheActualTransactions) {
  const PurchaseModel model = fit_->model();
  const base::TimeZone utc = base::TimeZone::Parse("UTC").value();
  // Calibration frequency groups x = 0 .. 6 and 7+, as in the paper's figure of conditional expectations.
  constexpr int kGroups = 8;
  double predicted[kGroups] = {};
  double actual[kGroups] = {};
  int customers[kGroups] = {};
  for (size_t i = 0; i < summaries_->size(); ++i) {
    const CalibrationSummary& summary = (*summaries_)[i];
    const int group = static_cast<int>(std::min<int64_t>(summary.repeat_transactions, kGroups - 1));
    predicted[group] += ExpectedPurchases(model.bg_nbd, summary, kHoldout).value();
    actual[group] +=
        static_cast<double>(CountRepeatTransactions((*purchases_)[i], kCalibrationEnd, kHoldoutEnd, utc));
    ++customers[group];
  }
  double predicted_total = 0;
  double actual_total = 0;
  std::printf(
      "| x in calibration | customers | actual holdout repeat transactions | predicted | actual per "
      "customer | predicted per customer |\n|---|---|---|---|---|---|\n");
  for (int group = 0; group < kGroups; ++group) {
    std::printf("| %s | %d | %.0f | %.1f | %.3f | %.3f |\n",
                group == kGroups - 1 ? "7+" : std::to_string(group).c_str(), customers[group], actual[group],
                predicted[group], actual[group] / customers[group], predicted[group] / customers[group]);
    predicted_total += predicted[group];
    actual_total += actual[group];
  }
  std::printf("| all | %zu | %.0f | %.1f | %.3f | %.3f |\n", summaries_->size(), actual_total,
              predicted_total, actual_total / summaries_->size(), predicted_total / summaries_->size());
  // The faithful model under-forecasts this holdout by 12% (1653.4 against 1882), almost all of it in
  // the x = 1 and x = 2 groups (151 of the 229 missing): BG/NBD on CDNOW does, with the published
  // parameters just as with ours (see docs/prediction.md). So a 5% bound on the holdout alone cannot
  // hold; 15% says "the model, not noise", and the figure itself is pinned to 0.5% so that a change in
  // the summary convention, the likelihood or the expectation cannot slip through unnoticed.
  EXPECT_NEAR(predicted_total, actual_total, 0.15 * actual_total)
      << "predicted " << predicted_total << " vs actual " << actual_total;
  EXPECT_EQ(actual_total, 1882) << "repeat transactions (purchase days) from 1997-10-01 to 1998-06-30";
  EXPECT_NEAR(predicted_total, 1653.4, 0.005 * 1653.4);
  const double published_total = [&] {
    const BgNbdParameters published = {.r = 0.243, .alpha = 4.414, .a = 0.793, .b = 2.426};
    double total = 0;
    for (const CalibrationSummary& summary : *summaries_)
      total += ExpectedPurchases(published, summary, kHoldout).value();
    return total;
  }();
  std::printf(
      "holdout: actual %.0f, predicted %.1f with the fitted parameters, %.1f with the published ones\n",
      actual_total, predicted_total, published_total);
  EXPECT_NEAR(published_total, predicted_total, 0.005 * predicted_total) << "the published parameters agree";
}

TEST_F(CdnowTest, CohortTrackingCurveFollowsTheActualCumulativeTransactions) {
  // The paper's figure 2: cumulative repeat transactions of the whole cohort, week by week from
  // 1997-01-01, against Σ over customers of E[X(time since their first purchase)].
  const PurchaseModel model = fit_->model();
  constexpr int kWeeks = 78;
  std::vector<int> first_day;  // Days since 1997-01-01.
  std::vector<double> actual_by_week(kWeeks + 1, 0);
  const base::Timestamp start = testing::EndOfDay(1996, 12, 31) + std::chrono::microseconds(1);
  for (const std::vector<Transaction>& purchases : *purchases_) {
    std::vector<int> days;
    days.reserve(purchases.size());
    for (const Transaction& purchase : purchases) {
      days.push_back(static_cast<int>(std::chrono::floor<std::chrono::days>(purchase.time - start).count()));
    }
    std::sort(days.begin(), days.end());
    days.erase(std::unique(days.begin(), days.end()), days.end());
    first_day.push_back(days.front());
    for (size_t j = 1; j < days.size(); ++j) {
      if (days[j] < 7 * kWeeks) actual_by_week[days[j] / 7 + 1] += 1;
    }
  }
  std::printf("| week | actual cumulative repeat transactions | predicted |\n|---|---|---|\n");
  double actual_cumulative = 0;
  for (int week = 1; week <= kWeeks; ++week) {
    actual_cumulative += actual_by_week[week];
    double predicted = 0;
    for (int day : first_day) {
      if (day < 7 * week)
        predicted += ExpectedRepeatPurchases(model.bg_nbd, std::chrono::days(7 * week - day)).value();
    }
    if (week % 13 == 0) std::printf("| %d | %.0f | %.1f |\n", week, actual_cumulative, predicted);
    // The paper's comparison: the cumulative curve from the cohort's start tracks the actual one
    // closely, at the end of the calibration (+2% here) and of the holdout (-4%).
    if (week == 39 || week == kWeeks) {
      EXPECT_NEAR(predicted, actual_cumulative, 0.05 * actual_cumulative) << "week " << week;
    }
  }
}

}  // namespace
}  // namespace tessera::prediction
