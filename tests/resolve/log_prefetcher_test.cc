// The resolver's first stage: it reads the log in order, prepares every record, hands chunks over
// through a bounded queue, reads on from where it stopped when told to, and starts over when
// restarted.

#include "resolve/log_prefetcher.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "resolve/event_preparer.h"
#include "tests/resolve/resolver_fixture.h"

namespace tessera::resolve {
namespace {

using namespace resolver_testing;  // NOLINT: the fixture and its helpers

class LogPrefetcherTest : public ResolverTest {
 protected:
  // Appends `count` track events with user ids u-<first>..; returns the last sequence.
  uint64_t AppendUsers(int first, int count) {
    std::vector<ingest::CanonicalEvent> events;
    for (int i = first; i < first + count; ++i) {
      ingest::CanonicalEvent event = Event(ingest::EventType::kTrack, "web", i);
      event.user_id = "u-" + std::to_string(i);
      events.push_back(std::move(event));
    }
    return Append(events);
  }

  // Every prepared event until the end of what was read: (sequence, user id).
  std::vector<std::pair<uint64_t, std::string>> Drain(LogPrefetcher& prefetcher) {
    std::vector<std::pair<uint64_t, std::string>> seen;
    for (;;) {
      absl::StatusOr<PreparedEvent*> next = prefetcher.Next();
      EXPECT_TRUE(next.ok()) << next.status();
      if (!next.ok() || *next == nullptr) return seen;
      seen.emplace_back((*next)->sequence, (*next)->event.user_id);
    }
  }

  void SetUp() override {
    ResolverTest::SetUp();
    preparer_ = std::make_unique<EventPreparer>(*normalizer_, extractor_);
  }

  std::unique_ptr<EventPreparer> preparer_;  // After the fixture's normalizer exists.
};

TEST_F(LogPrefetcherTest, ReadsInLogOrderInChunksAndPreparesEachRecord) {
  const uint64_t last = AppendUsers(0, 1000);
  LogPrefetcher prefetcher(*store_, std::string(kSpace), *preparer_, {.chunk_events = 64, .max_chunks = 2});
  prefetcher.Restart(1);
  const auto seen = Drain(prefetcher);
  ASSERT_EQ(seen.size(), 1000u) << "a queue of 2 chunks of 64 must not lose or repeat anything";
  for (size_t i = 0; i < seen.size(); ++i) {
    EXPECT_EQ(seen[i].first, i + 1) << "log order";
    EXPECT_EQ(seen[i].second, "u-" + std::to_string(i)) << "decoded";
  }
  EXPECT_EQ(seen.back().first, last);
  absl::StatusOr<PreparedEvent*> after_end = prefetcher.Next();
  ASSERT_TRUE(after_end.ok());
  EXPECT_EQ(*after_end, nullptr) << "the end stays the end until ReadOn";
}

TEST_F(LogPrefetcherTest, PreparesIdentifiersTraitsAndUndecodableRecords) {
  ingest::CanonicalEvent identify = Event(ingest::EventType::kIdentify, "web", 1);
  identify.user_id = "u-1";
  identify.traits = R"({"email":" Ada@Example.COM ","plan":"pro","$set_once":{"first":"/"}})";
  Append({identify});
  rocksdb::WriteBatch batch;
  batch.Put(store_->handle(ColumnFamily::kLog), ingest::AcceptedLog::Key(kSpace, 2), "\x7f not a record");
  ASSERT_TRUE(store_->WriteIntake(batch).ok());

  LogPrefetcher prefetcher(*store_, std::string(kSpace), *preparer_);
  prefetcher.Restart(1);
  absl::StatusOr<PreparedEvent*> first = prefetcher.Next();
  ASSERT_TRUE(first.ok() && *first != nullptr);
  const PreparedEvent& prepared = **first;
  ASSERT_TRUE(prepared.decode_status.ok()) << prepared.decode_status;
  ASSERT_EQ(prepared.identifiers.size(), 2u);
  EXPECT_EQ(prepared.identifiers[1].type, "email");
  EXPECT_EQ(prepared.identifiers[1].normalized.value, "ada@example.com") << "normalized ahead";
  ASSERT_EQ(prepared.traits.size(), 3u);
  EXPECT_EQ(prepared.traits[2].name, "first");
  EXPECT_TRUE(prepared.traits[2].set_once) << "$set_once members come last, as set-once writes";

  absl::StatusOr<PreparedEvent*> second = prefetcher.Next();
  ASSERT_TRUE(second.ok() && *second != nullptr);
  EXPECT_EQ((*second)->sequence, 2u);
  EXPECT_FALSE((*second)->decode_status.ok()) << "the apply stage dead-letters it with the reason";
}

TEST_F(LogPrefetcherTest, FollowsTheLogWhenToldToReadOnAndRestartsWhereAsked) {
  AppendUsers(0, 10);
  LogPrefetcher prefetcher(*store_, std::string(kSpace), *preparer_, {.chunk_events = 4, .max_chunks = 1});
  absl::StatusOr<PreparedEvent*> before = prefetcher.Next();
  ASSERT_TRUE(before.ok());
  EXPECT_EQ(*before, nullptr) << "nothing is read before the first restart";
  prefetcher.Restart(1);
  ASSERT_EQ(Drain(prefetcher).size(), 10u);
  const uint64_t fifteen = AppendUsers(10, 5);
  absl::StatusOr<PreparedEvent*> ended = prefetcher.Next();
  ASSERT_TRUE(ended.ok());
  EXPECT_EQ(*ended, nullptr) << "later records wait for ReadOn";

  prefetcher.ReadOn();  // Reads on from where it stopped: no restart, nothing repeated.
  auto seen = Drain(prefetcher);
  ASSERT_EQ(seen.size(), 5u);
  EXPECT_EQ(seen.front().first, 11u);
  EXPECT_EQ(seen.back().first, fifteen);
  prefetcher.ReadOn();
  EXPECT_TRUE(Drain(prefetcher).empty()) << "reading on at the end reads nothing again";

  // A restart in the middle drops what was read ahead and reads from where it is told.
  prefetcher.Restart(1);
  absl::StatusOr<PreparedEvent*> one = prefetcher.Next();
  ASSERT_TRUE(one.ok() && *one != nullptr);
  EXPECT_EQ((*one)->sequence, 1u);
  prefetcher.Restart(8);
  seen = Drain(prefetcher);
  ASSERT_EQ(seen.size(), 8u);
  EXPECT_EQ(seen.front().first, 8u);
  EXPECT_EQ(seen.back().first, 15u);
}

TEST_F(LogPrefetcherTest, StopsWhileItsQueueIsFull) {
  AppendUsers(0, 100);
  LogPrefetcher prefetcher(*store_, std::string(kSpace), *preparer_, {.chunk_events = 2, .max_chunks = 1});
  prefetcher.Restart(1);
  absl::StatusOr<PreparedEvent*> first = prefetcher.Next();
  ASSERT_TRUE(first.ok() && *first != nullptr);
  prefetcher.Stop();  // The reader waits for room; stopping must not hang.
  // What the apply stage holds stays valid; after it, a stopped prefetcher says it stopped rather
  // than waiting for chunks no one will read.
  absl::StatusOr<PreparedEvent*> next = prefetcher.Next();
  if (next.ok()) {
    ASSERT_NE(*next, nullptr);
    EXPECT_EQ((*next)->sequence, 2u) << "the rest of the chunk in hand";
    next = prefetcher.Next();
  }
  EXPECT_TRUE(absl::IsCancelled(next.status())) << next.status();
}

}  // namespace
}  // namespace tessera::resolve
