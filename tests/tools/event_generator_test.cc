#include "tools/load/event_generator.h"

#include <map>
#include <set>
#include <string>

#include "gtest/gtest.h"
#include "ingest/segment_parser.h"
#include "simdjson.h"

namespace tessera::tools {
namespace {

TEST(EventGeneratorTest, SameSeedSameEventsAndOtherSeedsOtherMessageIds) {
  EventGenerator a(3, 600, 1000);
  EventGenerator b(3, 600, 1000);
  EventGenerator c(4, 600, 1000);
  simdjson::dom::parser parser;
  std::set<std::string> ids_of_a;
  for (int i = 0; i < 200; ++i) {
    const std::string event = a.NextEvent();
    EXPECT_EQ(event, b.NextEvent());
    EXPECT_EQ(a.channel(), b.channel());
    ids_of_a.insert(std::string(std::string_view(parser.parse(event)["messageId"])));
  }
  for (int i = 0; i < 200; ++i) {
    EXPECT_FALSE(ids_of_a.contains(std::string(std::string_view(parser.parse(c.NextEvent())["messageId"]))));
  }
  EXPECT_EQ(ids_of_a.size(), 200u);
}

// Every event is a valid Segment call of the asked mix and size, and its identifiers fit its channel.
TEST(EventGeneratorTest, EventsAreValidSegmentCallsOfTheMixWithChannelShapedIdentifiers) {
  constexpr int kEvents = 20'000;
  EventGenerator generator(11, 600, 5'000, 0.6);
  ingest::SegmentParser segment;
  simdjson::dom::parser parser;
  std::map<std::string, int> by_type;
  std::map<std::string, int> by_channel;
  std::map<uint64_t, std::set<std::string>> channels_of_person;
  std::map<uint64_t, std::set<std::string>> web_ids_of_person;
  size_t bytes = 0;
  for (int i = 0; i < kEvents; ++i) {
    std::string event = generator.NextEvent();
    bytes += event.size();
    const std::string channel(generator.channel());
    ASSERT_GE(generator.person(), 1u);
    ASSERT_LE(generator.person(), 5'000u);
    channels_of_person[generator.person()].insert(channel);
    ++by_channel[channel];

    std::string body = "{\"batch\":[" + event + "]}";
    ingest::EnsurePadding(body);
    const ingest::ParsedRequest parsed = segment.Parse(ingest::Endpoint::kBatch, body, {});
    ASSERT_FALSE(parsed.request_error) << event;
    ASSERT_TRUE(parsed.rejected.empty()) << parsed.rejected[0].error.message << "\n" << event;

    simdjson::dom::element root = parser.parse(event);
    const std::string type{std::string_view(root["type"])};
    ++by_type[type];
    const bool has_user = !root["userId"].error();
    const bool has_anonymous = !root["anonymousId"].error();
    if (channel == "pos" || channel == "email") {
      EXPECT_TRUE(has_user) << event;
      EXPECT_FALSE(has_anonymous) << event;
    }
    if ((channel == "web" || channel == "app") && type != "alias") {
      EXPECT_TRUE(has_anonymous) << event;
    }
    EXPECT_EQ(!root["context"]["device"]["id"].error(), channel == "app") << event;
    if (type == "screen") {
      EXPECT_EQ(channel, "app");
    }
    if (channel == "web" && has_anonymous) {
      web_ids_of_person[generator.person()].insert(std::string(std::string_view(root["anonymousId"])));
    }
  }
  EXPECT_NEAR(by_type["track"], kEvents * 0.70, kEvents * 0.015);
  EXPECT_NEAR(by_type["page"] + by_type["screen"], kEvents * 0.15, kEvents * 0.015);
  EXPECT_NEAR(by_type["identify"], kEvents * 0.10, kEvents * 0.015);
  EXPECT_NEAR(by_type["alias"], kEvents * 0.05, kEvents * 0.01);
  EXPECT_NEAR(static_cast<double>(bytes) / kEvents, 600, 30);
  for (const char* channel : {"web", "app", "pos", "email"}) EXPECT_GT(by_channel[channel], kEvents / 20) << channel;

  // A person keeps one or two channels and one web anonymous id; many use two.
  size_t two_channels = 0;
  for (const auto& [person, channels] : channels_of_person) {
    EXPECT_LE(channels.size(), 2u) << person;
    two_channels += channels.size() == 2 ? 1 : 0;
  }
  EXPECT_GT(two_channels, channels_of_person.size() / 10);
  for (const auto& [person, ids] : web_ids_of_person) EXPECT_EQ(ids.size(), 1u) << person;
}

// The popularity is a power law: the busiest person has many events, most people few.
TEST(EventGeneratorTest, PeopleFollowAPowerLaw) {
  EventGenerator generator(5, 300, 100'000);
  std::map<uint64_t, int> events_of_person;
  for (int i = 0; i < 50'000; ++i) {
    generator.NextEvent();
    ++events_of_person[generator.person()];
  }
  int busiest = 0;
  size_t once = 0;
  for (const auto& [person, count] : events_of_person) {
    busiest = std::max(busiest, count);
    once += count == 1 ? 1 : 0;
  }
  EXPECT_GT(busiest, 200);                             // Person 1 gets ~0.8% of the events.
  EXPECT_GT(once, events_of_person.size() / 2);        // Most people are seen once.
  EXPECT_GT(events_of_person.size(), 20'000u);          // And many are seen.
}

}  // namespace
}  // namespace tessera::tools
