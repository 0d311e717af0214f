#include "audiences/definitions.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

namespace tessera::audiences {
namespace {

using std::chrono::hours;
using std::chrono::microseconds;
using std::chrono::minutes;
using namespace std::chrono_literals;

using ComputedList = std::vector<std::shared_ptr<const ComputedTrait>>;

std::shared_ptr<const ComputedTrait> MustParseComputed(std::string_view json) {
  auto parsed = ParseComputedTrait(json);
  if (!parsed.ok()) {
    ADD_FAILURE() << "ParseComputedTrait(" << json << "): " << parsed.status();
    return std::make_shared<const ComputedTrait>();
  }
  return std::make_shared<const ComputedTrait>(*std::move(parsed));
}

std::string ComputedError(std::string_view json, std::string_view url_name = {}) {
  auto parsed = ParseComputedTrait(json, url_name);
  if (parsed.ok()) return "(parsed without error)";
  EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument);
  return std::string(parsed.status().message());
}

std::string AudienceError(std::string_view json, const ComputedList& computed = {}) {
  auto parsed = ParseAudience("aud", json, computed);
  if (parsed.ok()) return "(parsed without error)";
  EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument);
  return std::string(parsed.status().message());
}

// ----- Computed traits -----

TEST(ParseComputedTraitTest, CountWithWindow) {
  auto trait = ParseComputedTrait(
      R"( { "name": "orders_90d", "kind": "count", "event": "Order Completed", "window": "90d" } )");
  ASSERT_TRUE(trait.ok()) << trait.status();
  EXPECT_EQ(trait->name, "orders_90d");
  EXPECT_EQ(trait->kind, ComputedKind::kCount);
  EXPECT_EQ(trait->spec.filter.event, "Order Completed");
  EXPECT_EQ(trait->spec.filter.type, "track") << "an event name implies a track event";
  EXPECT_EQ(trait->spec.filter.channel, "");
  EXPECT_EQ(trait->spec.property, "");
  EXPECT_EQ(trait->spec.retention, microseconds(hours(24 * 90)));
  EXPECT_FALSE(trait->spec.keep_json);
  EXPECT_EQ(trait->window.length, microseconds(hours(24 * 90)));
  EXPECT_FALSE(trait->window.calendar_zone.has_value());
  EXPECT_FALSE(trait->window.lifetime());
  EXPECT_EQ(trait->source_json,
            R"({"name":"orders_90d","kind":"count","event":"Order Completed","window":"90d"})");
}

TEST(ParseComputedTraitTest, WindowUnits) {
  EXPECT_EQ(MustParseComputed(R"({"name":"a","kind":"count","window":"36h"})")->window.length,
            microseconds(36h));
  EXPECT_EQ(MustParseComputed(R"({"name":"a","kind":"count","window":"15m"})")->window.length,
            microseconds(15min));
  EXPECT_EQ(MustParseComputed(R"({"name":"a","kind":"count","window":"15m"})")->spec.retention,
            microseconds(15min));
  EXPECT_TRUE(MustParseComputed(R"({"name":"a","kind":"count"})")->window.lifetime());
  EXPECT_EQ(MustParseComputed(R"({"name":"a","kind":"count"})")->spec.retention, microseconds(0));
}

TEST(ParseComputedTraitTest, CalendarWindowRetainsOneDayMore) {
  auto trait = MustParseComputed(
      R"({"name":"week","kind":"sum","event":"Order Completed","property":"properties.total",)"
      R"("window":{"days":7,"timeZone":"Europe/Berlin"}})");
  ASSERT_TRUE(trait->window.calendar_zone.has_value());
  EXPECT_EQ(trait->window.calendar_zone->name(), "Europe/Berlin");
  EXPECT_EQ(trait->window.calendar_days, 7);
  EXPECT_FALSE(trait->window.lifetime());
  EXPECT_EQ(trait->spec.retention, microseconds(hours(24 * 8)));
  EXPECT_EQ(trait->spec.property, "properties.total");

  auto utc = MustParseComputed(R"({"name":"today","kind":"count","window":{"days":1}})");
  ASSERT_TRUE(utc->window.calendar_zone.has_value()) << "timeZone defaults to UTC";
  EXPECT_EQ(utc->window.calendar_days, 1);
}

TEST(ParseComputedTraitTest, NameFromUrl) {
  auto from_url = ParseComputedTrait(R"({"kind":"count"})", "orders");
  ASSERT_TRUE(from_url.ok()) << from_url.status();
  EXPECT_EQ(from_url->name, "orders");
  auto both = ParseComputedTrait(R"({"name":"orders","kind":"count"})", "orders");
  ASSERT_TRUE(both.ok()) << both.status();
  EXPECT_EQ(ComputedError(R"({"name":"orders","kind":"count"})", "sales"),
            R"(name: "orders" does not match "sales" from the URL)");
  EXPECT_EQ(ComputedError(R"({"kind":"count"})"), "name: required");
  EXPECT_EQ(ComputedError(R"({"name":"bad name","kind":"count"})"),
            R"(name: "bad name": expected 1 to 64 of A-Z, a-z, 0-9 and _)");
  EXPECT_EQ(ComputedError(R"({"name":")" + std::string(65, 'a') + R"(","kind":"count"})").substr(0, 6),
            "name: ");
}

TEST(ParseComputedTraitTest, KindsAndTheirSpecs) {
  auto first = MustParseComputed(
      R"({"name":"f","kind":"first","event":"Signed Up","property":"context.campaign.source"})");
  EXPECT_TRUE(first->spec.keep_json);
  EXPECT_EQ(first->spec.property, "context.campaign.source");
  auto last = MustParseComputed(R"({"name":"l","kind":"last","property":"traits.plan","window":"30d"})");
  EXPECT_TRUE(last->spec.keep_json);
  EXPECT_EQ(last->spec.retention, microseconds(hours(24 * 30)));

  auto days = MustParseComputed(
      R"({"name":"d","kind":"days_since","event":"Order Completed","timeZone":"Asia/Seoul"})");
  EXPECT_EQ(days->kind, ComputedKind::kDaysSince);
  ASSERT_TRUE(days->time_zone.has_value());
  EXPECT_EQ(days->time_zone->name(), "Asia/Seoul");
  EXPECT_EQ(days->spec.retention, microseconds(0)) << "days_since needs lifetime figures only";

  auto churn = MustParseComputed(
      R"({"name":"c","kind":"churn_risk","event":"Order Completed","priorIntervalDays":14})");
  EXPECT_EQ(churn->prior_interval_days, 14);
  EXPECT_EQ(churn->spec.retention, microseconds(0));
  EXPECT_EQ(MustParseComputed(R"({"name":"c","kind":"churn_risk"})")->prior_interval_days, 30);

  auto ltv = MustParseComputed(
      R"({"name":"v","kind":"lifetime_value","event":"Order Completed","property":"properties.total"})");
  EXPECT_EQ(ltv->spec.retention, microseconds(0));

  auto rfm = MustParseComputed(
      R"({"name":"r","kind":"rfm","event":"Order Completed","property":"properties.total","window":"365d"})");
  EXPECT_EQ(rfm->spec.retention, microseconds(hours(24 * 365)));
  auto rfm_lifetime = MustParseComputed(R"({"name":"r","kind":"rfm","property":"properties.total"})");
  EXPECT_EQ(rfm_lifetime->spec.retention, microseconds(0));

  auto channel = MustParseComputed(R"({"name":"lc","kind":"last_channel"})");
  EXPECT_EQ(channel->kind, ComputedKind::kLastChannel);
  EXPECT_EQ(channel->spec, AggregateSpec());

  auto page = MustParseComputed(R"({"name":"p","kind":"count","type":"page","channel":"web"})");
  EXPECT_EQ(page->spec.filter.type, "page");
  EXPECT_EQ(page->spec.filter.channel, "web");
  EXPECT_EQ(page->spec.filter.event, "");
}

TEST(ParseComputedTraitTest, ErrorsNameTheMember) {
  EXPECT_EQ(
      ComputedError(R"({"name":"a","kind":"avg"})"),
      R"(kind: "avg" is not one of count, sum, average, min, max, first, last, last_channel, days_since, rfm, )"
      R"(lifetime_value, churn_risk, p_alive, expected_purchases, predicted_clv, open_tickets, last_contact_at, )"
      R"(csat_average, service_contacts)");
  EXPECT_EQ(ComputedError(R"({"name":"a"})"), "kind: required");
  EXPECT_EQ(ComputedError(R"({"name":"a","kind":3})"), "kind: expected a non-empty string, got the number 3");
  EXPECT_EQ(ComputedError(R"({"name":"a","kind":"count","window":"90x"})"),
            R"(window: "90x": expected a number followed by d, h or m)");
  EXPECT_EQ(ComputedError(R"({"name":"a","kind":"count","window":"d"})"),
            R"(window: "d": expected a number followed by d, h or m)");
  EXPECT_EQ(ComputedError(R"({"name":"a","kind":"count","window":"-3d"})"),
            R"(window: "-3d": expected a number followed by d, h or m)");
  EXPECT_EQ(ComputedError(R"({"name":"a","kind":"count","window":"0d"})"),
            R"(window: "0d": expected 1 to 3660 days)");
  EXPECT_EQ(ComputedError(R"({"name":"a","kind":"count","window":"99999999999999999999d"})"),
            R"(window: "99999999999999999999d": expected a number followed by d, h or m)");
  EXPECT_EQ(
      ComputedError(R"({"name":"a","kind":"count","window":30})"),
      R"(window: expected a string like "30d" or an object {"days":N,"timeZone":"..."}, got the number 30)");
  EXPECT_EQ(ComputedError(R"({"name":"a","kind":"count","window":{"days":7,"timeZone":"Mars/Olympus"}})"),
            R"(window.timeZone: "Mars/Olympus" is not a known time zone)");
  EXPECT_EQ(ComputedError(R"({"name":"a","kind":"count","window":{"days":0}})"),
            "window.days: expected an integer from 1 to 3660, got the number 0");
  EXPECT_EQ(ComputedError(R"({"name":"a","kind":"count","window":{"timeZone":"UTC"}})"),
            "window.days: required");
  EXPECT_EQ(ComputedError(R"({"name":"a","kind":"count","window":{"days":1,"zone":"UTC"}})"),
            "window.zone: unknown member (expected one of days, timeZone)");
  EXPECT_EQ(
      ComputedError(R"({"name":"a","kind":"count","windw":"30d"})"),
      "windw: unknown member (expected one of name, kind, event, type, channel, property, window, timeZone, "
      "priorIntervalDays, horizonDays)");
  EXPECT_EQ(ComputedError(R"({"name":"a","kind":"count","kind":"sum"})"), "kind: duplicate member");
  EXPECT_EQ(ComputedError(R"({"name":"a","kind":"sum","event":"Order Completed"})"),
            R"(property: required for kind "sum")");
  EXPECT_EQ(ComputedError(R"({"name":"a","kind":"count","property":"properties.total"})"),
            R"(property: not used by kind "count")");
  EXPECT_EQ(ComputedError(R"({"name":"a","kind":"sum","property":"total"})"),
            R"(property: "total": expected a dotted path starting with properties., traits. or context. )"
            R"((e.g. "properties.total"))");
  EXPECT_EQ(ComputedError(R"({"name":"a","kind":"sum","property":"properties..total"})").substr(0, 30),
            R"(property: "properties..total":)");
  EXPECT_EQ(ComputedError(R"({"name":"a","kind":"last_channel","event":"Order Completed"})"),
            R"(event: not used by kind "last_channel")");
  EXPECT_EQ(ComputedError(R"({"name":"a","kind":"last_channel","window":"7d"})"),
            R"(window: not used by kind "last_channel")");
  EXPECT_EQ(
      ComputedError(R"({"name":"a","kind":"lifetime_value","property":"properties.total","window":"7d"})"),
      R"(window: not used by kind "lifetime_value")");
  EXPECT_EQ(ComputedError(R"({"name":"a","kind":"days_since","window":"7d"})"),
            R"(window: not used by kind "days_since")");
  EXPECT_EQ(ComputedError(R"({"name":"a","kind":"count","timeZone":"UTC"})"),
            R"(timeZone: not used by kind "count")");
  EXPECT_EQ(ComputedError(R"({"name":"a","kind":"days_since","timeZone":"Nowhere/Land"})"),
            R"(timeZone: "Nowhere/Land" is not a known time zone)");
  EXPECT_EQ(ComputedError(R"({"name":"a","kind":"churn_risk","priorIntervalDays":0})"),
            "priorIntervalDays: expected a number of days above 0 and at most 3660, got the number 0");
  EXPECT_EQ(ComputedError(R"({"name":"a","kind":"count","priorIntervalDays":3})"),
            R"(priorIntervalDays: not used by kind "count")");
  EXPECT_EQ(ComputedError(R"({"name":"a","kind":"expected_purchases","horizonDays":0})"),
            "horizonDays: expected a whole number of days from 1 to 3650, got the number 0");
  EXPECT_EQ(ComputedError(R"({"name":"a","kind":"predicted_clv","horizonDays":"90"})"),
            R"(horizonDays: expected a whole number of days from 1 to 3650, got the string "90")");
  EXPECT_EQ(ComputedError(R"({"name":"a","kind":"p_alive","horizonDays":90})"),
            R"(horizonDays: not used by kind "p_alive")");
  EXPECT_EQ(ComputedError(R"({"name":"a","kind":"p_alive","event":"Order Completed"})"),
            R"(event: not used by kind "p_alive")");
  // The service kinds read the service history, not events: filters would mean nothing.
  EXPECT_EQ(ComputedError(R"({"name":"a","kind":"open_tickets","channel":"service"})"),
            R"(channel: not used by kind "open_tickets")");
  EXPECT_EQ(ComputedError(R"({"name":"a","kind":"last_contact_at","window":"7d"})"),
            R"(window: not used by kind "last_contact_at")");
  EXPECT_EQ(ComputedError(R"({"name":"a","kind":"csat_average","property":"properties.csat"})"),
            R"(property: not used by kind "csat_average")");
  EXPECT_EQ(ComputedError(R"({"name":"a","kind":"service_contacts","window":"7 days"})").substr(0, 7), "window:");
  EXPECT_EQ(ComputedError(R"({"name":"a","kind":"count","type":"click"})"),
            R"(type: "click" is not one of track, identify, page, screen, group, alias)");
  EXPECT_EQ(
      ComputedError(R"({"name":"a","kind":"count","type":"page","event":"Order Completed"})"),
      R"(type: only track events have an event name; "page" cannot be combined with event "Order Completed")");
  EXPECT_EQ(ComputedError(R"({"name":"a","kind":"count","channel":""})"),
            R"(channel: expected a non-empty string, got the string "")");
  EXPECT_EQ(ComputedError(R"([1,2])"), "expected a JSON object at the top level, got an array");
  EXPECT_EQ(ComputedError(R"({"name":"a",)").substr(0, 15), "not valid JSON ");
}

// ----- Specs and windows -----

TEST(AggregateSpecTest, KeyIsSixteenHexDigitsAndDistinguishesEveryField) {
  AggregateSpec base;
  base.filter.type = "track";
  base.filter.event = "Order Completed";
  base.property = "properties.total";
  base.retention = hours(24 * 30);
  const std::string key = base.Key();
  ASSERT_EQ(key.size(), 16u);
  for (char c : key) EXPECT_TRUE((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')) << key;
  EXPECT_EQ(base.Key(), AggregateSpec(base).Key()) << "the key is a function of the spec";

  std::vector<AggregateSpec> variants(6, base);
  variants[0].filter.type = "page";
  variants[1].filter.event = "Order Refunded";
  variants[2].filter.channel = "web";
  variants[3].property = "properties.tax";
  variants[4].retention = hours(24 * 31);
  variants[5].keep_json = true;
  for (const AggregateSpec& variant : variants) EXPECT_NE(variant.Key(), key);

  // Moving text between fields must not give the same canonical text.
  AggregateSpec a;
  a.filter.event = "ab";
  AggregateSpec b;
  b.filter.event = "a";
  b.filter.channel = "b";
  EXPECT_NE(a.Key(), b.Key());
}

TEST(WindowTest, StartOfDurationAndCalendarWindows) {
  const base::Timestamp now = std::chrono::sys_days{std::chrono::year{2024} / 3 / 10} + 10h;
  Window lifetime;
  EXPECT_TRUE(lifetime.lifetime());
  Window thirty;
  thirty.length = hours(24 * 30);
  EXPECT_EQ(thirty.Start(now), now - hours(24 * 30));

  Window today_utc;
  today_utc.calendar_zone = base::TimeZone::Parse("UTC");
  today_utc.calendar_days = 1;
  today_utc.length = hours(24);
  ASSERT_TRUE(today_utc.calendar_zone.has_value());
  EXPECT_EQ(today_utc.Start(now), base::Timestamp(std::chrono::sys_days{std::chrono::year{2024} / 3 / 10}));
  Window week_seoul = today_utc;
  week_seoul.calendar_zone = base::TimeZone::Parse("Asia/Seoul");
  week_seoul.calendar_days = 7;
  ASSERT_TRUE(week_seoul.calendar_zone.has_value());
  // 10:00 UTC is 19:00 in Seoul on March 10th; six days earlier is March 4th, 00:00 KST = March 3rd 15:00
  // UTC.
  EXPECT_EQ(week_seoul.Start(now),
            base::Timestamp(std::chrono::sys_days{std::chrono::year{2024} / 3 / 3} + 15h));
}

// ----- Audiences -----

class ParseAudienceTest : public ::testing::Test {
 protected:
  ComputedList computed_ = {
      MustParseComputed(R"({"name":"orders_90d","kind":"count","event":"Order Completed","window":"90d"})"),
      MustParseComputed(R"({"name":"orders","kind":"count","event":"Order Completed"})"),
      MustParseComputed(
          R"({"name":"rfm","kind":"rfm","event":"Order Completed","property":"properties.total"})"),
      MustParseComputed(R"({"name":"first_source","kind":"first","property":"context.campaign"})"),
      MustParseComputed(R"({"name":"since_order","kind":"days_since","event":"Order Completed"})"),
      MustParseComputed(R"({"name":"churn","kind":"churn_risk","event":"Order Completed"})"),
      MustParseComputed(R"({"name":"last_channel","kind":"last_channel"})"),
  };

  std::string Error(std::string_view json) { return AudienceError(json, computed_); }
  Audience Parse(std::string_view json) {
    auto audience = ParseAudience("aud", json, computed_);
    if (!audience.ok()) {
      ADD_FAILURE() << json << ": " << audience.status();
      return Audience();
    }
    return *std::move(audience);
  }
};

TEST_F(ParseAudienceTest, LapsedButEngaged) {
  const Audience audience = Parse(R"({"description":"no purchase for 90+ days but opened an email this week",
      "condition":{"all":[{"not":{"event":"Order Completed","window":"90d"}},{"event":"Email Opened","window":"7d"}]}})");
  EXPECT_EQ(audience.name, "aud");
  EXPECT_EQ(audience.description, "no purchase for 90+ days but opened an email this week");
  EXPECT_TRUE(audience.time_dependent);
  ASSERT_NE(audience.condition, nullptr);
  const Condition& all = *audience.condition;
  EXPECT_EQ(all.kind, Condition::Kind::kAll);
  ASSERT_EQ(all.children.size(), 2u);
  const Condition& negation = *all.children[0];
  EXPECT_EQ(negation.kind, Condition::Kind::kNot);
  ASSERT_EQ(negation.children.size(), 1u);
  const Condition& purchases = *negation.children[0];
  EXPECT_EQ(purchases.kind, Condition::Kind::kEvent);
  EXPECT_EQ(purchases.spec.filter.event, "Order Completed");
  EXPECT_EQ(purchases.spec.filter.type, "track");
  EXPECT_EQ(purchases.spec.retention, microseconds(hours(24 * 90)));
  EXPECT_EQ(purchases.spec.property, "");
  EXPECT_FALSE(purchases.spec.keep_json);
  EXPECT_EQ(purchases.window.length, microseconds(hours(24 * 90)));
  EXPECT_EQ(purchases.op, Operator::kGte) << "an event condition defaults to at least one event";
  EXPECT_EQ(purchases.value_json, "1");
  const Condition& opened = *all.children[1];
  EXPECT_EQ(opened.spec.filter.event, "Email Opened");
  EXPECT_EQ(opened.window.length, microseconds(hours(24 * 7)));
  EXPECT_EQ(audience.source_json.find('\n'), std::string::npos)
      << "source_json is minified: " << audience.source_json;
  EXPECT_NE(
      audience.source_json.find(R"("condition":{"all":[{"not":{"event":"Order Completed","window":"90d"}})"),
      std::string::npos)
      << audience.source_json;
}

TEST_F(ParseAudienceTest, LeafNodes) {
  Audience trait = Parse(R"({"condition":{"trait":"address.city","op":"eq","value":"Berlin"}})");
  EXPECT_EQ(trait.condition->kind, Condition::Kind::kTrait);
  EXPECT_EQ(trait.condition->name, "address");
  EXPECT_EQ(trait.condition->path, "address.city");
  EXPECT_EQ(trait.condition->op, Operator::kEq);
  EXPECT_EQ(trait.condition->value_json, R"("Berlin")");
  EXPECT_FALSE(trait.time_dependent);

  Audience in = Parse(R"({"condition":{"trait":"plan","op":"in","value":[ "pro", "team" ]}})");
  EXPECT_EQ(in.condition->op, Operator::kIn);
  EXPECT_EQ(in.condition->value_json, R"(["pro","team"])");

  EXPECT_EQ(Parse(R"({"condition":{"trait":"plan","value":"pro"}})").condition->op, Operator::kEq)
      << "a value without op means eq";
  Audience exists = Parse(R"({"condition":{"trait":"plan"}})");
  EXPECT_EQ(exists.condition->op, Operator::kExists) << "no value and no op means exists";
  EXPECT_EQ(exists.condition->value_json, "");

  Audience computed = Parse(R"({"condition":{"computed":"orders","op":"gte","value":3}})");
  EXPECT_EQ(computed.condition->kind, Condition::Kind::kComputed);
  EXPECT_EQ(computed.condition->name, "orders");
  EXPECT_EQ(computed.condition->path, "");
  EXPECT_EQ(computed.condition->value_json, "3");
  EXPECT_FALSE(computed.time_dependent) << "a lifetime count does not change with time";

  Audience rfm = Parse(R"({"condition":{"computed":"rfm.recency","op":"gte","value":4}})");
  EXPECT_EQ(rfm.condition->name, "rfm");
  EXPECT_EQ(rfm.condition->path, "recency");
  EXPECT_TRUE(rfm.time_dependent);
  EXPECT_TRUE(Parse(R"({"condition":{"computed":"first_source.source","value":"ads"}})").condition->path ==
              "source");

  Audience identifier = Parse(R"({"condition":{"identifier":"phone"}})");
  EXPECT_EQ(identifier.condition->kind, Condition::Kind::kIdentifier);
  EXPECT_EQ(identifier.condition->name, "phone");
  EXPECT_EQ(identifier.condition->op, Operator::kExists);
  EXPECT_EQ(Parse(R"({"condition":{"identifier":"phone","op":"missing"}})").condition->op,
            Operator::kMissing);

  Audience channel = Parse(R"({"condition":{"channel":"email","window":"14d"}})");
  EXPECT_EQ(channel.condition->kind, Condition::Kind::kChannel);
  EXPECT_EQ(channel.condition->name, "email");
  EXPECT_EQ(channel.condition->window.length, microseconds(hours(24 * 14)));
  EXPECT_TRUE(channel.time_dependent);
  EXPECT_FALSE(Parse(R"({"condition":{"channel":"email"}})").time_dependent);

  Audience counted = Parse(R"({"condition":{"event":"Order Completed","value":3}})");
  EXPECT_EQ(counted.condition->op, Operator::kGte);
  EXPECT_EQ(counted.condition->value_json, "3");
  EXPECT_FALSE(counted.time_dependent);
  Audience pages = Parse(R"({"condition":{"event":"","type":"page","channel":"web","op":"lt","value":2}})");
  EXPECT_EQ(pages.condition->spec.filter.type, "page");
  EXPECT_EQ(pages.condition->spec.filter.event, "");
  EXPECT_EQ(pages.condition->spec.filter.channel, "web");
  EXPECT_EQ(pages.condition->spec.retention, microseconds(0));
  EXPECT_EQ(pages.condition->op, Operator::kLt);
  EXPECT_EQ(Parse(R"({"condition":{"event":"Order Completed","op":"missing"}})").condition->op,
            Operator::kMissing);
}

TEST_F(ParseAudienceTest, TimeDependenceFollowsComputedTraits) {
  EXPECT_TRUE(Parse(R"({"condition":{"computed":"orders_90d","op":"gte","value":1}})").time_dependent);
  EXPECT_TRUE(Parse(R"({"condition":{"computed":"since_order","op":"gt","value":30}})").time_dependent);
  EXPECT_TRUE(Parse(R"({"condition":{"computed":"churn","op":"gt","value":0.5}})").time_dependent);
  EXPECT_FALSE(Parse(R"({"condition":{"computed":"last_channel","value":"email"}})").time_dependent);
  EXPECT_TRUE(Parse(R"({"condition":{"any":[{"trait":"plan"},{"not":{"event":"X","window":{"days":3}}}]}})")
                  .time_dependent);
}

TEST_F(ParseAudienceTest, ErrorsNameTheNode) {
  EXPECT_EQ(
      Error(R"({"condition":{"all":[{"trait":"plan"},{"trait":"age","op":"bigger","value":3}]}})"),
      R"(condition.all[1].op: "bigger" is not one of eq, ne, gt, gte, lt, lte, exists, missing, in, contains, )"
      R"(starts_with)");
  EXPECT_EQ(Error(R"({"condition":{"not":{"trait":"plan","valeu":"pro"}}})"),
            "condition.not.valeu: unknown member (expected one of trait, op, value)");
  EXPECT_EQ(Error(R"({"condition":{"not":{"event":7}}})"),
            "condition.not.event: expected a string, got the number 7");
  EXPECT_EQ(Error(R"({"condition":{"trait":"plan","op":"eq"}})"), R"(condition.value: required for op "eq")");
  EXPECT_EQ(Error(R"({"condition":{"event":"X","op":"eq"}})"), R"(condition.value: required for op "eq")");
  EXPECT_EQ(Error(R"({"condition":{"trait":"plan","op":"in","value":"pro"}})"),
            R"(condition.value: op "in" needs an array, got the string "pro")");
  EXPECT_EQ(Error(R"({"condition":{"trait":"plan","op":"in","value":[]}})"),
            R"(condition.value: op "in" needs a non-empty array)");
  EXPECT_EQ(Error(R"({"condition":{"trait":"plan","op":"in","value":["a",{"b":1}]}})"),
            "condition.value[1]: expected a string, number or boolean, got an object");
  EXPECT_EQ(Error(R"({"condition":{"trait":"plan","op":"gt","value":true}})"),
            "condition.value: expected a number or a string, got true");
  EXPECT_EQ(Error(R"({"condition":{"trait":"plan","op":"starts_with","value":3}})"),
            "condition.value: expected a string, got the number 3");
  EXPECT_EQ(Error(R"({"condition":{"trait":"plan","op":"eq","value":null}})"),
            "condition.value: expected a string, number or boolean, got null");
  EXPECT_EQ(Error(R"({"condition":{"trait":"plan","op":"exists","value":1}})"),
            R"(condition.value: not used with op "exists")");
  EXPECT_EQ(Error(R"({"condition":{"trait":"plan..x"}})"),
            R"(condition.trait: "plan..x": expected a trait name, with dots between members)");
  EXPECT_EQ(Error(R"({"condition":{"any":[{"computed":"nope","op":"gt","value":1}]}})"),
            R"(condition.any[0].computed: "nope" is not a defined computed trait)");
  EXPECT_EQ(
      Error(R"({"condition":{"computed":"rfm.bogus","value":1}})"),
      R"(condition.computed: "rfm.bogus": an rfm value has only recency, frequency, monetary and score)");
  EXPECT_EQ(
      Error(R"({"condition":{"computed":"orders.x","value":1}})"),
      R"(condition.computed: "orders.x": a count value has no members (only rfm, first and last values may))");
  EXPECT_EQ(Error(R"({"condition":{"all":[]}})"), "condition.all: must not be empty");
  EXPECT_EQ(Error(R"({"condition":{"any":{"trait":"plan"}}})"),
            "condition.any: expected an array of conditions, got an object");
  EXPECT_EQ(Error(R"({"condition":{"all":[{"trait":"plan"}],"op":"eq"}})"),
            "condition.op: unknown member (expected one of all)");
  EXPECT_EQ(Error(R"({"condition":{"event":"X","window":"7x"}})"),
            R"(condition.window: "7x": expected a number followed by d, h or m)");
  EXPECT_EQ(
      Error(R"({"condition":{"all":[{"channel":"email","window":{"days":2,"timeZone":"Europe/Nowhere"}}]}})"),
      R"(condition.all[0].window.timeZone: "Europe/Nowhere" is not a known time zone)");
  EXPECT_EQ(
      Error(R"({"condition":{"event":"X","op":"contains","value":1}})"),
      R"(condition.op: "contains" cannot be used here; expected one of eq, ne, gt, gte, lt, lte, in, exists, )"
      R"(missing)");
  EXPECT_EQ(Error(R"({"condition":{"event":"X","value":"3"}})"),
            R"(condition.value: expected a number, got the string "3")");
  EXPECT_EQ(
      Error(R"({"condition":{"event":"X","type":"page"}})"),
      R"(condition.type: only track events have an event name; "page" cannot be combined with event "X")");
  EXPECT_EQ(Error(R"({"condition":{"identifier":"phone","value":"x"}})"),
            "condition.value: unknown member (expected one of identifier, op)");
  EXPECT_EQ(Error(R"({"condition":{"identifier":"phone","op":"eq"}})"),
            R"(condition.op: "eq" cannot be used here; expected one of exists, missing)");
  EXPECT_EQ(Error(R"({"condition":{"channel":"email","op":"gt"}})"),
            R"(condition.op: "gt" cannot be used here; expected one of exists, missing)");
  EXPECT_EQ(
      Error(R"({"condition":{"trait":"plan","event":"X"}})"),
      R"(condition: "trait" and "event" cannot be combined; a condition has exactly one of all, any, not, )"
      R"(trait, computed, identifier, channel, event, consent)");
  EXPECT_EQ(Error(R"({"condition":{"op":"eq","value":1}})"),
            "condition: expected a condition with one of all, any, not, trait, computed, identifier, "
            "channel, event, consent");
  EXPECT_EQ(Error(R"({"condition":{"not":[{"trait":"plan"}]}})"),
            "condition.not: expected an object, got an array");
  EXPECT_EQ(Error(R"({"condition":"plan"})"), R"(condition: expected an object, got the string "plan")");
  EXPECT_EQ(Error(R"({"description":"x"})"), "condition: required");
  EXPECT_EQ(Error(R"({"description":1,"condition":{"trait":"plan"}})"),
            "description: expected a string, got the number 1");
  EXPECT_EQ(Error(R"({"condition":{"trait":"plan"},"conditon":{}})"),
            "conditon: unknown member (expected one of description, condition, holdout, conversion)");

  std::string deep = R"({"trait":"plan"})";
  for (int i = 0; i < 40; ++i) deep = R"({"not":)" + deep + "}";
  EXPECT_NE(Error(R"({"condition":)" + deep + "}").find("nesting too deep (at most 32 levels)"),
            std::string::npos);
}

TEST_F(ParseAudienceTest, ConsentLeafNamesANormalizedPurpose) {
  Audience granted = Parse(R"({"condition":{"consent":"marketing_email"}})");
  ASSERT_NE(granted.condition, nullptr);
  EXPECT_EQ(granted.condition->kind, Condition::Kind::kConsent);
  EXPECT_EQ(granted.condition->name, "marketing_email");
  EXPECT_FALSE(granted.time_dependent) << "consent changes only with events, never with time";
  EXPECT_EQ(Parse(R"({"condition":{"consent":"Functional Cookies"}})").condition->name, "functional_cookies")
      << "purposes are normalized as events' category names are, so both spellings meet";

  Audience negated = Parse(R"({"condition":{"all":[{"identifier":"phone"},{"not":{"consent":"sms"}}]}})");
  const Condition& negation = *negated.condition->children[1];
  ASSERT_EQ(negation.kind, Condition::Kind::kNot);
  EXPECT_EQ(negation.children[0]->kind, Condition::Kind::kConsent);
  EXPECT_EQ(negation.children[0]->name, "sms");
}

TEST_F(ParseAudienceTest, ConsentErrorsNameTheNode) {
  EXPECT_EQ(
      Error(R"({"condition":{"all":[{"trait":"plan"},{"consent":"sms!"}]}})"),
      R"(condition.all[1].consent: "sms!" is not a consent purpose; a consent purpose is 1 to 64 of a-z, )"
      R"(0-9 and _ (upper case is lowered, spaces and dashes become _))");
  EXPECT_EQ(Error(R"({"condition":{"not":{"consent":true}}})"),
            "condition.not.consent: expected a non-empty string, got true");
  EXPECT_EQ(Error(R"({"condition":{"consent":""}})"),
            R"(condition.consent: expected a non-empty string, got the string "")");
  EXPECT_EQ(Error(R"({"condition":{"any":[{"consent":"sms","op":"missing"}]}})"),
            "condition.any[0].op: unknown member (expected one of consent)")
      << "withdrawn or never given is written with not, so op is refused rather than ignored";
  EXPECT_EQ(
      Error(R"({"condition":{"consent":"sms","trait":"plan"}})"),
      R"(condition: "consent" and "trait" cannot be combined; a condition has exactly one of all, any, not, )"
      R"(trait, computed, identifier, channel, event, consent)");
  EXPECT_NE(Error(R"({"condition":{"consent":")" + std::string(65, 'a') + R"("}})")
                .find("is not a consent purpose"),
            std::string::npos)
      << "a purpose is at most 64 characters";
}

TEST_F(ParseAudienceTest, AudienceName) {
  EXPECT_TRUE(ParseAudience("vip-customers_2", R"({"condition":{"trait":"plan"}})", computed_).ok());
  auto bad = ParseAudience("vip customers", R"({"condition":{"trait":"plan"}})", computed_);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(), R"(name: "vip customers": expected 1 to 64 of A-Z, a-z, 0-9, _ and -)");
}

// ----- Definition sets -----

TEST(DefinitionSetTest, CompileDedupesAndSortsSpecs) {
  DefinitionSet set;
  set.computed = {
      MustParseComputed(R"({"name":"orders_30d","kind":"count","event":"Order Completed","window":"30d"})"),
      MustParseComputed(
          R"({"name":"sum_30d","kind":"sum","event":"Order Completed","property":"properties.total",)"
          R"("window":"30d"})"),
      MustParseComputed(R"({"name":"avg_30d","kind":"average","event":"Order Completed",)"
                        R"("property":"properties.total","window":"30d"})"),
      MustParseComputed(R"({"name":"last_channel","kind":"last_channel"})"),
  };
  auto audience = ParseAudience(
      "buyers",
      R"({"condition":{"any":[{"event":"Order Completed","type":"track","window":"30d"},)"
      R"({"not":{"event":"Order Completed","window":"30d","value":2}},{"event":"Email Opened"}]}})",
      set.computed);
  ASSERT_TRUE(audience.ok()) << audience.status();
  set.audiences = {std::make_shared<const Audience>(*std::move(audience))};
  set.Compile();

  // orders_30d and both event conditions on Order Completed share one spec; sum and average another;
  // Email Opened (lifetime) is the third; last_channel needs none.
  ASSERT_EQ(set.specs.size(), 3u);
  ASSERT_EQ(set.spec_keys.size(), 3u);
  for (size_t i = 0; i < set.specs.size(); ++i) EXPECT_EQ(set.spec_keys[i], set.specs[i].Key());
  EXPECT_TRUE(std::is_sorted(set.spec_keys.begin(), set.spec_keys.end()));
  const auto has = [&](const AggregateSpec& spec) {
    return std::find(set.specs.begin(), set.specs.end(), spec) != set.specs.end();
  };
  EXPECT_TRUE(has(set.computed[0]->spec));
  EXPECT_TRUE(has(set.computed[1]->spec));
  EXPECT_EQ(set.computed[1]->spec, set.computed[2]->spec);
  AggregateSpec opened;
  opened.filter.type = "track";
  opened.filter.event = "Email Opened";
  EXPECT_TRUE(has(opened));

  set.Compile();
  EXPECT_EQ(set.specs.size(), 3u) << "Compile replaces, it does not append";

  EXPECT_EQ(set.FindComputed("sum_30d"), set.computed[1].get());
  EXPECT_EQ(set.FindComputed("nope"), nullptr);
  EXPECT_EQ(set.FindAudience("buyers"), set.audiences[0].get());
  EXPECT_EQ(set.FindAudience("nope"), nullptr);
  EXPECT_TRUE(set.AnyTimeDependent());

  DefinitionSet empty;
  empty.Compile();
  EXPECT_TRUE(empty.specs.empty());
  EXPECT_FALSE(empty.AnyTimeDependent());
}

TEST(ParseCampaignTest, AHoldoutAndAConversionDefineTheCampaignMeasurement) {
  using ::testing::HasSubstr;
  auto plain = ParseAudience("aud", R"({"condition":{"event":"Signed Up"}})", {});
  ASSERT_TRUE(plain.ok()) << plain.status();
  EXPECT_EQ(plain->holdout, 0.0);
  EXPECT_EQ(plain->conversion.event, "Order Completed");
  EXPECT_EQ(plain->conversion.within_days, 30);
  EXPECT_EQ(plain->conversion.revenue, "properties.revenue");

  auto campaign = ParseAudience(
      "aud",
      R"({"condition":{"event":"Signed Up"},"holdout":0.1,)"
      R"("conversion":{"event":"Subscribed","within_days":7,"revenue":"properties.total"}})",
      {});
  ASSERT_TRUE(campaign.ok()) << campaign.status();
  EXPECT_EQ(campaign->holdout, 0.1);
  EXPECT_EQ(campaign->conversion.event, "Subscribed");
  EXPECT_EQ(campaign->conversion.within_days, 7);
  EXPECT_EQ(campaign->conversion.revenue, "properties.total");

  EXPECT_THAT(AudienceError(R"({"condition":{"event":"x"},"holdout":0.6})"), HasSubstr("holdout: expected a number from 0 to 0.5"));
  EXPECT_THAT(AudienceError(R"({"condition":{"event":"x"},"holdout":"10%"})"), HasSubstr("holdout: expected"));
  EXPECT_THAT(AudienceError(R"({"condition":{"event":"x"},"conversion":{"within_days":0}})"),
              HasSubstr("conversion.within_days: expected a whole number of days from 1 to 365"));
  EXPECT_THAT(AudienceError(R"({"condition":{"event":"x"},"conversion":{"revenue":"a..b"}})"),
              HasSubstr("conversion.revenue"));
  EXPECT_THAT(AudienceError(R"({"condition":{"event":"x"},"conversion":{"days":3}})"), HasSubstr("conversion"));
}

}  // namespace
}  // namespace tessera::audiences
