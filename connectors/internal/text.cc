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

namespace {

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::optional<std::string> DecodeFormComponent(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '+') {
      out.push_back(' ');
    } else if (c != '%') {
      out.push_back(c);
    } else {
      if (i + 2 >= text.size()) return std::nullopt;
      const int high = HexDigit(text[i + 1]);
      const int low = HexDigit(text[i + 2]);
      if (high < 0 || low < 0) return std::nullopt;
      out.push_back(static_cast<char>(high * 16 + low));
      i += 2;
    }
  }
  return out;
}

}  // namespace tessera::connectors::internal
