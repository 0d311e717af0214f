#include "prediction/gamma_gamma.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "prediction/internal/gamma_gamma_likelihood.h"
#include "tests/prediction/simulation.h"

namespace tessera::prediction {
namespace {

// The published CDNOW parameters (Fader, Hardie & Lee 2005, "RFM and CLV").
constexpr GammaGammaParameters kPublished = {.p = 6.25, .q = 3.74, .gamma = 15.44};

CalibrationSummary Spend(int64_t x, double mean_value) {
  return {.repeat_transactions = x,
          .recency = Weeks(x > 0 ? 1 : 0),
          .age = Weeks(2),
          .mean_repeat_value = mean_value};
}

TEST(GammaGammaTest, LogLikelihoodIsHardiesEquationOneA) {
  const std::vector<CalibrationSummary> customers = {Spend(1, 20), Spend(3, 35.5), Spend(3, 12), Spend(0, 0),
                                                     Spend(2, 0)};
  double expected = 0;
  for (const CalibrationSummary& c : customers) {
    if (c.repeat_transactions == 0 || c.mean_repeat_value <= 0) continue;  // Not the model's.
    const double x = static_cast<double>(c.repeat_transactions);
    const double px = kPublished.p * x;
    const double m = c.mean_repeat_value;
    expected += std::lgamma(px + kPublished.q) - std::lgamma(px) - std::lgamma(kPublished.q) +
                kPublished.q * std::log(kPublished.gamma) + (px - 1) * std::log(m) + px * std::log(x) -
                (px + kPublished.q) * std::log(kPublished.gamma + x * m);
  }
  EXPECT_NEAR(GammaGammaLogLikelihood(kPublished, customers).value(), expected, 1e-10 * std::abs(expected));
}

TEST(GammaGammaTest, GradientMatchesCentralDifferences) {
  const std::vector<CalibrationSummary> customers = {Spend(1, 20), Spend(3, 35.5), Spend(3, 12),
                                                     Spend(7, 80)};
  const internal::GammaGammaLikelihood likelihood(customers);
  std::vector<double> point = {std::log(kPublished.p), std::log(kPublished.q), std::log(kPublished.gamma)};
  std::vector<double> gradient(3);
  likelihood.MeanAt(point, gradient);
  for (size_t i = 0; i < point.size(); ++i) {
    const double h = 1e-6;
    std::vector<double> up = point, down = point;
    up[i] += h;
    down[i] -= h;
    const double numeric = (likelihood.MeanAt(up, {}) - likelihood.MeanAt(down, {})) / (2 * h);
    EXPECT_NEAR(gradient[i], numeric, 1e-7 + 1e-6 * std::abs(numeric)) << "log-parameter " << i;
  }
}

TEST(GammaGammaTest, RecoversTheParametersOfSimulatedCustomers) {
  const GammaGammaParameters truth = {.p = 6.0, .q = 4.0, .gamma = 15.0};
  // p and γ trade off against each other (the mean spend pγ/(q−1) is what the data pin down best):
  // with 20,000 customers their estimates still wander by ±10% from seed to seed, with 200,000 by ±3%.
  const std::vector<CalibrationSummary> customers = testing::SimulateGammaGamma(truth, 200'000, /*seed=*/99);
  const GammaGammaFit fit = FitGammaGamma(customers).value();
  EXPECT_TRUE(fit.convergence.converged) << fit.convergence.stop_reason;
  EXPECT_EQ(fit.customers, 200'000);
  EXPECT_GE(fit.log_likelihood, GammaGammaLogLikelihood(truth, customers).value())
      << "a maximum likelihood estimate is at least as likely as the truth";
  EXPECT_NEAR(fit.parameters.p, truth.p, 0.05 * truth.p);
  EXPECT_NEAR(fit.parameters.q, truth.q, 0.03 * truth.q);
  EXPECT_NEAR(fit.parameters.gamma, truth.gamma, 0.05 * truth.gamma);
}

TEST(GammaGammaTest, CountsTheCustomersItLeavesOut) {
  std::vector<CalibrationSummary> customers = testing::SimulateGammaGamma(kPublished, 500, /*seed=*/3);
  customers.push_back(Spend(0, 0));
  customers.push_back(Spend(0, 0));
  customers.push_back(Spend(2, 0));     // Two free orders.
  customers.push_back(Spend(1, -5.0));  // A refund.
  const GammaGammaFit fit = FitGammaGamma(customers).value();
  EXPECT_EQ(fit.customers, 500);
  EXPECT_EQ(fit.left_out_no_repeat, 2);
  EXPECT_EQ(fit.left_out_non_positive_value, 2);

  const std::vector<CalibrationSummary> unusable = {Spend(0, 0), Spend(3, 0)};
  const absl::Status status = FitGammaGamma(unusable).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(status.message().find("1 without a repeat transaction, 1 with a mean value <= 0"),
            std::string_view::npos)
      << status;
  EXPECT_EQ(FitGammaGamma({}).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(GammaGammaTest, ExpectedOrderValueShrinksTowardThePopulationMean) {
  const double population = kPublished.p * kPublished.gamma / (kPublished.q - 1);
  EXPECT_NEAR(ExpectedOrderValue(kPublished, Spend(0, 0)).value(), population, 1e-12) << "no spend seen";
  EXPECT_NEAR(ExpectedOrderValue(kPublished, Spend(2, -3)).value(), population, 1e-12) << "unusable spend";
  // CDNOW's customer 1: x = 2, zbar = 22.35.
  const double weight = kPublished.p * 2 / (kPublished.p * 2 + kPublished.q - 1);
  const double customer_one = ExpectedOrderValue(kPublished, Spend(2, 22.35)).value();
  EXPECT_NEAR(customer_one, (1 - weight) * population + weight * 22.35, 1e-12);
  EXPECT_GT(customer_one, 22.35) << "pulled up toward the population's " << population;
  // The more transactions, the closer to the customer's own mean.
  EXPECT_LT(std::abs(ExpectedOrderValue(kPublished, Spend(50, 22.35)).value() - 22.35),
            std::abs(customer_one - 22.35));

  GammaGammaParameters heavy_tailed = kPublished;
  heavy_tailed.q = 0.9;
  EXPECT_EQ(ExpectedOrderValue(heavy_tailed, Spend(0, 0)).status().code(),
            absl::StatusCode::kFailedPrecondition)
      << "q <= 1: the population mean does not exist";
  EXPECT_TRUE(ExpectedOrderValue(heavy_tailed, Spend(2, 10)).ok()) << "but a customer's own spend still does";
}

}  // namespace
}  // namespace tessera::prediction
