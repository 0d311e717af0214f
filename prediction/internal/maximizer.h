#pragma once

// Maximizes a smooth function of a few log-parameters with NLopt's L-BFGS (analytic gradients),
// polishing with the derivative-free Sbplx when L-BFGS stops short (a roundoff-limited line search
// near a flat optimum is the usual case). The models' likelihoods call it with their parameters'
// logarithms, so every parameter stays positive without constraints; box bounds keep a runaway
// step from overflowing exp().

#include <functional>
#include <span>
#include <vector>

#include "absl/status/statusor.h"
#include "prediction/fit_convergence.h"

namespace tessera::prediction::internal {

// Returns f(x) and, if `gradient` is not empty, writes ∇f(x) into it. A non-finite value tells the
// optimizer the point is unusable (it is treated as −∞).
using Objective = std::function<double(std::span<const double> x, std::span<double> gradient)>;

struct MaximizerBounds {
  double lower = -25;  // e^−25 ≈ 1.4e-11
  double upper = 25;   // e^25 ≈ 7.2e10
};

struct Maximum {
  std::vector<double> x;
  double value = 0;
  FitConvergence convergence;  // All but `elapsed`, which the caller measures around its own work.
};

// InvalidArgument for an empty start or one outside the bounds; Internal if NLopt cannot be set up or
// the objective is not finite at the start.
absl::StatusOr<Maximum> Maximize(const Objective& objective, std::vector<double> start,
                                 const FitOptions& options, MaximizerBounds bounds = {});

}  // namespace tessera::prediction::internal
