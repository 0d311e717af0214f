// The helpers every definition parser shares (audiences/internal/parsing.h): key paths, error
// messages, reading a JSON object's members, strings and names.

#include "audiences/internal/parsing.h"

#include <algorithm>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/json_writer.h"
#include "simdjson.h"

namespace tessera::audiences::internal {
namespace {

constexpr size_t kMaxNameLength = 64;
constexpr size_t kMaxShownChars = 64;

}  // namespace

absl::string_view ToAbsl(std::string_view text) { return absl::string_view(text.data(), text.size()); }

std::string Quote(std::string_view text) {
  std::string quoted;
  base::AppendJsonString(quoted, text.substr(0, kMaxShownChars));
  if (text.size() > kMaxShownChars) quoted += "...";
  return quoted;
}

std::string Describe(element value) {
  switch (value.type()) {
    case element_type::STRING:
      return absl::StrCat("the string ", Quote(value.get_string().value_unsafe()));
    case element_type::INT64:
    case element_type::UINT64:
    case element_type::DOUBLE:
      return absl::StrCat("the number ", simdjson::to_string(value));
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

bool IsNumber(element value) {
  const element_type type = value.type();
  return type == element_type::INT64 || type == element_type::UINT64 || type == element_type::DOUBLE;
}

std::string ChildPath(std::string_view parent, std::string_view key) {
  if (parent.empty()) return std::string(key);
  return absl::StrCat(ToAbsl(parent), ".", ToAbsl(key));
}

std::string IndexPath(std::string_view parent, size_t index) {
  return absl::StrCat(ToAbsl(parent), "[", index, "]");
}

absl::Status Invalid(std::string_view path, std::string_view reason) {
  if (path.empty()) return absl::InvalidArgumentError(ToAbsl(reason));
  return absl::InvalidArgumentError(absl::StrCat(ToAbsl(path), ": ", ToAbsl(reason)));
}

absl::Status Expected(std::string_view path, std::string_view what, element got) {
  return Invalid(path, absl::StrCat("expected ", ToAbsl(what), ", got ", Describe(got)));
}

absl::StatusOr<Members> Members::Read(element value, std::string_view path, std::string_view what,
                                      std::initializer_list<std::string_view> known) {
  dom::object object;
  if (value.get_object().get(object) != simdjson::SUCCESS) return Expected(path, what, value);
  Members members;
  for (dom::key_value_pair member : object) {
    if (std::find(known.begin(), known.end(), member.key) == known.end()) {
      return Invalid(
          ChildPath(path, member.key),
          absl::StrCat(
              "unknown member (expected one of ",
              absl::StrJoin(known, ", ", [](std::string* out, std::string_view key) { out->append(key); }),
              ")"));
    }
    if (!members.values_.emplace(member.key, member.value).second) {
      return Invalid(ChildPath(path, member.key), "duplicate member");
    }
  }
  return members;
}

absl::StatusOr<std::string> ReadString(element value, std::string_view path, bool allow_empty) {
  std::string_view text;
  if (value.get_string().get(text) != simdjson::SUCCESS || (!allow_empty && text.empty())) {
    return Expected(path, allow_empty ? "a string" : "a non-empty string", value);
  }
  return std::string(text);
}

bool IsValidName(std::string_view name, bool allow_dash) {
  if (name.empty() || name.size() > kMaxNameLength) return false;
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
                    (allow_dash && c == '-');
    if (!ok) return false;
  }
  return true;
}

bool IsDottedPath(std::string_view path) {
  if (path.empty() || path.front() == '.' || path.back() == '.') return false;
  return path.find("..") == std::string_view::npos;
}

// Minified text of a JSON document that simdjson has already accepted, keeping the author's tokens.
std::string Minified(std::string_view json) {
  std::string out(json.size(), '\0');
  size_t length = 0;
  if (simdjson::minify(json.data(), json.size(), out.data(), length) != simdjson::SUCCESS)
    return std::string(json);
  out.resize(length);
  return out;
}

}  // namespace tessera::audiences::internal
