#include "prediction/internal/gamma_gamma_likelihood.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "prediction/internal/special_functions.h"

namespace tessera::prediction::internal {

GammaGammaLikelihood::GammaGammaLikelihood(std::span<const CalibrationSummary> customers) {
  std::vector<std::pair<int64_t, double>> usable;  // (x, zbar)
  for (const CalibrationSummary& customer : customers) {
    if (customer.repeat_transactions == 0) {
      ++left_out_no_repeat_;
    } else if (!(customer.mean_repeat_value > 0)) {
      ++left_out_non_positive_value_;
    } else {
      usable.emplace_back(customer.repeat_transactions, customer.mean_repeat_value);
    }
  }
  std::sort(usable.begin(), usable.end());
  for (const auto& [x, mean_value] : usable) {
    if (groups_.empty() || groups_.back().x != static_cast<double>(x)) {
      const double dx = static_cast<double>(x);
      groups_.push_back(
          {.x = dx, .log_x = std::log(dx), .begin = mean_value_.size(), .end = mean_value_.size()});
    }
    mean_value_.push_back(mean_value);
    log_mean_value_.push_back(std::log(mean_value));
    groups_.back().end = mean_value_.size();
  }
}

double GammaGammaLikelihood::MeanAt(std::span<const double> log_parameters,
                                    std::span<double> gradient) const {
  const double p = std::exp(log_parameters[0]);
  const double q = std::exp(log_parameters[1]);
  const double gamma = std::exp(log_parameters[2]);
  const bool want_gradient = !gradient.empty();
  const double log_gamma_scale = std::log(gamma);
  const double lgamma_q = LogGamma(q);
  const double psi_q = want_gradient ? Digamma(q) : 0;

  double total = 0;
  double d_p = 0, d_q = 0, d_gamma = 0;
  for (const Group& group : groups_) {
    const double px = p * group.x;
    const double count = static_cast<double>(group.end - group.begin);
    const double common = LogGamma(px + q) - LogGamma(px) - lgamma_q + q * log_gamma_scale + px * group.log_x;
    const double psi_pxq = want_gradient ? Digamma(px + q) : 0;
    const double psi_px = want_gradient ? Digamma(px) : 0;
    double group_total = 0;
    double g_p = 0, g_q = 0, g_gamma = 0;
    for (size_t i = group.begin; i < group.end; ++i) {
      const double log_total_scale = std::log(gamma + group.x * mean_value_[i]);
      group_total += (px - 1) * log_mean_value_[i] - (px + q) * log_total_scale;
      if (want_gradient) {
        g_p += group.x * (log_mean_value_[i] - log_total_scale);
        g_q -= log_total_scale;
        g_gamma -= (px + q) / (gamma + group.x * mean_value_[i]);
      }
    }
    total += group_total + count * common;
    if (want_gradient) {
      d_p += g_p + count * group.x * (psi_pxq - psi_px + group.log_x);
      d_q += g_q + count * (psi_pxq - psi_q + log_gamma_scale);
      d_gamma += g_gamma + count * q / gamma;
    }
  }
  const double n = static_cast<double>(mean_value_.size());
  if (want_gradient) {
    // Chain rule to log-parameters: ∂/∂ln θ = θ ∂/∂θ.
    gradient[0] = p * d_p / n;
    gradient[1] = q * d_q / n;
    gradient[2] = gamma * d_gamma / n;
  }
  return total / n;
}

double GammaGammaLikelihood::TotalAt(const GammaGammaParameters& parameters) const {
  const double log_parameters[] = {std::log(parameters.p), std::log(parameters.q),
                                   std::log(parameters.gamma)};
  return MeanAt(log_parameters, {}) * static_cast<double>(mean_value_.size());
}

double GammaGammaLikelihood::average_mean_value() const {
  double sum = 0;
  for (double value : mean_value_) sum += value;
  return mean_value_.empty() ? 0.0 : sum / static_cast<double>(mean_value_.size());
}

}  // namespace tessera::prediction::internal
