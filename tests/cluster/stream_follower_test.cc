#include "cluster/stream_follower.h"

#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <thread>

#include "absl/strings/str_cat.h"
#include "cluster/event_stream.h"
#include "cluster/internal/nats_handles.h"
#include "ingest/accepted_log.h"
#include "ingest/event_codec.h"
#include "tests/cluster/nats_test_cluster.h"
#include "tests/ingest/test_events.h"
#include "tests/support/temp_dir.h"

namespace tessera::cluster {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

std::string Record(std::string_view space, const std::string& message_id) {
  ingest::CanonicalEvent event = ingest::testing::TrackEvent(message_id, std::string(space));
  std::string record;
  ingest::EncodeEvent(event, record);
  return record;
}

// A local store with its log writer, as a resolver or replica process has.
class LocalStore {
 public:
  explicit LocalStore(const std::string& path) {
    auto store = profile_store::Store::Open({.path = path, .sync_writes = false});
    EXPECT_TRUE(store.ok()) << store.status();
    store_ = *std::move(store);
    writer_ = std::make_unique<ingest::GroupCommitWriter>(*store_, ingest::GroupCommitOptions{}, metrics_);
    EXPECT_TRUE(writer_->Start().ok());
  }
  ~LocalStore() {
    writer_->Stop();
    EXPECT_TRUE(store_->Close().ok());
  }
  profile_store::Store& store() { return *store_; }
  ingest::GroupCommitWriter& writer() { return *writer_; }

  // The space's log as (sequence, record) pairs.
  std::vector<std::pair<uint64_t, std::string>> Log(std::string_view space) {
    std::vector<std::pair<uint64_t, std::string>> entries;
    ingest::AcceptedLog log(*store_);
    EXPECT_TRUE(log.Scan(space, 1, [&](uint64_t sequence, std::string_view record) {
                     entries.emplace_back(sequence, std::string(record));
                     return true;
                   }).ok());
    return entries;
  }

 private:
  ingest::IngestMetrics metrics_;
  std::unique_ptr<profile_store::Store> store_;
  std::unique_ptr<ingest::GroupCommitWriter> writer_;
};

class StreamFollowerTest : public testing::NatsClusterTest {
 protected:
  void Publish(std::string_view space, int first, int count) {
    EventStream stream(*nats_, {.replicas = 3});
    for (int i = first; i < first + count; ++i) {
      const std::string id = absl::StrCat("m", i);
      auto ack = stream.Publish(space, id, Record(space, id), seconds(10));
      ASSERT_TRUE(ack.ok()) << ack.status();
    }
  }
  FollowerOptions Options(std::string_view space) {
    return {.space = std::string(space), .fetch_batch = 4, .fetch_wait = milliseconds(200)};
  }
  tessera::testing::ScopedTempDir dir_;
};

TEST_F(StreamFollowerTest, CopiesTheStreamInOrderWithItsPositionInTheSameWrite) {
  EventStream stream(*nats_, {.replicas = 3});
  ASSERT_TRUE(stream.Ensure("follow_order").ok());
  Publish("follow_order", 1, 10);
  LocalStore local(dir_.path());
  StreamFollower follower(*nats_, local.writer(), local.store(), Options("follow_order"));
  ASSERT_TRUE(follower.Start().ok());
  ASSERT_TRUE(testing::WaitUntil([&] { return follower.copied() == 10; })) << follower.copied();
  follower.Stop();

  auto log = local.Log("follow_order");
  ASSERT_EQ(log.size(), 10u);
  for (int i = 0; i < 10; ++i) EXPECT_EQ(log[i].second, Record("follow_order", absl::StrCat("m", i + 1))) << i;
  auto position = ReadCopiedPosition(local.store(), "follow_order");
  ASSERT_TRUE(position.ok()) << position.status();
  EXPECT_EQ(position->stream_sequence, 10u);
  EXPECT_EQ(position->log_sequence, log.back().first);
  EXPECT_EQ(follower.stream_last(), 10u);
  EXPECT_TRUE(follower.error().ok());
}

TEST_F(StreamFollowerTest, ARestartedFollowerContinuesAfterItsPosition) {
  EventStream stream(*nats_, {.replicas = 3});
  ASSERT_TRUE(stream.Ensure("follow_restart").ok());
  Publish("follow_restart", 1, 5);
  {
    LocalStore local(dir_.path());
    StreamFollower follower(*nats_, local.writer(), local.store(), Options("follow_restart"));
    ASSERT_TRUE(follower.Start().ok());
    ASSERT_TRUE(testing::WaitUntil([&] { return follower.copied() == 5; }));
  }
  Publish("follow_restart", 6, 5);
  LocalStore local(dir_.path());
  StreamFollower follower(*nats_, local.writer(), local.store(), Options("follow_restart"));
  ASSERT_TRUE(follower.Start().ok());
  EXPECT_EQ(follower.copied(), 5u);  // From the store, before anything new is fetched.
  ASSERT_TRUE(testing::WaitUntil([&] { return follower.copied() == 10; }));
  follower.Stop();
  auto log = local.Log("follow_restart");
  ASSERT_EQ(log.size(), 10u);
  for (int i = 0; i < 10; ++i) EXPECT_EQ(log[i].second, Record("follow_restart", absl::StrCat("m", i + 1))) << i;
}

// JetStream keeps Nats-Msg-Id for its window only; a client's retry after it is a second message,
// which every follower's own dedup window drops the same way.
TEST_F(StreamFollowerTest, AStreamDuplicateIsDroppedByTheLocalWindowAndTheDeadLetterableIsKept) {
  EventStream stream(*nats_, {.replicas = 3});
  ASSERT_TRUE(stream.Ensure("follow_dupes").ok());
  ASSERT_TRUE(stream.Publish("follow_dupes", "first try", Record("follow_dupes", "same"), seconds(10)).ok());
  ASSERT_TRUE(stream.Publish("follow_dupes", "late retry", Record("follow_dupes", "same"), seconds(10)).ok());
  ASSERT_TRUE(stream.Publish("follow_dupes", "garbage", "\x07 not a record", seconds(10)).ok());
  ASSERT_TRUE(stream.Publish("follow_dupes", "garbage again", "\x07 not a record", seconds(10)).ok());
  LocalStore local(dir_.path());
  StreamFollower follower(*nats_, local.writer(), local.store(), Options("follow_dupes"));
  ASSERT_TRUE(follower.Start().ok());
  ASSERT_TRUE(testing::WaitUntil([&] { return follower.copied() == 4; }));
  follower.Stop();
  auto log = local.Log("follow_dupes");
  // The event once; each undecodable message under its own sequence, for the resolver to
  // dead-letter with the reason.
  ASSERT_EQ(log.size(), 3u);
  EXPECT_EQ(log[0].second, Record("follow_dupes", "same"));
  EXPECT_EQ(log[1].second, "\x07 not a record");
  EXPECT_EQ(log[2].second, "\x07 not a record");
}

TEST_F(StreamFollowerTest, StreamPositionAtAnswersWhatAnAppliedLogPrefixReflects) {
  EventStream stream(*nats_, {.replicas = 3});
  ASSERT_TRUE(stream.Ensure("follow_map").ok());
  Publish("follow_map", 1, 8);
  LocalStore local(dir_.path());
  StreamFollower follower(*nats_, local.writer(), local.store(), Options("follow_map"));
  ASSERT_TRUE(follower.Start().ok());
  ASSERT_TRUE(testing::WaitUntil([&] { return follower.copied() == 8; }));
  follower.Stop();
  const uint64_t last = local.Log("follow_map").back().first;
  // Fetches of 4: a resolver that has applied the whole log reflects the stream's 8, and one
  // that has applied nothing of it reflects nothing yet.
  EXPECT_EQ(follower.StreamPositionAt(last - 8), 0u);
  EXPECT_EQ(follower.StreamPositionAt(last - 4), 4u);
  EXPECT_EQ(follower.StreamPositionAt(last), 8u);
  // A caller that read an older applied position gets no older answer: state only moves on.
  EXPECT_EQ(follower.StreamPositionAt(last - 4), 8u);
  EXPECT_EQ(follower.StreamPositionAt(0), 8u);
}

TEST_F(StreamFollowerTest, TheDurableConsumerIsMadeFromTheStoresPositionAndAcknowledged) {
  EventStream stream(*nats_, {.replicas = 3});
  ASSERT_TRUE(stream.Ensure("follow_durable").ok());
  Publish("follow_durable", 1, 6);
  LocalStore local(dir_.path());
  FollowerOptions options = Options("follow_durable");
  options.may_acknowledge = [] { return true; };
  StreamFollower follower(*nats_, local.writer(), local.store(), options);
  follower.UseDurable(true);
  ASSERT_TRUE(follower.Start().ok());
  ASSERT_TRUE(testing::WaitUntil([&] { return follower.copied() == 6; }));
  auto acknowledged = [&]() -> uint64_t {
    jsConsumerInfo* info = nullptr;
    if (js_GetConsumerInfo(&info, nats_->jetstream(), StreamName("follow_durable").c_str(), "tessera_resolver",
                           nullptr, nullptr) != NATS_OK) {
      return 0;
    }
    const uint64_t floor = info->AckFloor.Stream;
    jsConsumerInfo_Destroy(info);
    return floor;
  };
  EXPECT_TRUE(testing::WaitUntil([&] { return acknowledged() == 6; })) << acknowledged();
  follower.Stop();
}

TEST_F(StreamFollowerTest, AStoreBehindTheStreamsFirstMessageStopsWithTheReason) {
  EventStream stream(*nats_, {.replicas = 3});
  ASSERT_TRUE(stream.Ensure("follow_gone").ok());
  Publish("follow_gone", 1, 3);
  ASSERT_EQ(js_PurgeStream(nats_->jetstream(), StreamName("follow_gone").c_str(), nullptr, nullptr), NATS_OK);
  Publish("follow_gone", 4, 2);
  LocalStore local(dir_.path());
  StreamFollower follower(*nats_, local.writer(), local.store(), Options("follow_gone"));
  ASSERT_TRUE(follower.Start().ok());
  ASSERT_TRUE(testing::WaitUntil([&] { return !follower.error().ok(); }));
  EXPECT_TRUE(absl::IsFailedPrecondition(follower.error())) << follower.error();
  EXPECT_NE(follower.error().message().find("starts at sequence 4"), std::string::npos) << follower.error();
  EXPECT_EQ(follower.copied(), 0u);
  EXPECT_TRUE(local.Log("follow_gone").empty());
}

// A sequence the stream does not answer for, above the scrub mark, is no erasure: a JetStream
// replica that lacks it (after a kill -9 and catch-up, say) must not make the store skip it for
// good while other members copy it. (Before the fix the follower confirmed the gap with
// js_GetMsg, found nothing, and skipped messages 3 for ever: copied() reached 6.)
TEST_F(StreamFollowerTest, AGapNoErasureCoversIsNeverSkipped) {
  EventStream stream(*nats_, {.replicas = 3});
  ASSERT_TRUE(stream.Ensure("follow_holes").ok());
  Publish("follow_holes", 1, 6);
  ASSERT_EQ(js_DeleteMsg(nats_->jetstream(), StreamName("follow_holes").c_str(), 3, nullptr, nullptr), NATS_OK);
  LocalStore local(dir_.path());
  FollowerOptions options = Options("follow_holes");
  options.scrubbed_through = [](int64_t) -> absl::StatusOr<uint64_t> { return 0; };  // Nothing erased.
  StreamFollower follower(*nats_, local.writer(), local.store(), options);
  ASSERT_TRUE(follower.Start().ok());
  ASSERT_TRUE(testing::WaitUntil([&] { return follower.copied() >= 2; })) << follower.error();
  std::this_thread::sleep_for(seconds(3));  // Many fetches, gaps and consumers made anew.
  EXPECT_EQ(follower.copied(), 2u);
  EXPECT_TRUE(follower.error().ok()) << follower.error();
  follower.Stop();
  EXPECT_EQ(local.Log("follow_holes").size(), 2u);
}

TEST_F(StreamFollowerTest, AStoreBehindAnEmptiedStreamStopsWithTheReason) {
  EventStream stream(*nats_, {.replicas = 3});
  ASSERT_TRUE(stream.Ensure("follow_emptied").ok());
  Publish("follow_emptied", 1, 3);
  ASSERT_EQ(js_PurgeStream(nats_->jetstream(), StreamName("follow_emptied").c_str(), nullptr, nullptr), NATS_OK);
  LocalStore local(dir_.path());
  StreamFollower follower(*nats_, local.writer(), local.store(), Options("follow_emptied"));
  ASSERT_TRUE(follower.Start().ok());
  ASSERT_TRUE(testing::WaitUntil([&] { return !follower.error().ok(); }));
  EXPECT_NE(follower.error().message().find("starts at sequence 4"), std::string::npos) << follower.error();
}

TEST_F(StreamFollowerTest, AStreamMadeAnewUnderTheSameNameIsNotFollowedFromTheOldPosition) {
  EventStream stream(*nats_, {.replicas = 3});
  ASSERT_TRUE(stream.Ensure("follow_anew").ok());
  Publish("follow_anew", 1, 3);
  {
    LocalStore local(dir_.path());
    StreamFollower follower(*nats_, local.writer(), local.store(), Options("follow_anew"));
    ASSERT_TRUE(follower.Start().ok());
    ASSERT_TRUE(testing::WaitUntil([&] { return follower.copied() == 3; }));
  }
  ASSERT_EQ(js_DeleteStream(nats_->jetstream(), StreamName("follow_anew").c_str(), nullptr, nullptr), NATS_OK);
  ASSERT_TRUE(stream.Ensure("follow_anew").ok());
  Publish("follow_anew", 101, 5);  // Past the old position: only the creation time tells.
  LocalStore local(dir_.path());
  StreamFollower follower(*nats_, local.writer(), local.store(), Options("follow_anew"));
  ASSERT_TRUE(follower.Start().ok());
  ASSERT_TRUE(testing::WaitUntil([&] { return !follower.error().ok(); }));
  EXPECT_NE(follower.error().message().find("was made anew"), std::string::npos) << follower.error();
  EXPECT_EQ(local.Log("follow_anew").size(), 3u);
}

}  // namespace
}  // namespace tessera::cluster

namespace tessera::cluster {
namespace {

// The scrub mark: messages up to it may be gone (erased people's), so a store that has copied
// less must stop, whether it finds that out when it starts or at the gap itself.
TEST_F(StreamFollowerTest, AStoreBehindTheScrubMarkStopsAtStartOrAtTheGap) {
  EventStream stream(*nats_, {.replicas = 3});
  ASSERT_TRUE(stream.Ensure("follow_scrubbed").ok());
  Publish("follow_scrubbed", 1, 6);
  ASSERT_EQ(js_DeleteMsg(nats_->jetstream(), StreamName("follow_scrubbed").c_str(), 3, nullptr, nullptr), NATS_OK);
  {
    LocalStore local(dir_.path() + "/at-start");
    FollowerOptions options = Options("follow_scrubbed");
    options.scrubbed_through = [](int64_t) -> absl::StatusOr<uint64_t> { return 4; };
    StreamFollower follower(*nats_, local.writer(), local.store(), options);
    ASSERT_TRUE(follower.Start().ok());
    ASSERT_TRUE(testing::WaitUntil([&] { return !follower.error().ok(); }));
    EXPECT_NE(follower.error().message().find("scrubbed from stream"), std::string::npos) << follower.error();
    EXPECT_EQ(follower.copied(), 0u);
  }
  {
    // The mark raised after the store began (the scrubber started meanwhile): it stops at the gap
    // rather than skip what it has not applied.
    LocalStore local(dir_.path() + "/at-gap");
    FollowerOptions options = Options("follow_scrubbed");
    auto calls = std::make_shared<std::atomic<int>>(0);
    options.scrubbed_through = [calls](int64_t) -> absl::StatusOr<uint64_t> {
      return calls->fetch_add(1) == 0 ? 0 : 3;  // The gap itself: a mark at the gap stops the store.
    };
    StreamFollower follower(*nats_, local.writer(), local.store(), options);
    ASSERT_TRUE(follower.Start().ok());
    ASSERT_TRUE(testing::WaitUntil([&] { return !follower.error().ok(); }));
    EXPECT_EQ(follower.copied(), 2u);
    EXPECT_EQ(local.Log("follow_scrubbed").size(), 2u);
  }
}

}  // namespace
}  // namespace tessera::cluster
