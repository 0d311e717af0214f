#pragma once

// The BG/NBD log-likelihood prepared for repeated evaluation by the optimizer. Customers with equal
// (x, t_x, T) are merged into one weighted record (on daily data most of the x = 0 customers share a
// handful of T values), and every term that depends only on x (the gammas, betas and digammas) is
// computed once per distinct x per evaluation, so one evaluation costs a few logarithms per record.

#include <cstdint>
#include <span>
#include <vector>

#include "prediction/bg_nbd.h"
#include "prediction/calibration_summary.h"

namespace tessera::prediction::internal {

class BgNbdLikelihood {
 public:
  // The summaries must have passed ValidateSummary.
  explicit BgNbdLikelihood(std::span<const CalibrationSummary> customers);

  // Mean log-likelihood per customer at (r, α, a, b) = exp(log_parameters); when `gradient` is not
  // empty, its derivatives with respect to the four log-parameters.
  double MeanAt(std::span<const double> log_parameters, std::span<double> gradient) const;

  // Σ over customers at `parameters` (not the mean).
  double TotalAt(const BgNbdParameters& parameters) const;

  int64_t customers() const { return customers_; }
  int64_t repeat_customers() const { return repeat_customers_; }
  // Distinct (x, t_x, T) records after merging.
  size_t records() const { return recency_.size(); }

 private:
  struct Group {
    double x = 0;      // Repeat transactions of every record in the group.
    size_t begin = 0;  // Its records are [begin, end) in the arrays below.
    size_t end = 0;
  };
  std::vector<Group> groups_;
  std::vector<double> recency_;  // t_x, weeks.
  std::vector<double> age_;      // T, weeks.
  std::vector<double> weight_;   // Customers the record stands for.
  int64_t customers_ = 0;
  int64_t repeat_customers_ = 0;
};

}  // namespace tessera::prediction::internal
