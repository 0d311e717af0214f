#include "matching/string_metrics.h"

#include <algorithm>
#include <array>
#include <cstddef>
#include <vector>

namespace tessera::matching {

namespace {

// Scratch space for one call: on the stack for the short values names and e-mails are, on the heap
// beyond. Results never depend on which.
template <typename T, std::size_t kInline = 64>
class Scratch {
 public:
  explicit Scratch(std::size_t n) : data_(n <= kInline ? inline_.data() : (heap_.resize(n), heap_.data())) {
    std::fill(data_, data_ + n, T{});
  }
  T& operator[](std::size_t i) { return data_[i]; }
  T* data() { return data_; }

 private:
  std::array<T, kInline> inline_;
  std::vector<T> heap_;
  T* data_;
};

}  // namespace

double Jaro(std::string_view a, std::string_view b) {
  if (a.empty() && b.empty()) return 1.0;
  if (a.empty() || b.empty()) return 0.0;
  const std::size_t window = std::max<std::size_t>(std::max(a.size(), b.size()) / 2, 1) - 1;
  Scratch<unsigned char> a_matched(a.size());
  Scratch<unsigned char> b_matched(b.size());
  std::size_t matches = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const std::size_t from = i > window ? i - window : 0;
    const std::size_t to = std::min(b.size(), i + window + 1);
    for (std::size_t j = from; j < to; ++j) {
      if (b_matched[j] || a[i] != b[j]) continue;
      a_matched[i] = 1;
      b_matched[j] = 1;
      ++matches;
      break;
    }
  }
  if (matches == 0) return 0.0;
  // Half the number of matched characters that appear in a different order.
  std::size_t out_of_order = 0;
  std::size_t j = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (!a_matched[i]) continue;
    while (!b_matched[j]) ++j;
    if (a[i] != b[j]) ++out_of_order;
    ++j;
  }
  const double m = static_cast<double>(matches);
  const double t = static_cast<double>(out_of_order) / 2.0;
  return (m / static_cast<double>(a.size()) + m / static_cast<double>(b.size()) + (m - t) / m) / 3.0;
}

double JaroWinkler(std::string_view a, std::string_view b, double prefix_scale) {
  const double jaro = Jaro(a, b);
  std::size_t prefix = 0;
  const std::size_t limit = std::min<std::size_t>({a.size(), b.size(), 4});
  while (prefix < limit && a[prefix] == b[prefix]) ++prefix;
  return jaro + static_cast<double>(prefix) * prefix_scale * (1.0 - jaro);
}

int Levenshtein(std::string_view a, std::string_view b) {
  if (a.size() < b.size()) std::swap(a, b);
  std::vector<int> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = static_cast<int>(j);
  for (std::size_t i = 1; i <= a.size(); ++i) {
    int diagonal = row[0];
    row[0] = static_cast<int>(i);
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const int above = row[j];
      row[j] = std::min({above + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

int DamerauLevenshtein(std::string_view a, std::string_view b) {
  const std::size_t width = b.size() + 1;
  // Three rows: i-2, i-1, i, in one scratch buffer.
  Scratch<int, 96> rows(3 * width);
  int* two_back = rows.data();
  int* previous = two_back + width;
  int* current = previous + width;
  for (std::size_t j = 0; j < width; ++j) previous[j] = static_cast<int>(j);
  for (std::size_t i = 1; i <= a.size(); ++i) {
    current[0] = static_cast<int>(i);
    for (std::size_t j = 1; j < width; ++j) {
      const int cost = a[i - 1] == b[j - 1] ? 0 : 1;
      int best = std::min({previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
        best = std::min(best, two_back[j - 2] + 1);
      }
      current[j] = best;
    }
    int* oldest = two_back;
    two_back = previous;
    previous = current;
    current = oldest;
  }
  return previous[b.size()];
}

bool WithinOneEdit(std::string_view a, std::string_view b) {
  if (a.size() < b.size()) std::swap(a, b);
  if (a.size() - b.size() > 1) return false;
  std::size_t i = 0;
  while (i < b.size() && a[i] == b[i]) ++i;
  if (i == b.size()) return true;                                   // equal, or one letter added at the end
  if (a.size() != b.size()) return a.substr(i + 1) == b.substr(i);  // one letter inserted
  if (a.substr(i + 1) == b.substr(i + 1)) return true;              // one letter replaced
  return i + 1 < a.size() && a[i] == b[i + 1] && a[i + 1] == b[i] && a.substr(i + 2) == b.substr(i + 2);
}

}  // namespace tessera::matching
