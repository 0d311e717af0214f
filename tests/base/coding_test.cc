// The row-encoding primitives: round trips at the edges of every width, and refusal of short or
// malformed input (a damaged row must be reported, never read past its end).

#include "base/coding.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

namespace tessera::base {
namespace {

TEST(CodingTest, VarintsRoundTripAtEveryWidth) {
  std::vector<uint64_t> values = {0, 1, 127, 128, 16383, 16384, (1ull << 32) - 1, 1ull << 32,
                                  std::numeric_limits<uint64_t>::max() - 1, std::numeric_limits<uint64_t>::max()};
  std::string bytes;
  for (uint64_t value : values) PutVarint64(bytes, value);
  EXPECT_EQ(bytes.size(), 1 + 1 + 1 + 2 + 2 + 3 + 5 + 5 + 10 + 10) << "LEB128 widths";
  ByteReader reader(bytes);
  for (uint64_t value : values) {
    uint64_t read = 0;
    ASSERT_TRUE(reader.ReadVarint64(read));
    EXPECT_EQ(read, value);
  }
  EXPECT_TRUE(reader.empty());
}

TEST(CodingTest, SignedVarintsKeepSmallNegativesShort) {
  std::vector<int64_t> values = {0, -1, 1, -64, 63, -65, std::numeric_limits<int64_t>::min(),
                                 std::numeric_limits<int64_t>::max()};
  std::string bytes;
  PutVarintSigned64(bytes, -1);
  EXPECT_EQ(bytes.size(), 1u);
  bytes.clear();
  for (int64_t value : values) PutVarintSigned64(bytes, value);
  ByteReader reader(bytes);
  for (int64_t value : values) {
    int64_t read = 0;
    ASSERT_TRUE(reader.ReadVarintSigned64(read));
    EXPECT_EQ(read, value);
  }
}

TEST(CodingTest, FixedDoublesAndStringsRoundTrip) {
  std::string bytes;
  PutFixed64(bytes, 0x0102030405060708ull);
  EXPECT_EQ(bytes[0], '\x08') << "little-endian";
  PutDouble(bytes, -2.5);
  PutLengthPrefixed(bytes, std::string("a\0b", 3));
  PutLengthPrefixed(bytes, "");
  ByteReader reader(bytes);
  uint64_t fixed = 0;
  double number = 0;
  std::string text;
  std::string_view empty = "x";
  ASSERT_TRUE(reader.ReadFixed64(fixed));
  ASSERT_TRUE(reader.ReadDouble(number));
  ASSERT_TRUE(reader.ReadLengthPrefixed(text));
  ASSERT_TRUE(reader.ReadLengthPrefixed(empty));
  EXPECT_EQ(fixed, 0x0102030405060708ull);
  EXPECT_EQ(number, -2.5);
  EXPECT_EQ(text, std::string("a\0b", 3));
  EXPECT_EQ(empty, "");
  EXPECT_TRUE(reader.empty());
}

TEST(CodingTest, ShortOrMalformedInputIsRefused) {
  uint64_t value = 0;
  std::string_view text;
  EXPECT_FALSE(ByteReader("").ReadVarint64(value));
  EXPECT_FALSE(ByteReader("\x80\x80").ReadVarint64(value)) << "continuation bit on the last byte";
  EXPECT_FALSE(ByteReader(std::string(10, '\xff') + "\x01").ReadVarint64(value)) << "longer than 10 bytes";
  EXPECT_FALSE(ByteReader(std::string(9, '\xff') + "\x02").ReadVarint64(value)) << "past 64 bits";
  EXPECT_FALSE(ByteReader("1234567").ReadFixed64(value));
  EXPECT_FALSE(ByteReader("\x05" "abc").ReadLengthPrefixed(text)) << "length beyond the input";
  ByteReader reader("\x05" "abc");
  uint8_t byte = 0;
  EXPECT_FALSE(reader.ReadLengthPrefixed(text));
  EXPECT_FALSE(reader.ReadByte(byte)) << "nothing more is read after a failure";
}

}  // namespace
}  // namespace tessera::base
