#include "connectors/internal/text.h"

#include <charconv>

namespace tessera::connectors::internal {
namespace {
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
}  // namespace

std::string QuoteForError(std::string_view text) {
  constexpr size_t kMaxShown = 64;
  std::string out = "\"";
  out.append(text.substr(0, kMaxShown));
  if (text.size() > kMaxShown) out.append("...");
  out.push_back('"');
  return out;
}

std::optional<double> ParseDecimal(std::string_view text, char separator) {
  std::string normalized(text);
  size_t i = 0;
  if (i < normalized.size() && (normalized[i] == '-' || normalized[i] == '+')) ++i;
  const size_t int_start = i;
  while (i < normalized.size() && IsDigit(normalized[i])) ++i;
  if (i == int_start) return std::nullopt;
  if (i < normalized.size() && normalized[i] == separator) {
    normalized[i] = '.';
    const size_t frac_start = ++i;
    while (i < normalized.size() && IsDigit(normalized[i])) ++i;
    if (i == frac_start) return std::nullopt;
  }
  if (i != normalized.size()) return std::nullopt;
  // from_chars takes no leading '+'.
  const char* begin = normalized.data() + (normalized[0] == '+' ? 1 : 0);
  double value = 0;
  const auto result = std::from_chars(begin, normalized.data() + normalized.size(), value);
  if (result.ec != std::errc() || result.ptr != normalized.data() + normalized.size()) return std::nullopt;
  return value;
}

}  // namespace tessera::connectors::internal
