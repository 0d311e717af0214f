// The UTF-8 check and repair: what a binary row stores for a string must be what a JSON row (whose
// writer repairs the same way) would have held.

#include "base/utf8.h"

#include <gtest/gtest.h>

#include <random>
#include <string>

#include "base/json_writer.h"
#include "tests/base/random_bytes.h"

namespace tessera::base {
namespace {

const std::string kFffd = "\xEF\xBF\xBD";

std::string Repaired(std::string_view text) {
  std::string out;
  AppendWellFormedUtf8(out, text);
  return out;
}

TEST(Utf8Test, WellFormedTextIsRecognizedAndKept) {
  for (const std::string& text : {std::string(), std::string("plain ascii, longer than eight bytes"),
                                  std::string("caf\xC3\xA9 \xE4\xB8\xAD \xF0\x9F\x98\x80 \xF4\x8F\xBF\xBF"),
                                  std::string("nul \0 inside", 12)}) {
    EXPECT_TRUE(IsWellFormedUtf8(text)) << text;
    EXPECT_EQ(Repaired(text), text) << "well-formed text is copied as it is";
  }
}

TEST(Utf8Test, EachIllFormedSequenceBecomesOneReplacementCharacter) {
  struct Case {
    std::string input;
    std::string expected;
  };
  const Case cases[] = {
      {"\x80", kFffd},
      {"abcdefgh\xFFijk", "abcdefgh" + kFffd + "ijk"},
      {"\xC0\xAF", kFffd + kFffd},
      {"\xED\xA0\x80", kFffd + kFffd + kFffd},
      {"\xE2\x82"
       "A",
       kFffd + "A"},
      {"\xF0\x9F\x98", kFffd},
  };
  for (const Case& c : cases) {
    EXPECT_FALSE(IsWellFormedUtf8(c.input)) << c.input;
    EXPECT_EQ(Repaired(c.input), c.expected) << c.input;
  }
}

TEST(Utf8Test, RepairAgreesWithTheJsonWriterOnRandomBytes) {
  std::mt19937 random(7);
  const unsigned char interesting[] = {'a',  ' ',  0x00, 0x7F, 0x80, 0xBF, 0xC0, 0xC2, 0xDF, 0xE0,
                                       0xE2, 0xED, 0xEF, 0xF0, 0xF4, 0xF5, 0xFF, 0xA0, 0x9F, 0x8F};
  for (int round = 0; round < 20000; ++round) {
    const std::string input = testing::RandomBytes(random, interesting, /*any_byte_slots=*/8);
    const std::string repaired = Repaired(input);
    std::string json_of_input;
    std::string json_of_repaired;
    AppendJsonString(json_of_input, input);
    AppendJsonString(json_of_repaired, repaired);
    ASSERT_EQ(json_of_repaired, json_of_input) << "repairing first must not change what JSON holds";
    ASSERT_TRUE(IsWellFormedUtf8(repaired));
    ASSERT_EQ(IsWellFormedUtf8(input), repaired == input);
  }
}

}  // namespace
}  // namespace tessera::base
