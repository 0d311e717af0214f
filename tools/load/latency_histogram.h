#pragma once

// LatencyHistogram records acknowledgement latencies of tessera-load in microseconds: log-linear
// buckets, 32 sub-buckets per power of two (about 3% resolution), constant memory whatever the
// number of samples. Thread-safety: none; keep one per connection and Merge them at the end.

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>

namespace tessera::tools {

class LatencyHistogram {
 public:
  void Record(uint64_t micros) {
    ++counts_[Index(micros)];
    ++count_;
    max_ = std::max(max_, micros);
  }
  void Merge(const LatencyHistogram& other) {
    for (size_t i = 0; i < counts_.size(); ++i) counts_[i] += other.counts_[i];
    count_ += other.count_;
    max_ = std::max(max_, other.max_);
  }
  uint64_t count() const { return count_; }
  uint64_t max() const { return max_; }
  // The value at quantile q (0..1): the upper bound of the bucket holding it, at most max().
  uint64_t Quantile(double q) const {
    if (count_ == 0) return 0;
    const uint64_t rank = std::max<uint64_t>(1, static_cast<uint64_t>(q * static_cast<double>(count_) + 0.5));
    uint64_t seen = 0;
    for (size_t i = 0; i < counts_.size(); ++i) {
      seen += counts_[i];
      if (seen >= rank) return std::min(UpperBound(i), max_);
    }
    return max_;
  }

 private:
  static constexpr size_t kBuckets = 64 + 58 * 32;
  static size_t Index(uint64_t v) {
    if (v < 64) return static_cast<size_t>(v);
    const int msb = 63 - __builtin_clzll(v);
    return 64 + static_cast<size_t>(msb - 6) * 32 + static_cast<size_t>((v >> (msb - 5)) & 31);
  }
  static uint64_t UpperBound(size_t index) {
    if (index < 64) return index;
    const size_t k = (index - 64) / 32;
    const uint64_t sub = (index - 64) % 32;
    const int shift = static_cast<int>(k) + 1;
    return ((32 + sub + 1) << shift) - 1;
  }
  std::array<uint64_t, kBuckets> counts_{};
  uint64_t count_ = 0;
  uint64_t max_ = 0;
};

}  // namespace tessera::tools
