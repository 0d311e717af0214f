#include "base/json_writer.h"

#include <array>
#include <charconv>
#include <cmath>
#include <cstring>

#include "base/utf8.h"

namespace tessera::base {
namespace {

constexpr char kHexDigits[] = "0123456789abcdef";
constexpr std::string_view kReplacementCharacter = "\xEF\xBF\xBD";  // U+FFFD in UTF-8.

// True for bytes that are copied as they are: printable ASCII other than '"' and '\\'.
constexpr std::array<bool, 256> kCopyAsIs = [] {
  std::array<bool, 256> table{};
  for (int c = 0x20; c < 0x80; ++c) table[c] = c != '"' && c != '\\';
  return table;
}();

constexpr uint64_t kEveryByte = 0x0101010101010101ULL;
constexpr uint64_t kHighBits = 0x8080808080808080ULL;

constexpr uint64_t HasZeroByte(uint64_t v) { return (v - kEveryByte) & ~v & kHighBits; }

// Whether any of the eight bytes in `word` needs more than a copy: a control character, '"', '\\'
// or a non-ASCII byte. Checking a word at a time keeps the common all-ASCII string cheap.
constexpr bool WordNeedsAttention(uint64_t word) {
  const uint64_t control = (word - kEveryByte * 0x20) & ~word & kHighBits;
  const uint64_t quote = HasZeroByte(word ^ (kEveryByte * '"'));
  const uint64_t backslash = HasZeroByte(word ^ (kEveryByte * '\\'));
  return (control | quote | backslash | (word & kHighBits)) != 0;
}

void AppendEscapedAscii(std::string& out, unsigned char c) {
  switch (c) {
    case '"':
      out.append("\\\"");
      return;
    case '\\':
      out.append("\\\\");
      return;
    case '\b':
      out.append("\\b");
      return;
    case '\f':
      out.append("\\f");
      return;
    case '\n':
      out.append("\\n");
      return;
    case '\r':
      out.append("\\r");
      return;
    case '\t':
      out.append("\\t");
      return;
    default: {
      const char escape[6] = {'\\', 'u', '0', '0', kHexDigits[c >> 4], kHexDigits[c & 0xF]};
      out.append(escape, sizeof(escape));
    }
  }
}

}  // namespace

void AppendJsonString(std::string& out, std::string_view value) {
  const char* data = value.data();
  const size_t size = value.size();
  out.reserve(out.size() + size + 2);
  out.push_back('"');
  size_t i = 0;
  while (i < size) {
    const size_t run_start = i;
    while (i + 8 <= size) {
      uint64_t word;
      std::memcpy(&word, data + i, sizeof(word));
      if (WordNeedsAttention(word)) break;
      i += 8;
    }
    while (i < size && kCopyAsIs[static_cast<unsigned char>(data[i])]) ++i;
    out.append(data + run_start, i - run_start);
    if (i == size) break;

    const auto c = static_cast<unsigned char>(data[i]);
    if (c < 0x80) {
      AppendEscapedAscii(out, c);
      ++i;
      continue;
    }
    const auto* bytes = reinterpret_cast<const unsigned char*>(data + i);
    size_t bad_length = 0;
    const size_t length = WellFormedUtf8SequenceLength(bytes, size - i, &bad_length);
    if (length == 0) {
      out.append(kReplacementCharacter);
      i += bad_length;
    } else if (length == 3 && c == 0xE2 && bytes[1] == 0x80 && (bytes[2] == 0xA8 || bytes[2] == 0xA9)) {
      // U+2028 / U+2029 are valid JSON but end a line in JavaScript source.
      out.append(bytes[2] == 0xA8 ? "\\u2028" : "\\u2029");
      i += 3;
    } else {
      out.append(data + i, length);
      i += length;
    }
  }
  out.push_back('"');
}

void JsonWriter::BeforeValue() {
  if (need_comma_) out_.push_back(',');
}

JsonWriter& JsonWriter::BeginObject() {
  BeforeValue();
  out_.push_back('{');
  need_comma_ = false;
  return *this;
}

JsonWriter& JsonWriter::EndObject() {
  out_.push_back('}');
  need_comma_ = true;
  return *this;
}

JsonWriter& JsonWriter::BeginArray() {
  BeforeValue();
  out_.push_back('[');
  need_comma_ = false;
  return *this;
}

JsonWriter& JsonWriter::EndArray() {
  out_.push_back(']');
  need_comma_ = true;
  return *this;
}

JsonWriter& JsonWriter::Key(std::string_view key) {
  if (need_comma_) out_.push_back(',');
  AppendJsonString(out_, key);
  out_.push_back(':');
  need_comma_ = false;
  return *this;
}

JsonWriter& JsonWriter::String(std::string_view value) {
  BeforeValue();
  AppendJsonString(out_, value);
  need_comma_ = true;
  return *this;
}

JsonWriter& JsonWriter::Int(int64_t value) {
  BeforeValue();
  char buffer[24];
  const auto result = std::to_chars(buffer, buffer + sizeof(buffer), value);
  out_.append(buffer, result.ptr);
  need_comma_ = true;
  return *this;
}

JsonWriter& JsonWriter::Uint(uint64_t value) {
  BeforeValue();
  char buffer[24];
  const auto result = std::to_chars(buffer, buffer + sizeof(buffer), value);
  out_.append(buffer, result.ptr);
  need_comma_ = true;
  return *this;
}

JsonWriter& JsonWriter::Double(double value) {
  if (!std::isfinite(value)) return Null();  // JSON has no NaN or infinities.
  BeforeValue();
  char buffer[32];
  // Shortest text that reads back as the same double.
  const auto result = std::to_chars(buffer, buffer + sizeof(buffer), value);
  out_.append(buffer, result.ptr);
  need_comma_ = true;
  return *this;
}

JsonWriter& JsonWriter::Bool(bool value) {
  BeforeValue();
  out_.append(value ? "true" : "false");
  need_comma_ = true;
  return *this;
}

JsonWriter& JsonWriter::Null() {
  BeforeValue();
  out_.append("null");
  need_comma_ = true;
  return *this;
}

JsonWriter& JsonWriter::Raw(std::string_view json) {
  BeforeValue();
  out_.append(json);
  need_comma_ = true;
  return *this;
}

}  // namespace tessera::base
