#include "matching/matcher.h"

#include "matching/clustering.h"
#include "matching/comparison.h"
#include "matching/model_json.h"

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
  MatchResult result;
  const std::vector<Comparison> comparisons = ComparisonsFor(records.schema);
  result.rules = DefaultBlockingRules(records.schema);
  progress("block", 0, 0);
  result.candidates = PairsOfRules(result.rules, records, options.blocking);
  const std::vector<RecordPair>& pairs = result.candidates.pairs;
  progress("compare", 0, pairs.size());
  const std::vector<int8_t> levels = CompareAll(comparisons, records, pairs);
  if (options.model) {
    if (absl::Status fits = CheckModelFits(*options.model, comparisons); !fits.ok()) return fits;
    result.model = *options.model;
  } else {
    TrainingOptions training = options.training;
    training.link_only = options.blocking.link_only;
    progress("estimate u", 0, 0);
    result.model = EstimateU(comparisons, records, training);
    progress("estimate m (EM)", 0, 0);
    EstimateM(result.model, comparisons, records, result.rules, options.blocking, training);
    progress("estimate lambda", 0, 0);
    EstimateLambda(result.model, levels, pairs.size(), AllPairs(records, options.blocking.link_only),
                   training);
  }
  const size_t width = comparisons.size();
  result.scores.reserve(pairs.size());
  result.probabilities.reserve(pairs.size());
  for (size_t p = 0; p < pairs.size(); ++p) {
    if (p % 100000 == 0) progress("score", p, pairs.size());
    const PairScore score =
        result.model.Score(std::span<const int8_t>(levels.data() + p * width, width), records, pairs[p].l);
    result.scores.push_back(score);
    result.probabilities.push_back(score.match_probability);
  }
  progress("score", pairs.size(), pairs.size());
  progress("cluster", 0, 0);
  result.cluster_of = ClusterRecords(records.size(), pairs, result.probabilities, options.threshold);
  return result;
}

}  // namespace tessera::matching
