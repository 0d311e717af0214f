#include "profile_store/aggregate.h"

#include <gtest/gtest.h>

#include <charconv>
#include <chrono>
#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "profile_store/profile.h"

namespace tessera::profile_store {
namespace {

using std::chrono::hours;
using std::chrono::microseconds;

constexpr Timestamp kStart = Timestamp(std::chrono::seconds(1'700'000'000));

Timestamp At(int64_t seconds) { return kStart + std::chrono::seconds(seconds); }

AggregateValue Number(double number) {
  char text[32];
  const auto result = std::to_chars(text, text + sizeof(text), number);
  return AggregateValue{number, std::string(text, result.ptr)};
}
AggregateValue Json(std::string json) { return AggregateValue{std::nullopt, std::move(json)}; }
AggregateValue Missing() { return AggregateValue{}; }

std::string Encoded(const EventAggregate& aggregate) {
  std::string out;
  aggregate.Encode(out);
  return out;
}

EventAggregate RoundTrip(const EventAggregate& aggregate) {
  EventAggregate decoded;
  EXPECT_TRUE(EventAggregate::Decode(Encoded(aggregate), decoded)) << Encoded(aggregate);
  return decoded;
}

TEST(EventAggregateTest, LifetimeFigures) {
  EventAggregate aggregate;
  aggregate.Add(At(20), 2, Number(5), true);
  aggregate.Add(At(10), 1, Number(-2.5), true);
  aggregate.Add(At(30), 3, Missing(), true);
  aggregate.Add(At(25), 4, Json("\"text\""), true);

  const AggregateFigures& figures = aggregate.lifetime();
  EXPECT_EQ(figures.count, 4u) << "events without a value count too";
  EXPECT_EQ(figures.numeric_count, 2u);
  EXPECT_EQ(figures.sum, 2.5);
  EXPECT_EQ(figures.min, -2.5);
  EXPECT_EQ(figures.max, 5);
  EXPECT_EQ(figures.first_time, At(10));
  EXPECT_EQ(figures.last_time, At(30));
  EXPECT_EQ(figures.first_json, "-2.5");
  EXPECT_EQ(figures.last_json, "\"text\"") << "the newest event had no value: the newest that had one";
  EXPECT_TRUE(aggregate.points().empty()) << "no retention, no points";
}

TEST(EventAggregateTest, EmptyAggregateHasNoFigures) {
  const EventAggregate aggregate(hours(24));
  EXPECT_EQ(aggregate.lifetime(), AggregateFigures{});
  EXPECT_EQ(aggregate.Since(Timestamp::min()), AggregateFigures{});
  EXPECT_EQ(RoundTrip(aggregate), aggregate);
}

TEST(EventAggregateTest, EqualTimesAreOrderedBySequence) {
  EventAggregate aggregate(hours(1));
  aggregate.Add(At(10), 7, Json("\"b\""), true);
  aggregate.Add(At(10), 9, Json("\"c\""), true);
  aggregate.Add(At(10), 3, Json("\"a\""), true);
  EXPECT_EQ(aggregate.lifetime().first_json, "\"a\"") << "lowest sequence at the same time is the first";
  EXPECT_EQ(aggregate.lifetime().last_json, "\"c\"") << "highest sequence at the same time is the last";
  const AggregateFigures window = aggregate.Since(At(10));
  EXPECT_EQ(window.first_json, "\"a\"");
  EXPECT_EQ(window.last_json, "\"c\"");
  ASSERT_EQ(aggregate.points().size(), 3u);
  EXPECT_EQ(aggregate.points()[0].last_sequence, 3u) << "points are kept in (time, sequence) order";
  EXPECT_EQ(aggregate.points()[2].last_sequence, 9u);
}

TEST(EventAggregateTest, MissingValuesDoNotHideOlderOnes) {
  EventAggregate aggregate;
  aggregate.Add(At(10), 1, Missing(), true);
  aggregate.Add(At(20), 2, Json("\"second\""), true);
  aggregate.Add(At(15), 3, Json("\"between\""), true);
  aggregate.Add(At(30), 4, Missing(), true);
  EXPECT_EQ(aggregate.lifetime().first_time, At(10));
  EXPECT_EQ(aggregate.lifetime().first_json, "\"between\"")
      << "the oldest event with a value, though it arrived after a newer one";
  EXPECT_EQ(aggregate.lifetime().last_json, "\"second\"");
  EXPECT_EQ(aggregate.lifetime().numeric_count, 0u);
  EXPECT_FALSE(aggregate.lifetime().min.has_value());
  EXPECT_FALSE(aggregate.lifetime().max.has_value());
}

TEST(EventAggregateTest, KeepJsonFalseKeepsNoValues) {
  EventAggregate aggregate(hours(1));
  aggregate.Add(At(10), 1, Number(4), false);
  aggregate.Add(At(20), 2, Number(6), false);
  EXPECT_EQ(aggregate.lifetime().sum, 10) << "numbers still count";
  EXPECT_EQ(aggregate.lifetime().first_json, "");
  EXPECT_EQ(aggregate.lifetime().last_json, "");
  for (const AggregatePoint& point : aggregate.points()) {
    EXPECT_TRUE(point.first_json.empty() && point.last_json.empty());
  }
  EXPECT_EQ(aggregate.Since(At(0)).sum, 10);
}

TEST(EventAggregateTest, SinceIncludesItsBoundary) {
  EventAggregate aggregate(hours(24));
  const Timestamp since = At(100);
  aggregate.Add(since - microseconds(1), 1, Number(1), true);
  aggregate.Add(since, 2, Number(10), true);
  aggregate.Add(since + microseconds(1), 3, Number(100), true);

  const AggregateFigures window = aggregate.Since(since);
  EXPECT_EQ(window.count, 2u) << "an event exactly at `since` counts, one a microsecond older does not";
  EXPECT_EQ(window.sum, 110);
  EXPECT_EQ(window.min, 10);
  EXPECT_EQ(window.max, 100);
  EXPECT_EQ(window.first_time, since);
  EXPECT_EQ(window.last_time, since + microseconds(1));
  EXPECT_EQ(window.first_json, "10");
  EXPECT_EQ(window.last_json, "100");
  EXPECT_EQ(aggregate.Since(since + microseconds(2)), AggregateFigures{}) << "nothing that recent";
  EXPECT_EQ(aggregate.Since(Timestamp::min()).count, 3u);
}

TEST(EventAggregateTest, SinceWithoutRetentionIsUnknown) {
  EventAggregate aggregate;
  aggregate.Add(At(10), 1, Number(1), true);
  EXPECT_EQ(aggregate.Since(At(0)), AggregateFigures{}) << "no points: the window cannot be read";
  EXPECT_EQ(aggregate.Since(Timestamp::min()), aggregate.lifetime()) << "every event is the lifetime";
}

TEST(EventAggregateTest, PrunesPointsOlderThanTheRetention) {
  EventAggregate aggregate(std::chrono::seconds(100));
  aggregate.Add(At(0), 1, Number(1), true);
  aggregate.Add(At(50), 2, Number(2), true);
  aggregate.Add(At(100), 3, Number(3), true);
  EXPECT_EQ(aggregate.points().size(), 3u) << "a point exactly `retention` behind the newest stays";
  aggregate.Add(At(151), 4, Number(4), true);
  ASSERT_EQ(aggregate.points().size(), 2u);
  EXPECT_EQ(aggregate.points().front().last_time, At(100));
  aggregate.Add(At(20), 5, Number(5), true);
  EXPECT_EQ(aggregate.points().size(), 2u) << "a late event already out of the retention keeps no point";
  EXPECT_EQ(aggregate.lifetime().count, 5u) << "lifetime figures keep everything";
  EXPECT_EQ(aggregate.lifetime().sum, 15);
  EXPECT_EQ(aggregate.Since(At(100)).sum, 7);
}

TEST(EventAggregateTest, CoalescesBeyondMaxPoints) {
  EventAggregate aggregate(hours(24 * 365));
  const size_t events = EventAggregate::kMaxPoints * 3 + 7;
  double sum = 0;
  for (size_t i = 0; i < events; ++i) {
    // Uneven gaps so that the closest neighbours differ from step to step.
    const int64_t seconds = static_cast<int64_t>(i * 60 + (i * 37) % 50);
    aggregate.Add(At(seconds), i + 1, Number(static_cast<double>(i % 13)), true);
    sum += static_cast<double>(i % 13);
    ASSERT_LE(aggregate.points().size(), EventAggregate::kMaxPoints);
  }
  EXPECT_EQ(aggregate.points().size(), EventAggregate::kMaxPoints);
  EXPECT_EQ(aggregate.lifetime().count, events);
  const AggregateFigures all = aggregate.Since(At(0));
  EXPECT_EQ(all.count, events) << "a window covering everything counts every event";
  EXPECT_EQ(all.numeric_count, events);
  EXPECT_EQ(all.sum, sum);
  EXPECT_EQ(all.min, 0);
  EXPECT_EQ(all.max, 12);
  EXPECT_EQ(all.first_time, aggregate.lifetime().first_time);
  EXPECT_EQ(all.last_time, aggregate.lifetime().last_time);
  EXPECT_EQ(all.first_json, "0");
  EXPECT_EQ(all.last_json, aggregate.lifetime().last_json);

  uint64_t counted = 0;
  for (size_t i = 0; i + 1 < aggregate.points().size(); ++i) {
    const AggregatePoint& point = aggregate.points()[i];
    counted += point.count;
    EXPECT_LE(point.first_time, point.last_time);
    EXPECT_LE(point.last_time, aggregate.points()[i + 1].last_time) << "points stay in order";
  }
  EXPECT_EQ(counted + aggregate.points().back().count, events);

  // A combined point is inside a window when its newest event is, even if older ones are not.
  const AggregatePoint* combined = nullptr;
  for (const AggregatePoint& point : aggregate.points()) {
    if (point.count > 1 && point.first_time < point.last_time) combined = &point;
  }
  ASSERT_NE(combined, nullptr);
  uint64_t from_combined = 0;
  for (const AggregatePoint& point : aggregate.points()) {
    if (point.last_time >= combined->last_time) from_combined += point.count;
  }
  EXPECT_EQ(aggregate.Since(combined->last_time).count, from_combined);
  EXPECT_EQ(aggregate.Since(combined->last_time + microseconds(1)).count, from_combined - combined->count);
  EXPECT_EQ(RoundTrip(aggregate), aggregate);
}

TEST(EventAggregateTest, CoalescingCombinesTheClosestNeighbours) {
  EventAggregate aggregate(hours(24 * 365));
  // kMaxPoints events an hour apart, then one a second after the fifth: that pair is the closest.
  for (size_t i = 0; i < EventAggregate::kMaxPoints; ++i) {
    aggregate.Add(At(static_cast<int64_t>(i) * 3600), i + 1, Number(1), true);
  }
  aggregate.Add(At(4 * 3600 + 1), 1000, Json("\"late\""), true);
  ASSERT_EQ(aggregate.points().size(), EventAggregate::kMaxPoints);
  const AggregatePoint& combined = aggregate.points()[4];
  EXPECT_EQ(combined.count, 2u);
  EXPECT_EQ(combined.numeric_count, 1u);
  EXPECT_EQ(combined.first_time, At(4 * 3600));
  EXPECT_EQ(combined.last_time, At(4 * 3600 + 1));
  EXPECT_EQ(combined.last_sequence, 1000u);
  EXPECT_EQ(combined.first_json, "1");
  EXPECT_EQ(combined.last_json, "\"late\"");
  EXPECT_EQ(combined.min, 1);
  EXPECT_EQ(combined.max, 1);
}

TEST(EventAggregateTest, MergeEqualsAddingAllEventsToOne) {
  struct Event {
    int64_t seconds;
    uint64_t sequence;
    AggregateValue value;
  };
  const std::vector<Event> events = {{10, 1, Number(3)},       {40, 2, Json("\"x\"")}, {20, 3, Missing()},
                                     {40, 4, Number(-1.5)},    {5, 5, Missing()},      {60, 6, Number(0.25)},
                                     {15, 7, Json("{\"a\":1}")}, {60, 8, Missing()}};
  EventAggregate one(hours(1));
  EventAggregate left(hours(1));
  EventAggregate right(std::chrono::minutes(30));
  for (size_t i = 0; i < events.size(); ++i) {
    const Event& e = events[i];
    one.Add(At(e.seconds), e.sequence, e.value, true);
    (i % 3 == 0 ? left : right).Add(At(e.seconds), e.sequence, e.value, true);
  }
  EventAggregate merged = left;
  merged.Merge(right);
  EXPECT_EQ(merged, one) << Encoded(merged) << "\n" << Encoded(one);
  EventAggregate other_way = right;
  other_way.Merge(left);
  EXPECT_EQ(other_way, one) << "the order of merging does not matter";

  EventAggregate empty;
  empty.Merge(one);
  EXPECT_EQ(empty, one) << "merging into an empty aggregate copies";
  EventAggregate unchanged = one;
  unchanged.Merge(EventAggregate());
  EXPECT_EQ(unchanged, one) << "merging an empty aggregate changes nothing";
}

TEST(EventAggregateTest, MergeBeyondMaxPointsKeepsCountsExact) {
  EventAggregate a(hours(24 * 365));
  EventAggregate b(hours(24 * 365));
  std::mt19937_64 random(42);
  const size_t events = EventAggregate::kMaxPoints * 2;
  for (size_t i = 0; i < events; ++i) {
    const int64_t seconds = static_cast<int64_t>(random() % 1'000'000);
    (random() % 2 == 0 ? a : b).Add(At(seconds), i + 1, Number(1), true);
  }
  a.Merge(b);
  EXPECT_EQ(a.points().size(), EventAggregate::kMaxPoints);
  EXPECT_EQ(a.lifetime().count, events);
  EXPECT_EQ(a.Since(Timestamp::min()).count, events);
  EXPECT_EQ(a.Since(Timestamp::min()).sum, static_cast<double>(events));
}

TEST(EventAggregateTest, MergeTakesTheLongerRetentionAndPrunes) {
  EventAggregate short_lived(std::chrono::seconds(10));
  short_lived.Add(At(0), 1, Number(1), true);
  EventAggregate newer(std::chrono::seconds(5));
  newer.Add(At(100), 2, Number(2), true);
  short_lived.Merge(newer);
  EXPECT_EQ(short_lived.retention(), std::chrono::seconds(10));
  ASSERT_EQ(short_lived.points().size(), 1u) << "the old point is out of the retention behind the newest";
  EXPECT_EQ(short_lived.points()[0].last_time, At(100));
  EXPECT_EQ(short_lived.lifetime().count, 2u);
}

TEST(EventAggregateTest, EncodeDecodeRoundTrip) {
  EventAggregate aggregate(hours(24 * 30));
  const std::vector<AggregateValue> values = {
      Number(-0.1),
      Number(1.0 / 3.0),
      Number(1e308),
      Number(-1.7976931348623157e308),
      Number(9223372036854775808.0),
      Number(5e-324),
      Number(123456789.125),
      Json("\"she said \\\"hi\\\" \\\\ \\u00e9\""),
      Json("\"日本語 ✓ \xF0\x9F\x98\x80\""),
      Json("{\"nested\":[1,\"two\",null,true]}"),
      Missing(),
      AggregateValue{42, "\"42\""},  // A numeric string.
  };
  for (size_t i = 0; i < values.size(); ++i) {
    aggregate.Add(At(static_cast<int64_t>(i) * 10), i + 1, values[i], true);
  }
  aggregate.Add(At(-5), 100, Json("\"first\""), true);
  aggregate.Add(At(1000), 101, Json("\"line\\u2028separator\""), true);

  const std::string encoded = Encoded(aggregate);
  EventAggregate decoded;
  ASSERT_TRUE(EventAggregate::Decode(encoded, decoded)) << encoded;
  EXPECT_EQ(decoded, aggregate) << encoded;
  EXPECT_EQ(Encoded(decoded), encoded) << "encoding is stable";
  EXPECT_EQ(decoded.lifetime().first_json, "\"first\"");
  EXPECT_EQ(decoded.points()[9].first_json, "\"日本語 ✓ \xF0\x9F\x98\x80\"");

  EventAggregate overflowing(hours(1));
  overflowing.Add(At(0), 1, Number(1.5e308), true);
  overflowing.Add(At(1), 2, Number(1.5e308), true);
  ASSERT_EQ(overflowing.lifetime().sum, std::numeric_limits<double>::infinity());
  EXPECT_EQ(RoundTrip(overflowing), overflowing) << "an overflowed sum survives";

  EventAggregate lifetime_only;
  lifetime_only.Add(At(3), 9, Number(-7), false);
  EXPECT_EQ(RoundTrip(lifetime_only), lifetime_only) << Encoded(lifetime_only);
}

TEST(EventAggregateTest, BinaryDecodeRejectsEveryTruncationAndTrailingBytes) {
  EventAggregate aggregate(hours(1));
  aggregate.Add(At(0), 1, Number(2), true);
  aggregate.Add(At(5), 2, Json("\"x\""), true);
  const std::string good = Encoded(aggregate);
  EventAggregate out;
  ASSERT_TRUE(EventAggregate::Decode(good, out));
  for (size_t size = 0; size < good.size(); ++size) {
    EXPECT_FALSE(EventAggregate::Decode(good.substr(0, size), out)) << "truncated to " << size << " bytes";
  }
  EXPECT_FALSE(EventAggregate::Decode(good + std::string(1, '\0'), out)) << "a trailing byte";
}

TEST(EventAggregateTest, BinaryDecodeRejectsFiguresThatDoNotHangTogether) {
  EventAggregate out;
  // retention 0, count 1, numeric 0, sum 0.0, no parts: one event without a first or last time.
  std::string no_times("\x00\x01\x00", 3);
  no_times.append(8, '\0');
  no_times.append("\x00\x00\x00\x00", 4);  // parts, first and last sequence, no points
  EXPECT_FALSE(EventAggregate::Decode(no_times, out));
  std::string unknown_part("\x00\x00\x00", 3);
  unknown_part.append(8, '\0');
  unknown_part.append("\x40\x00\x00\x00", 4);
  EXPECT_FALSE(EventAggregate::Decode(unknown_part, out)) << "a part bit no version has";
  std::string empty("\x00\x00\x00", 3);
  empty.append(8, '\0');
  empty.append("\x00\x00\x00\x00", 4);
  EXPECT_TRUE(EventAggregate::Decode(empty, out)) << "the empty aggregate, for contrast";
}

// Version 0 profile records held aggregates as JSON objects; they still read.
TEST(EventAggregateTest, JsonOfVersion0Reads) {
  EventAggregate expected(hours(1));
  expected.Add(At(0), 1, Number(2), true);
  // As version 0 wrote it (retention, count, numeric count, sum, min, max, first and last time and
  // sequence, the first and last value with theirs, and the points).
  const std::string json =
      "{\"r\":3600000000,\"n\":1,\"nn\":1,\"s\":2,\"lo\":2,\"hi\":2,\"ft\":" +
      std::to_string(At(0).time_since_epoch().count()) +
      ",\"lt\":" + std::to_string(At(0).time_since_epoch().count()) +
      ",\"fs\":1,\"ls\":1,\"fj\":\"2\",\"fjt\":" + std::to_string(At(0).time_since_epoch().count()) +
      ",\"fjs\":1,\"lj\":\"2\",\"ljt\":" + std::to_string(At(0).time_since_epoch().count()) +
      ",\"ljs\":1,\"p\":[[" + std::to_string(At(0).time_since_epoch().count()) + "," +
      std::to_string(At(0).time_since_epoch().count()) + ",1,1,1,1,2,2,2,\"2\",\"2\"]]}";
  EventAggregate decoded;
  ASSERT_TRUE(EventAggregate::DecodeJson(json, decoded)) << json;
  EXPECT_EQ(decoded, expected);
}

TEST(EventAggregateTest, JsonOfVersion0RejectsDamage) {
  EventAggregate out;
  for (const std::string& bad : {
           std::string(""),
           std::string("[]"),
           std::string("{\"n\":\"one\"}"),
           std::string("{\"n\":-1}"),
           std::string("{\"r\":-5}"),
           std::string("{\"n\":1}"),                                          // No first/last time.
           std::string("{\"nn\":2,\"n\":1}"),                                 // More numeric than counted.
           std::string("{\"r\":1,\"p\":[[1,2,3]]}"),                          // A short point.
           std::string("{\"r\":1,\"p\":[[1,2,3,4,1,0,0,0,0,\"\",\"\",7]]}"),  // A long one.
           std::string("{\"r\":1,\"p\":[[5,2,3,4,1,0,0,0,0]]}"),              // Ends before it starts.
           std::string("{\"r\":1,\"p\":[[1,9,1,1,1,0,0,0,0],[1,2,1,1,1,0,0,0,0]]}"),  // Out of order.
           std::string("{\"p\":[[1,2,1,1,1,0,0,0,0]]}"),  // Points without retention.
           std::string("{\"s\":\"lots\"}"),
           std::string("{\"fj\":5}"),
           std::string("{\"n\":0"),
           std::string("{\"n\":0}}"),
       }) {
    EXPECT_FALSE(EventAggregate::DecodeJson(bad, out)) << bad;
  }
  EXPECT_TRUE(EventAggregate::DecodeJson("{}", out)) << "the empty aggregate, for contrast";
}

// Profiles keep their aggregates and audience memberships.

Profile SampleProfile(uint64_t id) {
  Profile profile;
  profile.id = ProfileId{id};
  profile.TouchChannel("web", At(1));
  return profile;
}

TEST(ProfileAggregatesTest, EncodeDecodeRoundTrip) {
  Profile profile = SampleProfile(7);
  EventAggregate orders(hours(24 * 90));
  orders.Add(At(10), 1, Number(19.99), true);
  orders.Add(At(20), 2, Json("\"quoted \\\" text\""), true);
  profile.aggregates.emplace("orders.total", orders);
  EventAggregate visits;
  visits.Add(At(5), 3, Missing(), false);
  profile.aggregates.emplace("visits", visits);
  profile.audiences.emplace("big spenders", At(30));
  profile.audiences.emplace("new \"users\"", At(-1));

  std::string record;
  EncodeProfile(profile, record);
  absl::StatusOr<Profile> decoded = DecodeProfile(record);
  ASSERT_TRUE(decoded.ok()) << decoded.status() << "\n" << record;
  EXPECT_EQ(decoded->aggregates, profile.aggregates) << record;
  EXPECT_EQ(decoded->audiences, profile.audiences) << record;
  EXPECT_EQ(decoded->event_count, 1u);

  std::string again;
  EncodeProfile(*decoded, again);
  EXPECT_EQ(again, record);
}

TEST(ProfileAggregatesTest, EmptyMapsDecodeEmpty) {
  std::string record;
  EncodeProfile(SampleProfile(3), record);
  absl::StatusOr<Profile> decoded = DecodeProfile(record);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_TRUE(decoded->aggregates.empty());
  EXPECT_TRUE(decoded->audiences.empty());
}

TEST(ProfileAggregatesTest, DamagedAggregatesOfVersion0AreDataLoss) {
  const std::string record = R"({"id":"p0000000000000003","firstSeen":1,"lastSeen":1,"eventCount":1,)"
                             R"("identities":[],"traits":{},"channels":{},"mergedFrom":[])";
  ASSERT_TRUE(DecodeProfile(record + "}").ok()) << "the record without the damage, for contrast";
  for (const char* tail :
       {",\"aggregates\":{\"k\":{\"n\":\"x\"}}}", ",\"aggregates\":[]}", ",\"aggregates\":{\"k\":5}}",
        ",\"audiences\":{\"a\":\"soon\"}}", ",\"audiences\":[1]}"}) {
    absl::StatusOr<Profile> decoded = DecodeProfile(record + std::string(tail));
    EXPECT_TRUE(absl::IsDataLoss(decoded.status())) << tail << ": " << decoded.status();
  }
}

TEST(ProfileAggregatesTest, DamagedAggregateInsideVersion1IsDataLossNamingIt) {
  Profile profile = SampleProfile(3);
  EventAggregate orders(hours(1));
  orders.Add(At(10), 1, Number(5), true);
  profile.aggregates.emplace("orders", orders);
  std::string record;
  EncodeProfile(profile, record);
  // The aggregate's first field is its retention, a zig-zag varint: an odd first byte makes it
  // negative, which no aggregate has.
  std::string damaged = record;
  const size_t at = damaged.find(Encoded(orders));
  ASSERT_NE(at, std::string::npos);
  damaged[at] |= 1;
  absl::StatusOr<Profile> decoded = DecodeProfile(damaged);
  ASSERT_TRUE(absl::IsDataLoss(decoded.status())) << decoded.status();
  EXPECT_NE(decoded.status().message().find("aggregates.orders"), std::string::npos) << decoded.status();
}

TEST(ProfileAggregatesTest, AbsorbMergesAggregatesButNotAudiences) {
  Profile winner = SampleProfile(1);
  Profile loser = SampleProfile(2);
  EventAggregate expected_orders(hours(1));

  EventAggregate winner_orders(hours(1));
  winner_orders.Add(At(10), 1, Number(5), true);
  expected_orders.Add(At(10), 1, Number(5), true);
  winner.aggregates.emplace("orders", winner_orders);
  EventAggregate winner_only;
  winner_only.Add(At(11), 2, Missing(), true);
  winner.aggregates.emplace("winner only", winner_only);
  winner.audiences.emplace("vip", At(50));

  EventAggregate loser_orders(hours(1));
  loser_orders.Add(At(20), 3, Number(7), true);
  expected_orders.Add(At(20), 3, Number(7), true);
  loser.aggregates.emplace("orders", loser_orders);
  EventAggregate loser_only;
  loser_only.Add(At(12), 4, Json("\"x\""), true);
  loser.aggregates.emplace("loser only", loser_only);
  loser.audiences.emplace("churn risk", At(60));

  winner.Absorb(loser);
  ASSERT_EQ(winner.aggregates.size(), 3u);
  EXPECT_EQ(winner.aggregates.at("orders"), expected_orders) << "both sides' events in one aggregate";
  EXPECT_EQ(winner.aggregates.at("winner only"), winner_only);
  EXPECT_EQ(winner.aggregates.at("loser only"), loser_only) << "a key only the other side has is copied";
  ASSERT_EQ(winner.audiences.size(), 1u) << "memberships are the resolver's to re-evaluate";
  EXPECT_EQ(winner.audiences.begin()->first, "vip");
}

}  // namespace
}  // namespace tessera::profile_store
