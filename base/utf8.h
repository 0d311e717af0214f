#pragma once

// Well-formed UTF-8 (Unicode table 3-7: no overlongs, no surrogates, nothing above U+10FFFF): the
// one check and repair that JsonWriter applies to every string it writes, for code that stores text
// in other encodings and must store what a JSON record would have held.

#include <cstddef>
#include <string>
#include <string_view>

namespace tessera::base {

// Length (2..4) of the well-formed sequence starting at `s`, whose first byte is >= 0x80, with
// `available` bytes readable from `s`. Returns 0 when it is ill-formed and sets `*bad_length` to
// the length of its maximal ill-formed prefix (at least 1): what one U+FFFD replaces, as the
// Unicode standard recommends.
size_t WellFormedUtf8SequenceLength(const unsigned char* s, size_t available, size_t* bad_length);

// True when `text` is well-formed UTF-8 (ASCII text is checked eight bytes at a time).
bool IsWellFormedUtf8(std::string_view text);

// Appends `text` with each maximal ill-formed subsequence replaced by U+FFFD: the characters
// JsonWriter would write for it.
void AppendWellFormedUtf8(std::string& out, std::string_view text);

}  // namespace tessera::base
