#include "prediction/customer_value.h"

#include <gtest/gtest.h>

#include <cmath>

#include "prediction/purchase_model.h"

namespace tessera::prediction {
namespace {

constexpr BgNbdParameters kBgNbd = {.r = 0.243, .alpha = 4.414, .a = 0.793, .b = 2.426};
constexpr GammaGammaParameters kGammaGamma = {.p = 6.25, .q = 3.74, .gamma = 15.44};

// CDNOW's customer 1 at 1997-09-30.
const CalibrationSummary kCustomerOne = {.repeat_transactions = 2,
                                         .recency = Weeks(213.0 / 7),
                                         .age = Weeks(272.0 / 7),
                                         .mean_repeat_value = 22.35};

double Expected(double weeks) { return ExpectedPurchases(kBgNbd, kCustomerOne, Weeks(weeks)).value(); }

TEST(CustomerValueTest, WithoutDiscountItIsValueTimesExpectedPurchases) {
  const ValueOptions options = {.horizon = Weeks(52), .monthly_discount_rate = 0};
  EXPECT_NEAR(CustomerLifetimeValue(kBgNbd, kCustomerOne, 30.0, options).value(), 30.0 * Expected(52), 1e-12);
}

TEST(CustomerValueTest, DiscountsEachMonthAsLifetimesDoes) {
  // lifetimes' customer_lifetime_value with freq="W", time=12 months, discount_rate=0.01, written out.
  const double month = 4.345;
  double expected = 0;
  for (int k = 1; k <= 12; ++k) {
    expected += 30.0 * (Expected(k * month) - Expected((k - 1) * month)) / std::pow(1.01, k);
  }
  const ValueOptions options = {
      .horizon = Weeks(12 * month), .monthly_discount_rate = 0.01, .month = Weeks(month)};
  EXPECT_NEAR(CustomerLifetimeValue(kBgNbd, kCustomerOne, 30.0, options).value(), expected, 1e-12 * expected);

  // A partial last month is discounted at its own end.
  const ValueOptions ninety_days = {.horizon = std::chrono::days(90), .monthly_discount_rate = 0.01};
  const double weeks = 90.0 / 7;
  const double partial =
      30.0 * (Expected(month) / 1.01 + (Expected(2 * month) - Expected(month)) / std::pow(1.01, 2) +
              (Expected(weeks) - Expected(2 * month)) / std::pow(1.01, weeks / month));
  EXPECT_NEAR(CustomerLifetimeValue(kBgNbd, kCustomerOne, 30.0, ninety_days).value(), partial,
              1e-12 * partial);
}

TEST(CustomerValueTest, RefusesBadOptions) {
  EXPECT_EQ(CustomerLifetimeValue(kBgNbd, kCustomerOne, 30.0, {.horizon = Weeks(-1)}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(CustomerLifetimeValue(kBgNbd, kCustomerOne, 30.0, {.monthly_discount_rate = -1}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(CustomerLifetimeValue(kBgNbd, kCustomerOne, 30.0, {.month = Weeks(0)}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(CustomerLifetimeValue(kBgNbd, kCustomerOne, NAN).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(CustomerLifetimeValue(kBgNbd, kCustomerOne, 30.0, {.horizon = Weeks(0)}).value(), 0);
}

TEST(CustomerValueTest, PredictCustomerCombinesTheModels) {
  const PurchaseModel model = {.bg_nbd = kBgNbd, .gamma_gamma = kGammaGamma};
  const ValueOptions options = {.horizon = Weeks(39), .monthly_discount_rate = 0.01};
  const CustomerPrediction prediction = PredictCustomer(model, kCustomerOne, options).value();
  EXPECT_EQ(prediction.p_alive, ProbabilityAlive(kBgNbd, kCustomerOne).value());
  EXPECT_NEAR(prediction.expected_purchases, 1.226, 0.005)
      << "the paper's figure for customer 1 over 39 weeks";
  EXPECT_EQ(prediction.expected_order_value, ExpectedOrderValue(kGammaGamma, kCustomerOne).value());
  EXPECT_EQ(prediction.clv,
            CustomerLifetimeValue(kBgNbd, kCustomerOne, prediction.expected_order_value, options).value());
  EXPECT_LT(prediction.clv, prediction.expected_purchases * prediction.expected_order_value) << "discounted";
  EXPECT_GT(prediction.clv, 0.95 * prediction.expected_purchases * prediction.expected_order_value)
      << "about 4% over 9 months at 1% a month";

  const CalibrationSummary invalid = {.repeat_transactions = 1, .recency = Weeks(5), .age = Weeks(4)};
  EXPECT_EQ(PredictCustomer(model, invalid, options).status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace tessera::prediction
