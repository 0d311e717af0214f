// The identity section: identifier rules, identifier mappings, blocked values and patterns, email
// normalization, the resolver's batch and cache sizes, and phone regions (also read by sources).

#include <cstdint>
#include <limits>
// GCC 12 with -fsanitize=address reports std::function members inside <regex> as maybe
// uninitialized (a false positive, GCC bug 105616), which breaks the sanitizer build under
// -Werror; the pragma only works around the include.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <regex>
#pragma GCC diagnostic pop
#else
#include <regex>
#endif
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "config/internal/json_reader.h"
#include "config/internal/sections.h"

namespace tessera::config::internal {
namespace {

// The resolver holds a batch's changes in memory until its WriteBatch is written.
constexpr uint64_t kMaxResolverBatchEvents = 100'000;
// Below these the caches thrash on any real workload; a typo that drops digits should not pass.
constexpr uint64_t kMinCacheEntries = 1'000;
constexpr uint64_t kMinProfileCacheEntries = 100;

bool IsPhoneRegion(std::string_view region) {
  return region.size() == 2 && region[0] >= 'A' && region[0] <= 'Z' && region[1] >= 'A' && region[1] <= 'Z';
}

absl::Status ReadIdentifierRule(element value, const std::string& path, IdentifierRule& rule) {
  bool has_type = false;
  absl::Status status = ReadObject(
      value, path,
      {{"type",
        [&](element v, const std::string& p) -> absl::Status {
          has_type = true;
          if (absl::Status s = ReadString(v, p, rule.type); !s.ok()) return s;
          if (!IsSlug(rule.type, "_")) {
            return Invalid(p,
                           absl::StrCat(Quote(rule.type), " must be 1 to 64 characters from a-z, 0-9 and _"));
          }
          return absl::OkStatus();
        }},
       {"priority",
        [&](element v, const std::string& p) -> absl::Status {
          int64_t priority = 0;
          if (v.get_int64().get(priority) != simdjson::SUCCESS || v.type() == element_type::DOUBLE ||
              priority < std::numeric_limits<int>::min() || priority > std::numeric_limits<int>::max()) {
            return Expected(p,
                            absl::StrCat("an integer from ", std::numeric_limits<int>::min(), " to ",
                                         std::numeric_limits<int>::max()),
                            v);
          }
          rule.priority = static_cast<int>(priority);
          return absl::OkStatus();
        }},
       {"limit",
        [&](element v, const std::string& p) -> absl::Status {
          absl::StatusOr<uint64_t> limit = ReadUnsigned(v, p, 0, std::numeric_limits<int>::max());
          if (!limit.ok()) return limit.status();
          rule.limit = static_cast<int>(*limit);
          return absl::OkStatus();
        }},
       {"blocked", [&](element v, const std::string& p) {
          rule.blocked.clear();
          return ReadArray(v, p, [&](element item, const std::string& item_path) {
            return ReadString(item, item_path, rule.blocked.emplace_back());
          });
        }}});
  if (!status.ok()) return status;
  if (!has_type) return Invalid(ChildPath(path, "type"), "required");
  return absl::OkStatus();
}

// The members an identifier mapping may start from: JSON objects walked into, and string members
// taken whole.
constexpr std::string_view kMappingObjects[] = {"traits", "context", "properties", "integrations"};
constexpr std::string_view kMappingStrings[] = {"userId",   "anonymousId", "event",      "name",
                                                "category", "groupId",     "previousId", "messageId"};

template <size_t N>
bool IsOneOf(std::string_view text, const std::string_view (&list)[N]) {
  for (std::string_view item : list) {
    if (item == text) return true;
  }
  return false;
}

// Checks a mapping's field path; the reason names the path, since the key itself is known.
absl::Status ValidateMappingField(const std::string& path, std::string_view field) {
  std::vector<std::string_view> segments;
  for (size_t start = 0;;) {
    size_t dot = field.find('.', start);
    segments.push_back(
        field.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start));
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  for (std::string_view segment : segments) {
    if (segment.empty()) return Invalid(path, absl::StrCat(Quote(ToAbsl(field)), " has an empty segment"));
    if (segment.find_first_of("[]") != std::string_view::npos) {
      return Invalid(path, absl::StrCat(Quote(ToAbsl(field)), ": array indices are not supported"));
    }
  }
  const std::string_view first = segments.front();
  if (IsOneOf(first, kMappingObjects)) {
    if (segments.size() == 1) {
      return Invalid(path, absl::StrCat(Quote(ToAbsl(field)), " is a whole object; name a member, e.g. \"",
                                        ToAbsl(first), ".loyaltyCard\""));
    }
    return absl::OkStatus();
  }
  if (IsOneOf(first, kMappingStrings)) {
    if (segments.size() > 1) {
      return Invalid(
          path, absl::StrCat(Quote(ToAbsl(field)), ": ", ToAbsl(first), " is a string and has no members"));
    }
    return absl::OkStatus();
  }
  std::vector<absl::string_view> known;
  for (std::string_view root : kMappingObjects) known.push_back(ToAbsl(root));
  for (std::string_view root : kMappingStrings) known.push_back(ToAbsl(root));
  return Invalid(path,
                 absl::StrCat(Quote(ToAbsl(field)), " must start with one of ", absl::StrJoin(known, ", ")));
}

absl::Status ReadIdentifierMapping(element value, const std::string& path, IdentifierMappingConfig& mapping) {
  bool has_type = false;
  bool has_field = false;
  absl::Status status = ReadObject(
      value, path,
      {{"type",
        [&](element v, const std::string& p) -> absl::Status {
          has_type = true;
          if (absl::Status s = ReadString(v, p, mapping.type); !s.ok()) return s;
          if (!IsSlug(mapping.type, "_")) {
            return Invalid(
                p, absl::StrCat(Quote(mapping.type), " must be 1 to 64 characters from a-z, 0-9 and _"));
          }
          return absl::OkStatus();
        }},
       {"field", [&](element v, const std::string& p) -> absl::Status {
          has_field = true;
          if (absl::Status s = ReadNonEmptyString(v, p, mapping.field); !s.ok()) return s;
          return ValidateMappingField(p, mapping.field);
        }}});
  if (!status.ok()) return status;
  if (!has_type) return Invalid(ChildPath(path, "type"), "required");
  if (!has_field) return Invalid(ChildPath(path, "field"), "required");
  return absl::OkStatus();
}

// Compiles the pattern once here so that a bad one stops start-up instead of every event.
absl::Status ReadBlockedPattern(element value, const std::string& path, std::string& pattern) {
  if (absl::Status s = ReadNonEmptyString(value, path, pattern); !s.ok()) return s;
  try {
    std::regex compiled(pattern, std::regex::ECMAScript);
  } catch (const std::regex_error& error) {
    return Invalid(path, absl::StrCat(Quote(pattern), " is not a valid regular expression: ", error.what()));
  }
  return absl::OkStatus();
}

}  // namespace

ValueReader PhoneRegionReader(std::string& region) {
  return [&region](element value, const std::string& path) -> absl::Status {
    if (absl::Status s = ReadString(value, path, region); !s.ok()) return s;
    if (!IsPhoneRegion(region)) {
      return Invalid(
          path, absl::StrCat(Quote(region), " is not a two-letter uppercase region code such as \"US\""));
    }
    return absl::OkStatus();
  };
}

absl::Status ReadIdentity(element value, const std::string& path, IdentityOptions& identity) {
  return ReadObject(
      value, path,
      {{"default_phone_region", PhoneRegionReader(identity.default_phone_region)},
       {"rules",
        [&](element v, const std::string& p) {
          identity.rules.clear();
          return ReadArray(v, p, [&](element item, const std::string& item_path) {
            return ReadIdentifierRule(item, item_path, identity.rules.emplace_back());
          });
        }},
       {"mappings",
        [&](element v, const std::string& p) {
          identity.identifier_mappings.clear();
          return ReadArray(v, p, [&](element item, const std::string& item_path) {
            return ReadIdentifierMapping(item, item_path, identity.identifier_mappings.emplace_back());
          });
        }},
       {"blocked_values",
        [&](element v, const std::string& p) {
          identity.blocked_values.clear();
          return ReadArray(v, p, [&](element item, const std::string& item_path) {
            return ReadString(item, item_path, identity.blocked_values.emplace_back());
          });
        }},
       {"blocked_patterns",
        [&](element v, const std::string& p) {
          identity.blocked_patterns.clear();
          return ReadArray(v, p, [&](element item, const std::string& item_path) {
            return ReadBlockedPattern(item, item_path, identity.blocked_patterns.emplace_back());
          });
        }},
       {"email_strip_plus_tag",
        [&](element v, const std::string& p) { return ReadBool(v, p, identity.email_strip_plus_tag); }},
       {"email_strip_gmail_dots",
        [&](element v, const std::string& p) { return ReadBool(v, p, identity.email_strip_gmail_dots); }},
       {"resolver_batch_events", SizeReader(identity.resolver_batch_events, 1, kMaxResolverBatchEvents)},
       {"cache_entries", SizeReader(identity.cache_entries, kMinCacheEntries)},
       {"profile_cache_entries", SizeReader(identity.profile_cache_entries, kMinProfileCacheEntries)}});
}

}  // namespace tessera::config::internal
