#pragma once

// Clustering: records joined by scored pairs at or above a probability threshold form one cluster
// (union-find), each named by its first record. Plain connected components chain: one false pair
// joins two people's clusters, and a few of them make clusters of thousands whose records the model
// itself scored as different people. So, by default, pairs are taken from the most probable down
// and a pair does not join two clusters when any scored pair between them is a confident non-match
// (probability at or below 1 - threshold): the model's own evidence that the clusters are different
// people (a "cannot-link"). Pairs at or above the threshold are still all reported in pairs.csv; only
// the clusters change.

#include <cstdint>
#include <span>
#include <vector>

#include "matching/prepared_records.h"

namespace tessera::matching {

struct ClusterOptions {
  // Refuse a join when a scored pair across the two clusters is at or below min(1 - threshold,
  // threshold). False: plain connected components.
  bool cannot_link = true;
};

struct ClusterStats {
  size_t joins_refused = 0;    // pairs at or above the threshold left across clusters
  size_t largest_cluster = 0;  // records in the largest cluster
};

// For each of `records` records, the index of the first record of its cluster.
std::vector<uint32_t> ClusterRecords(size_t records, std::span<const RecordPair> pairs,
                                     std::span<const double> probabilities, double threshold,
                                     const ClusterOptions& options = {}, ClusterStats* stats = nullptr);

}  // namespace tessera::matching
