// The KPI figures (audiences/kpi_snapshot.h, audiences/kpi_figures.h) read from what the resolver
// derived: events by their own day and channel, people counted once per period however many
// events they sent, a merge on the day of the event that caused it and the merged pair counted as
// one person, purchases by day, the channel filter, whole weeks and months, and bad ranges.

#include <gtest/gtest.h>

#include <deque>

#include "absl/strings/match.h"
#include "audiences/kpi_figures.h"
#include "audiences/kpi_snapshot.h"
#include "prediction/bg_nbd.h"
#include "simdjson.h"
#include "tests/resolve/resolver_fixture.h"

namespace tessera::resolve {
namespace {

using namespace resolver_testing;  // NOLINT: the fixture and its helpers

constexpr int32_t kDay0 = 19'723;  // 2024-01-01 (a Monday), FixedTime(0)'s day.
constexpr int64_t kDay = 86'400;

class KpiSnapshotTest : public ResolverTest {
 protected:
  ingest::CanonicalEvent Track(std::string channel, std::string anonymous, int64_t seconds) {
    ingest::CanonicalEvent event = Event(ingest::EventType::kTrack, std::move(channel), seconds);
    event.anonymous_id = std::move(anonymous);
    return event;
  }
  ingest::CanonicalEvent Order(std::string user, int64_t seconds, int revenue) {
    ingest::CanonicalEvent event = Event(ingest::EventType::kTrack, "pos", seconds);
    event.user_id = std::move(user);
    event.event = "Order Completed";
    event.properties = absl::StrCat(R"({"revenue":)", revenue, "}");
    return event;
  }

  // The figures as parsed JSON (kept alive by the fixture).
  simdjson::dom::element Figures(const audiences::KpiQuery& query) {
    absl::StatusOr<audiences::KpiSnapshot> snapshot = audiences::ReadKpiSnapshot(*store_, std::string(kSpace), {});
    EXPECT_TRUE(snapshot.ok()) << snapshot.status();
    absl::StatusOr<std::string> json = audiences::KpiJson(*snapshot, query, nullptr, FixedTime(0));
    EXPECT_TRUE(json.ok()) << json.status();
    texts_.push_back(json.ok() ? *json : "{}");
    return parser_.parse(texts_.back());
  }

  static std::vector<int64_t> Series(simdjson::dom::element figures, std::string_view member) {
    std::vector<int64_t> values;
    for (simdjson::dom::element period : figures["periods"].get_array()) {
      values.push_back(static_cast<int64_t>(period[member].get_uint64().value()));
    }
    return values;
  }

  std::deque<std::string> texts_;
  simdjson::dom::parser parser_;
};

TEST_F(KpiSnapshotTest, EventsPeopleMergesAndPurchasesByDayAndChannel) {
  Append({
      Track("web", "a1", 3600), Track("web", "a1", 7200), Track("app", "a1", 8000),  // a1: 3 events, day 0
      Track("web", "a2", 9000),                                                       // a2: day 0
      Track("web", "a2", kDay + 100),                                                 // a2: day 1
      Track("app", "a3", 2 * kDay + 5),                                               // a3: day 2
  });
  // Day 3: a1 logs in as u1 and buys; day 4 a2 is found to be u1 too (a merge on day 4).
  ingest::CanonicalEvent login = Event(ingest::EventType::kIdentify, "web", 3 * kDay);
  login.anonymous_id = "a1";
  login.user_id = "u1";
  ingest::CanonicalEvent alias = Event(ingest::EventType::kIdentify, "web", 4 * kDay);
  alias.anonymous_id = "a2";
  alias.user_id = "u1";
  Append({login, Order("u1", 3 * kDay + 60, 40), Order("u1", 3 * kDay + 90, 2), alias, Order("u1", 6 * kDay, 10)});
  auto resolver = NewResolver();
  CatchUp(*resolver);

  audiences::KpiQuery days{.from_day = kDay0, .to_day = kDay0 + 6};
  simdjson::dom::element all = Figures(days);
  EXPECT_EQ(Series(all, "events"), (std::vector<int64_t>{4, 1, 1, 3, 1, 0, 1}));
  EXPECT_EQ(Series(all, "active_profiles"), (std::vector<int64_t>{1, 1, 1, 1, 1, 0, 1}))
      << "people as they are now: a1 and a2 are both u1, one person on day 0 however many events";
  EXPECT_EQ(Series(all, "new_profiles"), (std::vector<int64_t>{1, 0, 1, 0, 0, 0, 0}))
      << "a1 (now u1, with a2's events) first seen on day 0; a3 on day 2";
  EXPECT_EQ(Series(all, "merges"), (std::vector<int64_t>{0, 0, 0, 0, 1, 0, 0}));
  EXPECT_EQ(Series(all, "orders"), (std::vector<int64_t>{0, 0, 0, 2, 0, 0, 1}));
  EXPECT_EQ(Series(all, "customers"), (std::vector<int64_t>{0, 0, 0, 1, 0, 0, 1}));
  EXPECT_EQ(Series(all, "repeat_customers"), (std::vector<int64_t>{0, 0, 0, 0, 0, 0, 1}))
      << "two orders on day 3 are one transaction; day 6 is the repeat";
  EXPECT_EQ(all["totals"]["revenue"].get_double().value(), 52.0);
  EXPECT_EQ(all["totals"]["active_profiles"].get_uint64().value(), 2u);
  EXPECT_EQ(all["totals"]["customers"].get_uint64().value(), 1u);
  EXPECT_EQ(all["totals"]["repeat_purchase_rate"].get_double().value(), 1.0);
  EXPECT_EQ(all["periods"].at(0)["events_by_channel"]["app"].get_uint64().value(), 1u);
  EXPECT_EQ(all["periods"].at(0)["events_by_channel"]["web"].get_uint64().value(), 3u);

  simdjson::dom::element app = Figures({.from_day = kDay0, .to_day = kDay0 + 6, .channel = "app"});
  EXPECT_EQ(Series(app, "events"), (std::vector<int64_t>{1, 0, 1, 0, 0, 0, 0}));
  EXPECT_EQ(Series(app, "new_profiles"), (std::vector<int64_t>{1, 0, 1, 0, 0, 0, 0}));
  EXPECT_EQ(Series(app, "orders"), Series(all, "orders")) << "purchases are every channel's";
  simdjson::dom::element pos = Figures({.from_day = kDay0 + 1, .to_day = kDay0 + 6, .channel = "pos"});
  EXPECT_EQ(Series(pos, "new_profiles"), (std::vector<int64_t>{0, 0, 1, 0, 0, 0})) << "u1's first pos event";

  simdjson::dom::element week = Figures({.from_day = kDay0 + 2, .to_day = kDay0 + 9,
                                         .granularity = audiences::KpiGranularity::kWeek});
  EXPECT_EQ(std::string(week["from"].get_string().value()), "2024-01-01") << "widened to the Monday";
  EXPECT_EQ(std::string(week["to"].get_string().value()), "2024-01-14");
  EXPECT_EQ(Series(week, "events"), (std::vector<int64_t>{11, 0}));
  EXPECT_EQ(Series(week, "active_profiles"), (std::vector<int64_t>{2, 0})) << "distinct people in the week";
  simdjson::dom::element month = Figures({.from_day = kDay0 + 20, .to_day = kDay0 + 40,
                                          .granularity = audiences::KpiGranularity::kMonth});
  EXPECT_EQ(std::string(month["from"].get_string().value()), "2024-01-01");
  EXPECT_EQ(std::string(month["to"].get_string().value()), "2024-02-29");
  EXPECT_EQ(Series(month, "events"), (std::vector<int64_t>{11, 0}));
}

TEST_F(KpiSnapshotTest, BadRangesAreRefusedNamingTheParameter) {
  Append({Track("web", "a1", 3600)});
  auto resolver = NewResolver();
  CatchUp(*resolver);
  absl::StatusOr<audiences::KpiSnapshot> snapshot = audiences::ReadKpiSnapshot(*store_, std::string(kSpace), {});
  ASSERT_TRUE(snapshot.ok());
  absl::StatusOr<std::string> backwards = audiences::KpiJson(*snapshot, {.from_day = kDay0 + 1, .to_day = kDay0}, nullptr, FixedTime(0));
  EXPECT_TRUE(absl::IsInvalidArgument(backwards.status()));
  EXPECT_TRUE(absl::StartsWith(backwards.status().message(), "from:")) << backwards.status();
  absl::StatusOr<std::string> long_range = audiences::KpiJson(*snapshot, {.from_day = 0, .to_day = kDay0}, nullptr, FixedTime(0));
  EXPECT_TRUE(absl::StartsWith(long_range.status().message(), "to:")) << long_range.status();
  absl::StatusOr<std::string> by_month =
      audiences::KpiJson(*snapshot, {.from_day = 0, .to_day = kDay0, .granularity = audiences::KpiGranularity::kMonth},
                         nullptr, FixedTime(0));
  EXPECT_TRUE(by_month.ok()) << "54 years by month is " << by_month.status();
}

TEST_F(KpiSnapshotTest, ByDefaultTheRangeEndsOnTheLastDayWithEventsAndAnUnknownChannelCountsNothing) {
  Append({Track("web", "a1", 3600), Track("web", "a1", 10 * kDay)});
  auto resolver = NewResolver();
  CatchUp(*resolver);
  simdjson::dom::element figures = Figures({});
  EXPECT_EQ(std::string(figures["to"].get_string().value()), "2024-01-11");
  EXPECT_EQ(figures["periods"].get_array().size(), 90u);
  EXPECT_EQ(figures["totals"]["events"].get_uint64().value(), 2u);
  EXPECT_EQ(std::string(figures["first_day"].get_string().value()), "2024-01-01");
  simdjson::dom::element none = Figures({.channel = "sms"});
  EXPECT_EQ(none["totals"]["events"].get_uint64().value(), 0u);
  EXPECT_EQ(none["totals"]["active_profiles"].get_uint64().value(), 0u);
}

TEST_F(KpiSnapshotTest, AModelWhoseExpectationFailsLeavesOutTheTrackingPlotNotTheAnswer) {
  // Two purchases 150 days apart, and a degenerate fit (parameters in the millions, as a tiny
  // space's optimizer can give) whose 2F1 cannot be evaluated (one such overflowed a double):
  // once the whole answer was a 500.
  Append({Order("u1", 3600, 10), Order("u1", 150 * kDay, 12)});
  auto resolver = NewResolver();
  CatchUp(*resolver);
  audiences::PurchaseModelState model;
  model.model.bg_nbd = {.r = 1.83242e7, .alpha = 0.1, .a = 4.12290e6 + 1, .b = 1.278117e7};
  model.model.gamma_gamma = {.p = 6.25, .q = 3.74, .gamma = 15.44};
  model.as_of_day = kDay0 + 200;
  bool overflows = false;
  for (int days = 1; days <= 200 && !overflows; ++days) {
    overflows = !prediction::ExpectedRepeatPurchases(model.model.bg_nbd, prediction::Weeks(days / 7.0)).ok();
  }
  ASSERT_TRUE(overflows) << "the parameters must make the expectation fail for this test to mean anything";
  absl::StatusOr<audiences::KpiSnapshot> snapshot = audiences::ReadKpiSnapshot(*store_, std::string(kSpace), {});
  ASSERT_TRUE(snapshot.ok());
  absl::StatusOr<std::string> json =
      audiences::KpiJson(*snapshot, {.from_day = kDay0, .to_day = kDay0 + 200}, &model, FixedTime(0));
  ASSERT_TRUE(json.ok()) << json.status();
  simdjson::dom::element figures = parser_.parse(*json);
  EXPECT_TRUE(figures["tracking"].is_null());
  EXPECT_NE(std::string(figures["tracking_error"].get_string().value()).find("2F1"), std::string::npos) << *json;
  EXPECT_EQ(figures["totals"]["orders"].get_uint64().value(), 2u) << "the rest of the answer is there";
}

}  // namespace
}  // namespace tessera::resolve
