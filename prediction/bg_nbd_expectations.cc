// BG/NBD's conditional quantities: P(alive) and the expected purchases in a coming period, for one
// customer given their summary, or for a new customer.

#include <cmath>

#include "absl/strings/str_cat.h"
#include "prediction/bg_nbd.h"
#include "prediction/hypergeometric.h"

namespace tessera::prediction {
namespace {

// Within this distance of a = 1 the factor 1/(a−1) and the bracket it divides both vanish; the value
// there is taken by linear interpolation between a = 1 ± kNearOne, which is smooth in a (its error is
// O(kNearOne²), about 1e-8 relative), instead of by a 0/0 that loses all digits.
constexpr double kNearOne = 1e-4;

absl::Status ValidateInput(const BgNbdParameters& parameters, const CalibrationSummary& customer) {
  if (absl::Status status = ValidateBgNbdParameters(parameters); !status.ok()) return status;
  if (absl::Status status = ValidateSummary(customer); !status.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("BG/NBD: customer: ", status.message()));
  }
  return absl::OkStatus();
}

double AliveProbability(const BgNbdParameters& parameters, const CalibrationSummary& customer) {
  if (customer.repeat_transactions == 0) return 1.0;
  const double x = static_cast<double>(customer.repeat_transactions);
  // The odds of "dropped out after the last purchase" against "alive", in logs so that long silences
  // with many past purchases do not overflow the power.
  const double log_odds = std::log(parameters.a) - std::log(parameters.b + x - 1) +
                          (parameters.r + x) * (std::log(parameters.alpha + customer.age.count()) -
                                                std::log(parameters.alpha + customer.recency.count()));
  return log_odds > 0 ? std::exp(-log_odds) / (1 + std::exp(-log_odds)) : 1 / (1 + std::exp(log_odds));
}

// E[Y(t) | x, t_x, T] for a ≠ 1 (not too near it). The paper's ((α+T)/(α+T+t))^(r+x) 2F1(r+x, b+x;
// a+b+x−1; z) is rewritten with Euler's transformation as (1−z)^(a−1) 2F1(a+b−1−r, a−1; a+b+x−1; z):
// the same value, but the power no longer underflows and the 2F1 no longer grows like (1−z)^−(r+x)
// for customers with many purchases, and its second parameter a−1 makes the series short.
absl::StatusOr<double> ExpectedPurchasesAwayFromOne(const BgNbdParameters& parameters, double a,
                                                    const CalibrationSummary& customer, double horizon) {
  const double x = static_cast<double>(customer.repeat_transactions);
  const double alpha_age = parameters.alpha + customer.age.count();
  const double z = horizon / (alpha_age + horizon);
  const double log_one_minus_z = -std::log1p(horizon / alpha_age);
  absl::StatusOr<double> hypergeometric =
      Hypergeometric2F1(a + parameters.b - 1 - parameters.r, a - 1, a + parameters.b + x - 1, z);
  if (!hypergeometric.ok()) return hypergeometric.status();
  const double bracket = 1 - std::exp((a - 1) * log_one_minus_z) * *hypergeometric;
  BgNbdParameters at_a = parameters;
  at_a.a = a;
  return (a + parameters.b + x - 1) / (a - 1) * bracket * AliveProbability(at_a, customer);
}

}  // namespace

absl::StatusOr<double> ProbabilityAlive(const BgNbdParameters& parameters,
                                        const CalibrationSummary& customer) {
  if (absl::Status status = ValidateInput(parameters, customer); !status.ok()) return status;
  return AliveProbability(parameters, customer);
}

absl::StatusOr<double> ExpectedPurchases(const BgNbdParameters& parameters,
                                         const CalibrationSummary& customer, Weeks horizon) {
  if (absl::Status status = ValidateInput(parameters, customer); !status.ok()) return status;
  const double t = horizon.count();
  if (!std::isfinite(t) || t < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("BG/NBD: horizon must be a finite number of weeks >= 0, got ", t));
  }
  if (t == 0) return 0.0;
  if (std::abs(parameters.a - 1) >= kNearOne) {
    return ExpectedPurchasesAwayFromOne(parameters, parameters.a, customer, t);
  }
  absl::StatusOr<double> below = ExpectedPurchasesAwayFromOne(parameters, 1 - kNearOne, customer, t);
  if (!below.ok()) return below.status();
  absl::StatusOr<double> above = ExpectedPurchasesAwayFromOne(parameters, 1 + kNearOne, customer, t);
  if (!above.ok()) return above.status();
  const double fraction = (parameters.a - (1 - kNearOne)) / (2 * kNearOne);
  return *below + fraction * (*above - *below);
}

absl::StatusOr<double> ExpectedRepeatPurchases(const BgNbdParameters& parameters,
                                               Weeks since_first_purchase) {
  // A customer just acquired: x = t_x = T = 0, alive for sure, which turns (10) into (9).
  return ExpectedPurchases(parameters, CalibrationSummary{}, since_first_purchase);
}

}  // namespace tessera::prediction
