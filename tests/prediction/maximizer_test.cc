#include "prediction/internal/maximizer.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

namespace tessera::prediction::internal {
namespace {

// −(x−1)² − 10(y+2)²: one maximum at (1, −2), differently scaled in each direction.
double Paraboloid(std::span<const double> x, std::span<double> gradient) {
  if (!gradient.empty()) {
    gradient[0] = -2 * (x[0] - 1);
    gradient[1] = -20 * (x[1] + 2);
  }
  return -(x[0] - 1) * (x[0] - 1) - 10 * (x[1] + 2) * (x[1] + 2);
}

TEST(MaximizerTest, FindsTheMaximumAndSaysHowItStopped) {
  const Maximum maximum = Maximize(Paraboloid, {5.0, 5.0}, FitOptions{}).value();
  EXPECT_NEAR(maximum.x[0], 1, 1e-6);
  EXPECT_NEAR(maximum.x[1], -2, 1e-6);
  EXPECT_NEAR(maximum.value, 0, 1e-10);
  EXPECT_TRUE(maximum.convergence.converged) << maximum.convergence.stop_reason;
  EXPECT_EQ(maximum.convergence.algorithm, "NLopt LD_LBFGS");
  EXPECT_GT(maximum.convergence.evaluations, 0);
  EXPECT_LE(maximum.convergence.gradient_norm, 1e-5);
}

TEST(MaximizerTest, AMaximumOnTheBoxIsNotConvergence) {
  // Increasing without end: the optimizer runs into the upper bound, which is no maximum of the model.
  const auto increasing = [](std::span<const double> x, std::span<double> gradient) {
    if (!gradient.empty()) gradient[0] = 1;
    return x[0];
  };
  const Maximum maximum = Maximize(increasing, {0.0}, FitOptions{}, {.lower = -3, .upper = 3}).value();
  EXPECT_NEAR(maximum.x[0], 3, 1e-9);
  EXPECT_FALSE(maximum.convergence.converged);
  EXPECT_NE(maximum.convergence.stop_reason.find("at its bound"), std::string::npos)
      << maximum.convergence.stop_reason;
}

TEST(MaximizerTest, RefusesAStartItCannotUse) {
  EXPECT_EQ(Maximize(Paraboloid, {}, FitOptions{}).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Maximize(Paraboloid, {100.0, 0.0}, FitOptions{}).status().code(),
            absl::StatusCode::kInvalidArgument)
      << "outside the default box [-25, 25]";
  EXPECT_EQ(Maximize(Paraboloid, {0.0, 0.0}, FitOptions{.max_evaluations = 0}).status().code(),
            absl::StatusCode::kInvalidArgument);
  const auto undefined = [](std::span<const double>, std::span<double>) { return NAN; };
  EXPECT_EQ(Maximize(undefined, {0.0}, FitOptions{}).status().code(), absl::StatusCode::kInternal);
}

TEST(MaximizerTest, StopsAtTheEvaluationBudget) {
  const Maximum maximum = Maximize(Paraboloid, {5.0, 5.0}, FitOptions{.max_evaluations = 2}).value();
  EXPECT_FALSE(maximum.convergence.converged) << maximum.convergence.stop_reason;
  // NLopt's L-BFGS (Luksan's code) finishes the evaluation it has started: one over at most.
  EXPECT_LE(maximum.convergence.evaluations, 3) << maximum.convergence.stop_reason;
  EXPECT_NE(maximum.convergence.stop_reason.find("evaluation limit reached"), std::string::npos);
}

}  // namespace
}  // namespace tessera::prediction::internal
