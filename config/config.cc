#include "config/config.h"
#include "config/allowed_origin.h"
#include "config/internal/read_file.h"
#include "config/key_digest.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <functional>
#include <initializer_list>
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
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "simdjson.h"

namespace tessera::config {
namespace {

using simdjson::dom::element;
using simdjson::dom::element_type;

constexpr uint64_t kUnbounded = std::numeric_limits<uint64_t>::max();

// Durations are later added to clock readings; a year keeps every sum far from overflow while
// being longer than any sensible timeout or window.
constexpr uint64_t kMaxSeconds = 365ull * 24 * 3600;
constexpr uint64_t kMaxMilliseconds = kMaxSeconds * 1000;
constexpr uint64_t kMaxMicroseconds = kMaxMilliseconds * 1000;

// Megabyte counts are converted to bytes; this keeps the product inside size_t.
constexpr uint64_t kMaxMegabytes = std::numeric_limits<size_t>::max() >> 20;

constexpr int kMaxIoThreads = 256;
constexpr size_t kMaxShownChars = 64;

// The resolver holds a batch's changes in memory until its WriteBatch is written.
constexpr uint64_t kMaxResolverBatchEvents = 100'000;
// Below these the caches thrash on any real workload; a typo that drops digits should not pass.
constexpr uint64_t kMinCacheEntries = 1'000;
constexpr uint64_t kMinProfileCacheEntries = 100;

// The installed abseil has its own string_view type (ABSL_OPTION_USE_STD_STRING_VIEW is 0), which
// does not convert from std::string_view; text from simdjson passes through here on its way into
// absl::StrCat and friends.
absl::string_view ToAbsl(std::string_view text) { return absl::string_view(text.data(), text.size()); }

std::string ChannelList() {
  return absl::StrJoin(kChannels, ", ",
                       [](std::string* out, std::string_view channel) { out->append(channel); });
}

std::string ChildPath(absl::string_view parent, absl::string_view key) {
  return parent.empty() ? std::string(key) : absl::StrCat(parent, ".", key);
}

std::string IndexPath(absl::string_view parent, size_t index) {
  return absl::StrCat(parent, "[", index, "]");
}

absl::Status Invalid(absl::string_view path, absl::string_view reason) {
  if (path.empty()) return absl::InvalidArgumentError(reason);
  return absl::InvalidArgumentError(absl::StrCat(path, ": ", reason));
}

// Quotes user text for an error message. Escaped so that control characters cannot garble a
// terminal or a log line, and shortened so that a pasted blob does not drown the message.
std::string Quote(absl::string_view text) {
  std::string quoted = absl::StrCat("\"", absl::CHexEscape(text.substr(0, kMaxShownChars)), "\"");
  if (text.size() > kMaxShownChars) quoted += "...";
  return quoted;
}

// How a value is shown after "got": scalars verbatim, containers by kind.
std::string Describe(element value) {
  switch (value.type()) {
    case element_type::STRING:
      return Quote(ToAbsl(value.get_string().value_unsafe()));
    case element_type::INT64:
      return absl::StrCat(value.get_int64().value_unsafe());
    case element_type::UINT64:
      return absl::StrCat(value.get_uint64().value_unsafe());
    case element_type::DOUBLE: {
      // "1e3" parses to 1000; say why a whole-looking number was still refused.
      std::string shown = absl::StrCat(value.get_double().value_unsafe());
      if (shown.find_first_of(".en") == std::string::npos) shown += " (written with a fraction or exponent)";
      return shown;
    }
    case element_type::BOOL:
      return value.get_bool().value_unsafe() ? "true" : "false";
    case element_type::NULL_VALUE:
      return "null";
    case element_type::ARRAY:
      return "an array";
    case element_type::OBJECT:
      return "an object";
  }
  return "an unknown value";
}

absl::Status Expected(absl::string_view path, absl::string_view what, element got) {
  return Invalid(path, absl::StrCat("expected ", what, ", got ", Describe(got)));
}

using ValueReader = std::function<absl::Status(element value, const std::string& path)>;

struct Field {
  absl::string_view key;
  ValueReader read;
};

// Reads an object whose keys must all be among `fields`. Absent keys keep their defaults; unknown
// and repeated keys are errors, because either one means the file does not say what its author
// thinks it says.
absl::Status ReadObject(element value, const std::string& path, std::initializer_list<Field> fields) {
  simdjson::dom::object object;
  if (value.get_object().get(object) != simdjson::SUCCESS) {
    return Expected(path, path.empty() ? "a JSON object at the top level" : "an object", value);
  }
  std::vector<bool> seen(fields.size(), false);
  for (simdjson::dom::key_value_pair member : object) {
    size_t index = 0;
    const Field* field = nullptr;
    for (const Field& candidate : fields) {
      if (candidate.key == ToAbsl(member.key)) {
        field = &candidate;
        break;
      }
      ++index;
    }
    if (field == nullptr) {
      std::vector<absl::string_view> known;
      for (const Field& candidate : fields) known.push_back(candidate.key);
      return Invalid(ChildPath(path, absl::CHexEscape(ToAbsl(member.key))),
                     absl::StrCat("unknown key (known: ", absl::StrJoin(known, ", "), ")"));
    }
    std::string child_path = ChildPath(path, field->key);
    if (seen[index]) return Invalid(child_path, "duplicate key");
    seen[index] = true;
    if (absl::Status status = field->read(member.value, child_path); !status.ok()) return status;
  }
  return absl::OkStatus();
}

absl::Status ReadArray(element value, const std::string& path, const ValueReader& read_item) {
  simdjson::dom::array array;
  if (value.get_array().get(array) != simdjson::SUCCESS) return Expected(path, "an array", value);
  size_t index = 0;
  for (element item : array) {
    if (absl::Status status = read_item(item, IndexPath(path, index)); !status.ok()) return status;
    ++index;
  }
  return absl::OkStatus();
}

absl::Status ReadString(element value, const std::string& path, std::string& out) {
  std::string_view text;
  if (value.get_string().get(text) != simdjson::SUCCESS) return Expected(path, "a string", value);
  out = std::string(text);
  return absl::OkStatus();
}

absl::Status ReadNonEmptyString(element value, const std::string& path, std::string& out) {
  std::string_view text;
  if (value.get_string().get(text) != simdjson::SUCCESS || text.empty()) {
    return Expected(path, "a non-empty string", value);
  }
  out = std::string(text);
  return absl::OkStatus();
}

absl::Status ReadBool(element value, const std::string& path, bool& out) {
  if (value.get_bool().get(out) != simdjson::SUCCESS) return Expected(path, "true or false", value);
  return absl::OkStatus();
}

std::string DescribeRange(uint64_t min, uint64_t max) {
  if (max == kUnbounded && min == 0) return "a non-negative integer";
  if (max == kUnbounded && min == 1) return "a positive integer";
  if (max == kUnbounded) return absl::StrCat("an integer of at least ", min);
  return absl::StrCat("an integer from ", min, " to ", max);
}

// Reads a whole number in [min, max]. Numbers written with a fraction or exponent ("1e3", "2.0")
// are refused like any other non-integer: a size is never fractional.
absl::StatusOr<uint64_t> ReadUnsigned(element value, const std::string& path, uint64_t min, uint64_t max) {
  uint64_t number = 0;
  bool is_integer = false;
  if (value.type() == element_type::UINT64) {
    number = value.get_uint64().value_unsafe();
    is_integer = true;
  } else if (value.type() == element_type::INT64 && value.get_int64().value_unsafe() >= 0) {
    number = static_cast<uint64_t>(value.get_int64().value_unsafe());
    is_integer = true;
  }
  if (!is_integer || number < min || number > max) return Expected(path, DescribeRange(min, max), value);
  return number;
}

ValueReader SizeReader(size_t& out, uint64_t min = 1, uint64_t max = kUnbounded) {
  return [&out, min, max](element value, const std::string& path) -> absl::Status {
    absl::StatusOr<uint64_t> number = ReadUnsigned(value, path, min, max);
    if (!number.ok()) return number.status();
    out = static_cast<size_t>(*number);
    return absl::OkStatus();
  };
}

ValueReader MegabytesReader(size_t& bytes_out) {
  return [&bytes_out](element value, const std::string& path) -> absl::Status {
    absl::StatusOr<uint64_t> megabytes = ReadUnsigned(value, path, 1, kMaxMegabytes);
    if (!megabytes.ok()) return megabytes.status();
    bytes_out = static_cast<size_t>(*megabytes) << 20;
    return absl::OkStatus();
  };
}

template <typename Duration>
ValueReader DurationReader(Duration& out, uint64_t min, uint64_t max) {
  return [&out, min, max](element value, const std::string& path) -> absl::Status {
    absl::StatusOr<uint64_t> count = ReadUnsigned(value, path, min, max);
    if (!count.ok()) return count.status();
    out = Duration(static_cast<typename Duration::rep>(*count));
    return absl::OkStatus();
  };
}

ValueReader StringListReader(std::vector<std::string>& out) {
  return [&out](element value, const std::string& path) -> absl::Status {
    out.clear();
    return ReadArray(value, path, [&out](element item, const std::string& item_path) {
      return ReadNonEmptyString(item, item_path, out.emplace_back());
    });
  };
}

// A list of allowed origins (config/allowed_origin.h), kept in canonical form.
ValueReader AllowedOriginsReader(std::vector<std::string>& out) {
  return [&out](element value, const std::string& path) -> absl::Status {
    out.clear();
    return ReadArray(value, path, [&out](element item, const std::string& item_path) -> absl::Status {
      std::string entry;
      if (absl::Status s = ReadString(item, item_path, entry); !s.ok()) return s;
      absl::StatusOr<std::string> normalized = NormalizeAllowedOrigin(entry);
      if (!normalized.ok()) return Invalid(item_path, std::string(normalized.status().message()));
      out.push_back(*std::move(normalized));
      return absl::OkStatus();
    });
  };
}

bool IsKnownChannel(std::string_view channel) {
  for (std::string_view known : kChannels) {
    if (known == channel) return true;
  }
  return false;
}

// [a-z0-9] plus the given extra characters, 1 to 64 of them.
bool IsSlug(std::string_view text, std::string_view extra) {
  if (text.empty() || text.size() > 64) return false;
  for (char c : text) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || extra.find(c) != std::string_view::npos;
    if (!ok) return false;
  }
  return true;
}

// connectors.csv: the column mapping of POS CSV imports. Only the JSON shape is checked here;
// the connector itself judges formats and time zones (tools/ asks it before anything starts).
absl::Status ReadCsvMapping(element value, const std::string& path, CsvMappingConfig& csv) {
  auto text = [](std::string& out) {
    return [&out](element v, const std::string& p) { return ReadString(v, p, out); };
  };
  auto non_empty = [](std::string& out) {
    return [&out](element v, const std::string& p) { return ReadNonEmptyString(v, p, out); };
  };
  return ReadObject(
      value, path,
      {{"columns",
        [&](element v, const std::string& p) {
          return ReadObject(v, p,
                            {{"receipt_id", non_empty(csv.receipt_id)},
                             {"loyalty_card", text(csv.loyalty_card)},
                             {"phone", text(csv.phone)},
                             {"email", text(csv.email)},
                             {"amount", text(csv.amount)},
                             {"currency", text(csv.currency)},
                             {"store", text(csv.store)},
                             {"timestamp", non_empty(csv.timestamp)}});
        }},
       {"default_currency", text(csv.default_currency)},
       {"timestamp_format", non_empty(csv.timestamp_format)},
       {"timezone", non_empty(csv.timezone)},
       {"event_name", non_empty(csv.event_name)},
       {"decimal_separator",
        [&](element v, const std::string& p) -> absl::Status {
          std::string separator;
          if (absl::Status s = ReadString(v, p, separator); !s.ok()) return s;
          if (separator != "." && separator != ",") {
            return Invalid(p, absl::StrCat(Quote(separator), " must be \".\" or \",\""));
          }
          csv.decimal_separator = separator[0];
          return absl::OkStatus();
        }},
       {"receipt_id_per_store",
        [&](element v, const std::string& p) { return ReadBool(v, p, csv.receipt_id_per_store); }}});
}

absl::Status ReadConnectorSettings(element value, const std::string& path, ConnectorSettings& settings) {
  auto secret = [](std::string& out) {
    return [&out](element v, const std::string& p) { return ReadNonEmptyString(v, p, out); };
  };
  return ReadObject(
      value, path,
      {{"shopify",
        [&](element v, const std::string& p) {
          return ReadObject(v, p, {{"secret", secret(settings.shopify_secret)}});
        }},
       {"sendgrid",
        [&](element v, const std::string& p) {
          return ReadObject(v, p, {{"public_key", secret(settings.sendgrid_public_key)}});
        }},
       {"mailgun",
        [&](element v, const std::string& p) {
          return ReadObject(v, p,
                            {{"signing_key", secret(settings.mailgun_signing_key)},
                             {"max_age_seconds", [&](element a, const std::string& ap) -> absl::Status {
                                absl::StatusOr<uint64_t> age = ReadUnsigned(a, ap, 0, kMaxSeconds);
                                if (!age.ok()) return age.status();
                                settings.mailgun_max_age_seconds = static_cast<int64_t>(*age);
                                return absl::OkStatus();
                              }}});
        }},
       {"meta",
        [&](element v, const std::string& p) {
          return ReadObject(v, p,
                            {{"app_secret", secret(settings.meta_app_secret)},
                             {"verify_token", secret(settings.meta_verify_token)}});
        }},
       {"csv", [&](element v, const std::string& p) {
          return ReadCsvMapping(v, p, settings.csv.emplace());
        }}});
}

bool IsPhoneRegion(std::string_view region) {
  return region.size() == 2 && region[0] >= 'A' && region[0] <= 'Z' && region[1] >= 'A' && region[1] <= 'Z';
}

// identity.default_phone_region and sources[i].phone_region. Whether libphonenumber supports the
// region is checked when the normalizer is built (identity::Normalizer::Create), at start-up too.
auto PhoneRegionReader(std::string& region) {
  return [&region](element value, const std::string& path) -> absl::Status {
    if (absl::Status s = ReadString(value, path, region); !s.ok()) return s;
    if (!IsPhoneRegion(region)) {
      return Invalid(
          path, absl::StrCat(Quote(region), " is not a two-letter uppercase region code such as \"US\""));
    }
    return absl::OkStatus();
  };
}

absl::Status ReadSource(element value, const std::string& path, Source& source) {
  bool has_name = false;
  bool has_write_key = false;
  absl::Status status = ReadObject(
      value, path,
      {{"name",
        [&](element v, const std::string& p) {
          has_name = true;
          return ReadNonEmptyString(v, p, source.name);
        }},
       {"write_key",
        [&](element v, const std::string& p) {
          has_write_key = true;
          return ReadNonEmptyString(v, p, source.write_key);
        }},
       {"space",
        [&](element v, const std::string& p) -> absl::Status {
          if (absl::Status s = ReadString(v, p, source.space); !s.ok()) return s;
          if (!IsSlug(source.space, "_-")) {
            return Invalid(
                p, absl::StrCat(Quote(source.space), " must be 1 to 64 characters from a-z, 0-9, _ and -"));
          }
          return absl::OkStatus();
        }},
       {"channel",
        [&](element v, const std::string& p) -> absl::Status {
          if (absl::Status s = ReadString(v, p, source.channel); !s.ok()) return s;
          if (!IsKnownChannel(source.channel)) {
            return Invalid(p, absl::StrCat(Quote(source.channel), " is not one of ", ChannelList()));
          }
          return absl::OkStatus();
        }},
       {"phone_region", PhoneRegionReader(source.phone_region)},
       {"connectors",
        [&](element v, const std::string& p) { return ReadConnectorSettings(v, p, source.connectors); }},
       {"allowed_origins", AllowedOriginsReader(source.allowed_origins)}});
  if (!status.ok()) return status;
  if (!has_write_key) return Invalid(ChildPath(path, "write_key"), "required");
  if (!has_name) source.name = source.channel;
  return absl::OkStatus();
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

// A definition object: "space" is taken out, "name" is required, the rest is kept as JSON for the
// audiences component to validate (it knows the formats; config only carries them).
// Audience bodies (as PUT takes them) have no "name": `keep_name` false leaves it out of `json`.
absl::Status ReadDefinition(element value, const std::string& path, bool keep_name, DefinitionConfig& definition) {
  simdjson::dom::object object;
  if (value.get_object().get(object) != simdjson::SUCCESS) return Expected(path, "an object", value);
  definition.json = "{";
  bool first = true;
  for (simdjson::dom::key_value_pair member : object) {
    const std::string child_path = ChildPath(path, ToAbsl(member.key));
    if (member.key == "space") {
      if (absl::Status status = ReadNonEmptyString(member.value, child_path, definition.space); !status.ok()) {
        return status;
      }
      continue;
    }
    if (member.key == "name") {
      if (absl::Status status = ReadNonEmptyString(member.value, child_path, definition.name); !status.ok()) {
        return status;
      }
      if (!keep_name) continue;
    }
    if (!first) definition.json.push_back(',');
    first = false;
    for (char c : member.key) {
      if (c == '"' || c == '\\' || static_cast<unsigned char>(c) < 0x20) {
        return Invalid(child_path, "unexpected character in a key");
      }
    }
    definition.json.append("\"").append(member.key).append("\":");
    definition.json.append(simdjson::minify(member.value));
  }
  definition.json.push_back('}');
  if (definition.name.empty()) return Invalid(ChildPath(path, "name"), "missing");
  return absl::OkStatus();
}

// tls: both files or no "tls" at all; a half-configured listener is a mistake, not plain HTTP.
absl::Status ReadTls(element value, const std::string& path, TlsOptions& tls) {
  bool has_cert = false;
  bool has_key = false;
  absl::Status status =
      ReadObject(value, path,
                 {{"cert_file",
                   [&](element v, const std::string& p) {
                     has_cert = true;
                     return ReadNonEmptyString(v, p, tls.cert_file);
                   }},
                  {"key_file",
                   [&](element v, const std::string& p) {
                     has_key = true;
                     return ReadNonEmptyString(v, p, tls.key_file);
                   }},
                  {"min_version", [&](element v, const std::string& p) -> absl::Status {
                     if (absl::Status s = ReadString(v, p, tls.min_version); !s.ok()) return s;
                     if (tls.min_version != "1.2" && tls.min_version != "1.3") {
                       return Invalid(p, absl::StrCat(Quote(tls.min_version), " must be \"1.2\" or \"1.3\""));
                     }
                     return absl::OkStatus();
                   }}});
  if (!status.ok()) return status;
  if (!has_cert) return Invalid(ChildPath(path, "cert_file"), "required (tls needs cert_file and key_file)");
  if (!has_key) return Invalid(ChildPath(path, "key_file"), "required (tls needs cert_file and key_file)");
  return absl::OkStatus();
}

absl::Status ReadDocument(element root, Config& config) {
  return ReadObject(
      root, "",
      {{"listen",
        [&](element v, const std::string& p) {
          return ReadObject(v, p,
                            {{"address",
                              [&](element a, const std::string& ap) {
                                return ReadNonEmptyString(a, ap, config.listen.address);
                              }},
                             {"port", [&](element a, const std::string& ap) -> absl::Status {
                                absl::StatusOr<uint64_t> port = ReadUnsigned(a, ap, 0, 65535);
                                if (!port.ok()) return port.status();
                                config.listen.port = static_cast<uint16_t>(*port);
                                return absl::OkStatus();
                              }}});
        }},
       {"data_dir",
        [&](element v, const std::string& p) { return ReadNonEmptyString(v, p, config.data_dir); }},
       {"sources",
        [&](element v, const std::string& p) {
          config.sources.clear();
          return ReadArray(v, p, [&](element item, const std::string& item_path) {
            return ReadSource(item, item_path, config.sources.emplace_back());
          });
        }},
       {"cors",
        [&](element v, const std::string& p) {
          return ReadObject(v, p, {{"api_origins", AllowedOriginsReader(config.cors.api_origins)}});
        }},
       {"read_keys", StringListReader(config.read_keys)},
       {"admin_keys", StringListReader(config.admin_keys)},
       {"retention",
        [&](element v, const std::string& p) {
          return ReadObject(v, p,
                            {{"events_seconds", DurationReader(config.retention.events, 0, 100 * kMaxSeconds)},
                             {"interval_seconds", DurationReader(config.retention.interval, 1, kMaxSeconds)}});
        }},
       {"dedup",
        [&](element v, const std::string& p) {
          return ReadObject(v, p, {{"window_seconds", DurationReader(config.dedup_window, 1, kMaxSeconds)}});
        }},
       {"limits",
        [&](element v, const std::string& p) {
          LimitOptions& limits = config.limits;
          return ReadObject(v, p,
                            {{"max_event_bytes", SizeReader(limits.max_event_bytes)},
                             {"max_request_bytes", SizeReader(limits.max_request_bytes)},
                             {"max_webhook_bytes", SizeReader(limits.max_webhook_bytes)},
                             {"max_header_bytes", SizeReader(limits.max_header_bytes)},
                             {"read_timeout_ms", DurationReader(limits.read_timeout, 1, kMaxMilliseconds)},
                             {"idle_timeout_ms", DurationReader(limits.idle_timeout, 1, kMaxMilliseconds)},
                             {"write_timeout_ms", DurationReader(limits.write_timeout, 1, kMaxMilliseconds)},
                             {"max_connections", SizeReader(limits.max_connections)}});
        }},
       {"group_commit",
        [&](element v, const std::string& p) {
          GroupCommitOptions& group_commit = config.group_commit;
          return ReadObject(v, p,
                            {{"max_batch_events", SizeReader(group_commit.max_batch_events)},
                             {"max_batch_bytes", SizeReader(group_commit.max_batch_bytes)},
                             {"max_delay_us", DurationReader(group_commit.max_delay, 0, kMaxMicroseconds)},
                             {"queue_capacity_events", SizeReader(group_commit.queue_capacity_events)}});
        }},
       {"stream",
        [&](element v, const std::string& p) {
          StreamOptions& stream = config.stream;
          return ReadObject(v, p,
                            {{"max_inflight_frames", SizeReader(stream.max_inflight_frames, 1, 1'000'000)},
                             {"max_inflight_bytes", SizeReader(stream.max_inflight_bytes)},
                             {"idle_timeout_ms", DurationReader(stream.idle_timeout, 2, kMaxMilliseconds)},
                             {"permessage_deflate", [&](element a, const std::string& ap) {
                                return ReadBool(a, ap, stream.permessage_deflate);
                              }}});
        }},
       {"threads",
        [&](element v, const std::string& p) {
          return ReadObject(v, p, {{"io", [&](element a, const std::string& ap) -> absl::Status {
                                      absl::StatusOr<uint64_t> io = ReadUnsigned(a, ap, 1, kMaxIoThreads);
                                      if (!io.ok()) return io.status();
                                      config.threads.io_threads = static_cast<int>(*io);
                                      return absl::OkStatus();
                                    }}});
        }},
       {"store",
        [&](element v, const std::string& p) {
          StoreOptions& store = config.store;
          return ReadObject(v, p,
                            {{"block_cache_mb", MegabytesReader(store.block_cache_bytes)},
                             {"write_buffer_mb", MegabytesReader(store.write_buffer_bytes)},
                             {"sync_writes", [&](element a, const std::string& ap) {
                                return ReadBool(a, ap, store.sync_writes);
                              }}});
        }},
       {"identity",
        [&](element v, const std::string& p) {
          IdentityOptions& identity = config.identity;
          return ReadObject(
              v, p,
              {{"default_phone_region", PhoneRegionReader(identity.default_phone_region)},
               {"rules",
                [&](element a, const std::string& ap) {
                  identity.rules.clear();
                  return ReadArray(a, ap, [&](element item, const std::string& item_path) {
                    return ReadIdentifierRule(item, item_path, identity.rules.emplace_back());
                  });
                }},
               {"mappings",
                [&](element a, const std::string& ap) {
                  identity.identifier_mappings.clear();
                  return ReadArray(a, ap, [&](element item, const std::string& item_path) {
                    return ReadIdentifierMapping(item, item_path,
                                                 identity.identifier_mappings.emplace_back());
                  });
                }},
               {"blocked_values",
                [&](element a, const std::string& ap) {
                  identity.blocked_values.clear();
                  return ReadArray(a, ap, [&](element item, const std::string& item_path) {
                    return ReadString(item, item_path, identity.blocked_values.emplace_back());
                  });
                }},
               {"blocked_patterns",
                [&](element a, const std::string& ap) {
                  identity.blocked_patterns.clear();
                  return ReadArray(a, ap, [&](element item, const std::string& item_path) {
                    return ReadBlockedPattern(item, item_path, identity.blocked_patterns.emplace_back());
                  });
                }},
               {"email_strip_plus_tag",
                [&](element a, const std::string& ap) {
                  return ReadBool(a, ap, identity.email_strip_plus_tag);
                }},
               {"email_strip_gmail_dots",
                [&](element a, const std::string& ap) {
                  return ReadBool(a, ap, identity.email_strip_gmail_dots);
                }},
               {"resolver_batch_events",
                SizeReader(identity.resolver_batch_events, 1, kMaxResolverBatchEvents)},
               {"cache_entries", SizeReader(identity.cache_entries, kMinCacheEntries)},
               {"profile_cache_entries",
                SizeReader(identity.profile_cache_entries, kMinProfileCacheEntries)}});
        }},
       {"computed_traits",
        [&](element v, const std::string& p) {
          config.computed_traits.clear();
          return ReadArray(v, p, [&](element item, const std::string& item_path) {
            return ReadDefinition(item, item_path, /*keep_name=*/true, config.computed_traits.emplace_back());
          });
        }},
       {"audiences",
        [&](element v, const std::string& p) {
          config.audiences.clear();
          return ReadArray(v, p, [&](element item, const std::string& item_path) {
            return ReadDefinition(item, item_path, /*keep_name=*/false, config.audiences.emplace_back());
          });
        }},
       {"audience_sweep",
        [&](element v, const std::string& p) {
          return ReadObject(v, p,
                            {{"interval_ms", DurationReader(config.audience_sweep.interval, 100, kMaxMilliseconds)},
                             {"chunk_profiles", SizeReader(config.audience_sweep.chunk_profiles, 1, 1'000'000)}});
        }},
       {"shutdown_grace_seconds", DurationReader(config.shutdown_grace, 0, kMaxSeconds)},
       {"tls", [&](element v, const std::string& p) { return ReadTls(v, p, config.tls.emplace()); }}});
}

// Every key (sources[].write_key, read_keys[], admin_keys[]) is the secret itself or its digest
// (config/key_digest.h). Keys are compared by digest, so a clash is found whichever way each side
// is written. A key in both read_keys and admin_keys is allowed: it is an admin key.
absl::Status ValidateKeys(const Config& config) {
  struct Key {
    std::string path;
    KeyDigest digest;
    std::string_view role;  // For the message: "a read key".
  };
  std::vector<Key> write_keys, other_keys;
  auto digest_of = [](const std::string& path, const std::string& configured, std::string_view role,
                      std::vector<Key>& into) -> absl::Status {
    absl::StatusOr<KeyDigest> digest = DigestOfConfiguredKey(configured);
    if (!digest.ok()) return Invalid(path, digest.status().message());
    into.push_back({path, *digest, role});
    return absl::OkStatus();
  };
  for (size_t i = 0; i < config.sources.size(); ++i) {
    const std::string& write_key = config.sources[i].write_key;
    std::string path = absl::StrCat(IndexPath("sources", i), ".write_key");
    if (!IsHashedKey(write_key) && write_key.find(':') != std::string::npos) {
      // HTTP Basic auth carries the key as "key:" and splits at the first colon.
      return Invalid(path, "must not contain ':' (clients send it as the HTTP Basic username)");
    }
    if (absl::Status status = digest_of(path, write_key, "a write key", write_keys); !status.ok())
      return status;
  }
  for (const auto* list : {&config.read_keys, &config.admin_keys}) {
    const bool read = list == &config.read_keys;
    for (size_t i = 0; i < list->size(); ++i) {
      if (absl::Status status = digest_of(IndexPath(read ? "read_keys" : "admin_keys", i), (*list)[i],
                                          read ? "a read key" : "an admin key", other_keys);
          !status.ok()) {
        return status;
      }
    }
  }
  for (size_t i = 0; i < write_keys.size(); ++i) {
    for (size_t j = 0; j < i; ++j) {
      if (write_keys[j].digest == write_keys[i].digest) {
        return Invalid(write_keys[i].path, absl::StrCat("same key as ", write_keys[j].path,
                                                        "; each write key identifies one source"));
      }
    }
    for (const Key& other : other_keys) {
      if (other.digest == write_keys[i].digest) {
        return Invalid(
            write_keys[i].path,
            absl::StrCat("same key as ", other.path, "; a write key must not also be ", ToAbsl(other.role)));
      }
    }
  }
  return absl::OkStatus();
}

// Checks that span several keys, once every key has been read. Key values are secrets, so the
// messages say where the clash is rather than repeating the key.
absl::Status ValidateAcrossKeys(const Config& config) {
  if (config.limits.max_event_bytes > config.limits.max_request_bytes) {
    return Invalid("limits.max_event_bytes",
                   absl::StrCat(config.limits.max_event_bytes, " is larger than limits.max_request_bytes (",
                                config.limits.max_request_bytes, "); an event must fit in a request"));
  }
  if (absl::Status status = ValidateKeys(config); !status.ok()) return status;
  // Events record their source's name, not its key: sources of a space that share a name must
  // agree on the phone region, or replaying the log could not tell which one an event came from.
  for (size_t i = 0; i < config.sources.size(); ++i) {
    for (size_t j = 0; j < i; ++j) {
      const Source& a = config.sources[j];
      const Source& b = config.sources[i];
      if (a.space != b.space || a.name != b.name || a.phone_region == b.phone_region) continue;
      auto shown = [](const std::string& region) {
        return region.empty() ? std::string("none") : Quote(region);
      };
      return Invalid(
          absl::StrCat(IndexPath("sources", i), ".phone_region"),
          absl::StrCat(shown(b.phone_region), " differs from ", IndexPath("sources", j), ".phone_region (",
                       shown(a.phone_region), ") of the same source name ", Quote(a.name), " in space ",
                       Quote(a.space), "; give the sources different names"));
    }
  }
  for (const auto* list : {&config.computed_traits, &config.audiences}) {
    const char* key = list == &config.audiences ? "audiences" : "computed_traits";
    for (size_t i = 0; i < list->size(); ++i) {
      const DefinitionConfig& definition = (*list)[i];
      bool known_space = false;
      for (const Source& source : config.sources) known_space |= source.space == definition.space;
      if (!known_space) {
        return Invalid(absl::StrCat(IndexPath(key, i), ".space"),
                       absl::StrCat(Quote(definition.space), " is the space of no source"));
      }
      for (size_t j = 0; j < i; ++j) {
        if ((*list)[j].space == definition.space && (*list)[j].name == definition.name) {
          return Invalid(absl::StrCat(IndexPath(key, i), ".name"),
                         absl::StrCat(Quote(definition.name), " is already defined by ", IndexPath(key, j)));
        }
      }
    }
  }
  const std::vector<IdentifierMappingConfig>& mappings = config.identity.identifier_mappings;
  for (size_t i = 0; i < mappings.size(); ++i) {
    for (size_t j = 0; j < i; ++j) {
      if (mappings[j].type == mappings[i].type && mappings[j].field == mappings[i].field) {
        return Invalid(IndexPath("identity.mappings", i),
                       absl::StrCat("same type and field as ", IndexPath("identity.mappings", j)));
      }
    }
  }
  const std::vector<IdentifierRule>& rules = config.identity.rules;
  for (size_t i = 0; i < rules.size(); ++i) {
    for (size_t j = 0; j < i; ++j) {
      if (rules[j].type == rules[i].type) {
        return Invalid(
            absl::StrCat(IndexPath("identity.rules", i), ".type"),
            absl::StrCat(Quote(rules[i].type), " is already used by ", IndexPath("identity.rules", j)));
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<Config> ParseConfig(std::string_view json) {
  // The DOM parser needs padding after the text; padded_string provides it with one copy, which
  // is nothing for a file read once at start-up.
  simdjson::padded_string padded(json.data(), json.size());
  simdjson::dom::parser parser;
  element root;
  if (simdjson::error_code error = parser.parse(padded).get(root); error != simdjson::SUCCESS) {
    return absl::InvalidArgumentError(absl::StrCat("malformed JSON: ", simdjson::error_message(error)));
  }
  Config config;
  if (absl::Status status = ReadDocument(root, config); !status.ok()) return status;
  if (absl::Status status = ValidateAcrossKeys(config); !status.ok()) return status;
  return config;
}

absl::StatusOr<Config> LoadConfigFile(const std::string& path) {
  absl::StatusOr<std::string> contents = internal::ReadWholeFile(path, "config file");
  if (!contents.ok()) return contents.status();
  absl::StatusOr<Config> config = ParseConfig(*contents);
  if (!config.ok()) {
    return absl::Status(config.status().code(), absl::StrCat(path, ": ", config.status().message()));
  }
  return config;
}

}  // namespace tessera::config
