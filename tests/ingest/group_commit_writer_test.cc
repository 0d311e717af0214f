#include "ingest/group_commit_writer.h"

#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <map>
#include <set>
#include <thread>

#include "absl/strings/str_cat.h"
#include "ingest/event_codec.h"
#include "tests/ingest/test_events.h"
#include "tests/support/temp_dir.h"

namespace tessera::ingest {
namespace {

using testing::FixedTime;
using testing::TrackEvent;

struct Outcome {
  absl::Status status;
  std::vector<EventOutcome> outcomes;
};

class GroupCommitWriterTest : public ::testing::Test {
 protected:
  void SetUp() override { OpenStore(); }

  void OpenStore() {
    auto store = profile_store::Store::Open({.path = dir_.path(), .sync_writes = false});
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = *std::move(store);
  }

  std::unique_ptr<GroupCommitWriter> StartWriter(GroupCommitOptions options = {}) {
    auto writer = std::make_unique<GroupCommitWriter>(*store_, options, metrics_);
    absl::Status status = writer->Start();
    EXPECT_TRUE(status.ok()) << status;
    return writer;
  }

  // Submits and waits for the outcome.
  static Outcome SubmitAndWait(GroupCommitWriter& writer, const std::vector<CanonicalEvent>& events) {
    std::vector<LogEntry> entries;
    for (const CanonicalEvent& event : events) entries.push_back(MakeLogEntry(event));
    std::promise<Outcome> promise;
    absl::Status submitted = writer.Submit(std::move(entries), [&](absl::Status status, std::vector<EventOutcome> o) {
      promise.set_value(Outcome{std::move(status), std::move(o)});
    });
    if (!submitted.ok()) return Outcome{submitted, {}};
    return promise.get_future().get();
  }

  // message id -> number of times it appears in the space's log, in log order.
  std::vector<std::string> LoggedIds(std::string_view space = "default") {
    std::vector<std::string> ids;
    AcceptedLog log(*store_);
    absl::Status status = log.Scan(space, 1, [&](uint64_t, std::string_view record) {
      auto event = DecodeEvent(record);
      EXPECT_TRUE(event.ok()) << event.status();
      if (event.ok()) ids.push_back(event->message_id);
      return true;
    });
    EXPECT_TRUE(status.ok()) << status;
    return ids;
  }

  tessera::testing::ScopedTempDir dir_;
  std::unique_ptr<profile_store::Store> store_;
  IngestMetrics metrics_;
};

TEST_F(GroupCommitWriterTest, AcceptedEventsAreInTheLogInOrder) {
  auto writer = StartWriter();
  Outcome result = SubmitAndWait(*writer, {TrackEvent("a"), TrackEvent("b"), TrackEvent("c")});
  ASSERT_TRUE(result.status.ok()) << result.status;
  EXPECT_EQ(result.outcomes, (std::vector{EventOutcome::kAccepted, EventOutcome::kAccepted, EventOutcome::kAccepted}));
  EXPECT_EQ(LoggedIds(), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(writer->log().next_sequence(), 4u);
  EXPECT_EQ(metrics_.events_accepted.load(), 3u);
}

TEST_F(GroupCommitWriterTest, DuplicatesWithinAndAcrossRequestsAreStoredOnce) {
  auto writer = StartWriter();
  Outcome first = SubmitAndWait(*writer, {TrackEvent("a"), TrackEvent("a"), TrackEvent("b")});
  ASSERT_TRUE(first.status.ok());
  EXPECT_EQ(first.outcomes, (std::vector{EventOutcome::kAccepted, EventOutcome::kDuplicate, EventOutcome::kAccepted}));
  Outcome second = SubmitAndWait(*writer, {TrackEvent("b"), TrackEvent("c")});
  EXPECT_EQ(second.outcomes, (std::vector{EventOutcome::kDuplicate, EventOutcome::kAccepted}));
  EXPECT_EQ(LoggedIds(), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(metrics_.events_duplicate.load(), 2u);
}

TEST_F(GroupCommitWriterTest, SameMessageIdInAnotherSpaceIsNotADuplicate) {
  auto writer = StartWriter();
  Outcome result = SubmitAndWait(*writer, {TrackEvent("a", "default"), TrackEvent("a", "shop_eu")});
  EXPECT_EQ(result.outcomes, (std::vector{EventOutcome::kAccepted, EventOutcome::kAccepted}));
  EXPECT_EQ(LoggedIds("default"), std::vector<std::string>{"a"});
  EXPECT_EQ(LoggedIds("shop_eu"), std::vector<std::string>{"a"});
}

TEST_F(GroupCommitWriterTest, IdIsAcceptedAgainOnceTheWindowHasPassed) {
  auto writer = StartWriter({.dedup_window = std::chrono::seconds(60)});
  SubmitAndWait(*writer, {TrackEvent("a", "default", FixedTime(0))});
  Outcome inside = SubmitAndWait(*writer, {TrackEvent("a", "default", FixedTime(59))});
  EXPECT_EQ(inside.outcomes, std::vector{EventOutcome::kDuplicate}) << "59 s later is inside a 60 s window";
  Outcome outside = SubmitAndWait(*writer, {TrackEvent("a", "default", FixedTime(61))});
  EXPECT_EQ(outside.outcomes, std::vector{EventOutcome::kAccepted}) << "61 s later is outside a 60 s window";
}

TEST_F(GroupCommitWriterTest, ConcurrentSubmittersStoreEveryIdExactlyOnce) {
  auto writer = StartWriter();
  constexpr int kThreads = 6;
  constexpr int kRequests = 50;
  constexpr int kEventsPerRequest = 20;
  // Every thread sends the same ids, so each id is raced by all threads.
  std::vector<std::thread> threads;
  std::atomic<int> accepted{0};
  std::atomic<int> failures{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int r = 0; r < kRequests; ++r) {
        std::vector<CanonicalEvent> events;
        for (int e = 0; e < kEventsPerRequest; ++e) events.push_back(TrackEvent(absl::StrCat("id-", r, "-", e)));
        Outcome result = SubmitAndWait(*writer, events);
        if (!result.status.ok()) ++failures;
        for (EventOutcome outcome : result.outcomes) accepted += outcome == EventOutcome::kAccepted;
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(accepted.load(), kRequests * kEventsPerRequest) << "each id must be accepted exactly once overall";
  std::vector<std::string> ids = LoggedIds();
  std::set<std::string> unique(ids.begin(), ids.end());
  EXPECT_EQ(ids.size(), static_cast<size_t>(kRequests * kEventsPerRequest));
  EXPECT_EQ(unique.size(), ids.size()) << "an id appears twice in the log";
  EXPECT_LT(metrics_.log_batches.load(), static_cast<uint64_t>(kThreads * kRequests))
      << "never one write per request under concurrency: group commit is not grouping";
}

TEST_F(GroupCommitWriterTest, FullQueueRefusesInsteadOfGrowing) {
  auto writer = StartWriter({.queue_capacity_events = 5});
  // Hold the writer thread inside the first callback so the queue cannot drain.
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::promise<void> entered;
  ASSERT_TRUE(writer
                  ->Submit({MakeLogEntry(TrackEvent("blocker"))},
                           [&](absl::Status, std::vector<EventOutcome>) {
                             entered.set_value();
                             released.wait();
                           })
                  .ok());
  entered.get_future().wait();
  // The writer is stuck: five queued events fill the queue, the sixth is refused.
  std::vector<LogEntry> five;
  for (int i = 0; i < 5; ++i) five.push_back(MakeLogEntry(TrackEvent(absl::StrCat("q", i))));
  std::promise<Outcome> queued_done;
  ASSERT_TRUE(writer
                  ->Submit(std::move(five),
                           [&](absl::Status status, std::vector<EventOutcome> o) {
                             queued_done.set_value({status, o});
                           })
                  .ok());
  absl::Status refused = writer->Submit({MakeLogEntry(TrackEvent("overflow"))}, [](absl::Status, auto) {
    ADD_FAILURE() << "a refused request's callback must not run";
  });
  EXPECT_TRUE(absl::IsResourceExhausted(refused)) << refused;
  release.set_value();
  Outcome queued = queued_done.get_future().get();
  EXPECT_TRUE(queued.status.ok());
  EXPECT_EQ(queued.outcomes.size(), 5u);
}

TEST_F(GroupCommitWriterTest, StopWritesWhatIsQueuedThenRefuses) {
  auto writer = StartWriter();
  std::atomic<int> done{0};
  for (int i = 0; i < 100; ++i) {
    ASSERT_TRUE(writer
                    ->Submit({MakeLogEntry(TrackEvent(absl::StrCat("s", i)))},
                             [&](absl::Status status, std::vector<EventOutcome>) {
                               EXPECT_TRUE(status.ok()) << status;
                               ++done;
                             })
                    .ok());
  }
  writer->Stop();
  EXPECT_EQ(done.load(), 100) << "every queued request must be written and answered before Stop returns";
  EXPECT_EQ(LoggedIds().size(), 100u);
  absl::Status late = writer->Submit({MakeLogEntry(TrackEvent("late"))}, [](absl::Status, auto) {});
  EXPECT_TRUE(absl::IsUnavailable(late)) << late;
}

TEST_F(GroupCommitWriterTest, RestartContinuesSequencesAndRemembersIds) {
  {
    auto writer = StartWriter();
    SubmitAndWait(*writer, {TrackEvent("a"), TrackEvent("b")});
    writer->Stop();
  }
  ASSERT_TRUE(store_->Close().ok());
  store_.reset();
  OpenStore();
  auto writer = StartWriter();
  EXPECT_EQ(writer->log().next_sequence(), 3u);
  Outcome result = SubmitAndWait(*writer, {TrackEvent("b"), TrackEvent("c")});
  EXPECT_EQ(result.outcomes, (std::vector{EventOutcome::kDuplicate, EventOutcome::kAccepted}));
  std::vector<uint64_t> sequences;
  AcceptedLog log(*store_);
  ASSERT_TRUE(log.Scan("default", 1, [&](uint64_t sequence, std::string_view) {
                   sequences.push_back(sequence);
                   return true;
                 }).ok());
  EXPECT_EQ(sequences, (std::vector<uint64_t>{1, 2, 3}));
}

TEST_F(GroupCommitWriterTest, CommitListenerSeesEachDurableRange) {
  GroupCommitWriter writer(*store_, {}, metrics_);
  std::vector<std::pair<uint64_t, uint64_t>> ranges;
  writer.SetCommitListener([&](uint64_t first, uint64_t last) { ranges.emplace_back(first, last); });
  ASSERT_TRUE(writer.Start().ok());
  SubmitAndWait(writer, {TrackEvent("a"), TrackEvent("b")});
  SubmitAndWait(writer, {TrackEvent("a")});  // duplicate only: nothing written, no range
  SubmitAndWait(writer, {TrackEvent("c")});
  writer.Stop();
  EXPECT_EQ(ranges, (std::vector<std::pair<uint64_t, uint64_t>>{{1, 2}, {3, 3}}));
}


// A follower's mark (cluster/stream_follower.h) is written in the batch of its events, with the
// log's last sequence once they are in; a request of duplicates only still moves the mark.
TEST_F(GroupCommitWriterTest, AMarkIsWrittenWithItsEventsAndTheLogSequenceTheyReached) {
  auto writer = StartWriter();
  auto submit_marked = [&](std::vector<CanonicalEvent> events, std::string mark) {
    std::vector<LogEntry> entries;
    for (const CanonicalEvent& event : events) entries.push_back(MakeLogEntry(event));
    std::promise<Outcome> promise;
    absl::Status submitted = writer->SubmitMarked(
        std::move(entries), GroupCommitWriter::IntakeMark{.key = "test/mark", .value = std::move(mark)},
        [&](absl::Status status, std::vector<EventOutcome> o) {
          promise.set_value(Outcome{std::move(status), std::move(o)});
        });
    if (!submitted.ok()) return Outcome{submitted, {}};
    return promise.get_future().get();
  };
  auto mark = [&] {
    auto value = store_->Get(profile_store::ColumnFamily::kIntakeMeta, "test/mark");
    return value.ok() ? *value : std::string("(none)");
  };
  auto with_sequence = [](std::string value, uint64_t sequence) {
    profile_store::AppendBigEndian64(value, sequence);
    return value;
  };

  ASSERT_TRUE(SubmitAndWait(*writer, {TrackEvent("a")}).status.ok());
  EXPECT_EQ(mark(), "(none)");
  Outcome marked = submit_marked({TrackEvent("b"), TrackEvent("c")}, "first");
  ASSERT_TRUE(marked.status.ok()) << marked.status;
  EXPECT_EQ(mark(), with_sequence("first", 3));
  // Duplicates only: no event is logged, the mark moves all the same.
  marked = submit_marked({TrackEvent("b")}, "second");
  ASSERT_TRUE(marked.status.ok()) << marked.status;
  EXPECT_EQ(marked.outcomes, (std::vector{EventOutcome::kDuplicate}));
  EXPECT_EQ(mark(), with_sequence("second", 3));
  marked = submit_marked({}, "empty");
  ASSERT_TRUE(marked.status.ok()) << marked.status;
  EXPECT_EQ(mark(), with_sequence("empty", 3));
  EXPECT_EQ(LoggedIds(), (std::vector<std::string>{"a", "b", "c"}));
}

// Marks of requests written in one batch each carry the log sequence after their own events.
TEST_F(GroupCommitWriterTest, MarksInOneBatchEachCoverTheirOwnRequest) {
  auto writer = std::make_unique<GroupCommitWriter>(*store_, GroupCommitOptions{.max_delay = std::chrono::milliseconds(200)},
                                                    metrics_);
  ASSERT_TRUE(writer->Start().ok());
  std::promise<void> first_done, second_done;
  std::vector<LogEntry> first{MakeLogEntry(TrackEvent("a")), MakeLogEntry(TrackEvent("b"))};
  std::vector<LogEntry> second{MakeLogEntry(TrackEvent("c"))};
  ASSERT_TRUE(writer->SubmitMarked(std::move(first), {.key = "mark/one", .value = "1"},
                                   [&](absl::Status, std::vector<EventOutcome>) { first_done.set_value(); })
                  .ok());
  ASSERT_TRUE(writer->SubmitMarked(std::move(second), {.key = "mark/two", .value = "2"},
                                   [&](absl::Status, std::vector<EventOutcome>) { second_done.set_value(); })
                  .ok());
  first_done.get_future().wait();
  second_done.get_future().wait();
  std::string one = "1", two = "2";
  profile_store::AppendBigEndian64(one, 2);
  profile_store::AppendBigEndian64(two, 3);
  EXPECT_EQ(*store_->Get(profile_store::ColumnFamily::kIntakeMeta, "mark/one"), one);
  EXPECT_EQ(*store_->Get(profile_store::ColumnFamily::kIntakeMeta, "mark/two"), two);
}

}  // namespace
}  // namespace tessera::ingest
