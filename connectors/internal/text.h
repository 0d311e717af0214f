#pragma once

// Small text helpers the connectors share (internal to connectors/).

#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace tessera::connectors::internal {

// `text` in double quotes for an error message, cut short (with "...") beyond 64 bytes.
std::string QuoteForError(std::string_view text);

// A plain decimal number as POS exports and Shopify write money: "12.50", "-3", "+0.5", with
// `separator` as the decimal mark. No exponent, no thousands separators, no spaces.
std::optional<double> ParseDecimal(std::string_view text, char separator = '.');

// The event name a provider's event kind maps to in `names`, else `fallback`.
template <size_t N>
std::string_view EventNameFor(const std::array<std::pair<std::string_view, std::string_view>, N>& names,
                              std::string_view kind, std::string_view fallback) {
  for (const auto& [provider_kind, name] : names) {
    if (provider_kind == kind) return name;
  }
  return fallback;
}

// application/x-www-form-urlencoded decoding (a query string, a form body): %XX escapes and '+' as a
// space; nullopt on a bad escape.
std::optional<std::string> DecodeFormComponent(std::string_view text);

}  // namespace tessera::connectors::internal
