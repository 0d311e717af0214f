#pragma once

// Customers drawn from the models themselves (seeded, so every run sees the same ones), for tests
// that a fit recovers the parameters it was given, and for the fitting benchmark.

#include <cstdint>
#include <vector>

#include "prediction/bg_nbd.h"
#include "prediction/calibration_summary.h"
#include "prediction/gamma_gamma.h"

namespace tessera::prediction::testing {

// BG/NBD's story: λ ~ Gamma(r, α), p ~ Beta(a, b); from the first purchase at 0, purchases come as a
// Poisson process of rate λ and after each repeat purchase the customer leaves with probability p.
// Observation ages T are uniform in [26, 52] weeks (customers acquired over half a year).
std::vector<CalibrationSummary> SimulateBgNbd(const BgNbdParameters& parameters, int customers,
                                              uint64_t seed);

// Gamma-Gamma's story: ν ~ Gamma(q, γ), each of x ∈ [1, 10] repeat transactions' values ~ Gamma(p, ν);
// zbar is their mean. Recency and age are placeholders (the spend model does not read them).
std::vector<CalibrationSummary> SimulateGammaGamma(const GammaGammaParameters& parameters, int customers,
                                                   uint64_t seed);

}  // namespace tessera::prediction::testing
