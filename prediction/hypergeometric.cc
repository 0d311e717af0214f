#include "prediction/hypergeometric.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "prediction/internal/special_functions.h"

namespace tessera::prediction {
namespace {

using internal::Digamma;
using internal::LogGamma;

constexpr double kEpsilon = std::numeric_limits<double>::epsilon();
// Above this z the power series needs more than a few hundred terms; the connection formula's series
// in 1 − z < 0.1 need a few dozen.
constexpr double kConnectionThreshold = 0.9;
// Below this z the connection formula's series (in 1 − z > 0.5) are not worth trying as an alternative.
constexpr double kConnectionAlternative = 0.5;
// A route whose rounding errors are amplified at most this much (about one digit) is taken at once.
constexpr double kWellConditioned = 16;
// Beyond this amplification fewer than about 5 of double's 16 digits remain: an error, not a value.
constexpr double kWorstCondition = 1e11;
// Closer than this to an integer, c − a − b is also evaluated as that integer (its limit formula),
// whose error grows with the distance, against the cancelling non-integer formula.
constexpr double kTreatAsInteger = 1e-8;
// Budget of a series; the series near z = 1 is tried only when its estimated length fits.
constexpr int64_t kSeriesTerms = 1'000'000;

bool IsNonPositiveInteger(double v) { return v <= 0 && v == std::floor(v); }

// A value with the factor by which its route amplified rounding errors (Σ|terms| / |Σ terms|, ≥ 1).
struct Estimate {
  double value = 0;
  double condition = 1;
};

double Condition(double absolute_sum, double value) {
  if (value == 0) return absolute_sum == 0 ? 1 : std::numeric_limits<double>::infinity();
  return std::max(1.0, absolute_sum / std::abs(value));
}

// Two terms of a formula, each with its own condition, added.
Estimate Combine(Estimate first, Estimate second) {
  const double value = first.value + second.value;
  return {.value = value,
          .condition = Condition(
              std::abs(first.value) * first.condition + std::abs(second.value) * second.condition, value)};
}

// The better of two routes: a finite value first, then the smaller condition.
std::optional<Estimate> Best(std::optional<Estimate> u, std::optional<Estimate> v) {
  if (!u) return v;
  if (!v) return u;
  if (std::isfinite(u->value) != std::isfinite(v->value)) return std::isfinite(u->value) ? u : v;
  return u->condition <= v->condition ? u : v;
}

bool Good(const std::optional<Estimate>& estimate) {
  return estimate && std::isfinite(estimate->value) && estimate->condition <= kWellConditioned;
}

// A real number kept as sign and log-magnitude, so that products of gammas of large arguments can be
// formed before the (moderate) result is taken.
struct Scaled {
  double log_magnitude = 0;
  int sign = 1;
};

Scaled GammaScaled(double x) {
  int sign = 1;
  const double log_magnitude = LogGamma(x, &sign);
  return {.log_magnitude = log_magnitude, .sign = sign};
}

// 1/Γ(x), which is 0 at x = 0, −1, −2, ...
Scaled ReciprocalGamma(double x) {
  if (IsNonPositiveInteger(x)) return {.log_magnitude = 0, .sign = 0};
  const Scaled gamma = GammaScaled(x);
  return {.log_magnitude = -gamma.log_magnitude, .sign = gamma.sign};
}

Scaled Times(Scaled u, Scaled v) {
  return {.log_magnitude = u.log_magnitude + v.log_magnitude, .sign = u.sign * v.sign};
}

double TimesValue(Scaled factor, double value) {
  if (factor.sign == 0 || value == 0) return 0.0;
  const double sign = factor.sign * (value < 0 ? -1 : 1);
  return sign * std::exp(factor.log_magnitude + std::log(std::abs(value)));
}

// Σ (a)_n (b)_n / ((c)_n n!) z^n. Stops when the remaining tail, bounded by the current term times
// ρ/(1−ρ) with ρ the larger of the next ratio and |z| (the ratios' limit), is below ε of the sum.
// Nullopt if that does not happen within `max_terms`.
std::optional<Estimate> PowerSeries(double a, double b, double c, double z, int64_t max_terms) {
  double term = 1.0;
  double sum = 1.0;
  double absolute_sum = 1.0;
  // Past this index every factor a+n, b+n, c+n has its final sign, so small terms are not a passing
  // dip before a factor changes sign.
  const double settled = std::max({0.0, -a, -b, -c}) + 1;
  for (int64_t n = 0; n < max_terms; ++n) {
    const double dn = static_cast<double>(n);
    term *= (a + dn) * (b + dn) / ((c + dn) * (dn + 1)) * z;
    sum += term;
    absolute_sum += std::abs(term);
    if (term == 0) break;  // A polynomial: a or b is a non-positive integer.
    if (!std::isfinite(absolute_sum)) return std::nullopt;
    if (dn + 1 < settled) continue;
    const double next_ratio = std::abs((a + dn + 1) * (b + dn + 1) / ((c + dn + 1) * (dn + 2)) * z);
    const double rho = std::max(next_ratio, std::abs(z));
    if (rho < 1 && std::abs(term) * rho / (1 - rho) <= 0.5 * kEpsilon * std::abs(sum)) {
      return Estimate{.value = sum, .condition = Condition(absolute_sum, sum)};
    }
  }
  if (term != 0) return std::nullopt;
  return Estimate{.value = sum, .condition = Condition(absolute_sum, sum)};
}

// About how many terms the power series needs at 0 < z < 1: the terms may grow until n is of the
// order of the parameters, then shrink like z^n.
double SeriesLength(double a, double b, double c, double z) {
  if (IsNonPositiveInteger(a) || IsNonPositiveInteger(b)) return std::min(-a, -b) + 1;
  return (40 + std::max({std::abs(a), std::abs(b), std::abs(c)})) / -std::log(z);
}

// For 0 ≤ z < 1, w = 1 − z (passed separately: after Pfaff's transformation it is exact where 1 − z
// would not be).
std::optional<Estimate> Direct(double a, double b, double c, double z) {
  return PowerSeries(a, b, c, z, kSeriesTerms);
}

std::optional<Estimate> Euler(double a, double b, double c, double z, double w) {
  std::optional<Estimate> sum = PowerSeries(c - a, c - b, c, z, kSeriesTerms);
  if (sum) sum->value *= std::pow(w, c - a - b);
  return sum;
}

// DLMF 15.8.4 for c − a − b not an integer: two series in w = 1 − z.
std::optional<Estimate> ConnectionNonInteger(double a, double b, double c, double w) {
  const double excess = c - a - b;
  std::optional<Estimate> first = PowerSeries(a, b, 1 - excess, w, kSeriesTerms);
  std::optional<Estimate> second = PowerSeries(c - a, c - b, 1 + excess, w, kSeriesTerms);
  if (!first || !second) return std::nullopt;
  const Scaled gamma_c = GammaScaled(c);
  const Scaled first_factor =
      Times(Times(gamma_c, GammaScaled(excess)), Times(ReciprocalGamma(c - a), ReciprocalGamma(c - b)));
  Scaled second_factor =
      Times(Times(gamma_c, GammaScaled(-excess)), Times(ReciprocalGamma(a), ReciprocalGamma(b)));
  second_factor.log_magnitude += excess * std::log(w);
  first->value = TimesValue(first_factor, first->value);
  second->value = TimesValue(second_factor, second->value);
  return Combine(*first, *second);
}

// DLMF 15.8.10 for c = a + b + m, m = 0, 1, 2, ...: the limit of 15.8.4, with digammas. Neither a nor
// b is a non-positive integer here (those are polynomials, summed directly).
std::optional<Estimate> ConnectionInteger(double a, double b, int64_t m, double w) {
  const double dm = static_cast<double>(m);
  const Scaled gamma_c = GammaScaled(a + b + dm);

  // Σ_{k<m} (a)_k (b)_k (m−k−1)! / k! (z−1)^k, with (m−1)! taken into the factor.
  Estimate finite{.value = 0, .condition = 1};
  if (m > 0) {
    double term = 1.0;
    double sum = 1.0;
    double absolute_sum = 1.0;
    for (int64_t k = 0; k + 1 < m; ++k) {
      const double dk = static_cast<double>(k);
      term *= (a + dk) * (b + dk) / ((dk + 1) * (dm - dk - 1)) * (-w);
      sum += term;
      absolute_sum += std::abs(term);
    }
    const Scaled factor =
        Times(Times(gamma_c, GammaScaled(dm)), Times(ReciprocalGamma(a + dm), ReciprocalGamma(b + dm)));
    finite = {.value = TimesValue(factor, sum), .condition = Condition(absolute_sum, sum)};
  }

  // Σ_k (a+m)_k (b+m)_k / (k! (k+m)!) w^k [ln w − ψ(k+1) − ψ(k+m+1) + ψ(a+k+m) + ψ(b+k+m)], with 1/m!
  // taken into the factor. The digammas advance by ψ(x+1) = ψ(x) + 1/x.
  const double log_w = std::log(w);
  double psi_k1 = Digamma(1.0);
  double psi_km1 = Digamma(dm + 1);
  double psi_akm = Digamma(a + dm);
  double psi_bkm = Digamma(b + dm);
  double coefficient = 1.0;
  double sum = 0;
  double absolute_sum = 0;
  const double settled = std::max({0.0, -(a + dm), -(b + dm)}) + 1;
  bool converged = false;
  for (int64_t k = 0; k < kSeriesTerms; ++k) {
    const double dk = static_cast<double>(k);
    const double term = coefficient * (log_w - psi_k1 - psi_km1 + psi_akm + psi_bkm);
    sum += term;
    absolute_sum += std::abs(term);
    const double ratio = (a + dm + dk) * (b + dm + dk) / ((dk + 1) * (dk + dm + 1)) * w;
    if (dk + 1 >= settled) {
      // The bracket grows only like ln k; a factor 2 on the geometric bound covers it.
      const double rho = std::max(std::abs(ratio), w);
      if (rho < 1 && 2 * std::abs(term) * rho / (1 - rho) <= 0.5 * kEpsilon * std::abs(sum)) {
        converged = true;
        break;
      }
    }
    coefficient *= ratio;
    psi_k1 += 1 / (dk + 1);
    psi_km1 += 1 / (dk + dm + 1);
    psi_akm += 1 / (a + dm + dk);
    psi_bkm += 1 / (b + dm + dk);
  }
  if (!converged) return std::nullopt;
  Scaled factor =
      Times(Times(gamma_c, ReciprocalGamma(dm + 1)), Times(ReciprocalGamma(a), ReciprocalGamma(b)));
  factor.log_magnitude += dm * log_w;
  factor.sign *= (m % 2 == 0) ? -1 : 1;  // −(z−1)^m = −(−1)^m w^m.
  const Estimate infinite{.value = TimesValue(factor, sum), .condition = Condition(absolute_sum, sum)};
  return Combine(finite, infinite);
}

// c − a − b = m, an integer of either sign. For m < 0, Euler's transformation turns it into −m.
std::optional<Estimate> ConnectionIntegerAnySign(double a, double b, double c, int64_t m, double w) {
  if (m >= 0) return ConnectionInteger(a, b, m, w);
  // Then the Euler-transformed function is a polynomial, which the series routes sum exactly.
  if (IsNonPositiveInteger(c - a) || IsNonPositiveInteger(c - b)) return std::nullopt;
  std::optional<Estimate> transformed = ConnectionInteger(c - a, c - b, -m, w);
  if (transformed) transformed->value *= std::pow(w, static_cast<double>(m));
  return transformed;
}

std::optional<Estimate> Connection(double a, double b, double c, double w) {
  const double excess = c - a - b;
  const double nearest = std::round(excess);
  const double distance = std::abs(excess - nearest);
  if (distance == 0) return ConnectionIntegerAnySign(a, b, c, static_cast<int64_t>(nearest), w);
  std::optional<Estimate> non_integer = ConnectionNonInteger(a, b, c, w);
  if (distance >= kTreatAsInteger) return non_integer;
  // The limit formula at the nearest integer is off by about distance · (1 + |ln w|), the derivative's
  // size; count that as the rounding it would take to be as wrong.
  std::optional<Estimate> integer = ConnectionIntegerAnySign(a, b, c, static_cast<int64_t>(nearest), w);
  if (integer)
    integer->condition = std::max(integer->condition, distance * (1 + std::abs(std::log(w))) / kEpsilon);
  return Best(non_integer, integer);
}

// 0 ≤ z < 1 with w = 1 − z; c is not a pole.
std::optional<Estimate> UnitInterval(double a, double b, double c, double z, double w) {
  if (IsNonPositiveInteger(a) || IsNonPositiveInteger(b)) return Direct(a, b, c, z);
  // Euler's series first when c − a − b < 0: its terms decay where the plain ones grow.
  const bool euler_first = c - a - b < 0;
  if (z <= kConnectionThreshold) {
    std::optional<Estimate> best = euler_first ? Euler(a, b, c, z, w) : Direct(a, b, c, z);
    if (Good(best)) return best;
    best = Best(best, euler_first ? Direct(a, b, c, z) : Euler(a, b, c, z, w));
    if (Good(best) || z <= kConnectionAlternative) return best;
    return Best(best, Connection(a, b, c, w));
  }
  std::optional<Estimate> best = Connection(a, b, c, w);
  if (Good(best)) return best;
  // The series near 1 only if it can finish within its budget.
  if (SeriesLength(a, b, c, z) <= static_cast<double>(kSeriesTerms) ||
      SeriesLength(c - a, c - b, c, z) <= static_cast<double>(kSeriesTerms)) {
    best = Best(best, euler_first ? Euler(a, b, c, z, w) : Direct(a, b, c, z));
    if (!Good(best)) best = Best(best, euler_first ? Direct(a, b, c, z) : Euler(a, b, c, z, w));
  }
  return best;
}

std::optional<Estimate> Scale(std::optional<Estimate> estimate, double factor) {
  if (estimate) estimate->value *= factor;
  return estimate;
}

// z < 0: Pfaff's transformation, 2F1(a, b; c; z) = (1−z)^−a 2F1(a, c−b; c; u) with u = −z/(1−z) in
// (0, 1) and 1 − u = 1/(1−z) formed without cancellation; or the same with a and b swapped.
std::optional<Estimate> NegativeZ(double a, double b, double c, double z) {
  const double one_minus_z = 1 - z;
  const double u = -z / one_minus_z;
  const double w = 1 / one_minus_z;
  std::optional<Estimate> best = Scale(UnitInterval(a, c - b, c, u, w), std::pow(one_minus_z, -a));
  if (Good(best)) return best;
  best = Best(best, Scale(UnitInterval(b, c - a, c, u, w), std::pow(one_minus_z, -b)));
  if (!Good(best) && z >= -kConnectionThreshold) best = Best(best, Direct(a, b, c, z));
  return best;
}

std::string Call(double a, double b, double c, double z) {
  return absl::StrCat("2F1(", a, ", ", b, "; ", c, "; ", z, ")");
}

}  // namespace

absl::StatusOr<double> Hypergeometric2F1(double a, double b, double c, double z) {
  if (!std::isfinite(a) || !std::isfinite(b) || !std::isfinite(c) || !std::isfinite(z)) {
    return absl::InvalidArgumentError(absl::StrCat(Call(a, b, c, z), ": arguments must be finite"));
  }
  const bool a_ends = IsNonPositiveInteger(a);
  const bool b_ends = IsNonPositiveInteger(b);
  if (IsNonPositiveInteger(c) && !((a_ends && a > c) || (b_ends && b > c))) {
    return absl::InvalidArgumentError(absl::StrCat(Call(a, b, c, z), ": c is a pole"));
  }
  std::optional<Estimate> result;
  if (a_ends || b_ends) {
    // A polynomial of degree −a (or −b): the direct sum is exact for every z.
    result = Direct(a, b, c, z);
  } else if (z > 1) {
    return absl::InvalidArgumentError(
        absl::StrCat(Call(a, b, c, z), ": z > 1 is off the real branch this computes"));
  } else if (z == 1) {
    if (c - a - b <= 0) {
      return absl::InvalidArgumentError(absl::StrCat(Call(a, b, c, z), ": diverges unless c - a - b > 0"));
    }
    const Scaled gauss = Times(Times(GammaScaled(c), GammaScaled(c - a - b)),
                               Times(ReciprocalGamma(c - a), ReciprocalGamma(c - b)));
    result = Estimate{.value = TimesValue(gauss, 1.0), .condition = 1};
  } else if (z < 0) {
    result = NegativeZ(a, b, c, z);
  } else {
    result = UnitInterval(a, b, c, z, 1 - z);
  }
  if (!result) return absl::InternalError(absl::StrCat(Call(a, b, c, z), ": no series converged"));
  if (!std::isfinite(result->value)) {
    return absl::OutOfRangeError(absl::StrCat(Call(a, b, c, z), ": the value overflows a double"));
  }
  if (result->condition > kWorstCondition) {
    return absl::InternalError(absl::StrCat(Call(a, b, c, z),
                                            ": cancellation would leave fewer than 5 digits (",
                                            "rounding amplified ", result->condition, " times)"));
  }
  return result->value;
}

}  // namespace tessera::prediction
