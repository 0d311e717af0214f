// The network-free parts of the live tail (api/tail_handler.h): who may open it, the bounded
// per-client queue, and the messages' shape; and the pipeline's EventFeed they hang off.

#include "api/tail_handler.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "ingest/event_feed.h"

namespace tessera::api {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

config::Config Keys() {
  config::Config config;
  config.sources.push_back({.name = "website", .write_key = "wk", .space = "default", .channel = "web"});
  config.read_keys = {"rk"};
  config.admin_keys = {"ak"};
  return config;
}

bool DefaultOnly(std::string_view space) { return space == "default"; }

ingest::EventSummary Summary(std::string space, std::string name) {
  ingest::EventSummary summary;
  summary.space = std::move(space);
  summary.event = std::move(name);
  summary.type = "track";
  summary.channel = "web";
  summary.source = "website";
  return summary;
}

TEST(TailAuthorizationTest, ReadKeyAsSubprotocolIsAcceptedAndOurProtocolSelected) {
  KeyRegistry keys(Keys());
  absl::StatusOr<TailAccess> access =
      AuthorizeTail(keys, "", "tessera-tail, tessera-key.rk", "", DefaultOnly);
  ASSERT_TRUE(access.ok()) << access.status();
  EXPECT_EQ(access->key, "rk");
  EXPECT_TRUE(access->protocol_offered);
  EXPECT_EQ(access->space, "default");
}

TEST(TailAuthorizationTest, AdminKeyAsBearerHeaderIsAccepted) {
  KeyRegistry keys(Keys());
  absl::StatusOr<TailAccess> access = AuthorizeTail(keys, "Bearer ak", "", "", DefaultOnly);
  ASSERT_TRUE(access.ok()) << access.status();
  EXPECT_FALSE(access->protocol_offered) << "nothing to select when the client offered no protocol";
}

TEST(TailAuthorizationTest, WriteUnknownAndMissingKeysAreRefused) {
  KeyRegistry keys(Keys());
  EXPECT_TRUE(absl::IsPermissionDenied(
      AuthorizeTail(keys, "", "tessera-tail,tessera-key.wk", "", DefaultOnly).status()));
  EXPECT_TRUE(absl::IsUnauthenticated(
      AuthorizeTail(keys, "", "tessera-tail, tessera-key.nope", "", DefaultOnly).status()));
  absl::Status missing = AuthorizeTail(keys, "", "tessera-tail", "", DefaultOnly).status();
  EXPECT_TRUE(absl::IsUnauthenticated(missing));
  EXPECT_THAT(std::string(missing.message()), HasSubstr("tessera-key."));
}

TEST(TailAuthorizationTest, SpaceMustBeServed) {
  KeyRegistry keys(Keys());
  EXPECT_TRUE(absl::IsNotFound(AuthorizeTail(keys, "Bearer rk", "", "space=other", DefaultOnly).status()));
  EXPECT_TRUE(
      absl::IsInvalidArgument(AuthorizeTail(keys, "Bearer rk", "", "space=%zz", DefaultOnly).status()));
}

TEST(TailQueueTest, KeepsTheNewestAndCountsWhatItDropped) {
  TailQueue queue(3);
  std::vector<ingest::EventSummary> events;
  for (int i = 0; i < 5; ++i) events.push_back(Summary("default", "e" + std::to_string(i)));
  EXPECT_TRUE(queue.Push(events, "default")) << "the first push into an empty queue wakes the reader";
  EXPECT_FALSE(queue.Push({Summary("default", "e5")}, "default"))
      << "no second wake-up while it is not drained";
  TailQueue::Batch batch = queue.Take();
  ASSERT_EQ(batch.events.size(), 3u);
  EXPECT_EQ(batch.events.front().event, "e3");
  EXPECT_EQ(batch.events.back().event, "e5");
  EXPECT_EQ(batch.dropped, 3u);
  TailQueue::Batch next = queue.Take();
  EXPECT_TRUE(next.events.empty());
  EXPECT_EQ(next.dropped, 0u) << "the drop count is reported once";
}

TEST(TailQueueTest, OnlyEventsOfTheClientsSpaceAreQueued) {
  TailQueue queue(10);
  EXPECT_FALSE(queue.Push({Summary("other", "x")}, "default"));
  EXPECT_TRUE(queue.Take().events.empty());
}

TEST(TailMessagesTest, EventsCarryTheSummaryAndTheDropCount) {
  TailQueue::Batch batch;
  ingest::EventSummary summary = Summary("default", "Order \"Completed\"");
  summary.user_id = "u-1";
  summary.message_id = "m-1";
  batch.events.push_back(summary);
  batch.dropped = 7;
  const std::string message = TailEventsMessage(batch);
  EXPECT_THAT(message, HasSubstr(R"("type":"events")"));
  EXPECT_THAT(message, HasSubstr(R"("event":"Order \"Completed\"")")) << "escaped as JSON";
  EXPECT_THAT(message, HasSubstr(R"("userId":"u-1")"));
  EXPECT_THAT(message, HasSubstr(R"("dropped":7)"));
  EXPECT_THAT(message, Not(HasSubstr("email")));
}

TEST(TailMessagesTest, RateIsRoundedToOneDecimal) {
  const std::string message = TailRateMessage(12.345, 99, 2, ingest::Timestamp{});
  EXPECT_THAT(message, HasSubstr(R"("type":"rate")"));
  EXPECT_THAT(message, HasSubstr(R"("eventsPerSecond":12.3)"));
  EXPECT_THAT(message, HasSubstr(R"("accepted":99)"));
  EXPECT_THAT(TailHelloMessage("default", 512, 1000), HasSubstr(R"("queue":512)"));
}

class RecordingSubscriber : public ingest::EventFeedSubscriber {
 public:
  void OnEvents(const std::vector<ingest::EventSummary>& events) override { seen += events.size(); }
  size_t seen = 0;
};

TEST(EventFeedTest, PublishesToSubscribersUntilTheyLeave) {
  ingest::EventFeed feed;
  EXPECT_FALSE(feed.has_subscribers()) << "without subscribers the pipeline builds no summaries";
  auto subscriber = std::make_shared<RecordingSubscriber>();
  feed.Subscribe(subscriber);
  EXPECT_TRUE(feed.has_subscribers());
  feed.Publish({Summary("default", "a"), Summary("default", "b")});
  EXPECT_EQ(subscriber->seen, 2u);
  feed.Unsubscribe(subscriber.get());
  feed.Publish({Summary("default", "c")});
  EXPECT_EQ(subscriber->seen, 2u);
  EXPECT_EQ(feed.subscriber_count(), 0u);
}

TEST(EventFeedTest, SummaryNamesTrackEventsAndPages) {
  ingest::CanonicalEvent event;
  event.type = ingest::EventType::kPage;
  event.name = "Pricing";
  event.space = "default";
  event.anonymous_id = "a-1";
  ingest::EventSummary summary = ingest::SummarizeEvent(event);
  EXPECT_EQ(summary.type, "page");
  EXPECT_EQ(summary.event, "Pricing");
  EXPECT_EQ(summary.anonymous_id, "a-1");
}

}  // namespace
}  // namespace tessera::api
