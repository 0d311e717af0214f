#include "prediction/gamma_gamma.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "prediction/internal/gamma_gamma_likelihood.h"
#include "prediction/internal/maximizer.h"

namespace tessera::prediction {
namespace {

absl::Status ValidateCustomers(std::span<const CalibrationSummary> customers) {
  if (customers.empty()) return absl::InvalidArgumentError("Gamma-Gamma: no customers");
  for (size_t i = 0; i < customers.size(); ++i) {
    if (absl::Status status = ValidateSummary(customers[i]); !status.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("Gamma-Gamma: customers[", i, "]: ", status.message()));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ValidateGammaGammaParameters(const GammaGammaParameters& parameters) {
  const struct {
    const char* name;
    double value;
  } fields[] = {{"p", parameters.p}, {"q", parameters.q}, {"gamma", parameters.gamma}};
  for (const auto& field : fields) {
    if (!std::isfinite(field.value) || field.value <= 0) {
      return absl::InvalidArgumentError(absl::StrCat("Gamma-Gamma parameter ", field.name,
                                                     " must be a finite number > 0, got ", field.value));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<double> GammaGammaLogLikelihood(const GammaGammaParameters& parameters,
                                               std::span<const CalibrationSummary> customers) {
  if (absl::Status status = ValidateGammaGammaParameters(parameters); !status.ok()) return status;
  if (absl::Status status = ValidateCustomers(customers); !status.ok()) return status;
  const internal::GammaGammaLikelihood likelihood(customers);
  if (likelihood.customers() == 0) return 0.0;
  return likelihood.TotalAt(parameters);
}

absl::StatusOr<GammaGammaFit> FitGammaGamma(std::span<const CalibrationSummary> customers,
                                            const FitOptions& options) {
  const auto started = std::chrono::steady_clock::now();
  if (absl::Status status = ValidateCustomers(customers); !status.ok()) return status;
  const internal::GammaGammaLikelihood likelihood(customers);
  if (likelihood.customers() == 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("Gamma-Gamma: no customer with a repeat transaction of positive mean value (",
                     likelihood.left_out_no_repeat(), " without a repeat transaction, ",
                     likelihood.left_out_non_positive_value(), " with a mean value <= 0)"));
  }

  // Start at p = q = 1 and γ = the average spend: the spend model's mean pγ/(q−1) is then of the
  // data's order whatever the currency unit.
  std::vector<double> start = {0.0, 0.0, std::log(std::max(likelihood.average_mean_value(), 1e-6))};
  const internal::Objective objective = [&likelihood](std::span<const double> x, std::span<double> gradient) {
    return likelihood.MeanAt(x, gradient);
  };
  absl::StatusOr<internal::Maximum> maximum = internal::Maximize(objective, std::move(start), options);
  if (!maximum.ok()) {
    return absl::Status(maximum.status().code(),
                        absl::StrCat("Gamma-Gamma fit: ", maximum.status().message()));
  }

  GammaGammaFit fit;
  fit.parameters = {
      .p = std::exp(maximum->x[0]), .q = std::exp(maximum->x[1]), .gamma = std::exp(maximum->x[2])};
  fit.log_likelihood = likelihood.TotalAt(fit.parameters);
  fit.customers = likelihood.customers();
  fit.left_out_no_repeat = likelihood.left_out_no_repeat();
  fit.left_out_non_positive_value = likelihood.left_out_non_positive_value();
  fit.convergence = std::move(maximum->convergence);
  fit.convergence.elapsed = std::chrono::steady_clock::now() - started;
  return fit;
}

absl::StatusOr<double> ExpectedOrderValue(const GammaGammaParameters& parameters,
                                          const CalibrationSummary& customer) {
  if (absl::Status status = ValidateGammaGammaParameters(parameters); !status.ok()) return status;
  if (absl::Status status = ValidateSummary(customer); !status.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("Gamma-Gamma: customer: ", status.message()));
  }
  const double p = parameters.p;
  const double q = parameters.q;
  const bool usable = customer.repeat_transactions > 0 && customer.mean_repeat_value > 0;
  if (!usable) {
    if (q <= 1) {
      return absl::FailedPreconditionError(
          absl::StrCat("Gamma-Gamma: q = ", q,
                       " <= 1, so the population mean spend p*gamma/(q-1) the customer would get "
                       "does not exist"));
    }
    return p * parameters.gamma / (q - 1);
  }
  const double px = p * static_cast<double>(customer.repeat_transactions);
  if (px + q <= 1) {
    return absl::FailedPreconditionError(
        absl::StrCat("Gamma-Gamma: p*x + q = ", px + q, " <= 1, so the expected spend does not exist"));
  }
  // Written as one fraction, p(γ + x zbar)/(px+q−1), it needs no population mean, so q ≤ 1 is fine here.
  return p *
         (parameters.gamma + static_cast<double>(customer.repeat_transactions) * customer.mean_repeat_value) /
         (px + q - 1);
}

}  // namespace tessera::prediction
