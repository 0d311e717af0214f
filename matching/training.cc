#include "matching/training.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <string>

#include "matching/split_mix64.h"

namespace tessera::matching {
namespace {

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

// One EM run over the patterns with counts `counts` (a pattern with count 0 is not in play):
// updates m of the comparisons whose `estimate` flag is set when `update_m`, and their u too when
// `update_u` (the u of the pairs in play, not of random pairs), and returns the share of matches.
double RunEm(MatchModel& model, const ComparisonPatterns& patterns, std::span<const double> counts,
             const std::vector<bool>& estimate, bool update_m, bool update_u, double lambda,
             const TrainingOptions& options) {
  const size_t width = model.comparisons.size();
  double pairs = 0;
  for (double count : counts) pairs += count;
  for (int iteration = 0; iteration < options.max_iterations; ++iteration) {
    // log Bayes factor of each level, for the comparisons in play.
    std::vector<std::vector<double>> log_bf(width);
    for (size_t c = 0; c < width; ++c) {
      const ComparisonParameters& p = model.comparisons[c];
      for (size_t k = 0; k < p.levels.size(); ++k) log_bf[c].push_back(std::log(p.m[k] / p.u[k]));
    }
    std::vector<std::vector<double>> expected(width), expected_non(width);
    for (size_t c = 0; c < width; ++c) {
      expected[c].assign(model.comparisons[c].levels.size(), 0.0);
      expected_non[c].assign(model.comparisons[c].levels.size(), 0.0);
    }
    const double log_prior = std::log(lambda / (1.0 - lambda));
    double total = 0;
    for (size_t k = 0; k < patterns.size(); ++k) {
      if (counts[k] == 0) continue;
      const std::span<const int8_t> row = patterns.Levels(k);
      double log_odds = log_prior;
      for (size_t c = 0; c < width; ++c) {
        if (estimate[c] && row[c] != kNullLevel) log_odds += log_bf[c][row[c]];
      }
      const double posterior = counts[k] / (1.0 + std::exp(-log_odds));
      total += posterior;
      for (size_t c = 0; c < width; ++c) {
        if (estimate[c] && row[c] != kNullLevel) {
          expected[c][row[c]] += posterior;
          expected_non[c][row[c]] += counts[k] - posterior;
        }
      }
    }
    double change = 0;
    const double new_lambda = std::clamp(total / std::max(pairs, 1.0), 1e-9, 1 - 1e-9);
    change = std::max(change, std::abs(new_lambda - lambda));
    lambda = new_lambda;
    if (update_m) {
      for (size_t c = 0; c < width; ++c) {
        if (!estimate[c]) continue;
        std::vector<double> m = Shares(expected[c]);
        for (size_t k = 0; k < m.size(); ++k)
          change = std::max(change, std::abs(m[k] - model.comparisons[c].m[k]));
        model.comparisons[c].m = std::move(m);
        if (!update_u) continue;
        std::vector<double> u = Shares(expected_non[c]);
        for (size_t k = 0; k < u.size(); ++k)
          change = std::max(change, std::abs(u[k] - model.comparisons[c].u[k]));
        model.comparisons[c].u = std::move(u);
      }
    }
    if (change < options.tolerance) break;
  }
  return lambda;
}

// EM sessions estimate u of the columns in play too: different people sharing a block are not
// random pairs (two Davises' e-mails, made from their names, are more alike than two strangers'),
// and with the random pairs' u those resemblances pass for evidence of a match: on 100,000 rows a
// name rule's session counted 3.4x its true pairs as matches and dragged m of "else" levels up.
// The session's u serves only the session; the model keeps the u of random pairs for scoring.
constexpr bool kSessionU = true;

}  // namespace

MatchModel EstimateU(const std::vector<Comparison>& comparisons, const PreparedRecords& records,
                     const TrainingOptions& options, RandomPairSample* sample) {
  std::vector<RecordPair> pairs = RandomPairs(records, options);
  std::vector<int8_t> levels = CompareAll(comparisons, records, pairs, options.threads);
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
  if (sample != nullptr) {
    sample->pairs = std::move(pairs);
    sample->levels = std::move(levels);
  }
  return model;
}

std::vector<RuleSession> EstimateM(MatchModel& model, const std::vector<Comparison>& comparisons, const PreparedRecords& records,
               const std::vector<BlockingRule>& rules, const BlockingOptions& blocking,
               const CandidatePairs& candidates, const ComparisonPatterns& patterns,
               const TrainingOptions& options) {
  const size_t width = comparisons.size();
  // Each rule's pairs counted by pattern, in one pass over the candidates.
  const size_t marked = std::min<size_t>(rules.size(), 64);
  std::vector<std::vector<double>> rule_counts(marked, std::vector<double>(patterns.size(), 0.0));
  const std::vector<uint32_t>& pattern_of = patterns.PatternOfPair();
  for (size_t p = 0; p < candidates.rules_of.size(); ++p) {
    for (uint64_t bits = candidates.rules_of[p]; bits != 0; bits &= bits - 1) {
      rule_counts[static_cast<size_t>(std::countr_zero(bits))][pattern_of[p]] += 1;
    }
  }
  const MatchModel start = model;
  std::vector<RuleSession> done;
  std::vector<std::vector<double>> m_sum(width);
  std::vector<int> sessions(width, 0);
  for (size_t c = 0; c < width; ++c) m_sum[c].assign(comparisons[c].levels.size(), 0.0);
  for (size_t r = 0; r < rules.size(); ++r) {
    std::vector<bool> estimate(width, true);
    for (const BlockingPart& part : rules[r].parts) estimate[part.column] = false;
    if (std::none_of(estimate.begin(), estimate.end(), [](bool e) { return e; })) continue;
    MatchModel session = start;
    RuleSession& result = done.emplace_back(RuleSession{.rule = r});
    if (r < marked) {
      for (double n : rule_counts[r]) result.pairs += n;
      if (result.pairs == 0) {
        done.pop_back();
        continue;
      }
      result.match_share =
          RunEm(session, patterns, rule_counts[r], estimate, /*update_m=*/true, kSessionU, /*lambda=*/0.2, options);
    } else {
      const CandidatePairs own = PairsOfRule(rules[r], records, blocking);
      if (own.pairs.empty()) {
        done.pop_back();
        continue;
      }
      result.pairs = static_cast<double>(own.pairs.size());
      const ComparisonPatterns own_patterns(CompareAll(comparisons, records, own.pairs, options.threads),
                                            width);
      result.match_share = RunEm(session, own_patterns, own_patterns.Counts(), estimate, /*update_m=*/true,
                                 kSessionU, /*lambda=*/0.2, options);
    }
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
  return done;
}

LambdaEstimate EstimateLambda(MatchModel& model, const PreparedRecords& records,
                              const std::vector<BlockingRule>& rules, const CandidatePairs& candidates,
                              const ComparisonPatterns& patterns, const std::vector<RuleSession>& sessions,
                              const RandomPairSample& sample, double all_pairs, const TrainingOptions& options) {
  LambdaEstimate estimate;
  const size_t width = model.comparisons.size();
  const size_t sampled = sample.pairs.size();
  // Each distinct key part (column, kind) used by a rule in a session: P(the part agrees | level k
  // of its column), over the random pairs, and P(both values there).
  struct PartAgreement {
    BlockingPart part;
    std::vector<double> agree_at_level;
  };
  std::vector<PartAgreement> parts;
  std::vector<double> both_present(width, 0);
  for (size_t p = 0; p < sampled; ++p) {
    for (size_t c = 0; c < width; ++c) both_present[c] += sample.levels[p * width + c] != kNullLevel ? 1 : 0;
  }
  for (double& share : both_present) share = sampled == 0 ? 0 : share / static_cast<double>(sampled);
  auto agreement_of = [&](const BlockingPart& part) -> std::vector<double> {
    for (const PartAgreement& known : parts) {
      if (known.part.column == part.column && known.part.part == part.part) return known.agree_at_level;
    }
    const size_t levels = model.comparisons[part.column].levels.size();
    std::vector<double> agree(levels, 0), seen(levels, 0);
    // Every record's key once (cheaper than a lookup per sampled pair).
    std::vector<std::string> keys(records.size());
    for (size_t i = 0; i < records.size(); ++i) keys[i] = PartKey(part, records, i);
    auto key_of = [&](uint32_t record) -> const std::string& { return keys[record]; };
    for (size_t p = 0; p < sampled; ++p) {
      const int level = sample.levels[p * width + part.column];
      if (level == kNullLevel) continue;
      seen[level] += 1;
      const std::string& l = key_of(sample.pairs[p].l);
      if (!l.empty() && l == key_of(sample.pairs[p].r)) agree[level] += 1;
    }
    // A level the random pairs never reached: its most similar level agrees on any key, the rest
    // are taken not to.
    for (size_t k = 0; k < levels; ++k) agree[k] = seen[k] > 0 ? agree[k] / seen[k] : (k == 0 ? 1.0 : 0.0);
    parts.push_back({part, std::move(agree)});
    return parts.back().agree_at_level;
  };
  double found = 0, recall_sum = 0;
  for (const RuleSession& session : sessions) {
    const BlockingRule& rule = rules[session.rule];
    double recall = 1;
    for (const BlockingPart& part : rule.parts) {
      const std::vector<double> agree = agreement_of(part);
      const std::vector<double>& m = model.comparisons[part.column].m;
      double agrees = 0;
      for (size_t k = 0; k < m.size(); ++k) agrees += m[k] * agree[k];
      recall *= both_present[part.column] * agrees;
    }
    if (session.rule < candidates.rule_stats.size()) {
      const RuleBlockStats& stats = candidates.rule_stats[session.rule];
      if (stats.keyed_records > 0)
        recall *= 1.0 - static_cast<double>(stats.skipped_records) / static_cast<double>(stats.keyed_records);
    }
    LambdaEstimate::PerRule& one = estimate.rules.emplace_back();
    one.rule = session.rule;
    one.pairs = session.pairs;
    one.true_pairs = session.pairs * session.match_share;
    one.recall = recall;
    one.estimate = recall > 0 ? one.true_pairs / recall : 0;
    if (recall > 0) {
      found += one.true_pairs;
      recall_sum += recall;
    }
  }
  if (recall_sum > 0 && all_pairs > 0) {
    estimate.true_pairs = found / recall_sum;
    estimate.lambda = std::clamp(estimate.true_pairs / all_pairs, 1e-12, 0.5);
  } else {
    // No session to go by: EM over the union of the candidates (overstates lambda; see the header).
    double candidate_pairs = 0;
    for (double count : patterns.Counts()) candidate_pairs += count;
    if (candidate_pairs == 0 || all_pairs <= 0) {
      estimate.lambda = 1e-6;
    } else {
      const std::vector<bool> all(width, true);
      const double share =
          RunEm(model, patterns, patterns.Counts(), all, /*update_m=*/false, /*update_u=*/false, /*lambda=*/0.2, options);
      estimate.true_pairs = share * candidate_pairs;
      estimate.lambda = std::clamp(estimate.true_pairs / all_pairs, 1e-12, 0.5);
    }
  }
  model.lambda = estimate.lambda;
  return estimate;
}

}  // namespace tessera::matching
