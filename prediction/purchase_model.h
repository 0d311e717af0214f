#pragma once

// Purchase prediction, the component's front: fit the two published models of non-contractual
// purchasing on customers' calibration summaries, then predict for one customer whether they are still
// a customer, how often they will buy, what they will spend and what that is worth.
//
//   BG/NBD (bg_nbd.h)            will they buy again, and how often: P(alive), E[purchases in t]
//   Gamma-Gamma (gamma_gamma.h)  how much per order: E[order value]
//   CLV (customer_value.h)       the two combined, discounted month by month over a horizon
//
// The input is the per-customer summary of calibration_summary.h, built from purchases (same local
// day = one transaction, time in weeks). Everything here is pure math on values: no I/O, no
// allocation beyond the fit's working arrays, thread-safe. Errors are absl::Status with a message
// naming the bad input; no exception leaves the component. The formulas, the published CDNOW figures
// this reproduces and the measured ones are in docs/prediction.md.

#include <chrono>
#include <span>

#include "absl/status/statusor.h"
#include "prediction/bg_nbd.h"
#include "prediction/calibration_summary.h"
#include "prediction/customer_value.h"
#include "prediction/fit_convergence.h"
#include "prediction/gamma_gamma.h"

namespace tessera::prediction {

struct PurchaseModel {
  BgNbdParameters bg_nbd;
  GammaGammaParameters gamma_gamma;
};

struct PurchaseModelFit {
  BgNbdFit bg_nbd;                           // Includes the customer counts and its convergence.
  GammaGammaFit gamma_gamma;                 // Includes how many customers were left out, and why.
  std::chrono::duration<double> elapsed{0};  // Both fits.

  PurchaseModel model() const { return {.bg_nbd = bg_nbd.parameters, .gamma_gamma = gamma_gamma.parameters}; }
};

// Fits BG/NBD on every customer and Gamma-Gamma on those with usable spend. The errors of FitBgNbd and
// FitGammaGamma (no customers, an invalid summary, no repeat customer).
absl::StatusOr<PurchaseModelFit> FitPurchaseModel(std::span<const CalibrationSummary> customers,
                                                  const FitOptions& options = {});

struct CustomerPrediction {
  double p_alive = 0;               // P(still a customer | history).
  double expected_purchases = 0;    // In options.horizon.
  double expected_order_value = 0;  // Per future transaction.
  double clv = 0;                   // Discounted value of the purchases in options.horizon.
};

// InvalidArgument for bad parameters, summary or options; FailedPrecondition when the spend model has
// no mean (q ≤ 1, see ExpectedOrderValue).
absl::StatusOr<CustomerPrediction> PredictCustomer(const PurchaseModel& model,
                                                   const CalibrationSummary& customer,
                                                   const ValueOptions& options = {});

}  // namespace tessera::prediction
