#include "matching/comparison_patterns.h"

#include <string>
#include <string_view>
#include <unordered_map>

namespace tessera::matching {

ComparisonPatterns::ComparisonPatterns(std::span<const int8_t> levels, size_t width) : width_(width) {
  const size_t pairs = width == 0 ? 0 : levels.size() / width;
  pattern_of_.resize(pairs);
  // A row's bytes are its key: short enough for the small-string buffer, so no allocation.
  std::unordered_map<std::string, uint32_t> number;
  for (size_t p = 0; p < pairs; ++p) {
    const std::string_view row(reinterpret_cast<const char*>(levels.data() + p * width), width);
    auto [it, added] = number.try_emplace(std::string(row), static_cast<uint32_t>(counts_.size()));
    if (added) {
      rows_.insert(rows_.end(), levels.begin() + static_cast<std::ptrdiff_t>(p * width),
                   levels.begin() + static_cast<std::ptrdiff_t>((p + 1) * width));
      counts_.push_back(0);
    }
    counts_[it->second] += 1;
    pattern_of_[p] = it->second;
  }
}

}  // namespace tessera::matching
