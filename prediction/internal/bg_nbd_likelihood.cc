#include "prediction/internal/bg_nbd_likelihood.h"

#include <algorithm>
#include <cmath>
#include <tuple>

#include "prediction/internal/special_functions.h"

namespace tessera::prediction::internal {

BgNbdLikelihood::BgNbdLikelihood(std::span<const CalibrationSummary> customers) {
  struct Record {
    int64_t x;
    double recency;
    double age;
  };
  std::vector<Record> records;
  records.reserve(customers.size());
  for (const CalibrationSummary& customer : customers) {
    // t_x does not enter the likelihood when x = 0; zero it so such customers merge on T alone.
    const double recency = customer.repeat_transactions > 0 ? customer.recency.count() : 0.0;
    records.push_back({customer.repeat_transactions, recency, customer.age.count()});
    if (customer.repeat_transactions > 0) ++repeat_customers_;
  }
  customers_ = static_cast<int64_t>(customers.size());
  std::sort(records.begin(), records.end(), [](const Record& u, const Record& v) {
    return std::tie(u.x, u.recency, u.age) < std::tie(v.x, v.recency, v.age);
  });
  for (const Record& record : records) {
    const bool same_as_last = !recency_.empty() && groups_.back().x == static_cast<double>(record.x) &&
                              recency_.back() == record.recency && age_.back() == record.age;
    if (same_as_last) {
      weight_.back() += 1;
      continue;
    }
    if (groups_.empty() || groups_.back().x != static_cast<double>(record.x)) {
      groups_.push_back(
          {.x = static_cast<double>(record.x), .begin = recency_.size(), .end = recency_.size()});
    }
    recency_.push_back(record.recency);
    age_.push_back(record.age);
    weight_.push_back(1);
    groups_.back().end = recency_.size();
  }
}

double BgNbdLikelihood::MeanAt(std::span<const double> log_parameters, std::span<double> gradient) const {
  const double r = std::exp(log_parameters[0]);
  const double alpha = std::exp(log_parameters[1]);
  const double a = std::exp(log_parameters[2]);
  const double b = std::exp(log_parameters[3]);
  const bool want_gradient = !gradient.empty();

  const double log_alpha = std::log(alpha);
  const double log_beta_ab = LogBeta(a, b);
  const double lgamma_r = LogGamma(r);
  // Digammas that do not depend on x (only needed for the gradient).
  const double psi_r = want_gradient ? Digamma(r) : 0;
  const double psi_a = want_gradient ? Digamma(a) : 0;
  const double psi_b = want_gradient ? Digamma(b) : 0;
  const double psi_ab = want_gradient ? Digamma(a + b) : 0;
  const double psi_a1 = want_gradient ? Digamma(a + 1) : 0;

  double total = 0;
  double d_r = 0, d_alpha = 0, d_a = 0, d_b = 0;
  for (const Group& group : groups_) {
    const double x = group.x;
    const double rx = r + x;
    const double common = LogGamma(rx) - lgamma_r + r * log_alpha - log_beta_ab;
    const double log_beta_alive = LogBeta(a, b + x);                        // Still alive at T.
    const double log_beta_dropped = x > 0 ? LogBeta(a + 1, b + x - 1) : 0;  // Dropped after t_x.

    double psi_rx = 0, d_alive_da = 0, d_alive_db = 0, d_dropped_da = 0, d_dropped_db = 0;
    if (want_gradient) {
      psi_rx = Digamma(rx);
      const double psi_abx = Digamma(a + b + x);
      d_alive_da = psi_a - psi_abx;
      d_alive_db = Digamma(b + x) - psi_abx;
      if (x > 0) {
        d_dropped_da = psi_a1 - psi_abx;
        d_dropped_db = Digamma(b + x - 1) - psi_abx;
      }
    }

    double group_total = 0;
    double g_r = 0, g_alpha = 0, g_a = 0, g_b = 0;
    for (size_t i = group.begin; i < group.end; ++i) {
      const double weight = weight_[i];
      const double log_age = std::log(alpha + age_[i]);
      const double alive = log_beta_alive - rx * log_age;
      double log_sum = alive;
      double dropped_share = 0;  // Posterior weight of "dropped out after the last purchase".
      double log_recency = 0;
      if (x > 0) {
        log_recency = std::log(alpha + recency_[i]);
        const double dropped = log_beta_dropped - rx * log_recency;
        log_sum = LogSumExp(alive, dropped);
        dropped_share = std::exp(dropped - log_sum);
      }
      group_total += weight * log_sum;
      if (want_gradient) {
        const double alive_share = 1 - dropped_share;
        g_r += weight * (-alive_share * log_age - dropped_share * log_recency);
        g_alpha +=
            weight *
            (-rx * (alive_share / (alpha + age_[i]) + (x > 0 ? dropped_share / (alpha + recency_[i]) : 0.0)));
        g_a += weight * (alive_share * d_alive_da + dropped_share * d_dropped_da);
        g_b += weight * (alive_share * d_alive_db + dropped_share * d_dropped_db);
      }
    }
    double group_weight = 0;
    for (size_t i = group.begin; i < group.end; ++i) group_weight += weight_[i];
    total += group_total + group_weight * common;
    if (want_gradient) {
      d_r += g_r + group_weight * (psi_rx - psi_r + log_alpha);
      d_alpha += g_alpha + group_weight * r / alpha;
      d_a += g_a - group_weight * (psi_a - psi_ab);
      d_b += g_b - group_weight * (psi_b - psi_ab);
    }
  }

  const double n = static_cast<double>(customers_);
  if (want_gradient) {
    // Chain rule to log-parameters: ∂/∂ln θ = θ ∂/∂θ.
    gradient[0] = r * d_r / n;
    gradient[1] = alpha * d_alpha / n;
    gradient[2] = a * d_a / n;
    gradient[3] = b * d_b / n;
  }
  return total / n;
}

double BgNbdLikelihood::TotalAt(const BgNbdParameters& parameters) const {
  const double log_parameters[] = {std::log(parameters.r), std::log(parameters.alpha), std::log(parameters.a),
                                   std::log(parameters.b)};
  return MeanAt(log_parameters, {}) * static_cast<double>(customers_);
}

}  // namespace tessera::prediction::internal
