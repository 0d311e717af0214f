#include "audiences/evaluation.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace tessera::audiences {
namespace {

using namespace std::chrono_literals;
using std::chrono::hours;
using std::chrono::microseconds;

constexpr std::chrono::sys_days kMarch10{std::chrono::year{2024} / 3 / 10};
const Timestamp kNow = Timestamp(kMarch10) + 10h;  // 2024-03-10T10:00:00Z

Timestamp DaysBefore(Timestamp now, double days) {
  return now - microseconds(static_cast<int64_t>(std::llround(days * 86'400'000'000.0)));
}

// A space's definitions and one profile built the way the resolver builds it: every aggregate the
// definitions need exists, and events go through AddEvent.
class EvaluationTest : public ::testing::Test {
 protected:
  void Define(std::vector<std::string_view> computed,
              std::vector<std::pair<std::string_view, std::string_view>> audiences = {}) {
    for (std::string_view json : computed) {
      auto trait = ParseComputedTrait(json);
      ASSERT_TRUE(trait.ok()) << json << ": " << trait.status();
      definitions_.computed.push_back(std::make_shared<const ComputedTrait>(*std::move(trait)));
    }
    for (const auto& [name, json] : audiences) {
      auto audience = ParseAudience(name, json, definitions_.computed);
      ASSERT_TRUE(audience.ok()) << json << ": " << audience.status();
      definitions_.audiences.push_back(std::make_shared<const Audience>(*std::move(audience)));
    }
    definitions_.Compile();
    for (size_t i = 0; i < definitions_.specs.size(); ++i) {
      profile_.aggregates.try_emplace(definitions_.spec_keys[i], definitions_.specs[i].retention);
    }
  }

  // Defines one audience with `condition` (and the computed traits already defined).
  void DefineAudience(std::string_view condition) {
    const std::string json = "{\"condition\":" + std::string(condition) + "}";
    auto audience = ParseAudience("a", json, definitions_.computed);
    ASSERT_TRUE(audience.ok()) << json << ": " << audience.status();
    definitions_.audiences.push_back(std::make_shared<const Audience>(*std::move(audience)));
    definitions_.Compile();
    for (size_t i = 0; i < definitions_.specs.size(); ++i) {
      profile_.aggregates.try_emplace(definitions_.spec_keys[i], definitions_.specs[i].retention);
    }
  }

  void Event(std::string_view type, std::string_view name, Timestamp time, std::string_view properties = "{}",
             std::string_view channel = "web") {
    EventFacts facts;
    facts.type = type;
    facts.event = name;
    facts.channel = channel;
    facts.time = time;
    facts.sequence = ++sequence_;
    facts.properties = properties;
    facts.traits = "{}";
    facts.context = R"({"campaign":{"source":"newsletter"}})";
    AddEvent(definitions_, facts, profile_);
    profile_.TouchChannel(channel, time);
  }
  void Track(std::string_view name, Timestamp time, std::string_view properties = "{}",
             std::string_view channel = "web") {
    Event("track", name, time, properties, channel);
  }

  std::optional<std::string> Value(std::string_view computed, Timestamp now = kNow) {
    const ComputedTrait* trait = definitions_.FindComputed(computed);
    if (trait == nullptr) {
      ADD_FAILURE() << "no computed trait " << computed;
      return std::nullopt;
    }
    return ComputedValue(*trait, profile_, now, figures_);
  }

  bool Member(std::string_view audience, Timestamp now = kNow) {
    const Audience* found = definitions_.FindAudience(audience);
    if (found == nullptr) {
      ADD_FAILURE() << "no audience " << audience;
      return false;
    }
    return IsMember(*found, definitions_, profile_, now, figures_);
  }

  DefinitionSet definitions_;
  Profile profile_;
  SpaceFigures figures_;
  uint64_t sequence_ = 0;
};

// ----- Operators on traits -----

struct OperatorCase {
  const char* trait;      // The trait's stored JSON; nullptr = the profile lacks it.
  const char* condition;  // Members after "trait":"t".
  bool holds;
};

TEST_F(EvaluationTest, EveryOperatorOnEveryKindOfValue) {
  const OperatorCase cases[] = {
      // Numbers.
      {"5", R"("op":"eq","value":5)", true},
      {"5", R"("op":"eq","value":5.0)", true},
      {"5.5", R"("op":"eq","value":5.5)", true},
      {"5", R"("op":"eq","value":6)", false},
      {"5", R"("op":"ne","value":6)", true},
      {"5", R"("op":"ne","value":5)", false},
      {"5", R"("op":"gt","value":4)", true},
      {"5", R"("op":"gt","value":5)", false},
      {"5", R"("op":"gte","value":5)", true},
      {"5", R"("op":"gte","value":5.01)", false},
      {"5", R"("op":"lt","value":6)", true},
      {"5", R"("op":"lt","value":5)", false},
      {"5", R"("op":"lte","value":5)", true},
      {"-1e3", R"("op":"lte","value":-999)", true},
      {"5", R"("op":"in","value":[1,5])", true},
      {"5", R"("op":"in","value":[1,2])", false},
      {"5", R"("op":"exists")", true},
      {"5", R"("op":"missing")", false},
      {"0", R"("op":"exists")", true},
      // Strings.
      {R"("pro")", R"("op":"eq","value":"pro")", true},
      {R"("pro")", R"("value":"pro")", true},
      {R"("pro")", R"("op":"eq","value":"Pro")", false},
      {R"("pro")", R"("op":"ne","value":"free")", true},
      {R"("pro")", R"("op":"ne","value":"pro")", false},
      {R"("b")", R"("op":"gt","value":"a")", true},
      {R"("b")", R"("op":"gt","value":"b")", false},
      {R"("b")", R"("op":"gte","value":"b")", true},
      {R"("B")", R"("op":"lt","value":"a")", true},
      {R"("abc")", R"("op":"lte","value":"abd")", true},
      {R"("pro")", R"("op":"in","value":["free","pro"])", true},
      {R"("pro")", R"("op":"in","value":["free","team"])", false},
      {R"("professional")", R"("op":"contains","value":"fess")", true},
      {R"("professional")", R"("op":"contains","value":"amateur")", false},
      {R"("professional")", R"("op":"starts_with","value":"pro")", true},
      {R"("professional")", R"("op":"starts_with","value":"fess")", false},
      {R"("")", R"("op":"exists")", true},
      {R"("caf\u00e9")", R"("op":"eq","value":"café")", true},
      // Booleans: only eq and ne.
      {"true", R"("op":"eq","value":true)", true},
      {"true", R"("op":"eq","value":false)", false},
      {"false", R"("op":"ne","value":true)", true},
      {"true", R"("op":"gt","value":0)", false},
      {"true", R"("op":"gte","value":"a")", false},
      {"true", R"("op":"in","value":[true])", true},
      // Arrays.
      {R"(["a","b"])", R"("op":"contains","value":"b")", true},
      {R"(["a","b"])", R"("op":"contains","value":"c")", false},
      {"[1,2]", R"("op":"contains","value":2)", true},
      {"[1,2]", R"("op":"contains","value":"2")", false},
      {"[1,2]", R"("op":"eq","value":1)", false},
      {"[]", R"("op":"exists")", true},
      // Type mismatches: never equal, never ordered.
      {R"("5")", R"("op":"eq","value":5)", false},
      {R"("5")", R"("op":"ne","value":5)", true},
      {"5", R"("op":"gt","value":"4")", false},
      {R"("10")", R"("op":"lt","value":9)", false},
      {"5", R"("op":"contains","value":"5")", false},
      {"5", R"("op":"starts_with","value":"5")", false},
      {"true", R"("op":"eq","value":"true")", false},
      {"1", R"("op":"eq","value":true)", false},
      {R"({"a":1})", R"("op":"eq","value":1)", false},
      {R"({"a":1})", R"("op":"exists")", true},
      {"5", R"("op":"in","value":["5"])", false},
      // Missing: only `missing` holds, `ne` does not.
      {nullptr, R"("op":"eq","value":5)", false},
      {nullptr, R"("op":"ne","value":5)", false},
      {nullptr, R"("op":"gt","value":5)", false},
      {nullptr, R"("op":"lte","value":5)", false},
      {nullptr, R"("op":"in","value":[5])", false},
      {nullptr, R"("op":"contains","value":"x")", false},
      {nullptr, R"("op":"starts_with","value":"x")", false},
      {nullptr, R"("op":"exists")", false},
      {nullptr, R"("op":"missing")", true},
      {nullptr, R"("value":"x")", false},
      // null is no value.
      {"null", R"("op":"missing")", true},
      {"null", R"("op":"exists")", false},
      {"null", R"("op":"ne","value":1)", false},
  };
  for (const OperatorCase& c : cases) {
    Profile profile;
    if (c.trait != nullptr) profile.SetTrait("t", c.trait, kNow, 1, false);
    const std::string json = std::string(R"({"condition":{"trait":"t",)") + c.condition + "}}";
    auto audience = ParseAudience("a", json, {});
    ASSERT_TRUE(audience.ok()) << json << ": " << audience.status();
    EXPECT_EQ(IsMember(*audience, definitions_, profile, kNow, figures_), c.holds)
        << "trait t = " << (c.trait ? c.trait : "(absent)") << ", condition " << c.condition;
  }
}

TEST_F(EvaluationTest, TraitPathsDescendIntoObjects) {
  profile_.SetTrait("address", R"({"city":"Berlin","geo":{"lat":52.5}})", kNow, 1, false);
  profile_.SetTrait("utm.source", R"("ads")", kNow, 2, false);
  const auto holds = [&](std::string_view condition) {
    auto audience = ParseAudience("a", "{\"condition\":" + std::string(condition) + "}", {});
    EXPECT_TRUE(audience.ok()) << condition << ": " << audience.status();
    return audience.ok() && IsMember(*audience, definitions_, profile_, kNow, figures_);
  };
  EXPECT_TRUE(holds(R"({"trait":"address.city","value":"Berlin"})"));
  EXPECT_TRUE(holds(R"({"trait":"address.geo.lat","op":"gt","value":50})"));
  EXPECT_TRUE(holds(R"({"trait":"address.zip","op":"missing"})"));
  EXPECT_TRUE(holds(R"({"trait":"address.city.name","op":"missing"})")) << "a string has no members";
  EXPECT_TRUE(holds(R"({"trait":"address","op":"exists"})"));
  EXPECT_TRUE(holds(R"({"trait":"utm.source","value":"ads"})")) << "a trait whose name has a dot";
  EXPECT_TRUE(holds(R"({"trait":"plan","op":"missing"})"));
}

// ----- Composite conditions, identifiers, channels -----

TEST_F(EvaluationTest, AllAnyNot) {
  profile_.SetTrait("plan", R"("pro")", kNow, 1, false);
  profile_.SetTrait("age", "40", kNow, 2, false);
  Define({},
         {{"all",
           R"({"condition":{"all":[{"trait":"plan","value":"pro"},{"trait":"age","op":"gte","value":18}]}})"},
          {"all_fails",
           R"({"condition":{"all":[{"trait":"plan","value":"pro"},{"trait":"age","op":"lt","value":18}]}})"},
          {"any",
           R"({"condition":{"any":[{"trait":"plan","value":"free"},{"trait":"age","op":"gt","value":30}]}})"},
          {"any_fails", R"({"condition":{"any":[{"trait":"plan","value":"free"},{"trait":"email"}]}})"},
          {"not", R"({"condition":{"not":{"trait":"plan","value":"free"}}})"},
          {"not_missing", R"({"condition":{"not":{"trait":"email","value":"x"}}})"}});
  EXPECT_TRUE(Member("all"));
  EXPECT_FALSE(Member("all_fails"));
  EXPECT_TRUE(Member("any"));
  EXPECT_FALSE(Member("any_fails"));
  EXPECT_TRUE(Member("not"));
  EXPECT_TRUE(Member("not_missing")) << "not of a condition on a missing value holds";
}

TEST_F(EvaluationTest, IdentifiersAndChannels) {
  profile_.TouchIdentity("phone", "+4930123456", kNow - 24h, "web");
  profile_.TouchChannel("email", DaysBefore(kNow, 8));
  profile_.TouchChannel("web", kNow - 1h);
  Define({}, {{"phone", R"({"condition":{"identifier":"phone"}})"},
              {"no_phone", R"({"condition":{"identifier":"phone","op":"missing"}})"},
              {"no_email_id", R"({"condition":{"identifier":"email","op":"missing"}})"},
              {"email", R"({"condition":{"channel":"email"}})"},
              {"email_week", R"({"condition":{"channel":"email","window":"7d"}})"},
              {"email_9d", R"({"condition":{"channel":"email","window":"9d"}})"},
              {"not_email_week", R"({"condition":{"channel":"email","window":"7d","op":"missing"}})"},
              {"app", R"({"condition":{"channel":"app"}})"},
              {"no_app", R"({"condition":{"channel":"app","op":"missing"}})"}});
  EXPECT_TRUE(Member("phone"));
  EXPECT_FALSE(Member("no_phone"));
  EXPECT_TRUE(Member("no_email_id"));
  EXPECT_TRUE(Member("email"));
  EXPECT_FALSE(Member("email_week")) << "last seen on email 8 days ago";
  EXPECT_TRUE(Member("email_9d"));
  EXPECT_TRUE(Member("not_email_week"));
  EXPECT_FALSE(Member("app"));
  EXPECT_TRUE(Member("no_app"));
}

TEST_F(EvaluationTest, ConsentHoldsOnlyWhenGranted) {
  const auto consent = [](bool granted, uint64_t sequence) {
    return profile_store::ConsentRecord{
        .granted = granted, .time = kNow - 1h, .sequence = sequence, .source = "website", .channel = "web"};
  };
  profile_.SetConsent("marketing_email", consent(true, 1));
  profile_.SetConsent("sms", consent(false, 2));
  Define({}, {{"email_ok", R"({"condition":{"consent":"marketing_email"}})"},
              {"email_ok_any_case", R"({"condition":{"consent":"Marketing-Email"}})"},
              {"sms_ok", R"({"condition":{"consent":"sms"}})"},
              {"push_ok", R"({"condition":{"consent":"push"}})"},
              {"no_sms", R"({"condition":{"not":{"consent":"sms"}}})"},
              {"no_push", R"({"condition":{"not":{"consent":"push"}}})"},
              {"no_email", R"({"condition":{"not":{"consent":"marketing_email"}}})"}});
  EXPECT_TRUE(Member("email_ok")) << "granted";
  EXPECT_TRUE(Member("email_ok_any_case")) << "the condition's purpose is normalized like the events'";
  EXPECT_FALSE(Member("sms_ok")) << "withdrawn (granted false)";
  EXPECT_FALSE(Member("push_ok")) << "never given";
  EXPECT_TRUE(Member("no_sms")) << "not holds for a withdrawn consent";
  EXPECT_TRUE(Member("no_push")) << "not holds for a consent never given";
  EXPECT_FALSE(Member("no_email"));

  profile_.SetConsent("sms", consent(true, 3));
  EXPECT_TRUE(Member("sms_ok")) << "a newer report granting sms";
  EXPECT_FALSE(Member("no_sms"));
}

// ----- Event conditions and windows -----

TEST_F(EvaluationTest, LapsedBuyerWhoStillOpensEmails) {
  Define({}, {{"lapsed", R"({"condition":{"all":[{"not":{"event":"Order Completed","window":"90d"}},)"
                         R"({"event":"Email Opened","window":"7d"}]}})"}});
  Track("Order Completed", DaysBefore(kNow, 120), R"({"total":50})");
  EXPECT_FALSE(Member("lapsed")) << "no email opened yet";
  Track("Email Opened", DaysBefore(kNow, 2), "{}", "email");
  EXPECT_TRUE(Member("lapsed"));
  Track("Order Completed", DaysBefore(kNow, 10), R"({"total":20})");
  EXPECT_FALSE(Member("lapsed")) << "bought 10 days ago";
  EXPECT_FALSE(Member("lapsed", kNow + hours(24 * 81))) << "91 days after that purchase the email is old too";
  Track("Email Opened", kNow + hours(24 * 80), "{}", "email");
  EXPECT_TRUE(Member("lapsed", kNow + hours(24 * 81)));
}

TEST_F(EvaluationTest, WindowEdgeIsInclusive) {
  Define({}, {{"recent", R"({"condition":{"event":"Order Completed","window":"30d"}})"}});
  Track("Order Completed", kNow - hours(24 * 30));
  EXPECT_TRUE(Member("recent")) << "an event exactly at now - 30d is inside";
  EXPECT_FALSE(Member("recent", kNow + 1us)) << "1 µs later it is outside";
}

TEST_F(EvaluationTest, WindowEdgeOneMicrosecondTooOld) {
  Define({}, {{"recent", R"({"condition":{"event":"Order Completed","window":"30d"}})"}});
  Track("Order Completed", kNow - hours(24 * 30) - 1us);
  EXPECT_FALSE(Member("recent"));
  EXPECT_TRUE(Member("recent", kNow - 1us));
}

TEST_F(EvaluationTest, EventCountOperators) {
  Define({}, {{"twice", R"({"condition":{"event":"Order Completed","value":2}})"},
              {"exactly_one", R"({"condition":{"event":"Order Completed","op":"eq","value":1}})"},
              {"none", R"({"condition":{"event":"Order Completed","op":"eq","value":0}})"},
              {"never", R"({"condition":{"event":"Order Completed","op":"missing"}})"},
              {"ever", R"({"condition":{"event":"Order Completed","op":"exists"}})"},
              {"few", R"({"condition":{"event":"Order Completed","op":"lt","value":2}})"},
              {"one_or_three", R"({"condition":{"event":"Order Completed","op":"in","value":[1,3]}})"},
              {"pages", R"({"condition":{"event":"","type":"page","window":"1d"}})"},
              {"app_orders", R"({"condition":{"event":"Order Completed","channel":"app"}})"}});
  EXPECT_TRUE(Member("none"));
  EXPECT_TRUE(Member("never"));
  EXPECT_FALSE(Member("ever"));
  EXPECT_TRUE(Member("few"));
  EXPECT_FALSE(Member("twice"));
  Track("Order Completed", kNow - 3h);
  EXPECT_TRUE(Member("exactly_one"));
  EXPECT_TRUE(Member("one_or_three"));
  EXPECT_TRUE(Member("ever"));
  EXPECT_FALSE(Member("never"));
  Track("Order Completed", kNow - 2h);
  EXPECT_TRUE(Member("twice"));
  EXPECT_FALSE(Member("few"));
  EXPECT_FALSE(Member("one_or_three"));
  EXPECT_FALSE(Member("pages"));
  Event("page", "", kNow - 1h);
  EXPECT_TRUE(Member("pages"));
  EXPECT_FALSE(Member("app_orders"));
  Track("Order Completed", kNow - 1h, "{}", "app");
  EXPECT_TRUE(Member("app_orders"));
  EXPECT_TRUE(HasCurrentAggregates(definitions_, profile_));
}

TEST_F(EvaluationTest, CalendarWindowsDependOnTheZone) {
  Define({},
         {{"today_seoul",
           R"({"condition":{"event":"Order Completed","window":{"days":1,"timeZone":"Asia/Seoul"}}})"},
          {"today_utc", R"({"condition":{"event":"Order Completed","window":{"days":1,"timeZone":"UTC"}}})"},
          {"two_days_utc", R"({"condition":{"event":"Order Completed","window":{"days":2}}})"}});
  // 20:00 UTC on March 9th is 05:00 on March 10th in Seoul; now is 10:00 UTC (19:00 KST) on March 10th.
  Track("Order Completed", Timestamp(kMarch10) - 4h);
  EXPECT_TRUE(Member("today_seoul"));
  EXPECT_FALSE(Member("today_utc"));
  EXPECT_TRUE(Member("two_days_utc"));
  // On March 11th at 01:00 UTC it is 10:00 on the 11th in Seoul: the order was yesterday there.
  EXPECT_FALSE(Member("today_seoul", Timestamp(kMarch10) + 25h));
}

// ----- Computed traits -----

TEST_F(EvaluationTest, CountSumAverageMinMax) {
  Define(
      {R"({"name":"orders","kind":"count","event":"Order Completed"})",
       R"({"name":"orders_30d","kind":"count","event":"Order Completed","window":"30d"})",
       R"({"name":"revenue","kind":"sum","event":"Order Completed","property":"properties.total"})",
       R"({"name":"revenue_30d","kind":"sum","event":"Order Completed","property":"properties.total","window":"30d"})",
       R"({"name":"average","kind":"average","event":"Order Completed","property":"properties.total"})",
       R"({"name":"smallest","kind":"min","event":"Order Completed","property":"properties.total"})",
       R"({"name":"largest","kind":"max","event":"Order Completed","property":"properties.total"})",
       R"({"name":"ltv","kind":"lifetime_value","event":"Order Completed","property":"properties.total"})"});
  EXPECT_EQ(Value("orders"), "0");
  EXPECT_EQ(Value("revenue"), std::nullopt) << "no numeric value yet";
  EXPECT_EQ(Value("average"), std::nullopt);
  EXPECT_EQ(Value("smallest"), std::nullopt);
  EXPECT_EQ(Value("ltv"), std::nullopt);

  Track("Order Completed", DaysBefore(kNow, 40), R"({"total":100})");
  Track("Order Completed", DaysBefore(kNow, 20), R"({"total":"12.50"})");
  Track("Order Completed", DaysBefore(kNow, 10), R"({"total":1})");
  Track("Order Completed", DaysBefore(kNow, 5), R"({"total":"n/a"})");
  Track("Order Refunded", DaysBefore(kNow, 4), R"({"total":1000})");
  EXPECT_EQ(Value("orders"), "4");
  EXPECT_EQ(Value("orders_30d"), "3");
  EXPECT_EQ(Value("revenue"), "113.5");
  EXPECT_EQ(Value("revenue_30d"), "13.5");
  EXPECT_EQ(Value("average"), "37.833333333333336") << "over the 3 numeric values";
  EXPECT_EQ(Value("smallest"), "1");
  EXPECT_EQ(Value("largest"), "100");
  EXPECT_EQ(Value("ltv"), "113.5");
  EXPECT_EQ(Value("orders_30d", kNow + hours(24 * 30)), "0") << "all have left the window";
  EXPECT_TRUE(HasCurrentAggregates(definitions_, profile_));
}

TEST_F(EvaluationTest, FirstLastAndLastChannel) {
  Define(
      {R"({"name":"first_source","kind":"first","property":"context.campaign"})",
       R"({"name":"first_sku","kind":"first","event":"Viewed","property":"properties.sku"})",
       R"({"name":"last_sku","kind":"last","event":"Viewed","property":"properties.sku"})",
       R"({"name":"last_sku_1d","kind":"last","event":"Viewed","property":"properties.sku","window":"1d"})",
       R"({"name":"channel","kind":"last_channel"})"});
  EXPECT_EQ(Value("first_sku"), std::nullopt);
  EXPECT_EQ(Value("channel"), std::nullopt);
  Track("Viewed", kNow - 50h, R"({"sku":"A-1"})", "web");
  Track("Viewed", kNow - 40h, R"({"sku":{"id":7}})", "app");
  Track("Viewed", kNow - 30h, R"({"color":"red"})", "email");
  EXPECT_EQ(Value("first_source"), R"({"source":"newsletter"})");
  EXPECT_EQ(Value("first_sku"), R"("A-1")");
  EXPECT_EQ(Value("last_sku"), R"({"id":7})") << "the last event without the property does not erase it";
  EXPECT_EQ(Value("last_sku_1d"), std::nullopt) << "no value within the last day";
  EXPECT_EQ(Value("channel"), R"("email")");
  profile_.TouchChannel("app", kNow - 30h);
  EXPECT_EQ(Value("channel"), R"("app")") << "a tie goes to the first name";

  DefineAudience(R"({"computed":"first_source.source","value":"newsletter"})");
  EXPECT_TRUE(Member("a"));
}

TEST_F(EvaluationTest, DaysSinceCountsCalendarDaysInTheZone) {
  Define({R"({"name":"since_utc","kind":"days_since","event":"Order Completed"})",
          R"({"name":"since_seoul","kind":"days_since","event":"Order Completed","timeZone":"Asia/Seoul"})"});
  EXPECT_EQ(Value("since_utc"), std::nullopt) << "no event";
  // 14:30 UTC is 23:30 in Seoul; an hour later it is past midnight there.
  const Timestamp order = Timestamp(std::chrono::sys_days{std::chrono::year{2024} / 3 / 9}) + 14h + 30min;
  Track("Order Completed", order);
  EXPECT_EQ(Value("since_utc", order + 1h), "0");
  EXPECT_EQ(Value("since_seoul", order + 1h), "1");
  EXPECT_EQ(Value("since_seoul", order + 20min), "0");
  EXPECT_EQ(Value("since_utc", order + hours(24 * 9) - 1h), "9");
  EXPECT_EQ(Value("since_utc", order - 48h), "0") << "never negative";
}

TEST_F(EvaluationTest, ChurnRisk) {
  Define({R"({"name":"churn","kind":"churn_risk","event":"Order Completed"})",
          R"({"name":"churn_14","kind":"churn_risk","event":"Order Completed","priorIntervalDays":14})"});
  EXPECT_EQ(Value("churn"), std::nullopt) << "no events";
  const Timestamp first = DaysBefore(kNow, 30);
  Track("Order Completed", first);
  // One event: the prior interval. 15 days / 30 = 0.5 -> 1 - e^-0.5 = 0.3935.
  EXPECT_EQ(Value("churn", first + hours(24 * 15)), "0.393");
  EXPECT_EQ(Value("churn_14", first + hours(24 * 7)), "0.393");
  EXPECT_EQ(Value("churn", first), "0");
  // Three events 10 days apart: interval 10 days; 10 days after the last, 1 - e^-1 = 0.6321.
  Track("Order Completed", first + hours(24 * 10));
  Track("Order Completed", first + hours(24 * 20));
  EXPECT_EQ(Value("churn", first + hours(24 * 30)), "0.632");
  EXPECT_EQ(Value("churn", first + hours(24 * 20) + 12h), "0.049");  // 1 - e^-0.05
  EXPECT_EQ(Value("churn", first + hours(24 * 1000)), "1");
  EXPECT_EQ(Value("churn", first + hours(24 * 10)), "0") << "never negative";

  DefineAudience(R"({"computed":"churn","op":"gt","value":0.5})");
  EXPECT_TRUE(Member("a", first + hours(24 * 30)));
  EXPECT_FALSE(Member("a", first + hours(24 * 21)));
}

TEST_F(EvaluationTest, RfmScores) {
  Define(
      {R"({"name":"rfm","kind":"rfm","event":"Order Completed","property":"properties.total","window":"365d"})"});
  Track("Order Completed", DaysBefore(kNow, 400), R"({"total":5000})");  // Outside the window.
  Track("Order Completed", DaysBefore(kNow, 60), R"({"total":100})");
  Track("Order Completed", DaysBefore(kNow, 30), R"({"total":150})");
  Track("Order Completed", DaysBefore(kNow, 5), R"({"total":60})");

  const ComputedTrait& trait = *definitions_.FindComputed("rfm");
  const std::optional<RfmInputs> inputs = RfmInputsOf(trait, profile_, kNow);
  ASSERT_TRUE(inputs.has_value());
  EXPECT_DOUBLE_EQ(inputs->recency_days, 5);
  EXPECT_DOUBLE_EQ(inputs->frequency, 3);
  EXPECT_DOUBLE_EQ(inputs->monetary, 310);
  EXPECT_FALSE(RfmInputsOf(trait, profile_, kNow + hours(24 * 400)).has_value()) << "nothing in the window";

  EXPECT_EQ(Value("rfm"), std::nullopt) << "no cut points before the first sweep";
  RfmCutPoints cut_points;
  cut_points.recency_days = {10, 20, 30, 40};
  cut_points.frequency = {1, 2, 3, 4};
  cut_points.monetary = {50, 100, 200, 400};
  figures_.rfm["rfm"] = cut_points;
  // Recency 5: four cut points above -> 5. Frequency 3: two below (3 is not) -> 3. Monetary 310: three -> 4.
  EXPECT_EQ(Value("rfm"), R"({"recency":5,"frequency":3,"monetary":4,"score":"534"})");
  // 45 days later: recency 50 -> 1; the order 60 days before now is still in the window.
  EXPECT_EQ(Value("rfm", kNow + hours(24 * 45)), R"({"recency":1,"frequency":3,"monetary":4,"score":"134"})");
  EXPECT_EQ(Value("rfm", kNow + hours(24 * 400)), std::nullopt);

  DefineAudience(
      R"({"all":[{"computed":"rfm.recency","op":"gte","value":4},{"computed":"rfm.score","value":"534"}]})");
  EXPECT_TRUE(Member("a"));
  EXPECT_FALSE(Member("a", kNow + hours(24 * 45)));
  figures_.rfm.clear();
  EXPECT_FALSE(Member("a")) << "without cut points the score is missing";
}

TEST_F(EvaluationTest, PurchaseFiguresReadThePurchaseDaysAndTheSpacesModel) {
  definitions_.computed = DefinitionSet::BuiltInTraits();
  Define({R"({"name":"clv_30d","kind":"predicted_clv","horizonDays":30})"});
  // CDNOW's customer 1 (x = 2, t_x = 30.43 weeks, T = 38.86 weeks at kNow) and the published model.
  const int32_t today = LocalDay(std::nullopt, kNow);
  profile_.purchases.Add(today - 272, 29.33);
  profile_.purchases.Add(today - 272 + 17, 29.73);
  profile_.purchases.Add(today - 59, 14.96);
  EXPECT_EQ(Value("p_alive"), std::nullopt) << "no model before the sweep's first fit";

  auto state = std::make_shared<PurchaseModelState>();
  state->model.bg_nbd = {.r = 0.242594, .alpha = 4.413603, .a = 0.792919, .b = 2.425907};
  state->model.gamma_gamma = {.p = 6.249572, .q = 3.744222, .gamma = 15.443520};
  state->monthly_discount_rate = 0.01;
  figures_.purchase_model = state;
  const absl::StatusOr<prediction::CalibrationSummary> summary = SummarizePurchaseDays(profile_.purchases, today);
  ASSERT_TRUE(summary.ok()) << summary.status();
  EXPECT_EQ(summary->repeat_transactions, 2);
  const double p_alive = *prediction::ProbabilityAlive(state->model.bg_nbd, *summary);
  const double purchases_90d = *prediction::ExpectedPurchases(state->model.bg_nbd, *summary, prediction::Weeks(90 / 7.0));
  ASSERT_TRUE(Value("p_alive").has_value());
  EXPECT_NEAR(std::stod(*Value("p_alive")), p_alive, 1e-9);
  EXPECT_NEAR(std::stod(*Value("expected_purchases_90d")), purchases_90d, 1e-9);
  const absl::StatusOr<prediction::CustomerPrediction> year = prediction::PredictCustomer(
      state->model, *summary, {.horizon = prediction::Weeks(365 / 7.0), .monthly_discount_rate = 0.01});
  ASSERT_TRUE(year.ok()) << year.status();
  EXPECT_NEAR(std::stod(*Value("predicted_clv_365d")), year->clv, 1e-6);
  EXPECT_LT(std::stod(*Value("clv_30d")), year->clv);
  // Time passes without a purchase: less likely alive.
  EXPECT_LT(std::stod(*Value("p_alive", kNow + hours(24 * 365))), p_alive);

  DefineAudience(R"({"all":[{"computed":"p_alive","op":"lt","value":0.99},)"
                 R"({"computed":"predicted_clv_365d","op":"gt","value":1}]})");
  EXPECT_TRUE(Member("a"));
  figures_.purchase_model = nullptr;
  EXPECT_FALSE(Member("a")) << "without a model the figures are missing";
  profile_.purchases = {};
  figures_.purchase_model = state;
  EXPECT_EQ(Value("p_alive"), std::nullopt) << "someone who never bought has no figures";
}

TEST(QuintileCutPointsTest, NearestRank) {
  std::vector<double> ten = {7, 3, 10, 1, 9, 2, 8, 4, 6, 5};
  EXPECT_EQ(QuintileCutPoints(ten), (std::vector<double>{2, 4, 6, 8}));
  std::vector<double> five = {5, 1, 4, 2, 3};
  EXPECT_EQ(QuintileCutPoints(five), (std::vector<double>{1, 2, 3, 4}));
  std::vector<double> three = {3, 1, 2};
  EXPECT_EQ(QuintileCutPoints(three), (std::vector<double>{1, 2, 2, 3}));
  std::vector<double> one = {7};
  EXPECT_EQ(QuintileCutPoints(one), (std::vector<double>{7, 7, 7, 7}));
  std::vector<double> none;
  EXPECT_TRUE(QuintileCutPoints(none).empty());
  std::vector<double> hundred;
  for (int i = 100; i >= 1; --i) hundred.push_back(i);
  EXPECT_EQ(QuintileCutPoints(hundred), (std::vector<double>{20, 40, 60, 80}));
}

TEST_F(EvaluationTest, ComputedConditionsOnMissingValues) {
  Define({R"({"name":"revenue","kind":"sum","event":"Order Completed","property":"properties.total"})",
          R"({"name":"orders","kind":"count","event":"Order Completed"})"},
         {{"big", R"({"condition":{"computed":"revenue","op":"gte","value":100}})"},
          {"not_zero", R"({"condition":{"computed":"revenue","op":"ne","value":0}})"},
          {"no_revenue", R"({"condition":{"computed":"revenue","op":"missing"}})"},
          {"no_orders", R"({"condition":{"computed":"orders","op":"eq","value":0}})"}});
  EXPECT_FALSE(Member("big"));
  EXPECT_FALSE(Member("not_zero")) << "ne does not hold on a missing value";
  EXPECT_TRUE(Member("no_revenue"));
  EXPECT_TRUE(Member("no_orders")) << "a count is 0, not missing";
  Track("Order Completed", kNow - 1h, R"({"total":120})");
  EXPECT_TRUE(Member("big"));
  EXPECT_TRUE(Member("not_zero"));
  EXPECT_FALSE(Member("no_revenue"));
  EXPECT_FALSE(Member("no_orders"));
}

// ----- Values of events and aggregates -----

TEST(ValueAtTest, ReadsNumbersStringsAndJson) {
  EventFacts event;
  event.properties = R"({"total":12.5,"price":"12.50","name":"Shoe","count":3,"ok":true,"none":null,)"
                     R"("items":[1,2],"nested":{"deep":{"n":-4}},"neg":"-3","bad":"1e3","dots":"1.2.3"})";
  event.context = R"({"campaign":{"source":"ads"}})";
  event.traits = "";

  auto total = ValueAt(event, "properties.total");
  EXPECT_EQ(total.number, 12.5);
  EXPECT_EQ(total.json, "12.5");
  auto price = ValueAt(event, "properties.price");
  EXPECT_EQ(price.number, 12.5) << "a string holding a decimal number is a number";
  EXPECT_EQ(price.json, R"("12.50")");
  EXPECT_EQ(ValueAt(event, "properties.neg").number, -3);
  auto name = ValueAt(event, "properties.name");
  EXPECT_FALSE(name.number.has_value());
  EXPECT_EQ(name.json, R"("Shoe")");
  EXPECT_FALSE(ValueAt(event, "properties.bad").number.has_value());
  EXPECT_FALSE(ValueAt(event, "properties.dots").number.has_value());
  EXPECT_EQ(ValueAt(event, "properties.count").json, "3");
  auto ok = ValueAt(event, "properties.ok");
  EXPECT_FALSE(ok.number.has_value());
  EXPECT_EQ(ok.json, "true");
  EXPECT_EQ(ValueAt(event, "properties.none").json, "") << "null is no value";
  EXPECT_EQ(ValueAt(event, "properties.items").json, "[1,2]");
  EXPECT_EQ(ValueAt(event, "properties.nested").json, R"({"deep":{"n":-4}})");
  EXPECT_EQ(ValueAt(event, "properties.nested.deep.n").number, -4);
  EXPECT_EQ(ValueAt(event, "context.campaign.source").json, R"("ads")");
  EXPECT_EQ(ValueAt(event, "properties.missing").json, "");
  EXPECT_EQ(ValueAt(event, "properties.name.first").json, "") << "a string has no members";
  EXPECT_EQ(ValueAt(event, "traits.plan").json, "") << "no traits";
  EXPECT_EQ(ValueAt(event, "other.total").json, "");
}

TEST(MatchesTest, EmptyFieldsMatchAnything) {
  EventFilter any;
  EXPECT_TRUE(Matches(any, "page", "", "web"));
  EventFilter orders;
  orders.type = "track";
  orders.event = "Order Completed";
  EXPECT_TRUE(Matches(orders, "track", "Order Completed", "app"));
  EXPECT_FALSE(Matches(orders, "track", "Order Refunded", "app"));
  EXPECT_FALSE(Matches(orders, "page", "Order Completed", "app"));
  orders.channel = "web";
  EXPECT_FALSE(Matches(orders, "track", "Order Completed", "app"));
  EXPECT_TRUE(Matches(orders, "track", "Order Completed", "web"));
}

TEST_F(EvaluationTest, AddEventFeedsOnlyMatchingAggregates) {
  Define({R"({"name":"orders","kind":"count","event":"Order Completed"})",
          R"({"name":"pages","kind":"count","type":"page"})",
          R"({"name":"web","kind":"count","channel":"web"})"});
  ASSERT_TRUE(HasCurrentAggregates(definitions_, profile_));
  Track("Order Completed", kNow - 1h, "{}", "app");
  Event("page", "", kNow - 1h, "{}", "web");
  Track("Signed Up", kNow - 1h, "{}", "web");
  EXPECT_EQ(Value("orders"), "1");
  EXPECT_EQ(Value("pages"), "1");
  EXPECT_EQ(Value("web"), "2");
  EXPECT_TRUE(HasCurrentAggregates(definitions_, profile_));

  Profile missing_one = profile_;
  missing_one.aggregates.erase(missing_one.aggregates.begin());
  EXPECT_FALSE(HasCurrentAggregates(definitions_, missing_one));
  Profile extra = profile_;
  extra.aggregates.try_emplace("0000000000000000");
  EXPECT_FALSE(HasCurrentAggregates(definitions_, extra));

  // An aggregate the profile lacks is created on the first matching event.
  Profile fresh;
  EventFacts facts;
  facts.type = "track";
  facts.event = "Order Completed";
  facts.channel = "web";
  facts.time = kNow;
  facts.sequence = 1;
  AddEvent(definitions_, facts, fresh);
  EXPECT_EQ(fresh.aggregates.size(), 2u) << "orders and web";
}

}  // namespace
}  // namespace tessera::audiences
