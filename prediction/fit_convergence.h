#pragma once

// How a maximum-likelihood fit ended, so that a caller (and the API's answer) can tell a model to
// trust from one to look at: whether the optimizer met its tolerance, how much work it did, and how
// long the whole fit took.

#include <chrono>
#include <string>

namespace tessera::prediction {

// Settings shared by the fits (BG/NBD, Gamma-Gamma). The defaults fit CDNOW in a few dozen
// evaluations; they are there to be changed only when a fit reports that it did not converge.
struct FitOptions {
  // Stop when an evaluation improves the mean log-likelihood per customer by less than this fraction.
  double relative_tolerance = 1e-12;
  // Stop when no log-parameter moves by more than this (absolute, i.e. a relative change in the
  // parameter itself).
  double parameter_tolerance = 1e-9;
  // Give up after this many evaluations of the log-likelihood and its gradient (L-BFGS may finish the
  // one it has started: one over at most).
  int max_evaluations = 5000;
};

struct FitConvergence {
  // The optimizer stopped on its tolerances, with a small gradient, and no parameter at its bound.
  bool converged = false;
  // Evaluations of the log-likelihood with its gradient (NLopt's count; L-BFGS takes about one per
  // iteration, more when a line search backtracks).
  int evaluations = 0;
  // "NLopt LD_LBFGS" (and the polishing stage, if the first one stopped short).
  std::string algorithm;
  // Why it stopped, in words ("relative tolerance on the log-likelihood reached").
  std::string stop_reason;
  // Euclidean norm of the gradient of the mean log-likelihood per customer in log-parameters, at the
  // optimum: near 0 at a true maximum.
  double gradient_norm = 0;
  // Wall time of the whole fit, including the preparation of the customers' data.
  std::chrono::duration<double> elapsed{0};
};

}  // namespace tessera::prediction
