// The JSON-reading helpers of config/ (config/internal/json_reader.h): key paths, error
// messages, and readers for objects, arrays, strings, numbers, sizes and lists.

#include "config/internal/json_reader.h"

#include <limits>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "config/allowed_origin.h"
#include "simdjson.h"

namespace tessera::config::internal {
namespace {

// Megabyte counts are converted to bytes; this keeps the product inside size_t.
constexpr uint64_t kMaxMegabytes = std::numeric_limits<size_t>::max() >> 20;

constexpr size_t kMaxShownChars = 64;

std::string DescribeRange(uint64_t min, uint64_t max) {
  if (max == kUnbounded && min == 0) return "a non-negative integer";
  if (max == kUnbounded && min == 1) return "a positive integer";
  if (max == kUnbounded) return absl::StrCat("an integer of at least ", min);
  return absl::StrCat("an integer from ", min, " to ", max);
}

}  // namespace

absl::string_view ToAbsl(std::string_view text) { return absl::string_view(text.data(), text.size()); }

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

std::string Quote(absl::string_view text) {
  std::string quoted = absl::StrCat("\"", absl::CHexEscape(text.substr(0, kMaxShownChars)), "\"");
  if (text.size() > kMaxShownChars) quoted += "...";
  return quoted;
}

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

ValueReader SizeReader(size_t& out, uint64_t min, uint64_t max) {
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

ValueReader StringListReader(std::vector<std::string>& out) {
  return [&out](element value, const std::string& path) -> absl::Status {
    out.clear();
    return ReadArray(value, path, [&out](element item, const std::string& item_path) {
      return ReadNonEmptyString(item, item_path, out.emplace_back());
    });
  };
}

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

bool IsSlug(std::string_view text, std::string_view extra) {
  if (text.empty() || text.size() > 64) return false;
  for (char c : text) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || extra.find(c) != std::string_view::npos;
    if (!ok) return false;
  }
  return true;
}

}  // namespace tessera::config::internal
