#include "ingest/log_command.h"

#include <gtest/gtest.h>

#include "ingest/dedup_window.h"
#include "ingest/event_codec.h"

namespace tessera::ingest {
namespace {

ErasureCommand Sample() {
  return ErasureCommand{.request_id = "er_0123456789abcdef",
                        .identifier_type = "email",
                        .identifier_value = "ada@example.com",
                        .requested_by = "admin:ops",
                        .requested_at = Timestamp(std::chrono::microseconds(1'733'000'000'123'456))};
}

TEST(LogCommandTest, AnErasureCommandRoundTripsAndIsNoEvent) {
  std::string record;
  EncodeErasureCommand(Sample(), record);
  EXPECT_TRUE(IsCommandRecord(record));
  absl::StatusOr<ErasureCommand> decoded = DecodeErasureCommand(record);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(decoded->request_id, "er_0123456789abcdef");
  EXPECT_EQ(decoded->identifier_type, "email");
  EXPECT_EQ(decoded->identifier_value, "ada@example.com");
  EXPECT_EQ(decoded->requested_by, "admin:ops");
  EXPECT_EQ(decoded->requested_at, Sample().requested_at);
  // An older build reading it refuses it by its version byte rather than misreading it.
  EXPECT_FALSE(DecodeEvent(record).ok());
}

TEST(LogCommandTest, DamagedOrUnknownCommandsAreRefusedWithTheReason) {
  std::string record;
  EncodeErasureCommand(Sample(), record);
  for (size_t cut = 1; cut < record.size(); ++cut) {
    EXPECT_FALSE(DecodeErasureCommand(record.substr(0, cut)).ok()) << "cut at " << cut;
  }
  EXPECT_EQ(DecodeErasureCommand(record + "x").status().message(), "erasure command: bytes after its end");
  std::string unknown = record;
  unknown[1] = 7;
  EXPECT_NE(DecodeErasureCommand(unknown).status().message().find("kind 7 is none this build knows"),
            std::string::npos);
  std::string no_value;
  EncodeErasureCommand(ErasureCommand{.request_id = "er_1", .identifier_type = "email"}, no_value);
  EXPECT_FALSE(DecodeErasureCommand(no_value).ok());
  EXPECT_FALSE(IsCommandRecord("{\"type\":\"track\"}"));
  EXPECT_FALSE(IsCommandRecord(""));
}

TEST(LogCommandTest, ACommandsDedupKeyIsNoMessageIdsKey) {
  EXPECT_NE(CommandDedupKey("default", "er_1"), DedupWindow::Key("default", "er_1"));
  EXPECT_NE(CommandDedupKey("default", "er_1"), DedupWindow::Key("default", "command er_1"));
  EXPECT_NE(CommandDedupKey("default", "er_1"), CommandDedupKey("shop", "er_1"));
  EXPECT_EQ(CommandDedupKey("default", "er_1"), CommandDedupKey("default", "er_1"));
}

}  // namespace
}  // namespace tessera::ingest
