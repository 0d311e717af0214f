#pragma once

// The Gamma-Gamma log-likelihood prepared for repeated evaluation by the optimizer: only customers with
// x > 0 and zbar > 0, grouped by x so that the gammas and digammas of p·x are computed once per
// distinct x per evaluation.

#include <cstdint>
#include <span>
#include <vector>

#include "prediction/calibration_summary.h"
#include "prediction/gamma_gamma.h"

namespace tessera::prediction::internal {

class GammaGammaLikelihood {
 public:
  // The summaries must have passed ValidateSummary; unusable ones are counted and skipped.
  explicit GammaGammaLikelihood(std::span<const CalibrationSummary> customers);

  // Mean log-likelihood per fitted customer at (p, q, γ) = exp(log_parameters); when `gradient` is not
  // empty, its derivatives with respect to the three log-parameters.
  double MeanAt(std::span<const double> log_parameters, std::span<double> gradient) const;

  double TotalAt(const GammaGammaParameters& parameters) const;

  int64_t customers() const { return static_cast<int64_t>(mean_value_.size()); }
  int64_t left_out_no_repeat() const { return left_out_no_repeat_; }
  int64_t left_out_non_positive_value() const { return left_out_non_positive_value_; }
  // Mean of the fitted customers' zbar, a natural scale for γ's starting point.
  double average_mean_value() const;

 private:
  struct Group {
    double x = 0;
    double log_x = 0;
    size_t begin = 0;
    size_t end = 0;
  };
  std::vector<Group> groups_;
  std::vector<double> mean_value_;      // zbar.
  std::vector<double> log_mean_value_;  // ln zbar, fixed across evaluations.
  int64_t left_out_no_repeat_ = 0;
  int64_t left_out_non_positive_value_ = 0;
};

}  // namespace tessera::prediction::internal
