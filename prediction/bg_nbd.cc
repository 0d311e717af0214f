// BG/NBD: parameter checks, the log-likelihood and its maximum-likelihood fit. The conditional
// expectations are in bg_nbd_expectations.cc.

#include "prediction/bg_nbd.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "prediction/internal/bg_nbd_likelihood.h"
#include "prediction/internal/maximizer.h"

namespace tessera::prediction {
namespace {

absl::Status ValidateCustomers(std::span<const CalibrationSummary> customers) {
  if (customers.empty()) return absl::InvalidArgumentError("BG/NBD: no customers");
  for (size_t i = 0; i < customers.size(); ++i) {
    if (absl::Status status = ValidateSummary(customers[i]); !status.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("BG/NBD: customers[", i, "]: ", status.message()));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ValidateBgNbdParameters(const BgNbdParameters& parameters) {
  const struct {
    const char* name;
    double value;
  } fields[] = {{"r", parameters.r}, {"alpha", parameters.alpha}, {"a", parameters.a}, {"b", parameters.b}};
  for (const auto& field : fields) {
    if (!std::isfinite(field.value) || field.value <= 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("BG/NBD parameter ", field.name, " must be a finite number > 0, got ", field.value));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<double> BgNbdLogLikelihood(const BgNbdParameters& parameters,
                                          std::span<const CalibrationSummary> customers) {
  if (absl::Status status = ValidateBgNbdParameters(parameters); !status.ok()) return status;
  if (absl::Status status = ValidateCustomers(customers); !status.ok()) return status;
  return internal::BgNbdLikelihood(customers).TotalAt(parameters);
}

absl::StatusOr<BgNbdFit> FitBgNbd(std::span<const CalibrationSummary> customers, const FitOptions& options) {
  const auto started = std::chrono::steady_clock::now();
  if (absl::Status status = ValidateCustomers(customers); !status.ok()) return status;
  const internal::BgNbdLikelihood likelihood(customers);
  if (likelihood.repeat_customers() == 0) {
    return absl::FailedPreconditionError(
        "BG/NBD: no customer has a repeat transaction, so purchase rate and dropout cannot be told apart");
  }

  // Start at r = a = b = 1 and α = mean age: a rate of about one purchase per customer lifetime so
  // far, whatever unit of scale the customers' histories have.
  double mean_age = 0;
  for (const CalibrationSummary& customer : customers) mean_age += customer.age.count();
  mean_age /= static_cast<double>(customers.size());
  std::vector<double> start = {0.0, std::log(std::max(mean_age, 1.0)), 0.0, 0.0};

  const internal::Objective objective = [&likelihood](std::span<const double> x, std::span<double> gradient) {
    return likelihood.MeanAt(x, gradient);
  };
  absl::StatusOr<internal::Maximum> maximum = internal::Maximize(objective, std::move(start), options);
  if (!maximum.ok()) {
    return absl::Status(maximum.status().code(), absl::StrCat("BG/NBD fit: ", maximum.status().message()));
  }

  BgNbdFit fit;
  fit.parameters = {.r = std::exp(maximum->x[0]),
                    .alpha = std::exp(maximum->x[1]),
                    .a = std::exp(maximum->x[2]),
                    .b = std::exp(maximum->x[3])};
  fit.log_likelihood = likelihood.TotalAt(fit.parameters);
  fit.customers = likelihood.customers();
  fit.repeat_customers = likelihood.repeat_customers();
  fit.convergence = std::move(maximum->convergence);
  fit.convergence.elapsed = std::chrono::steady_clock::now() - started;
  return fit;
}

}  // namespace tessera::prediction
