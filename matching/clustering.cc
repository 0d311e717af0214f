#include "matching/clustering.h"

#include <algorithm>
#include <cmath>
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

// Match weight (log2 of the odds) of a probability, finite at 0 and 1.
double WeightOf(double probability) {
  const double p = std::clamp(probability, 1e-300, 1.0 - 1e-16);
  return std::log2(p) - std::log2(1.0 - p);
}

}  // namespace

std::vector<uint32_t> ClusterRecords(size_t records, std::span<const RecordPair> pairs,
                                     std::span<const double> probabilities, double threshold,
                                     const ClusterOptions& options, ClusterStats* stats) {
  std::vector<uint32_t> parent(records);
  std::iota(parent.begin(), parent.end(), 0u);
  ClusterStats counted;
  // The joining pairs, most probable first (ties in pair order, so the result is fixed).
  std::vector<uint32_t> joining;
  for (size_t p = 0; p < pairs.size(); ++p) {
    if (probabilities[p] >= threshold) joining.push_back(static_cast<uint32_t>(p));
  }
  if (options.cannot_link) {
    std::stable_sort(joining.begin(), joining.end(),
                     [&](uint32_t a, uint32_t b) { return probabilities[a] > probabilities[b]; });
  }
  // Cannot-links: each record's confident non-matches (both directions), as one flat table.
  const double apart = std::min(1.0 - threshold, threshold);
  std::vector<uint32_t> start(records + 1, 0), other;
  std::vector<float> against;  // per entry of `other`: the pair's match weight (negative)
  std::vector<std::vector<uint32_t>> members;
  if (options.cannot_link) {
    for (size_t p = 0; p < pairs.size(); ++p) {
      if (probabilities[p] > apart) continue;
      ++start[pairs[p].l + 1];
      ++start[pairs[p].r + 1];
    }
    std::partial_sum(start.begin(), start.end(), start.begin());
    other.resize(start.back());
    against.resize(start.back());
    std::vector<uint32_t> at(start.begin(), start.end() - 1);
    for (size_t p = 0; p < pairs.size(); ++p) {
      if (probabilities[p] > apart) continue;
      const auto weight = static_cast<float>(WeightOf(probabilities[p]));
      against[at[pairs[p].l]] = weight;
      against[at[pairs[p].r]] = weight;
      other[at[pairs[p].l]++] = pairs[p].r;
      other[at[pairs[p].r]++] = pairs[p].l;
    }
    members.resize(records);
    for (uint32_t i = 0; i < records; ++i) members[i] = {i};
  }
  for (uint32_t p : joining) {
    uint32_t a = Root(parent, pairs[p].l), b = Root(parent, pairs[p].r);
    if (a == b) continue;
    if (options.cannot_link) {
      // Look from the smaller cluster for a confident non-match in the other.
      // A non-match across outweighs the joining pair when its weight is further below zero than
      // the joining pair's is above.
      const uint32_t small = members[a].size() <= members[b].size() ? a : b, large = small == a ? b : a;
      const double limit = -WeightOf(probabilities[p]);
      bool apart_found = false;
      for (uint32_t record : members[small]) {
        for (uint32_t k = start[record]; k < start[record + 1] && !apart_found; ++k)
          apart_found = against[k] <= limit && Root(parent, other[k]) == large;
        if (apart_found) break;
      }
      if (apart_found) {
        ++counted.joins_refused;
        continue;
      }
    }
    // The smaller index becomes the root, so a cluster's root is its first record.
    if (b < a) std::swap(a, b);
    parent[b] = a;
    if (options.cannot_link) {
      if (members[a].size() < members[b].size()) members[a].swap(members[b]);
      members[a].insert(members[a].end(), members[b].begin(), members[b].end());
      members[b] = {};
    }
  }
  std::vector<size_t> size(records, 0);
  for (uint32_t i = 0; i < records; ++i) {
    parent[i] = Root(parent, i);
    counted.largest_cluster = std::max(counted.largest_cluster, ++size[parent[i]]);
  }
  if (stats != nullptr) *stats = counted;
  return parent;
}

}  // namespace tessera::matching
