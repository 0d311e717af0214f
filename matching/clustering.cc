#include "matching/clustering.h"

#include <numeric>

namespace tessera::matching {
namespace {

uint32_t Root(std::vector<uint32_t>& parent, uint32_t x) {
  while (parent[x] != x) {
    parent[x] = parent[parent[x]];
    x = parent[x];
  }
  return x;
}

}  // namespace

std::vector<uint32_t> ClusterRecords(size_t records, std::span<const RecordPair> pairs,
                                     std::span<const double> probabilities, double threshold) {
  std::vector<uint32_t> parent(records);
  std::iota(parent.begin(), parent.end(), 0u);
  for (size_t p = 0; p < pairs.size(); ++p) {
    if (probabilities[p] < threshold) continue;
    const uint32_t a = Root(parent, pairs[p].l), b = Root(parent, pairs[p].r);
    // The smaller index becomes the root, so a cluster's root is its first record.
    if (a < b) parent[b] = a;
    if (b < a) parent[a] = b;
  }
  for (uint32_t i = 0; i < records; ++i) parent[i] = Root(parent, i);
  return parent;
}

}  // namespace tessera::matching
