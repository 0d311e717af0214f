// sources[].connectors.contact_log: the column mapping of contact-centre imports, read with its
// defaults, and precise errors for unknown keys and wrong types. Whether the mapping is usable
// (formats, identifier columns) is the connector's to say (tests/connectors/contact_log_csv_test.cc).

#include <gtest/gtest.h>

#include <string>

#include "absl/status/status.h"
#include "config/config.h"

namespace tessera::config {
namespace {

// The error of a config whose only source has `connectors` as given; "" when it parses.
std::string ConnectorsError(const std::string& connectors) {
  absl::StatusOr<Config> config = ParseConfig(
      R"({"sources": [{"write_key": "k", "channel": "service", "connectors": )" + connectors + "}]}");
  return config.ok() ? "" : std::string(config.status().message());
}

TEST(ContactLogSectionTest, EveryKeyIsRead) {
  absl::StatusOr<Config> config = ParseConfig(R"({"sources": [
      {"write_key": "k1", "channel": "service", "connectors": {"contact_log": {
        "columns": {"contact_id": "Call ID", "started_at": "Start", "type": "Media", "direction": "Dir",
                    "duration": "Talk Time", "phone": "ANI", "email": "Email", "user_id": "Customer No",
                    "customer_name": "Caller", "agent": "Agent", "queue": "Skill", "reason": "Wrap Code",
                    "outcome": "Disposition", "satisfaction": "CSAT", "transcript": "Transcript",
                    "notes": "Notes"},
        "timestamp_format": "%d/%m/%Y %H:%M", "timezone": "+09:00", "default_type": "chat",
        "system": "genesys", "satisfaction_scale": "0-1"}}}]})");
  ASSERT_TRUE(config.ok()) << config.status();
  ASSERT_TRUE(config->sources[0].connectors.contact_log.has_value());
  const ContactLogMappingConfig& log = *config->sources[0].connectors.contact_log;
  EXPECT_EQ(log.contact_id, "Call ID");
  EXPECT_EQ(log.started_at, "Start");
  EXPECT_EQ(log.type, "Media");
  EXPECT_EQ(log.direction, "Dir");
  EXPECT_EQ(log.duration, "Talk Time");
  EXPECT_EQ(log.phone, "ANI");
  EXPECT_EQ(log.email, "Email");
  EXPECT_EQ(log.user_id, "Customer No");
  EXPECT_EQ(log.customer_name, "Caller");
  EXPECT_EQ(log.agent, "Agent");
  EXPECT_EQ(log.queue, "Skill");
  EXPECT_EQ(log.reason, "Wrap Code");
  EXPECT_EQ(log.outcome, "Disposition");
  EXPECT_EQ(log.satisfaction, "CSAT");
  EXPECT_EQ(log.transcript, "Transcript");
  EXPECT_EQ(log.notes, "Notes");
  EXPECT_EQ(log.timestamp_format, "%d/%m/%Y %H:%M");
  EXPECT_EQ(log.timezone, "+09:00");
  EXPECT_EQ(log.default_type, "chat");
  EXPECT_EQ(log.system, "genesys");
  EXPECT_EQ(log.satisfaction_scale, "0-1");
}

TEST(ContactLogSectionTest, DefaultsMatchTheConnectors) {
  absl::StatusOr<Config> config = ParseConfig(R"({"sources": [
      {"write_key": "k1", "channel": "service", "connectors": {"contact_log": {"columns": {"phone": "phone"}}}},
      {"write_key": "k2", "channel": "service"}]})");
  ASSERT_TRUE(config.ok()) << config.status();
  ASSERT_TRUE(config->sources[0].connectors.contact_log.has_value());
  const ContactLogMappingConfig& log = *config->sources[0].connectors.contact_log;
  EXPECT_EQ(log.contact_id, "contact_id");
  EXPECT_EQ(log.started_at, "started_at");
  EXPECT_EQ(log.phone, "phone");
  EXPECT_EQ(log.email, "") << "unmapped unless named";
  EXPECT_EQ(log.timestamp_format, "iso8601");
  EXPECT_EQ(log.timezone, "Z");
  EXPECT_EQ(log.default_type, "call");
  EXPECT_EQ(log.system, "contact_log");
  EXPECT_EQ(log.satisfaction_scale, "1-5");
  EXPECT_FALSE(config->sources[1].connectors.contact_log.has_value()) << "absent: the connector refuses";
}

TEST(ContactLogSectionTest, ErrorsNameTheKey) {
  struct Case {
    std::string connectors;
    std::string expected;
  };
  for (const Case& c : {
           Case{R"({"contact_log": {"colums": {}}})",
                "sources[0].connectors.contact_log.colums: unknown key (known: columns, timestamp_format"},
           Case{R"({"contact_log": {"columns": {"caller": "ANI"}}})",
                "sources[0].connectors.contact_log.columns.caller: unknown key (known: contact_id, "
                "started_at"},
           Case{
               R"({"contact_log": {"columns": {"contact_id": ""}}})",
               "sources[0].connectors.contact_log.columns.contact_id: expected a non-empty string, got \"\""},
           Case{R"({"contact_log": {"columns": {"started_at": ""}}})",
                "sources[0].connectors.contact_log.columns.started_at: expected a non-empty string"},
           Case{R"({"contact_log": {"columns": {"phone": 7}}})",
                "sources[0].connectors.contact_log.columns.phone: expected a string, got 7"},
           Case{R"({"contact_log": {"system": ""}})",
                "sources[0].connectors.contact_log.system: expected a non-empty string"},
           Case{R"({"contact_log": {"default_type": ["call"]}})",
                "sources[0].connectors.contact_log.default_type: expected a non-empty string, got an array"},
           Case{R"({"contact_log": "calls.csv"})",
                "sources[0].connectors.contact_log: expected an object, got \"calls.csv\""},
       }) {
    const std::string error = ConnectorsError(c.connectors);
    EXPECT_NE(error.find(c.expected), std::string::npos) << c.connectors << "\ngave: " << error;
  }
  EXPECT_EQ(ConnectorsError(R"({"contact_log": {}})"), "") << "every key has a default";
}

}  // namespace
}  // namespace tessera::config
