#include "identity/identity_rules.h"

#include <gtest/gtest.h>

#include <string>
#include <tuple>
#include <vector>

#include "identity/identifier.h"

namespace tessera::identity {
namespace {

namespace type = identifier_type;

TEST(IdentityRulesTest, DefaultsForBuiltInTypes) {
  const IdentityRules rules;
  // (type, priority, limit) as documented in identity_rules.h.
  const std::vector<std::tuple<std::string_view, int, int>> expected = {
      {type::kUserId, 100, 1},     {type::kEmail, 80, 5},        {type::kPhone, 70, 5},
      {type::kLoyaltyId, 60, 1},   {type::kIdfa, 50, 0},         {type::kGaid, 50, 0},
      {type::kDeviceId, 40, 0},    {type::kFacebookPsid, 30, 0}, {type::kInstagramSid, 30, 0},
      {type::kAnonymousId, 10, 0},
  };
  for (const auto& [t, priority, limit] : expected) {
    const IdentifierRule& rule = rules.For(t);
    EXPECT_EQ(rule.type, t) << "For(\"" << t << "\") returned the rule of another type";
    EXPECT_EQ(rule.priority, priority) << "default priority of " << t;
    EXPECT_EQ(rule.limit, limit) << "default limit of " << t;
    EXPECT_EQ(rules.Priority(t), priority) << "Priority(\"" << t << "\") disagrees with For()";
    EXPECT_EQ(rules.Limit(t), limit) << "Limit(\"" << t << "\") disagrees with For()";
  }
}

TEST(IdentityRulesTest, UnknownTypesGetTheFallback) {
  const IdentityRules rules;
  const IdentifierRule& rule = rules.For("crm_contact");
  EXPECT_EQ(rule.type, "") << "the fallback is not a rule for any particular type";
  EXPECT_EQ(rule.priority, 20) << "unknown types rank between social ids and device ids";
  EXPECT_EQ(rule.limit, 0) << "unknown types are unlimited";
  EXPECT_EQ(&rules.For("another_type"), &rule) << "every unknown type shares the one fallback";
}

TEST(IdentityRulesTest, OverrideReplacesTheWholeRule) {
  // Only priority is meant here; the limit left at its default (0) replaces user_id's built-in 1.
  const IdentityRules rules({IdentifierRule{"user_id", 150}, IdentifierRule{"email", 90, 2}});
  EXPECT_EQ(rules.Priority(type::kUserId), 150);
  EXPECT_EQ(rules.Limit(type::kUserId), 0) << "an override is not merged field by field with the default";
  EXPECT_EQ(rules.Priority(type::kEmail), 90);
  EXPECT_EQ(rules.Limit(type::kEmail), 2);
  EXPECT_EQ(rules.Priority(type::kPhone), 70) << "types without an override keep their defaults";
  EXPECT_EQ(rules.Limit(type::kPhone), 5);
}

TEST(IdentityRulesTest, OverridesAddCustomTypes) {
  const IdentityRules rules({IdentifierRule{"crm_contact", 95, 1}});
  const IdentifierRule& rule = rules.For("crm_contact");
  EXPECT_EQ(rule.type, "crm_contact");
  EXPECT_EQ(rule.priority, 95);
  EXPECT_EQ(rule.limit, 1);
  EXPECT_EQ(rules.Priority("other_custom"), 20) << "other custom types still get the fallback";
}

TEST(IdentityRulesTest, LaterOverrideForTheSameTypeWins) {
  const IdentityRules rules({IdentifierRule{"phone", 10, 1}, IdentifierRule{"phone", 75, 3}});
  EXPECT_EQ(rules.Priority(type::kPhone), 75);
  EXPECT_EQ(rules.Limit(type::kPhone), 3);
}

}  // namespace
}  // namespace tessera::identity
