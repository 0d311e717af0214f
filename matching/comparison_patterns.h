#pragma once

// ComparisonPatterns: the distinct comparison vectors among a set of scored pairs (one level per
// comparison, kNullLevel included) and, for each pair, which of them it has. Training needs no more
// than this: an EM iteration's sums over pairs are sums over patterns weighted by how many pairs
// have each, and there are a few thousand patterns for millions of pairs. So each pair is compared
// once, and EM iterates over the compact patterns instead of the pairs.
//
// Patterns are numbered in order of first occurrence among the pairs, so the numbering, and every
// sum over patterns, is the same however the pairs' levels were computed. Immutable once built.

#include <cstdint>
#include <span>
#include <vector>

namespace tessera::matching {

class ComparisonPatterns {
 public:
  // `levels` holds pairs x `width` levels, as CompareAll returns them.
  ComparisonPatterns(std::span<const int8_t> levels, size_t width);

  size_t width() const { return width_; }
  size_t size() const { return counts_.size(); }
  // The levels of pattern `k` (width() entries).
  std::span<const int8_t> Levels(size_t k) const { return {rows_.data() + k * width_, width_}; }
  // How many pairs have each pattern.
  const std::vector<double>& Counts() const { return counts_; }
  // The pattern of each pair, in the order of the levels given.
  const std::vector<uint32_t>& PatternOfPair() const { return pattern_of_; }

 private:
  size_t width_;
  std::vector<int8_t> rows_;
  std::vector<double> counts_;
  std::vector<uint32_t> pattern_of_;
};

}  // namespace tessera::matching
