#include "tests/prediction/simulation.h"

#include <random>

namespace tessera::prediction::testing {

std::vector<CalibrationSummary> SimulateBgNbd(const BgNbdParameters& parameters, int customers,
                                              uint64_t seed) {
  std::mt19937_64 random(seed);
  // std::gamma_distribution takes shape and scale; the models' α and 1 are rates.
  std::gamma_distribution<double> rate(parameters.r, 1 / parameters.alpha);
  std::gamma_distribution<double> beta_left(parameters.a, 1.0);
  std::gamma_distribution<double> beta_right(parameters.b, 1.0);
  std::uniform_real_distribution<double> age(26, 52);
  std::uniform_real_distribution<double> coin(0, 1);
  std::vector<CalibrationSummary> summaries;
  summaries.reserve(customers);
  for (int i = 0; i < customers; ++i) {
    const double lambda = rate(random);
    const double left = beta_left(random);
    const double dropout = left / (left + beta_right(random));
    const double observed = age(random);
    std::exponential_distribution<double> gap(lambda);
    CalibrationSummary summary{.repeat_transactions = 0, .recency = Weeks(0), .age = Weeks(observed)};
    for (double t = gap(random); t <= observed; t += gap(random)) {
      ++summary.repeat_transactions;
      summary.recency = Weeks(t);
      if (coin(random) < dropout) break;
    }
    summaries.push_back(summary);
  }
  return summaries;
}

std::vector<CalibrationSummary> SimulateGammaGamma(const GammaGammaParameters& parameters, int customers,
                                                   uint64_t seed) {
  std::mt19937_64 random(seed);
  std::gamma_distribution<double> scale(parameters.q, 1 / parameters.gamma);
  std::uniform_int_distribution<int> repeats(1, 10);
  std::vector<CalibrationSummary> summaries;
  summaries.reserve(customers);
  for (int i = 0; i < customers; ++i) {
    const double nu = scale(random);
    std::gamma_distribution<double> value(parameters.p, 1 / nu);
    const int x = repeats(random);
    double total = 0;
    for (int j = 0; j < x; ++j) total += value(random);
    summaries.push_back(
        {.repeat_transactions = x, .recency = Weeks(1), .age = Weeks(2), .mean_repeat_value = total / x});
  }
  return summaries;
}

}  // namespace tessera::prediction::testing
