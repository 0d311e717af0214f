#include "ingest/stewardship_command.h"

#include <gtest/gtest.h>

#include "ingest/log_command.h"

namespace tessera::ingest {
namespace {

StewardshipCommand Sample() {
  return StewardshipCommand{.kind = StewardshipCommand::Kind::kSeparate,
                            .request_id = "sd_0123456789abcdef",
                            .a = {"email", "minjun.kim@example.com"},
                            .b = {"phone", "+821012345678"},
                            .requested_by = "ops",
                            .note = "두 사람",
                            .requested_at = Timestamp(std::chrono::microseconds(1'700'000'000'000'000))};
}

TEST(StewardshipCommandTest, RoundTripsAndIsACommandButNoErasure) {
  std::string record;
  EncodeStewardshipCommand(Sample(), record);
  EXPECT_TRUE(IsCommandRecord(record));
  EXPECT_TRUE(IsStewardshipCommand(record));
  EXPECT_FALSE(DecodeErasureCommand(record).ok());
  absl::StatusOr<StewardshipCommand> decoded = DecodeStewardshipCommand(record);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(decoded->kind, StewardshipCommand::Kind::kSeparate);
  EXPECT_EQ(decoded->request_id, "sd_0123456789abcdef");
  EXPECT_EQ(decoded->a, Sample().a);
  EXPECT_EQ(decoded->b, Sample().b);
  EXPECT_EQ(decoded->note, "두 사람");
  EXPECT_EQ(decoded->requested_at, Sample().requested_at);

  StewardshipCommand merge = Sample();
  merge.kind = StewardshipCommand::Kind::kMerge;
  record.clear();
  EncodeStewardshipCommand(merge, record);
  EXPECT_EQ(DecodeStewardshipCommand(record)->kind, StewardshipCommand::Kind::kMerge);
}

TEST(StewardshipCommandTest, DamagedRecordsAreRefusedWithTheReason) {
  std::string record;
  EncodeStewardshipCommand(Sample(), record);
  for (size_t cut = 0; cut < record.size(); ++cut) {
    EXPECT_FALSE(DecodeStewardshipCommand(record.substr(0, cut)).ok()) << "cut at " << cut;
  }
  EXPECT_EQ(DecodeStewardshipCommand(record + "x").status().message(), "stewardship command: bytes after its end");
  std::string erasure;
  EncodeErasureCommand(ErasureCommand{.request_id = "er_1", .identifier_type = "email", .identifier_value = "a@b.c"},
                       erasure);
  EXPECT_FALSE(IsStewardshipCommand(erasure));
  EXPECT_NE(DecodeStewardshipCommand(erasure).status().message().find("not a stewardship command"), std::string::npos);
  StewardshipCommand same = Sample();
  same.b = same.a;
  record.clear();
  EncodeStewardshipCommand(same, record);
  EXPECT_EQ(DecodeStewardshipCommand(record).status().message(), "stewardship command: names one identifier twice");
  StewardshipCommand empty = Sample();
  empty.b.value.clear();
  record.clear();
  EncodeStewardshipCommand(empty, record);
  EXPECT_FALSE(DecodeStewardshipCommand(record).ok());
}

}  // namespace
}  // namespace tessera::ingest
