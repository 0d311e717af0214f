#include "base/json_writer.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <string>

#include "tests/base/random_bytes.h"

namespace tessera::base {
namespace {

std::string Quoted(std::string_view value) {
  std::string out;
  AppendJsonString(out, value);
  return out;
}

// Shows bytes readably in failure messages.
std::string Hex(std::string_view bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 0xF]);
    out.push_back(' ');
  }
  return out;
}

TEST(JsonWriterTest, WritesNestedStructuresWithCommasInTheRightPlaces) {
  std::string out;
  JsonWriter writer(out);
  writer.BeginObject();
  writer.Key("a").Int(1);
  writer.Key("b")
      .BeginArray()
      .Int(1)
      .Uint(2)
      .BeginObject()
      .Key("c")
      .Null()
      .EndObject()
      .BeginArray()
      .EndArray();
  writer.EndArray();
  writer.Key("d").BeginObject().EndObject();
  writer.Key("e").Bool(true).Key("f").Bool(false);
  writer.Key("g").Raw(R"({"x":[1,2]})");
  writer.Key("h").String("text");
  writer.EndObject();
  EXPECT_EQ(out, R"({"a":1,"b":[1,2,{"c":null},[]],"d":{},"e":true,"f":false,"g":{"x":[1,2]},"h":"text"})");
}

TEST(JsonWriterTest, TopLevelArrayOfValues) {
  std::string out;
  JsonWriter(out).BeginArray().String("a").Raw("7").Null().EndArray();
  EXPECT_EQ(out, R"(["a",7,null])");
}

TEST(JsonWriterTest, AppendsToExistingText) {
  std::string out = "prefix:";
  JsonWriter(out).BeginObject().Key("k").Int(-5).EndObject();
  EXPECT_EQ(out, R"(prefix:{"k":-5})");
}

TEST(JsonWriterTest, KeysAreEscapedLikeStrings) {
  std::string out;
  JsonWriter(out).BeginObject().Key("a\"b\n").Int(0).EndObject();
  EXPECT_EQ(out, R"({"a\"b\n":0})");
}

TEST(JsonWriterTest, IntegersAtTheirLimits) {
  std::string out;
  JsonWriter(out)
      .BeginArray()
      .Int(std::numeric_limits<int64_t>::min())
      .Int(std::numeric_limits<int64_t>::max())
      .Uint(std::numeric_limits<uint64_t>::max())
      .Int(0)
      .EndArray();
  EXPECT_EQ(out, "[-9223372036854775808,9223372036854775807,18446744073709551615,0]");
}

TEST(JsonWriterTest, DoublesAreShortestRoundTripAndNonFiniteBecomesNull) {
  std::string out;
  JsonWriter(out)
      .BeginArray()
      .Double(0.1)
      .Double(1.0)
      .Double(-2.5)
      .Double(1e300)
      .Double(5e-324)
      .Double(std::numeric_limits<double>::quiet_NaN())
      .Double(std::numeric_limits<double>::infinity())
      .Double(-std::numeric_limits<double>::infinity())
      .EndArray();
  EXPECT_EQ(out, "[0.1,1,-2.5,1e+300,5e-324,null,null,null]");
}

TEST(AppendJsonStringTest, PlainAsciiIsCopied) {
  EXPECT_EQ(Quoted(""), R"("")");
  EXPECT_EQ(Quoted("hello"), R"("hello")");
  const std::string long_ascii =
      "The quick brown fox jumps over the lazy dog 0123456789 ~!@#$%^&*()_+{}|:<>?/.,';][=-`";
  EXPECT_EQ(Quoted(long_ascii), "\"" + long_ascii + "\"");
}

TEST(AppendJsonStringTest, QuoteAndBackslashAreEscapedAnywhereInLongStrings) {
  EXPECT_EQ(Quoted(R"(say "hi")"), R"("say \"hi\"")");
  EXPECT_EQ(Quoted(R"(C:\path)"), R"("C:\\path")");
  // Positions around the 8-byte word boundaries of the fast path.
  for (size_t position = 0; position < 20; ++position) {
    std::string input(20, 'x');
    input[position] = '"';
    std::string expected = "\"" + input.substr(0, position) + "\\\"" + input.substr(position + 1) + "\"";
    EXPECT_EQ(Quoted(input), expected) << "quote at position " << position;
  }
}

TEST(AppendJsonStringTest, EveryControlCharacterIsEscaped) {
  for (int c = 0; c < 0x20; ++c) {
    std::string expected;
    switch (c) {
      case '\b':
        expected = R"(\b)";
        break;
      case '\f':
        expected = R"(\f)";
        break;
      case '\n':
        expected = R"(\n)";
        break;
      case '\r':
        expected = R"(\r)";
        break;
      case '\t':
        expected = R"(\t)";
        break;
      default: {
        char buffer[8];
        std::snprintf(buffer, sizeof(buffer), "\\u%04x", c);
        expected = buffer;
      }
    }
    const std::string input = "ab" + std::string(1, static_cast<char>(c)) + "cdefghijk";
    EXPECT_EQ(Quoted(input), "\"ab" + expected + "cdefghijk\"") << "control character 0x" << std::hex << c;
  }
  EXPECT_EQ(Quoted(std::string_view("\0", 1)), R"("\u0000")") << "NUL must not end the string";
  EXPECT_EQ(Quoted("\x7f"), "\"\x7f\"") << "DEL is not a control character in JSON";
}

TEST(AppendJsonStringTest, LineAndParagraphSeparatorsAreEscapedForJavaScript) {
  EXPECT_EQ(Quoted("a\xE2\x80\xA8"
                   "b"),
            R"("a\u2028b")");
  EXPECT_EQ(Quoted("a\xE2\x80\xA9"
                   "b"),
            R"("a\u2029b")");
  EXPECT_EQ(Quoted("\xE2\x80\xA7"), "\"\xE2\x80\xA7\"") << "U+2027 is an ordinary character";
}

TEST(AppendJsonStringTest, ValidMultibyteUtf8IsCopied) {
  const std::string text =
      "caf\xC3\xA9 \xE4\xB8\xAD\xE6\x96\x87 \xF0\x9F\x98\x80 \xF4\x8F\xBF\xBF \xEF\xBF\xBD";
  EXPECT_EQ(Quoted(text), "\"" + text + "\"") << Hex(text);
}

TEST(AppendJsonStringTest, EachInvalidUtf8SequenceBecomesOneReplacementCharacter) {
  const std::string fffd = "\xEF\xBF\xBD";
  struct Case {
    std::string input;
    std::string expected;  // Without quotes.
    const char* what;
  };
  const Case cases[] = {
      {"\x80", fffd, "lone continuation byte"},
      {"a\xBF"
       "b",
       "a" + fffd + "b", "continuation byte between ASCII"},
      {"\xC0\xAF", fffd + fffd, "overlong 2-byte '/': C0 is never valid"},
      {"\xC1\xBF", fffd + fffd, "overlong 2-byte: C1 is never valid"},
      {"\xE0\x80\xAF", fffd + fffd + fffd, "overlong 3-byte"},
      {"\xF0\x80\x80\xAF", fffd + fffd + fffd + fffd, "overlong 4-byte"},
      {"\xED\xA0\x80", fffd + fffd + fffd, "UTF-16 high surrogate D800"},
      {"\xED\xBF\xBF", fffd + fffd + fffd, "UTF-16 low surrogate DFFF"},
      {"\xF4\x90\x80\x80", fffd + fffd + fffd + fffd, "above U+10FFFF"},
      {"\xF5\x80\x80\x80", fffd + fffd + fffd + fffd, "F5 lead byte"},
      {"\xFF", fffd, "FF byte"},
      {"\xFE", fffd, "FE byte"},
      {"\xC3", fffd, "truncated 2-byte at end"},
      {"\xE2\x82", fffd, "truncated 3-byte at end: one replacement for the maximal prefix"},
      {"\xF0\x9F\x98", fffd, "truncated 4-byte at end"},
      {"\xE2\x82"
       "A",
       fffd + "A", "truncated 3-byte before ASCII"},
      {"\xF0\x9F"
       "\xC3\xA9",
       fffd + "\xC3\xA9", "truncated 4-byte before a valid 2-byte"},
      {"\xC3\xC3\xA9", fffd + "\xC3\xA9", "lead byte followed by another lead"},
      {"ok\xE2\x82\xACok", "ok\xE2\x82\xACok", "valid euro sign for contrast"},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(Quoted(c.input), "\"" + c.expected + "\"") << c.what << " (input " << Hex(c.input) << ")";
  }
}

// An independent statement of what the escaping must produce: decode code points with a
// different method (range arithmetic rather than per-lead-byte tables) and re-encode.
std::string ReferenceQuote(std::string_view in) {
  const std::string fffd = "\xEF\xBF\xBD";
  std::string out = "\"";
  size_t i = 0;
  while (i < in.size()) {
    const auto c = static_cast<unsigned char>(in[i]);
    if (c < 0x80) {
      if (c == '"') {
        out += "\\\"";
      } else if (c == '\\') {
        out += "\\\\";
      } else if (c == '\b') {
        out += "\\b";
      } else if (c == '\f') {
        out += "\\f";
      } else if (c == '\n') {
        out += "\\n";
      } else if (c == '\r') {
        out += "\\r";
      } else if (c == '\t') {
        out += "\\t";
      } else if (c < 0x20) {
        char buffer[8];
        std::snprintf(buffer, sizeof(buffer), "\\u%04x", c);
        out += buffer;
      } else {
        out.push_back(static_cast<char>(c));
      }
      ++i;
      continue;
    }
    size_t length = 0;
    uint32_t bits = 0;
    if ((c & 0xE0) == 0xC0) {
      length = 2, bits = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      length = 3, bits = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      length = 4, bits = c & 0x07;
    }
    if (length == 0) {
      out += fffd;
      ++i;
      continue;
    }
    const uint32_t min_for_length[] = {0, 0, 0x80, 0x800, 0x10000};
    // Consume continuation bytes while some completion could still be a valid scalar value.
    size_t taken = 1;
    bool complete = false;
    while (true) {
      const size_t remaining = length - taken;
      const uint32_t low = bits << (6 * remaining);
      const uint32_t high = low | ((1u << (6 * remaining)) - 1);
      const bool possible =
          high >= min_for_length[length] && low <= 0x10FFFF && !(low >= 0xD800 && high <= 0xDFFF);
      if (!possible) {
        if (taken > 1) --taken;  // The last byte broke it; it is not part of the bad prefix.
        break;
      }
      if (remaining == 0) {
        complete = true;
        break;
      }
      if (i + taken >= in.size()) break;
      const auto next = static_cast<unsigned char>(in[i + taken]);
      if ((next & 0xC0) != 0x80) break;
      bits = (bits << 6) | (next & 0x3F);
      ++taken;
    }
    if (complete) {
      if (bits == 0x2028 || bits == 0x2029) {
        out += bits == 0x2028 ? "\\u2028" : "\\u2029";
      } else {
        out.append(in.substr(i, length));
      }
      i += length;
    } else {
      out += fffd;
      i += taken;
    }
  }
  out += "\"";
  return out;
}

TEST(AppendJsonStringTest, RandomBytesMatchAnIndependentReference) {
  std::mt19937 random(42);
  // Bias towards the interesting bytes so that every branch is hit often.
  const unsigned char interesting[] = {'a',  'Z',  ' ',  '"',  '\\', 0x00, 0x1F, 0x7F,
                                       0x80, 0xBF, 0xC0, 0xC2, 0xDF, 0xE0, 0xE2, 0xED,
                                       0xEF, 0xF0, 0xF4, 0xF5, 0xFF, 0xA0, 0x9F, 0x8F};
  for (int round = 0; round < 20000; ++round) {
    const std::string input = testing::RandomBytes(random, interesting, /*any_byte_slots=*/16);
    ASSERT_EQ(Quoted(input), ReferenceQuote(input)) << "input bytes: " << Hex(input);
  }
}

TEST(AppendJsonStringTest, ReferenceAgreesWithHandWrittenCases) {
  // Guards the reference itself, so a shared misunderstanding does not pass silently.
  EXPECT_EQ(ReferenceQuote("\xE2\x82"
                           "A"),
            "\"\xEF\xBF\xBD"
            "A\"");
  EXPECT_EQ(ReferenceQuote("\xED\xA0\x80"), "\"\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\"");
  EXPECT_EQ(ReferenceQuote("\xF0\x9F\x98\x80"), "\"\xF0\x9F\x98\x80\"");
}

}  // namespace
}  // namespace tessera::base
