#include "matching/pair_evaluation.h"

#include <algorithm>
#include <map>
#include <numeric>

namespace tessera::matching {
namespace {

// Pairs of records within each group (crossing sources only when linking).
size_t PairsWithin(const std::vector<std::vector<uint32_t>>& groups, std::span<const int> source,
                   bool link_only) {
  size_t total = 0;
  for (const auto& members : groups) {
    if (!link_only) {
      total += members.size() * (members.size() - 1) / 2;
      continue;
    }
    std::map<int, size_t> per_source;
    for (uint32_t m : members) ++per_source[source[m]];
    size_t seen = 0;
    for (const auto& [s, count] : per_source) {
      total += seen * count;
      seen += count;
    }
  }
  return total;
}

std::vector<std::vector<uint32_t>> GroupsOf(const std::vector<std::string>& key) {
  std::map<std::string, std::vector<uint32_t>> groups;
  for (uint32_t i = 0; i < key.size(); ++i) groups[key[i]].push_back(i);
  std::vector<std::vector<uint32_t>> out;
  for (auto& [k, members] : groups) out.push_back(std::move(members));
  return out;
}

void Finish(PairQuality& q) {
  q.precision =
      q.predicted == 0 ? 0 : static_cast<double>(q.true_positives) / static_cast<double>(q.predicted);
  q.recall = q.actual == 0 ? 0 : static_cast<double>(q.true_positives) / static_cast<double>(q.actual);
  q.f1 = q.precision + q.recall == 0 ? 0 : 2 * q.precision * q.recall / (q.precision + q.recall);
}

}  // namespace

PairQuality AtThreshold(std::span<const RecordPair> pairs, std::span<const double> probabilities,
                        double threshold, const std::vector<std::string>& entity, std::span<const int> source,
                        bool link_only) {
  PairQuality q;
  q.threshold = threshold;
  q.actual = PairsWithin(GroupsOf(entity), source, link_only);
  for (size_t p = 0; p < pairs.size(); ++p) {
    if (probabilities[p] < threshold) continue;
    ++q.predicted;
    if (entity[pairs[p].l] == entity[pairs[p].r]) ++q.true_positives;
  }
  Finish(q);
  return q;
}

PairQuality BestThreshold(std::span<const RecordPair> pairs, std::span<const double> probabilities,
                          const std::vector<std::string>& entity, std::span<const int> source,
                          bool link_only) {
  std::vector<size_t> order(pairs.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(),
            [&](size_t a, size_t b) { return probabilities[a] > probabilities[b]; });
  PairQuality best, running;
  running.actual = PairsWithin(GroupsOf(entity), source, link_only);
  best.actual = running.actual;
  for (size_t i = 0; i < order.size(); ++i) {
    const size_t p = order[i];
    ++running.predicted;
    if (entity[pairs[p].l] == entity[pairs[p].r]) ++running.true_positives;
    // Only a cut between distinct probabilities is a threshold.
    if (i + 1 < order.size() && probabilities[order[i + 1]] == probabilities[p]) continue;
    running.threshold = probabilities[p];
    Finish(running);
    if (running.f1 > best.f1) best = running;
  }
  return best;
}

PairQuality OfClusters(std::span<const uint32_t> cluster_of, const std::vector<std::string>& entity,
                       std::span<const int> source, bool link_only) {
  PairQuality q;
  q.actual = PairsWithin(GroupsOf(entity), source, link_only);
  std::vector<std::string> cluster_key(cluster_of.size()), both(cluster_of.size());
  for (size_t i = 0; i < cluster_of.size(); ++i) {
    cluster_key[i] = std::to_string(cluster_of[i]);
    both[i] = cluster_key[i] + '\x1f' + entity[i];
  }
  q.predicted = PairsWithin(GroupsOf(cluster_key), source, link_only);
  q.true_positives = PairsWithin(GroupsOf(both), source, link_only);
  Finish(q);
  return q;
}

double BlockingRecall(std::span<const RecordPair> pairs, const std::vector<std::string>& entity,
                      std::span<const int> source, bool link_only) {
  const size_t actual = PairsWithin(GroupsOf(entity), source, link_only);
  size_t found = 0;
  for (const RecordPair& p : pairs) {
    if (entity[p.l] == entity[p.r] && (!link_only || source[p.l] != source[p.r])) ++found;
  }
  return actual == 0 ? 1.0 : static_cast<double>(found) / static_cast<double>(actual);
}

}  // namespace tessera::matching
