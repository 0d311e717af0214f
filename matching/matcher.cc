#include "matching/matcher.h"

#include <algorithm>
#include <string>

#include "matching/clustering.h"
#include "matching/comparison.h"
#include "matching/comparison_patterns.h"
#include "matching/model_json.h"
#include "matching/parallel_chunks.h"

namespace tessera::matching {
namespace {

double AllPairs(const PreparedRecords& records, bool link_only) {
  const double n = static_cast<double>(records.size());
  if (!link_only) return n * (n - 1) / 2;
  double left = 0;
  for (int s : records.source) left += s == 0 ? 1 : 0;
  return left * (n - left);
}

}  // namespace

absl::StatusOr<MatchResult> Match(const PreparedRecords& records, const MatchOptions& options) {
  auto progress = [&](std::string_view stage, size_t done, size_t total) {
    if (options.progress) options.progress(stage, done, total);
  };
  const size_t threads = ThreadCount(options.threads);
  MatchResult result;
  const std::vector<Comparison> comparisons = ComparisonsFor(records.schema);
  result.rules = DefaultBlockingRules(records.schema);
  progress("block", 0, 0);
  result.candidates = PairsOfRules(result.rules, records, options.blocking, threads);
  const std::vector<RecordPair>& pairs = result.candidates.pairs;
  progress("compare", 0, pairs.size());
  const size_t width = comparisons.size();
  std::vector<int8_t> levels = CompareAll(comparisons, records, pairs, threads);
  if (options.model) {
    if (absl::Status fits = CheckModelFits(*options.model, comparisons); !fits.ok()) return fits;
    result.model = *options.model;
  } else {
    TrainingOptions training = options.training;
    training.link_only = options.blocking.link_only;
    training.threads = threads;
    const ComparisonPatterns patterns(levels, width);
    progress("estimate u", 0, 0);
    RandomPairSample sample;
    result.model = EstimateU(comparisons, records, training, &sample);
    progress("estimate m (EM over " + std::to_string(patterns.size()) + " comparison patterns)", 0, 0);
    const std::vector<RuleSession> sessions = EstimateM(result.model, comparisons, records, result.rules,
                                                        options.blocking, result.candidates, patterns, training);
    progress("estimate lambda", 0, 0);
    result.lambda_estimate =
        EstimateLambda(result.model, records, result.rules, result.candidates, patterns, sessions, sample,
                       AllPairs(records, options.blocking.link_only), training);
  }
  // Scoring: each pair's score depends on its levels alone, so chunks on any thread give the same.
  result.scores.resize(pairs.size());
  result.probabilities.resize(pairs.size());
  constexpr size_t kScoreChunk = 100000;
  for (size_t begin = 0; begin < pairs.size(); begin += kScoreChunk * threads) {
    progress("score", begin, pairs.size());
    const size_t end = std::min(pairs.size(), begin + kScoreChunk * threads);
    ForEachChunk(end - begin, kScoreChunk, threads, [&](size_t, size_t from, size_t to) {
      for (size_t p = begin + from; p < begin + to; ++p) {
        const PairScore score = result.model.Score(std::span<const int8_t>(levels.data() + p * width, width),
                                                   records, pairs[p].l);
        result.scores[p] = score;
        result.probabilities[p] = score.match_probability;
      }
    });
  }
  progress("score", pairs.size(), pairs.size());
  levels = {};
  progress("cluster", 0, 0);
  result.cluster_of = ClusterRecords(records.size(), pairs, result.probabilities, options.threshold,
                                     options.clustering, &result.cluster_stats);
  return result;
}

}  // namespace tessera::matching
