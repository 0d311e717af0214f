// Field validation for the Segment parser (ingest/internal/segment_fields.h): the JSON text and
// error-message helpers, and the readers of typed members — strings, ids (a string or an integer),
// ISO-8601 timestamps, the event type — each naming the field of its error.

#include "ingest/internal/segment_fields.h"

#include <charconv>
#include <utility>

#include "base/json_writer.h"
#include "base/time.h"

namespace tessera::ingest::internal {
namespace {

// How much of a bad value an error message quotes.
constexpr size_t kMaxQuotedValue = 64;

}  // namespace

std::string_view DescribeType(od::json_type type) {
  switch (type) {
    case od::json_type::object:
      return "an object";
    case od::json_type::array:
      return "an array";
    case od::json_type::string:
      return "a string";
    case od::json_type::number:
      return "a number";
    case od::json_type::boolean:
      return "a boolean";
    case od::json_type::null:
      return "null";
  }
  return "an unknown value";
}

bool IsJsonInteger(std::string_view token) {
  if (!token.empty() && token.front() == '-') token.remove_prefix(1);
  if (token.empty()) return false;
  if (token.front() == '0') return token.size() == 1;
  for (char c : token) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

std::string JoinPath(std::string_view prefix, std::string_view field) {
  std::string path;
  path.reserve(prefix.size() + 1 + field.size());
  path.append(prefix);
  if (!prefix.empty() && !field.empty()) path.push_back('.');
  path.append(field);
  return path;
}

FieldError MakeError(std::string_view code, std::string field, std::string_view detail) {
  FieldError error;
  error.code = code;
  if (field.empty()) {
    error.message = detail;
  } else {
    error.message.reserve(field.size() + 2 + detail.size());
    error.message.append(field).append(": ").append(detail);
  }
  error.field = std::move(field);
  return error;
}

std::string InvalidJsonDetail(simdjson::error_code error) {
  std::string detail = "not valid JSON (";
  detail.append(simdjson::error_message(error));
  detail.push_back(')');
  return detail;
}

std::string QuoteForMessage(std::string_view value) {
  std::string quoted;
  if (value.size() > kMaxQuotedValue) {
    base::AppendJsonString(quoted, value.substr(0, kMaxQuotedValue));
    quoted.append("...");
  } else {
    base::AppendJsonString(quoted, value);
  }
  return quoted;
}

bool IsValidNull(od::value& value) {
  bool is_null = false;
  return value.is_null().get(is_null) == simdjson::SUCCESS && is_null;
}

bool ReadString(od::value value, std::string_view prefix, std::string_view name, std::string& out,
                FieldError& error) {
  od::json_type type;
  if (auto e = value.type().get(type)) {
    error = MakeError(error_code::kInvalidJson, JoinPath(prefix, name), InvalidJsonDetail(e));
    return false;
  }
  if (type == od::json_type::string) {
    std::string_view text;
    if (auto e = value.get_string().get(text)) {
      error = MakeError(error_code::kInvalidJson, JoinPath(prefix, name), InvalidJsonDetail(e));
      return false;
    }
    out.assign(text);
    return true;
  }
  if (type == od::json_type::null) {
    if (!IsValidNull(value)) {
      error = MakeError(error_code::kInvalidJson, JoinPath(prefix, name), "not valid JSON (expected null)");
      return false;
    }
    out.clear();
    return true;
  }
  std::string detail = "expected a string, got ";
  detail.append(DescribeType(type));
  error = MakeError(error_code::kInvalidType, JoinPath(prefix, name), detail);
  return false;
}

bool ReadId(od::value value, std::string_view prefix, std::string_view name, std::string& out,
            FieldError& error) {
  od::json_type type;
  if (auto e = value.type().get(type)) {
    error = MakeError(error_code::kInvalidJson, JoinPath(prefix, name), InvalidJsonDetail(e));
    return false;
  }
  if (type == od::json_type::string || type == od::json_type::null)
    return ReadString(value, prefix, name, out, error);
  std::string detail = "expected a string or integer, got ";
  if (type == od::json_type::number) {
    const std::string_view token = TrimJsonWhitespace(value.raw_json_token());
    od::number number;
    if (value.get_number().get(number) == simdjson::SUCCESS) {
      char buffer[24];
      std::to_chars_result converted{};
      if (number.is_int64()) {
        converted = std::to_chars(buffer, buffer + sizeof(buffer), number.get_int64());
      } else if (number.is_uint64()) {
        converted = std::to_chars(buffer, buffer + sizeof(buffer), number.get_uint64());
      } else {
        detail.append("a non-integer number ");
        detail.append(QuoteForMessage(token));
        error = MakeError(error_code::kInvalidType, JoinPath(prefix, name), detail);
        return false;
      }
      out.assign(buffer, converted.ptr);
      return true;
    }
    if (IsJsonInteger(token)) {  // Beyond 64 bits: the digits are the id.
      out.assign(token);
      return true;
    }
    error = MakeError(error_code::kInvalidJson, JoinPath(prefix, name),
                      "invalid number " + QuoteForMessage(token));
    return false;
  }
  detail.append(DescribeType(type));
  error = MakeError(error_code::kInvalidType, JoinPath(prefix, name), detail);
  return false;
}

bool ReadTimestamp(od::value value, std::string_view prefix, std::string_view name,
                   std::optional<Timestamp>& out, FieldError& error) {
  od::json_type type;
  if (auto e = value.type().get(type)) {
    error = MakeError(error_code::kInvalidJson, JoinPath(prefix, name), InvalidJsonDetail(e));
    return false;
  }
  if (type != od::json_type::string) {
    std::string detail = "expected an ISO-8601 string such as \"2015-02-23T22:28:55.111Z\", got ";
    detail.append(DescribeType(type));
    error = MakeError(error_code::kInvalidTimestamp, JoinPath(prefix, name), detail);
    return false;
  }
  std::string_view text;
  if (auto e = value.get_string().get(text)) {
    error = MakeError(error_code::kInvalidJson, JoinPath(prefix, name), InvalidJsonDetail(e));
    return false;
  }
  out = base::ParseIso8601(text);
  if (!out) {
    std::string detail = "expected an ISO-8601 date-time such as \"2015-02-23T22:28:55.111Z\", got ";
    detail.append(QuoteForMessage(text));
    error = MakeError(error_code::kInvalidTimestamp, JoinPath(prefix, name), detail);
    return false;
  }
  return true;
}

std::string_view FindTopLevelString(od::document& doc, std::string_view name) {
  if (!doc.is_alive()) return {};  // simdjson abandons a document after a structural error.
  doc.rewind();
  od::object object;
  if (doc.get_object().get(object) != simdjson::SUCCESS) return {};
  for (auto field : object) {
    std::string_view key;
    if (field.unescaped_key().get(key) != simdjson::SUCCESS) return {};
    if (key != name) continue;
    std::string_view text;
    if (field.value().get_string().get(text) != simdjson::SUCCESS) return {};
    return text;
  }
  return {};
}

bool ReadEventType(od::value value, std::string_view prefix, std::optional<EventType>& out,
                   FieldError& error) {
  constexpr std::string_view kExpected = "one of track, identify, page, screen, group, alias";
  od::json_type type;
  if (auto e = value.type().get(type)) {
    error = MakeError(error_code::kInvalidJson, JoinPath(prefix, "type"), InvalidJsonDetail(e));
    return false;
  }
  if (type != od::json_type::string) {
    std::string detail = "expected a string (";
    detail.append(kExpected).append("), got ").append(DescribeType(type));
    error = MakeError(error_code::kInvalidType, JoinPath(prefix, "type"), detail);
    return false;
  }
  std::string_view text;
  if (auto e = value.get_string().get(text)) {
    error = MakeError(error_code::kInvalidJson, JoinPath(prefix, "type"), InvalidJsonDetail(e));
    return false;
  }
  out = ParseEventType(text);
  if (!out) {
    std::string detail = "unknown event type ";
    detail.append(QuoteForMessage(text)).append("; expected ").append(kExpected);
    error = MakeError(error_code::kUnknownType, JoinPath(prefix, "type"), detail);
    return false;
  }
  return true;
}

}  // namespace tessera::ingest::internal
