#include "config/allowed_origin.h"

#include <algorithm>
#include <cctype>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace tessera::config {
namespace {

constexpr std::string_view kSchemeSeparator = "://";
// Debian's abseil has its own string_view type.
absl::string_view ToAbsl(std::string_view text) { return absl::string_view(text.data(), text.size()); }

// Longer Origin headers are not real origins; checking them would only cost time.
constexpr size_t kMaxOriginBytes = 512;

bool IsHostChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == '_';
}

std::string Lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](char c) { return static_cast<char>(std::tolower(static_cast<unsigned char>(c))); });
  return out;
}

bool EqualsIgnoringCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

// Whether `origin` (any case) matches one canonical entry.
bool Matches(std::string_view entry, std::string_view origin) {
  if (entry == "*") return true;
  const size_t star = entry.find("://*.");
  if (star == std::string_view::npos) return EqualsIgnoringCase(entry, origin);
  // "scheme://*.rest": the origin is "scheme://" + one or more labels + "." + rest.
  const std::string_view prefix = entry.substr(0, star + kSchemeSeparator.size());   // "scheme://"
  const std::string_view suffix = entry.substr(star + kSchemeSeparator.size() + 1);  // ".rest"
  if (origin.size() <= prefix.size() + suffix.size()) return false;
  if (!EqualsIgnoringCase(origin.substr(0, prefix.size()), prefix)) return false;
  if (!EqualsIgnoringCase(origin.substr(origin.size() - suffix.size()), suffix)) return false;
  const std::string_view labels = origin.substr(prefix.size(), origin.size() - prefix.size() - suffix.size());
  return !labels.empty() && labels.front() != '.' && std::all_of(labels.begin(), labels.end(), IsHostChar);
}

// Browsers leave a scheme's default port out of Origin, so an entry with it would never match.
std::string WithoutDefaultPort(std::string origin) {
  for (const auto& [scheme, port] : {std::pair<std::string_view, std::string_view>{"https://", ":443"},
                                     std::pair<std::string_view, std::string_view>{"http://", ":80"}}) {
    if (origin.starts_with(scheme) && origin.ends_with(port)) origin.resize(origin.size() - port.size());
  }
  return origin;
}

}  // namespace

absl::StatusOr<std::string> NormalizeAllowedOrigin(std::string_view entry) {
  if (entry == "*") return std::string(entry);
  const size_t separator = entry.find(kSchemeSeparator);
  if (separator == std::string_view::npos || separator == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("\"", ToAbsl(entry),
                     "\" is not an origin: expected \"*\" or scheme://host[:port], "
                     "e.g. \"https://shop.example.com\""));
  }
  const std::string_view scheme = entry.substr(0, separator);
  if (!std::all_of(scheme.begin(), scheme.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '-' || c == '.';
      })) {
    return absl::InvalidArgumentError(
        absl::StrCat("\"", ToAbsl(entry), "\": the scheme \"", ToAbsl(scheme), "\" is not valid"));
  }
  std::string_view authority = entry.substr(separator + kSchemeSeparator.size());
  if (authority.find('/') != std::string_view::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("\"", ToAbsl(entry),
                     "\" has a path; an origin is only scheme://host[:port] (browsers send no path)"));
  }
  std::string_view host = authority;
  // An IPv6 literal is bracketed ("http://[::1]:8080") and holds colons of its own.
  const size_t host_end = authority.starts_with('[') ? authority.find(']') : 0;
  if (host_end == std::string_view::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("\"", ToAbsl(entry), "\": the IPv6 address has no closing ']'"));
  }
  if (const size_t colon = authority.find(':', host_end); colon != std::string_view::npos) {
    const std::string_view port = authority.substr(colon + 1);
    if (port.empty() || port.size() > 5 ||
        !std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      return absl::InvalidArgumentError(
          absl::StrCat("\"", ToAbsl(entry), "\": \"", ToAbsl(port), "\" is not a port"));
    }
    host = authority.substr(0, colon);
  }
  if (host.starts_with('[')) {
    const std::string_view address = host.substr(1, host.size() - 2);
    if (host.back() != ']' || address.empty() || !std::all_of(address.begin(), address.end(), [](char c) {
          return std::isxdigit(static_cast<unsigned char>(c)) || c == ':' || c == '.';
        })) {
      return absl::InvalidArgumentError(
          absl::StrCat("\"", ToAbsl(entry), "\": \"", ToAbsl(host), "\" is not an IPv6 address"));
    }
    return WithoutDefaultPort(Lower(entry));
  }
  std::string_view labels = host;
  if (labels.starts_with("*.")) {
    labels.remove_prefix(2);
    // "*.com" would be every site of a top-level domain: never what an operator means.
    if (labels.find('.') == std::string_view::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat("\"", ToAbsl(entry),
                       "\": a wildcard must stand for subdomains of a domain with at least "
                       "two labels, e.g. \"https://*.example.com\""));
    }
  }
  if (labels.empty() || labels.front() == '.' || labels.back() == '.' ||
      !std::all_of(labels.begin(), labels.end(), IsHostChar)) {
    return absl::InvalidArgumentError(absl::StrCat("\"", ToAbsl(entry), "\": \"", ToAbsl(host),
                                                   "\" is not a host name (letters, digits, '-' and '.'; a "
                                                   "wildcard only as the first label, \"*.example.com\")"));
  }
  return WithoutDefaultPort(Lower(entry));
}

bool OriginAllowed(std::span<const std::string> entries, std::string_view origin) {
  if (origin.empty() || origin.size() > kMaxOriginBytes) return false;
  if (origin == "null") return std::find(entries.begin(), entries.end(), "*") != entries.end();
  // Only a real origin is ever allowed, so that "*" never echoes arbitrary text into a header.
  const absl::StatusOr<std::string> wellformed = NormalizeAllowedOrigin(origin);
  if (!wellformed.ok() || wellformed->find('*') != std::string::npos) return false;
  return std::any_of(entries.begin(), entries.end(),
                     [origin](const std::string& entry) { return Matches(entry, origin); });
}

}  // namespace tessera::config
