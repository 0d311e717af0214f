#pragma once

// The Gamma-Gamma model of spend per transaction (Fader, Hardie & Lee 2005, "RFM and CLV: using
// iso-value curves for customer base analysis", Journal of Marketing Research 42(4) 415-430; Hardie's
// note "The Gamma-Gamma model of monetary value", 2013). A customer's transaction values are
// Gamma(p, ν); across customers ν ~ Gamma(q, γ). It assumes spend is independent of purchase
// frequency, so it combines with BG/NBD into CLV.
//
// Published on CDNOW (the 946 customers with a repeat transaction): p = 6.25, q = 3.74, γ = 15.44.
// All functions are pure and thread-safe.

#include <cstdint>
#include <span>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "prediction/calibration_summary.h"
#include "prediction/fit_convergence.h"

namespace tessera::prediction {

struct GammaGammaParameters {
  double p = 0;      // Shape of each transaction's value around the customer's mean.
  double q = 0;      // Shape of the distribution of the customers' scale ν.
  double gamma = 0;  // Its scale; the population mean spend is pγ/(q−1) when q > 1.
};

struct GammaGammaFit {
  GammaGammaParameters parameters;
  double log_likelihood = 0;  // Σ over the customers fitted, at `parameters`.
  int64_t customers = 0;      // Fitted: x > 0 and zbar > 0.
  // Left out because they have no repeat transaction (x = 0): the model reads the mean of repeat
  // transactions only, and they have none.
  int64_t left_out_no_repeat = 0;
  // Left out because their mean repeat value is ≤ 0 (free orders, refunds): a Gamma has no mass there.
  int64_t left_out_non_positive_value = 0;
  FitConvergence convergence;
};

// OK, or InvalidArgument unless p, q and γ are finite and > 0.
absl::Status ValidateGammaGammaParameters(const GammaGammaParameters& parameters);

// Σ over the customers with x > 0 and zbar > 0 of Hardie's equation (1a), with x = repeat transactions
// and zbar their mean:
//   ln Γ(px+q) − ln Γ(px) − ln Γ(q) + q ln γ + (px−1) ln zbar + px ln x − (px+q) ln(γ + x zbar).
// InvalidArgument for bad parameters or an invalid summary.
absl::StatusOr<double> GammaGammaLogLikelihood(const GammaGammaParameters& parameters,
                                               std::span<const CalibrationSummary> customers);

// Maximum likelihood over (ln p, ln q, ln γ) with NLopt's L-BFGS. Customers the model cannot use are
// counted in the result, not fitted. InvalidArgument for no customers or an invalid summary;
// FailedPrecondition when no customer is usable.
absl::StatusOr<GammaGammaFit> FitGammaGamma(std::span<const CalibrationSummary> customers,
                                            const FitOptions& options = {});

// E[Z | x, zbar] = (q−1)/(px+q−1) · pγ/(q−1) + px/(px+q−1) · zbar, the expected value of the customer's
// future transactions: their own mean shrunk toward the population's, the more the fewer their
// purchases. A customer without usable spend (x = 0 or zbar ≤ 0) gets the population mean pγ/(q−1).
// FailedPrecondition when the mean needed does not exist (q ≤ 1, or px+q ≤ 1).
absl::StatusOr<double> ExpectedOrderValue(const GammaGammaParameters& parameters,
                                          const CalibrationSummary& customer);

}  // namespace tessera::prediction
