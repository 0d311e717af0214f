#pragma once

// JsonWriter appends JSON text to a string. It is the one writer behind every JSON document Tessera
// produces (HTTP responses, stored events, profiles), so escaping is done, and tested, once:
// strings are escaped per RFC 8259 (quote, backslash and every control character; "\u2028" and
// "\u2029" too, so output is safe to embed in JavaScript), invalid UTF-8 is replaced by U+FFFD.
//
// The writer does not check structure (matching braces); callers write well-formed sequences.
// Not thread-safe; cheap to create.

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace tessera::base {

class JsonWriter {
 public:
  explicit JsonWriter(std::string& out) : out_(out) {}

  JsonWriter& BeginObject();
  JsonWriter& EndObject();
  JsonWriter& BeginArray();
  JsonWriter& EndArray();
  // Writes `"key":` (with a comma first when needed).
  JsonWriter& Key(std::string_view key);
  JsonWriter& String(std::string_view value);
  JsonWriter& Int(int64_t value);
  JsonWriter& Uint(uint64_t value);
  JsonWriter& Double(double value);  // Non-finite values are written as null.
  JsonWriter& Bool(bool value);
  JsonWriter& Null();
  // Writes already-serialized, valid JSON as one value (e.g. a stored traits object).
  JsonWriter& Raw(std::string_view json);

 private:
  void BeforeValue();

  std::string& out_;
  // True when the next value or key at the current level needs a leading comma.
  bool need_comma_ = false;
};

// Appends `value` as a JSON string literal (with quotes) to `out`.
void AppendJsonString(std::string& out, std::string_view value);

}  // namespace tessera::base
