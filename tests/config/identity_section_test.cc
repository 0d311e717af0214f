// The identity section: identifier mappings and identifier rules.

#include <gtest/gtest.h>

#include <optional>
#include <string>

#include "absl/status/status.h"
#include "config/config.h"

namespace tessera::config {
namespace {

TEST(ParseConfigTest, MappingsMayStartAtEverySupportedMember) {
  absl::StatusOr<Config> config = ParseConfig(R"({"identity": {"mappings": [
    {"type": "a", "field": "traits.loyalty.card"},
    {"type": "b", "field": "context.traits.loyaltyCard"},
    {"type": "c", "field": "properties.loyalty_id"},
    {"type": "d", "field": "integrations.Salesforce.contactId"},
    {"type": "e", "field": "userId"},
    {"type": "f", "field": "anonymousId"},
    {"type": "g", "field": "event"},
    {"type": "h", "field": "name"},
    {"type": "i", "field": "category"},
    {"type": "j", "field": "groupId"},
    {"type": "k", "field": "previousId"},
    {"type": "l", "field": "messageId"},
    {"type": "c", "field": "properties.card number"},
    {"type": "m", "field": "properties.loyalty_id"}
  ]}})");
  ASSERT_TRUE(config.ok()) << config.status();
  ASSERT_EQ(config->identity.identifier_mappings.size(), 14u);
  EXPECT_EQ(config->identity.identifier_mappings[12].field, "properties.card number")
      << "segments are JSON keys and may hold any character but '.'";
}

TEST(ParseConfigTest, RuleFieldsLeftOutStayUnsetSoTheBuiltInRuleApplies) {
  absl::StatusOr<Config> config = ParseConfig(R"({"identity": {"rules": [{"type": "email", "limit": 2}]}})");
  ASSERT_TRUE(config.ok()) << config.status();
  ASSERT_EQ(config->identity.rules.size(), 1u);
  EXPECT_EQ(config->identity.rules[0].limit, std::optional<int>(2));
  EXPECT_EQ(config->identity.rules[0].priority, std::nullopt)
      << "a priority that was not given must not silently become 0";
}

}  // namespace
}  // namespace tessera::config
