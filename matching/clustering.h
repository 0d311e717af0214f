#pragma once

// Clustering: records joined by any scored pair at or above a probability threshold form one
// cluster (connected components, union-find). Each cluster is named by its first record.

#include <cstdint>
#include <span>
#include <vector>

#include "matching/prepared_records.h"

namespace tessera::matching {

// For each of `records` records, the index of the first record of its cluster.
std::vector<uint32_t> ClusterRecords(size_t records, std::span<const RecordPair> pairs,
                                     std::span<const double> probabilities, double threshold);

}  // namespace tessera::matching
