#include "matching/training.h"

#include <algorithm>
#include <cmath>

namespace tessera::matching {
namespace {

// SplitMix64: a small, seeded, portable generator (the same pairs on every platform).
class SplitMix64 {
 public:
  explicit SplitMix64(uint64_t seed) : state_(seed) {}
  uint64_t Next() {
    uint64_t z = (state_ += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }
  size_t Below(size_t n) { return static_cast<size_t>(Next() % n); }

 private:
  uint64_t state_;
};

// Shares from counts, no level at zero (a zero would make a weight infinite): empty levels get
// half a count, then everything is renormalized.
std::vector<double> Shares(const std::vector<double>& counts) {
  double total = 0;
  for (double c : counts) total += c;
  std::vector<double> shares(counts.size());
  if (total <= 0) {
    std::fill(shares.begin(), shares.end(), 1.0 / static_cast<double>(counts.size()));
    return shares;
  }
  double sum = 0;
  for (size_t k = 0; k < counts.size(); ++k) {
    shares[k] = std::max(counts[k], 0.5) / total;
    sum += shares[k];
  }
  for (double& s : shares) s /= sum;
  return shares;
}

std::vector<double> StartingM(size_t levels) {
  if (levels <= 1) return std::vector<double>(levels, 1.0);
  if (levels == 2) return {0.9, 0.1};
  std::vector<double> m(levels, 0.25 / static_cast<double>(levels - 2));
  m.front() = 0.7;
  m.back() = 0.05;
  return m;
}

std::vector<RecordPair> RandomPairs(const PreparedRecords& records, const TrainingOptions& options) {
  std::vector<RecordPair> pairs;
  const size_t n = records.size();
  if (options.link_only) {
    std::vector<uint32_t> left, right;
    for (size_t i = 0; i < n; ++i)
      (records.source[i] == 0 ? left : right).push_back(static_cast<uint32_t>(i));
    if (left.empty() || right.empty()) return pairs;
    const double all = static_cast<double>(left.size()) * static_cast<double>(right.size());
    if (all <= static_cast<double>(options.u_sample_pairs)) {
      for (uint32_t l : left) {
        for (uint32_t r : right) pairs.push_back({std::min(l, r), std::max(l, r)});
      }
      return pairs;
    }
    SplitMix64 random(options.seed);
    for (size_t s = 0; s < options.u_sample_pairs; ++s) {
      const uint32_t l = left[random.Below(left.size())], r = right[random.Below(right.size())];
      pairs.push_back({std::min(l, r), std::max(l, r)});
    }
    return pairs;
  }
  if (n < 2) return pairs;
  const double all = static_cast<double>(n) * static_cast<double>(n - 1) / 2.0;
  if (all <= static_cast<double>(options.u_sample_pairs)) {
    for (uint32_t l = 0; l < n; ++l) {
      for (uint32_t r = l + 1; r < n; ++r) pairs.push_back({l, r});
    }
    return pairs;
  }
  SplitMix64 random(options.seed);
  while (pairs.size() < options.u_sample_pairs) {
    const uint32_t a = static_cast<uint32_t>(random.Below(n)), b = static_cast<uint32_t>(random.Below(n));
    if (a != b) pairs.push_back({std::min(a, b), std::max(a, b)});
  }
  return pairs;
}

// One EM run over `levels` (rows of model.comparisons.size()): updates m of the comparisons whose
// `estimate` flag is set (u fixed) when `update_m`, and returns the share of matches.
double RunEm(MatchModel& model, std::span<const int8_t> levels, size_t pairs,
             const std::vector<bool>& estimate, bool update_m, double lambda,
             const TrainingOptions& options) {
  const size_t width = model.comparisons.size();
  for (int iteration = 0; iteration < options.max_iterations; ++iteration) {
    // log Bayes factor of each level, for the comparisons in play.
    std::vector<std::vector<double>> log_bf(width);
    for (size_t c = 0; c < width; ++c) {
      const ComparisonParameters& p = model.comparisons[c];
      for (size_t k = 0; k < p.levels.size(); ++k) log_bf[c].push_back(std::log(p.m[k] / p.u[k]));
    }
    std::vector<std::vector<double>> expected(width);
    for (size_t c = 0; c < width; ++c) expected[c].assign(model.comparisons[c].levels.size(), 0.0);
    const double log_prior = std::log(lambda / (1.0 - lambda));
    double total = 0;
    for (size_t p = 0; p < pairs; ++p) {
      const int8_t* row = levels.data() + p * width;
      double log_odds = log_prior;
      for (size_t c = 0; c < width; ++c) {
        if (estimate[c] && row[c] != kNullLevel) log_odds += log_bf[c][row[c]];
      }
      const double posterior = 1.0 / (1.0 + std::exp(-log_odds));
      total += posterior;
      for (size_t c = 0; c < width; ++c) {
        if (estimate[c] && row[c] != kNullLevel) expected[c][row[c]] += posterior;
      }
    }
    double change = 0;
    const double new_lambda =
        std::clamp(total / static_cast<double>(std::max<size_t>(pairs, 1)), 1e-9, 1 - 1e-9);
    change = std::max(change, std::abs(new_lambda - lambda));
    lambda = new_lambda;
    if (update_m) {
      for (size_t c = 0; c < width; ++c) {
        if (!estimate[c]) continue;
        std::vector<double> m = Shares(expected[c]);
        for (size_t k = 0; k < m.size(); ++k)
          change = std::max(change, std::abs(m[k] - model.comparisons[c].m[k]));
        model.comparisons[c].m = std::move(m);
      }
    }
    if (change < options.tolerance) break;
  }
  return lambda;
}

}  // namespace

MatchModel EstimateU(const std::vector<Comparison>& comparisons, const PreparedRecords& records,
                     const TrainingOptions& options) {
  const std::vector<RecordPair> pairs = RandomPairs(records, options);
  const std::vector<int8_t> levels = CompareAll(comparisons, records, pairs);
  MatchModel model;
  for (size_t c = 0; c < comparisons.size(); ++c) {
    std::vector<double> counts(comparisons[c].levels.size(), 0.0);
    for (size_t p = 0; p < pairs.size(); ++p) {
      const int level = levels[p * comparisons.size() + c];
      if (level != kNullLevel) counts[level] += 1;
    }
    model.comparisons.push_back(
        ComparisonParameters{.column = comparisons[c].column_name,
                             .kind = comparisons[c].kind,
                             .levels = comparisons[c].levels,
                             .m = StartingM(comparisons[c].levels.size()),
                             .u = Shares(counts),
                             .term_frequency_on_exact = comparisons[c].term_frequency_on_exact});
  }
  return model;
}

void EstimateM(MatchModel& model, const std::vector<Comparison>& comparisons, const PreparedRecords& records,
               const std::vector<BlockingRule>& rules, const BlockingOptions& blocking,
               const TrainingOptions& options) {
  const size_t width = comparisons.size();
  const MatchModel start = model;
  std::vector<std::vector<double>> m_sum(width);
  std::vector<int> sessions(width, 0);
  for (size_t c = 0; c < width; ++c) m_sum[c].assign(comparisons[c].levels.size(), 0.0);
  for (const BlockingRule& rule : rules) {
    std::vector<bool> estimate(width, true);
    for (const BlockingPart& part : rule.parts) estimate[part.column] = false;
    if (std::none_of(estimate.begin(), estimate.end(), [](bool e) { return e; })) continue;
    const CandidatePairs candidates = PairsOfRule(rule, records, blocking);
    if (candidates.pairs.empty()) continue;
    const std::vector<int8_t> levels = CompareAll(comparisons, records, candidates.pairs);
    MatchModel session = start;
    RunEm(session, levels, candidates.pairs.size(), estimate, /*update_m=*/true, /*lambda=*/0.2, options);
    for (size_t c = 0; c < width; ++c) {
      if (!estimate[c]) continue;
      ++sessions[c];
      for (size_t k = 0; k < m_sum[c].size(); ++k) m_sum[c][k] += session.comparisons[c].m[k];
    }
  }
  for (size_t c = 0; c < width; ++c) {
    if (sessions[c] == 0) continue;  // never estimated: keeps its starting m
    for (size_t k = 0; k < m_sum[c].size(); ++k) model.comparisons[c].m[k] = m_sum[c][k] / sessions[c];
  }
}

void EstimateLambda(MatchModel& model, std::span<const int8_t> levels, size_t candidate_pairs,
                    double all_pairs, const TrainingOptions& options) {
  if (candidate_pairs == 0 || all_pairs <= 0) {
    model.lambda = 1e-6;
    return;
  }
  const std::vector<bool> all(model.comparisons.size(), true);
  const double share =
      RunEm(model, levels, candidate_pairs, all, /*update_m=*/false, /*lambda=*/0.2, options);
  model.lambda = std::clamp(share * static_cast<double>(candidate_pairs) / all_pairs, 1e-12, 0.5);
}

}  // namespace tessera::matching
