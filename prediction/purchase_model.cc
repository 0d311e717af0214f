#include "prediction/purchase_model.h"

#include <utility>

namespace tessera::prediction {

absl::StatusOr<PurchaseModelFit> FitPurchaseModel(std::span<const CalibrationSummary> customers,
                                                  const FitOptions& options) {
  const auto started = std::chrono::steady_clock::now();
  absl::StatusOr<BgNbdFit> bg_nbd = FitBgNbd(customers, options);
  if (!bg_nbd.ok()) return bg_nbd.status();
  absl::StatusOr<GammaGammaFit> gamma_gamma = FitGammaGamma(customers, options);
  if (!gamma_gamma.ok()) return gamma_gamma.status();
  PurchaseModelFit fit;
  fit.bg_nbd = *std::move(bg_nbd);
  fit.gamma_gamma = *std::move(gamma_gamma);
  fit.elapsed = std::chrono::steady_clock::now() - started;
  return fit;
}

absl::StatusOr<CustomerPrediction> PredictCustomer(const PurchaseModel& model,
                                                   const CalibrationSummary& customer,
                                                   const ValueOptions& options) {
  CustomerPrediction prediction;
  absl::StatusOr<double> p_alive = ProbabilityAlive(model.bg_nbd, customer);
  if (!p_alive.ok()) return p_alive.status();
  prediction.p_alive = *p_alive;
  absl::StatusOr<double> expected_purchases = ExpectedPurchases(model.bg_nbd, customer, options.horizon);
  if (!expected_purchases.ok()) return expected_purchases.status();
  prediction.expected_purchases = *expected_purchases;
  absl::StatusOr<double> order_value = ExpectedOrderValue(model.gamma_gamma, customer);
  if (!order_value.ok()) return order_value.status();
  prediction.expected_order_value = *order_value;
  absl::StatusOr<double> clv = CustomerLifetimeValue(model.bg_nbd, customer, *order_value, options);
  if (!clv.ok()) return clv.status();
  prediction.clv = *clv;
  return prediction;
}

}  // namespace tessera::prediction
