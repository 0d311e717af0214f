#pragma once

// Pairwise precision, recall and F1 of scored pairs or of clusters against known entities (a
// ground-truth label per record), as record-linkage papers and Splink's accuracy charts report them:
// a true pair is two records of the same entity (from different sources when linking); recall
// counts every true pair, including those blocking never proposed.

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "matching/prepared_records.h"

namespace tessera::matching {

struct PairQuality {
  double threshold = 0;
  size_t predicted = 0;       // pairs at or above the threshold
  size_t true_positives = 0;  // of those, same entity
  size_t actual = 0;          // all true pairs
  double precision = 0;
  double recall = 0;
  double f1 = 0;
};

// The threshold (one of the pairs' probabilities) that gives the best F1.
PairQuality BestThreshold(std::span<const RecordPair> pairs, std::span<const double> probabilities,
                          const std::vector<std::string>& entity, std::span<const int> source,
                          bool link_only);
PairQuality AtThreshold(std::span<const RecordPair> pairs, std::span<const double> probabilities,
                        double threshold, const std::vector<std::string>& entity, std::span<const int> source,
                        bool link_only);
// The pairs that clusters imply (every two records in one cluster).
PairQuality OfClusters(std::span<const uint32_t> cluster_of, const std::vector<std::string>& entity,
                       std::span<const int> source, bool link_only);
// True pairs that blocking proposed / all true pairs.
double BlockingRecall(std::span<const RecordPair> pairs, const std::vector<std::string>& entity,
                      std::span<const int> source, bool link_only);

}  // namespace tessera::matching
