#pragma once

// BG/NBD, the beta-geometric / negative binomial model of repeat purchasing (Fader, Hardie & Lee 2005,
// "Counting your customers the easy way: an alternative to the Pareto/NBD model", Marketing Science
// 24(2) 275-284). While alive, a customer buys as a Poisson process of rate λ; after each purchase
// they drop out with probability p. Across customers λ ~ Gamma(r, α) and p ~ Beta(a, b). Time is in
// weeks throughout, as in the paper; α is therefore in weeks.
//
// Published on CDNOW (2,357 customers, calibration to 1997-09-30): r = 0.243, α = 4.414, a = 0.793,
// b = 2.426, log-likelihood −9582.4. All functions are pure and thread-safe.

#include <cstdint>
#include <span>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "prediction/calibration_summary.h"
#include "prediction/fit_convergence.h"

namespace tessera::prediction {

struct BgNbdParameters {
  double r = 0;      // Shape of the Gamma distribution of purchase rates λ.
  double alpha = 0;  // Its scale, in weeks: the mean rate is r/α purchases a week.
  double a = 0;      // Beta distribution of the dropout probability p after each purchase:
  double b = 0;      // its mean is a/(a+b).
};

struct BgNbdFit {
  BgNbdParameters parameters;
  double log_likelihood = 0;     // Σ over customers, at `parameters`.
  int64_t customers = 0;         // Summaries fitted.
  int64_t repeat_customers = 0;  // Those with x > 0.
  FitConvergence convergence;
};

// OK, or InvalidArgument unless every parameter is finite and > 0.
absl::Status ValidateBgNbdParameters(const BgNbdParameters& parameters);

// Σ_i ln L(r, α, a, b | x_i, t_x,i, T_i), the paper's equation (6) in log-space:
//   ln L = ln Γ(r+x) − ln Γ(r) + r ln α − ln B(a, b)
//        + ln[ B(a, b+x) (α+T)^−(r+x) + [x>0] B(a+1, b+x−1) (α+t_x)^−(r+x) ].
// InvalidArgument for bad parameters or a summary ValidateSummary rejects (naming its index).
absl::StatusOr<double> BgNbdLogLikelihood(const BgNbdParameters& parameters,
                                          std::span<const CalibrationSummary> customers);

// Maximum likelihood over (ln r, ln α, ln a, ln b) with NLopt's L-BFGS and the analytic gradient.
// InvalidArgument for no customers or an invalid summary; FailedPrecondition when no customer has a
// repeat transaction (purchase rate and dropout are then not identified). A fit that stops short is
// still returned, with convergence.converged false and the reason.
absl::StatusOr<BgNbdFit> FitBgNbd(std::span<const CalibrationSummary> customers,
                                  const FitOptions& options = {});

// P(alive | x, t_x, T) = 1 / (1 + [x>0] a/(b+x−1) ((α+T)/(α+t_x))^(r+x)): a customer with no repeat
// purchase cannot have dropped out yet (dropout happens only right after a purchase), so gets 1.
absl::StatusOr<double> ProbabilityAlive(const BgNbdParameters& parameters,
                                        const CalibrationSummary& customer);

// E[Y(t) | x, t_x, T], the expected purchases in the `horizon` t after the customer's T (the paper's
// equation (10)):
//   (a+b+x−1)/(a−1) · [1 − ((α+T)/(α+T+t))^(r+x) 2F1(r+x, b+x; a+b+x−1; t/(α+T+t))] · P(alive).
// CDNOW's customer 1 over 39 weeks: 1.226. InvalidArgument for bad input or a negative horizon.
absl::StatusOr<double> ExpectedPurchases(const BgNbdParameters& parameters,
                                         const CalibrationSummary& customer, Weeks horizon);

// E[X(t)], the expected repeat purchases of a customer in the first t after their first purchase (the
// paper's equation (9)); the sum over a cohort's first-purchase days gives the tracking curve of
// cumulative repeat transactions.
absl::StatusOr<double> ExpectedRepeatPurchases(const BgNbdParameters& parameters, Weeks since_first_purchase);

}  // namespace tessera::prediction
