#include "base/utf8.h"

#include <cstdint>
#include <cstring>

namespace tessera::base {
namespace {

constexpr std::string_view kReplacementCharacter = "\xEF\xBF\xBD";  // U+FFFD in UTF-8.
constexpr uint64_t kHighBits = 0x8080808080808080ULL;

// Index of the first byte >= 0x80 in `text` at or after `from`, or text.size().
size_t SkipAscii(std::string_view text, size_t from) {
  size_t i = from;
  while (i + 8 <= text.size()) {
    uint64_t word;
    std::memcpy(&word, text.data() + i, sizeof(word));
    if ((word & kHighBits) != 0) break;
    i += 8;
  }
  while (i < text.size() && static_cast<unsigned char>(text[i]) < 0x80) ++i;
  return i;
}

}  // namespace

size_t WellFormedUtf8SequenceLength(const unsigned char* s, size_t available, size_t* bad_length) {
  const unsigned lead = s[0];
  size_t continuation_bytes;
  unsigned second_min = 0x80;
  unsigned second_max = 0xBF;
  if (lead >= 0xC2 && lead <= 0xDF) {
    continuation_bytes = 1;
  } else if (lead == 0xE0) {
    continuation_bytes = 2;
    second_min = 0xA0;  // Below is an overlong encoding.
  } else if ((lead >= 0xE1 && lead <= 0xEC) || lead == 0xEE || lead == 0xEF) {
    continuation_bytes = 2;
  } else if (lead == 0xED) {
    continuation_bytes = 2;
    second_max = 0x9F;  // Above are the UTF-16 surrogates.
  } else if (lead == 0xF0) {
    continuation_bytes = 3;
    second_min = 0x90;  // Below is an overlong encoding.
  } else if (lead >= 0xF1 && lead <= 0xF3) {
    continuation_bytes = 3;
  } else if (lead == 0xF4) {
    continuation_bytes = 3;
    second_max = 0x8F;  // Above is beyond U+10FFFF.
  } else {
    *bad_length = 1;  // A stray continuation byte, C0/C1 (always overlong) or F5..FF.
    return 0;
  }
  for (size_t k = 1; k <= continuation_bytes; ++k) {
    if (k >= available) {
      *bad_length = k;
      return 0;
    }
    const unsigned byte = s[k];
    const unsigned min = k == 1 ? second_min : 0x80;
    const unsigned max = k == 1 ? second_max : 0xBF;
    if (byte < min || byte > max) {
      *bad_length = k;
      return 0;
    }
  }
  return continuation_bytes + 1;
}

bool IsWellFormedUtf8(std::string_view text) {
  const auto* bytes = reinterpret_cast<const unsigned char*>(text.data());
  for (size_t i = SkipAscii(text, 0); i < text.size(); i = SkipAscii(text, i)) {
    size_t bad_length = 0;
    const size_t length = WellFormedUtf8SequenceLength(bytes + i, text.size() - i, &bad_length);
    if (length == 0) return false;
    i += length;
  }
  return true;
}

void AppendWellFormedUtf8(std::string& out, std::string_view text) {
  const auto* bytes = reinterpret_cast<const unsigned char*>(text.data());
  size_t i = 0;
  while (i < text.size()) {
    const size_t ascii_end = SkipAscii(text, i);
    out.append(text.data() + i, ascii_end - i);
    i = ascii_end;
    if (i == text.size()) break;
    size_t bad_length = 0;
    const size_t length = WellFormedUtf8SequenceLength(bytes + i, text.size() - i, &bad_length);
    if (length == 0) {
      out.append(kReplacementCharacter);
      i += bad_length;
    } else {
      out.append(text.data() + i, length);
      i += length;
    }
  }
}

}  // namespace tessera::base
