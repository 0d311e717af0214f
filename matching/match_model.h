#pragma once

// MatchModel: a Fellegi-Sunter model as Splink defines it. For each comparison and level, m (the
// chance of that level among pairs of the same person) and u (among pairs of different people);
// lambda, the chance that two records drawn at random are the same person. A pair's match weight
// is log2(lambda / (1 - lambda)) plus, for each comparison not at its null level, log2(m / u) (the
// log Bayes factor), plus a term-frequency adjustment on exact matches of names and cities:
// log2(u_exact / tf(value)), so that two "Smith"s count for less than two "Zylberstein"s. The match
// probability is 2^w / (1 + 2^w). Immutable once trained; scoring is thread-safe.

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "matching/comparison.h"
#include "matching/prepared_records.h"

namespace tessera::matching {

struct ComparisonParameters {
  std::string column;  // the input header it compares
  ColumnKind kind = ColumnKind::kFreeText;
  std::vector<std::string> levels;  // as Comparison::levels
  std::vector<double> m;            // one per level, each summing to 1
  std::vector<double> u;
  bool term_frequency_on_exact = false;
};

struct PairScore {
  double match_weight = 0;
  double match_probability = 0;
};

struct MatchModel {
  double lambda = 1e-4;
  std::vector<ComparisonParameters> comparisons;  // in the order of ComparisonsFor(schema)

  // `levels` holds one level per comparison (kNullLevel allowed) for a pair whose first record is
  // `l` (its values give the term frequencies of exact matches).
  PairScore Score(std::span<const int8_t> levels, const PreparedRecords& records, size_t l) const;
  // A table of every comparison's levels with m, u and the match weight log2(m/u), and lambda.
  std::string Summary() const;
};

// The level of every comparison for every pair: pairs.size() rows of comparisons.size() entries,
// computed on up to `threads` threads (0: all the machine has); each row is the same whatever the
// number.
std::vector<int8_t> CompareAll(const std::vector<Comparison>& comparisons, const PreparedRecords& records,
                               std::span<const RecordPair> pairs, size_t threads = 1);

double ProbabilityOfWeight(double match_weight);

}  // namespace tessera::matching
