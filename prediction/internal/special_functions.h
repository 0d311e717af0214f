#pragma once

// Gamma-family functions for the models, through Boost.Math with a policy that never throws: a pole
// or an overflow comes back as an infinity or a NaN that the caller checks, because no exception may
// leave this component. glibc's std::lgamma writes the global `signgam`, which concurrent fits would
// race on; Boost's keeps the sign in an argument.

#include <boost/math/policies/policy.hpp>
#include <boost/math/special_functions/digamma.hpp>
#include <boost/math/special_functions/gamma.hpp>
#include <cmath>

namespace tessera::prediction::internal {

using QuietPolicy = boost::math::policies::policy<
    boost::math::policies::domain_error<boost::math::policies::ignore_error>,
    boost::math::policies::pole_error<boost::math::policies::ignore_error>,
    boost::math::policies::overflow_error<boost::math::policies::ignore_error>,
    boost::math::policies::evaluation_error<boost::math::policies::ignore_error>,
    // Double precision is all the models need; promoting to long double would only cost time.
    boost::math::policies::promote_double<false>>;

// ln|Γ(x)|; `sign` (if given) receives the sign of Γ(x).
inline double LogGamma(double x, int* sign = nullptr) { return boost::math::lgamma(x, sign, QuietPolicy()); }

// ψ(x) = Γ'(x)/Γ(x).
inline double Digamma(double x) { return boost::math::digamma(x, QuietPolicy()); }

// ln B(a, b) = ln Γ(a) + ln Γ(b) − ln Γ(a + b), for a, b > 0.
inline double LogBeta(double a, double b) { return LogGamma(a) + LogGamma(b) - LogGamma(a + b); }

// ln(e^u + e^v) without overflow or underflow.
inline double LogSumExp(double u, double v) {
  const double high = u > v ? u : v;
  if (std::isinf(high)) return high;
  return high + std::log1p(std::exp((u > v ? v : u) - high));
}

}  // namespace tessera::prediction::internal
