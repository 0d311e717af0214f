#include "prediction/bg_nbd.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <random>
#include <vector>

#include "prediction/hypergeometric.h"
#include "prediction/internal/bg_nbd_likelihood.h"
#include "tests/prediction/simulation.h"

namespace tessera::prediction {
namespace {

// The published CDNOW parameters (Fader, Hardie & Lee 2005).
constexpr BgNbdParameters kPublished = {.r = 0.243, .alpha = 4.414, .a = 0.793, .b = 2.426};

CalibrationSummary Summary(int64_t x, double recency, double age) {
  return {.repeat_transactions = x, .recency = Weeks(recency), .age = Weeks(age), .mean_repeat_value = 0};
}

// The paper's equation (6), term by term with plain gammas and powers (fine for small x).
double PaperLikelihood(const BgNbdParameters& p, const CalibrationSummary& c) {
  const double x = static_cast<double>(c.repeat_transactions);
  auto beta = [](double u, double v) { return std::tgamma(u) * std::tgamma(v) / std::tgamma(u + v); };
  const double common = std::tgamma(p.r + x) * std::pow(p.alpha, p.r) / std::tgamma(p.r);
  double likelihood =
      beta(p.a, p.b + x) / beta(p.a, p.b) * common / std::pow(p.alpha + c.age.count(), p.r + x);
  if (x > 0) {
    likelihood +=
        beta(p.a + 1, p.b + x - 1) / beta(p.a, p.b) * common / std::pow(p.alpha + c.recency.count(), p.r + x);
  }
  return likelihood;
}

const std::vector<CalibrationSummary>& SomeCustomers() {
  static const std::vector<CalibrationSummary> customers = {
      Summary(0, 0, 38.86),   Summary(2, 30.43, 38.86), Summary(1, 1.71, 38.86), Summary(0, 0, 38.86),
      Summary(7, 35.0, 37.0), Summary(3, 5.0, 32.0),    Summary(0, 0, 0),        Summary(12, 20.14, 20.14),
  };
  return customers;
}

TEST(BgNbdTest, LogLikelihoodIsThePapersEquationSix) {
  double expected = 0;
  for (const CalibrationSummary& customer : SomeCustomers())
    expected += std::log(PaperLikelihood(kPublished, customer));
  const double actual = BgNbdLogLikelihood(kPublished, SomeCustomers()).value();
  EXPECT_NEAR(actual, expected, 1e-10 * std::abs(expected)) << "duplicates merged, per-x terms shared";
}

TEST(BgNbdTest, GradientMatchesCentralDifferences) {
  const internal::BgNbdLikelihood likelihood(SomeCustomers());
  EXPECT_EQ(likelihood.records(), SomeCustomers().size() - 1) << "the two equal x = 0 customers merge";
  for (const BgNbdParameters& at :
       {kPublished, BgNbdParameters{.r = 2.0, .alpha = 0.5, .a = 3.0, .b = 0.4}}) {
    std::vector<double> point = {std::log(at.r), std::log(at.alpha), std::log(at.a), std::log(at.b)};
    std::vector<double> gradient(4);
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
}

TEST(BgNbdTest, RecoversTheParametersOfSimulatedCustomers) {
  const BgNbdParameters truth = {.r = 0.5, .alpha = 5.0, .a = 0.8, .b = 2.5};
  const std::vector<CalibrationSummary> customers = testing::SimulateBgNbd(truth, 50'000, /*seed=*/20240601);
  const BgNbdFit fit = FitBgNbd(customers).value();
  EXPECT_TRUE(fit.convergence.converged) << fit.convergence.stop_reason;
  EXPECT_GE(fit.log_likelihood, BgNbdLogLikelihood(truth, customers).value())
      << "a maximum likelihood estimate is at least as likely as the truth";
  // With 50,000 customers the estimates' standard errors are a few percent (a and b the loosest).
  EXPECT_NEAR(fit.parameters.r, truth.r, 0.05 * truth.r);
  EXPECT_NEAR(fit.parameters.alpha, truth.alpha, 0.05 * truth.alpha);
  EXPECT_NEAR(fit.parameters.a, truth.a, 0.10 * truth.a);
  EXPECT_NEAR(fit.parameters.b, truth.b, 0.10 * truth.b);
  EXPECT_EQ(fit.customers, 50'000);
}

TEST(BgNbdTest, FitsOneHundredThousandCustomersQuickly) {
  // The benchmark: 100,000 customers' summaries fitted in well under 10 s.
  const BgNbdParameters truth = {.r = 0.243, .alpha = 4.414, .a = 0.793, .b = 2.426};
  const std::vector<CalibrationSummary> customers = testing::SimulateBgNbd(truth, 100'000, /*seed=*/7);
  const BgNbdFit fit = FitBgNbd(customers).value();
  std::printf(
      "BG/NBD on 100,000 simulated customers: %.3f s, %d evaluations, converged %d (%s); "
      "r %.4f alpha %.4f a %.4f b %.4f\n",
      fit.convergence.elapsed.count(), fit.convergence.evaluations, fit.convergence.converged,
      fit.convergence.stop_reason.c_str(), fit.parameters.r, fit.parameters.alpha, fit.parameters.a,
      fit.parameters.b);
  EXPECT_TRUE(fit.convergence.converged) << fit.convergence.stop_reason;
  EXPECT_LT(fit.convergence.elapsed.count(), 10.0) << "the issue's bound (in a sanitizer build too)";
}

TEST(BgNbdTest, FitRefusesDataItCannotUse) {
  EXPECT_EQ(FitBgNbd({}).status().code(), absl::StatusCode::kInvalidArgument);
  const std::vector<CalibrationSummary> one_timers = {Summary(0, 0, 10), Summary(0, 0, 20)};
  EXPECT_EQ(FitBgNbd(one_timers).status().code(), absl::StatusCode::kFailedPrecondition);
  const std::vector<CalibrationSummary> bad = {Summary(1, 1, 10), Summary(1, 11, 10)};
  const absl::Status status = FitBgNbd(bad).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("customers[1]"), std::string_view::npos) << status;
  EXPECT_EQ(BgNbdLogLikelihood({.r = 0, .alpha = 1, .a = 1, .b = 1}, SomeCustomers()).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(BgNbdTest, ProbabilityAliveIsThePapersFormula) {
  EXPECT_EQ(ProbabilityAlive(kPublished, Summary(0, 0, 38.86)).value(), 1.0)
      << "no repeat: cannot have dropped";
  const CalibrationSummary customer = Summary(2, 30.43, 38.86);
  const double odds = kPublished.a / (kPublished.b + 2 - 1) *
                      std::pow((kPublished.alpha + 38.86) / (kPublished.alpha + 30.43), kPublished.r + 2);
  EXPECT_NEAR(ProbabilityAlive(kPublished, customer).value(), 1 / (1 + odds), 1e-14);
  // The longer the silence since the last purchase, the less likely the customer is still there.
  EXPECT_GT(ProbabilityAlive(kPublished, Summary(5, 30, 31)).value(),
            ProbabilityAlive(kPublished, Summary(5, 30, 60)).value());
  // Extreme silence with many purchases: tiny but not NaN.
  const double faded = ProbabilityAlive(kPublished, Summary(500, 1, 5000)).value();
  EXPECT_GE(faded, 0);
  EXPECT_LT(faded, 1e-100);
}

// E[Y(t) | x, t_x, T] by quadrature over the dropout probability p, without any 2F1: given alive and
// p, the λ-average of (1 − e^(−λpt))/p under Gamma(r+x, α+T) is (1 − ((α+T)/(α+T+pt))^(r+x))/p, and p
// has the posterior Beta(a, b+x). Substituting p = u^(1/a) removes the density's singularity at 0.
double ExpectedByQuadrature(const BgNbdParameters& p, const CalibrationSummary& c, double t) {
  const double x = static_cast<double>(c.repeat_transactions);
  const double scale = p.alpha + c.age.count();
  auto integrand = [&](double u) {
    const double q = std::pow(u, 1 / p.a);
    const double inner =
        q == 0 ? (p.r + x) * t / scale : -std::expm1(-(p.r + x) * std::log1p(q * t / scale)) / q;
    return std::pow(1 - q, p.b + x - 1) * inner;
  };
  const int intervals = 200'000;  // Simpson's rule.
  const double h = 1.0 / intervals;
  double sum = integrand(0) + integrand(1);
  for (int i = 1; i < intervals; ++i) sum += (i % 2 == 1 ? 4 : 2) * integrand(i * h);
  const double integral = sum * h / 3;
  const double log_beta = std::lgamma(p.a) + std::lgamma(p.b + x) - std::lgamma(p.a + p.b + x);
  return ProbabilityAlive(p, c).value() * integral / (p.a * std::exp(log_beta));
}

TEST(BgNbdTest, ExpectedPurchasesAgreesWithTheRawFormulaAndWithQuadrature) {
  for (const CalibrationSummary& customer : SomeCustomers()) {
    for (double horizon : {0.5, 39.0, 520.0}) {
      const double actual = ExpectedPurchases(kPublished, customer, Weeks(horizon)).value();
      // The paper's form, with 2F1(r+x, b+x; a+b+x−1; z) as written there.
      const double x = static_cast<double>(customer.repeat_transactions);
      const double scale = kPublished.alpha + customer.age.count();
      const double z = horizon / (scale + horizon);
      const double raw = (kPublished.a + kPublished.b + x - 1) / (kPublished.a - 1) *
                         (1 - std::pow(scale / (scale + horizon), kPublished.r + x) *
                                  Hypergeometric2F1(kPublished.r + x, kPublished.b + x,
                                                    kPublished.a + kPublished.b + x - 1, z)
                                      .value()) *
                         ProbabilityAlive(kPublished, customer).value();
      EXPECT_NEAR(actual, raw, 1e-10 * raw) << "x " << x << " T " << customer.age.count() << " t " << horizon;
      EXPECT_NEAR(actual, ExpectedByQuadrature(kPublished, customer, horizon), 1e-7 * raw)
          << "x " << x << " T " << customer.age.count() << " t " << horizon;
    }
  }
}

TEST(BgNbdTest, ExpectedPurchasesBehavesAtTheEdges) {
  const CalibrationSummary customer = Summary(2, 30.43, 38.86);
  EXPECT_EQ(ExpectedPurchases(kPublished, customer, Weeks(0)).value(), 0);
  // For a short horizon: P(alive) × the posterior mean rate (r+x)/(α+T) × t.
  const double short_horizon = 1e-4;
  EXPECT_NEAR(ExpectedPurchases(kPublished, customer, Weeks(short_horizon)).value(),
              ProbabilityAlive(kPublished, customer).value() * (kPublished.r + 2) /
                  (kPublished.alpha + 38.86) * short_horizon,
              1e-9);
  double previous = 0;
  for (double horizon : {1.0, 10.0, 100.0, 1000.0, 1e5}) {
    const double expected = ExpectedPurchases(kPublished, customer, Weeks(horizon)).value();
    EXPECT_GT(expected, previous) << "cumulative in the horizon, at " << horizon;
    previous = expected;
  }
  // a = 1 makes the paper's formula 0/0; the value is continuous through it.
  BgNbdParameters near_one = kPublished;
  std::vector<double> values;
  for (double a : {1 - 3e-4, 1 - 1e-4, 1 - 1e-6, 1.0, 1 + 1e-6, 1 + 1e-4, 1 + 3e-4}) {
    near_one.a = a;
    values.push_back(ExpectedPurchases(near_one, customer, Weeks(39)).value());
  }
  for (size_t i = 1; i < values.size(); ++i) {
    EXPECT_NEAR(values[i], values[i - 1], 1e-4 * values[i]) << "step " << i << " across a = 1";
  }
  EXPECT_EQ(ExpectedPurchases(kPublished, customer, Weeks(-1)).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(BgNbdTest, ExpectedRepeatPurchasesIsThePapersEquationNine) {
  for (double t : {1.0, 39.0, 78.0}) {
    const double z = t / (kPublished.alpha + t);
    const double expected =
        (kPublished.a + kPublished.b - 1) / (kPublished.a - 1) *
        (1 - std::pow(kPublished.alpha / (kPublished.alpha + t), kPublished.r) *
                 Hypergeometric2F1(kPublished.r, kPublished.b, kPublished.a + kPublished.b - 1, z).value());
    EXPECT_NEAR(ExpectedRepeatPurchases(kPublished, Weeks(t)).value(), expected, 1e-10 * expected) << t;
  }
}

}  // namespace
}  // namespace tessera::prediction
