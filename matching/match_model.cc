#include "matching/match_model.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "matching/parallel_chunks.h"

namespace tessera::matching {
namespace {

// Pairs a thread takes at a time: large enough to make handing them out free, small enough to
// share the end of the work evenly.
constexpr size_t kPairsPerChunk = 16384;

}  // namespace

double ProbabilityOfWeight(double match_weight) {
  const double bayes = std::exp2(match_weight);
  return std::isinf(bayes) ? 1.0 : bayes / (1.0 + bayes);
}

PairScore MatchModel::Score(std::span<const int8_t> levels, const PreparedRecords& records, size_t l) const {
  double weight = std::log2(lambda / (1.0 - lambda));
  for (size_t c = 0; c < comparisons.size(); ++c) {
    const int level = levels[c];
    if (level == kNullLevel) continue;
    const ComparisonParameters& p = comparisons[c];
    weight += std::log2(p.m[level] / p.u[level]);
    if (level == 0 && p.term_frequency_on_exact) {
      // The value's own chance of agreeing at random replaces the column's average (Splink's
      // tf adjustment: u_exact / tf). Both records hold the same value at level 0, so l's will do.
      const double floor = 1.0 / static_cast<double>(records.size());
      const double tf = std::max(records.TermFrequency(c, records.values[c][l]), floor);
      weight += std::log2(p.u[0] / tf);
    }
  }
  return PairScore{.match_weight = weight, .match_probability = ProbabilityOfWeight(weight)};
}

std::string MatchModel::Summary() const {
  std::string out;
  char line[256];
  std::snprintf(line, sizeof line, "lambda (two random records match): %.6g\n", lambda);
  out += line;
  for (const ComparisonParameters& p : comparisons) {
    out += p.column + " (" + std::string(ColumnKindName(p.kind)) +
           (p.term_frequency_on_exact ? ", tf on exact" : "") + ")\n";
    for (size_t k = 0; k < p.levels.size(); ++k) {
      std::snprintf(line, sizeof line, "  %-24s m=%.6f u=%.6f weight=%+.2f\n", p.levels[k].c_str(), p.m[k],
                    p.u[k], std::log2(p.m[k] / p.u[k]));
      out += line;
    }
  }
  return out;
}

std::vector<int8_t> CompareAll(const std::vector<Comparison>& comparisons, const PreparedRecords& records,
                               std::span<const RecordPair> pairs, size_t threads) {
  const size_t width = comparisons.size();
  std::vector<int8_t> levels(pairs.size() * width);
  ForEachChunk(pairs.size(), kPairsPerChunk, threads, [&](size_t, size_t begin, size_t end) {
    for (size_t p = begin; p < end; ++p) {
      for (size_t c = 0; c < width; ++c) {
        levels[p * width + c] =
            static_cast<int8_t>(CompareRecords(comparisons[c], records, pairs[p].l, pairs[p].r));
      }
    }
  });
  return levels;
}

}  // namespace tessera::matching
