#include "api/content_decoding.h"

#include <gtest/gtest.h>

#include <string>

#include "tests/support/gzip.h"

namespace tessera::api {
namespace {

using tessera::testing::Compress;
using tessera::testing::Gzip;

constexpr std::string_view kBatch =
    R"({"batch":[{"type":"track","userId":"u-1","event":"Order Completed"}]})";

TEST(ContentDecodingTest, GzipZlibAndRawDeflateBodiesDecode) {
  for (const auto& [encoding, body] : {std::pair<std::string_view, std::string>{"gzip", Gzip(kBatch)},
                                       {"x-gzip", Gzip(kBatch)},
                                       {"GZIP", Gzip(kBatch)},
                                       {"deflate", Compress(kBatch, 15)},
                                       {"deflate", Compress(kBatch, -15)}}) {
    std::string decoded = body;
    ASSERT_TRUE(DecodeContent(encoding, decoded, 1 << 20).ok()) << encoding;
    EXPECT_EQ(decoded, kBatch) << encoding;
  }
}

TEST(ContentDecodingTest, IdentityAndEmptyEncodingsLeaveTheBody) {
  std::string body(kBatch);
  EXPECT_TRUE(DecodeContent("identity", body, 10).ok()) << "identity is not limited again here";
  EXPECT_EQ(body, kBatch);
}

TEST(ContentDecodingTest, ConcatenatedGzipMembersAreOneBody) {
  std::string body = Gzip("{\"batch\":[") + Gzip("]}");
  ASSERT_TRUE(DecodeContent("gzip", body, 1024).ok());
  EXPECT_EQ(body, "{\"batch\":[]}");
}

TEST(ContentDecodingTest, LayeredEncodingsAreUndoneInReverseOrder) {
  std::string body = Gzip(Compress(kBatch, 15));  // deflate first, then gzip
  ASSERT_TRUE(DecodeContent("deflate, gzip", body, 4096).ok());
  EXPECT_EQ(body, kBatch);
}

TEST(ContentDecodingTest, ABombStopsAtTheLimit) {
  const std::string zeros(64 << 20, '0');  // 64 MiB of one byte compresses to ~64 KiB.
  const std::string bomb = Gzip(zeros);
  ASSERT_LT(bomb.size(), 100u << 10);
  std::string body = bomb;
  const absl::Status status = DecodeContent("gzip", body, 500 * 1024);
  EXPECT_TRUE(absl::IsResourceExhausted(status)) << status;
  EXPECT_NE(std::string(status.message()).find("512000"), std::string::npos) << status.message();
  EXPECT_EQ(body, bomb) << "the body is left as it was";
}

TEST(ContentDecodingTest, ABodyExactlyAtTheLimitIsAccepted) {
  const std::string data(1000, 'x');
  std::string body = Gzip(data);
  ASSERT_TRUE(DecodeContent("gzip", body, 1000).ok());
  EXPECT_EQ(body.size(), 1000u);
  body = Gzip(data);
  EXPECT_TRUE(absl::IsResourceExhausted(DecodeContent("gzip", body, 999)));
}

TEST(ContentDecodingTest, TruncatedCorruptAndTrailingDataAreInvalid) {
  const std::string gzip = Gzip(std::string(10000, 'a') + std::string(kBatch));
  std::string truncated = gzip.substr(0, gzip.size() / 2);
  absl::Status status = DecodeContent("gzip", truncated, 1 << 20);
  EXPECT_TRUE(absl::IsInvalidArgument(status)) << status;
  EXPECT_NE(std::string(status.message()).find("truncated"), std::string::npos) << status.message();

  std::string no_trailer = gzip.substr(0, gzip.size() - 4);  // the CRC and length of a gzip member
  EXPECT_TRUE(absl::IsInvalidArgument(DecodeContent("gzip", no_trailer, 1 << 20)));

  std::string plain(kBatch);  // JSON labelled gzip
  status = DecodeContent("gzip", plain, 1 << 20);
  EXPECT_TRUE(absl::IsInvalidArgument(status)) << status;
  EXPECT_NE(std::string(status.message()).find("not valid gzip"), std::string::npos) << status.message();

  std::string corrupt = gzip;
  corrupt[corrupt.size() / 2] ^= 0x55;
  EXPECT_TRUE(absl::IsInvalidArgument(DecodeContent("gzip", corrupt, 1 << 20)));

  std::string trailing = gzip + "garbage";
  status = DecodeContent("gzip", trailing, 1 << 20);
  EXPECT_TRUE(absl::IsInvalidArgument(status)) << status;
  EXPECT_NE(std::string(status.message()).find("7 bytes after the end"), std::string::npos)
      << status.message();
}

TEST(ContentDecodingTest, UnknownEncodingsAreUnimplemented) {
  std::string body(kBatch);
  const absl::Status status = DecodeContent("br", body, 1 << 20);
  EXPECT_TRUE(absl::IsUnimplemented(status)) << status;
  EXPECT_NE(std::string(status.message()).find("\"br\""), std::string::npos);
  EXPECT_TRUE(absl::IsUnimplemented(DecodeContent("gzip, gzip, gzip, gzip, gzip", body, 1 << 20)));
}

}  // namespace
}  // namespace tessera::api
