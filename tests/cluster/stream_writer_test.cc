#include "cluster/stream_writer.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <future>
#include <thread>

#include "absl/strings/str_cat.h"
#include "cluster/event_stream.h"
#include "cluster/stream_fill.h"
#include "ingest/dedup_window.h"
#include "tests/cluster/nats_test_cluster.h"

namespace tessera::cluster {
namespace {

using ingest::EventOutcome;
using std::chrono::milliseconds;
using std::chrono::seconds;

std::vector<ingest::LogEntry> Entries(std::string_view space, int first, int count) {
  std::vector<ingest::LogEntry> entries;
  for (int i = first; i < first + count; ++i) {
    const std::string id = absl::StrCat("message-", i);
    entries.push_back(ingest::LogEntry{.space = std::string(space),
                                       .dedup_key = ingest::DedupWindow::Key(space, id),
                                       .record = absl::StrCat("record ", i)});
  }
  return entries;
}

struct Reported {
  absl::Status status;
  std::vector<EventOutcome> outcomes;
};

// Submits and waits for the callback; the Submit error itself when it refuses.
Reported SubmitAndWait(StreamWriter& writer, std::vector<ingest::LogEntry> entries) {
  auto promise = std::make_shared<std::promise<Reported>>();
  std::future<Reported> future = promise->get_future();
  absl::Status submitted = writer.Submit(std::move(entries), [promise](absl::Status status,
                                                                       std::vector<EventOutcome> outcomes) {
    promise->set_value(Reported{std::move(status), std::move(outcomes)});
  });
  if (!submitted.ok()) return Reported{submitted, {}};
  if (future.wait_for(seconds(30)) != std::future_status::ready) {
    return Reported{absl::DeadlineExceededError("no callback in 30 s"), {}};
  }
  return future.get();
}

class StreamWriterTest : public testing::NatsClusterTest {};

TEST_F(StreamWriterTest, ARequestIsReportedOnceJetStreamHoldsEachEventAndRetriesAreDuplicates) {
  EventStream stream(*nats_, {.replicas = 3});
  ASSERT_TRUE(stream.Ensure("gateway").ok());
  ingest::IngestMetrics metrics;
  StreamWriter writer(*nats_, {}, &metrics);
  ASSERT_TRUE(writer.Start().ok());

  Reported first = SubmitAndWait(writer, Entries("gateway", 0, 50));
  ASSERT_TRUE(first.status.ok()) << first.status;
  ASSERT_EQ(first.outcomes.size(), 50u);
  for (EventOutcome outcome : first.outcomes) EXPECT_EQ(outcome, EventOutcome::kAccepted);
  auto state = stream.State("gateway");
  ASSERT_TRUE(state.ok());
  EXPECT_EQ(state->messages, 50u) << "stored before the callback said so";

  // A client's retry of the whole request, with ten new events after it.
  Reported retry = SubmitAndWait(writer, Entries("gateway", 0, 60));
  ASSERT_TRUE(retry.status.ok()) << retry.status;
  ASSERT_EQ(retry.outcomes.size(), 60u);
  for (int i = 0; i < 60; ++i) {
    EXPECT_EQ(retry.outcomes[i], i < 50 ? EventOutcome::kDuplicate : EventOutcome::kAccepted) << i;
  }
  state = stream.State("gateway");
  ASSERT_TRUE(state.ok());
  EXPECT_EQ(state->messages, 60u);
  EXPECT_EQ(writer.queued_events(), 0u);
  EXPECT_EQ(metrics.events_accepted.load(), 60u) << "counted as the local log's writer counts";
  EXPECT_EQ(metrics.events_duplicate.load(), 50u);
  EXPECT_EQ(metrics.queue_depth_events.load(), 0);
  std::string page;
  writer.AppendPrometheus(page);
  EXPECT_NE(page.find("tessera_cluster_connected 1\n"), std::string::npos) << page;
  EXPECT_NE(page.find("tessera_cluster_pending_events 0\n"), std::string::npos) << page;
}

TEST_F(StreamWriterTest, RequestsFromManyThreadsAreEachReportedWhole) {
  EventStream stream(*nats_, {.replicas = 3});
  ASSERT_TRUE(stream.Ensure("threads").ok());
  StreamWriter writer(*nats_, {});
  ASSERT_TRUE(writer.Start().ok());
  std::atomic<int> accepted{0};
  std::atomic<int> failed{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int r = 0; r < 20; ++r) {
        Reported reported = SubmitAndWait(writer, Entries("threads", (t * 20 + r) * 25, 25));
        if (!reported.status.ok() || reported.outcomes.size() != 25) {
          failed.fetch_add(1);
          continue;
        }
        for (EventOutcome outcome : reported.outcomes) accepted.fetch_add(outcome == EventOutcome::kAccepted);
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(failed.load(), 0);
  EXPECT_EQ(accepted.load(), 2000);
  auto state = stream.State("threads");
  ASSERT_TRUE(state.ok());
  EXPECT_EQ(state->messages, 2000u);
}

TEST_F(StreamWriterTest, WithoutNatsARequestIsRefusedAtOnceAndNeverReported) {
  auto nowhere = NatsConnection::Connect({.urls = {"nats://127.0.0.1:1"}, .connect_timeout = milliseconds(200)});
  ASSERT_TRUE(nowhere.ok());
  StreamWriter writer(**nowhere, {});
  ASSERT_TRUE(writer.Start().ok());
  bool called = false;
  absl::Status submitted = writer.Submit(Entries("gateway", 0, 3), [&](absl::Status, std::vector<EventOutcome>) {
    called = true;
  });
  EXPECT_TRUE(ingest::IsStoreUnreachable(submitted)) << "answered 503 unavailable, not shutting_down: " << submitted;
  EXPECT_FALSE(called);
  EXPECT_EQ(writer.queued_events(), 0u);
}

TEST_F(StreamWriterTest, ASpaceWithoutAStreamIsAnErrorNotAnAcknowledgement) {
  StreamWriter writer(*nats_, {.publish_timeout = milliseconds(1'500)});
  ASSERT_TRUE(writer.Start().ok());
  Reported reported = SubmitAndWait(writer, Entries("no-stream-here", 0, 3));
  EXPECT_FALSE(reported.status.ok());
  EXPECT_TRUE(absl::IsUnavailable(reported.status)) << reported.status;
  EXPECT_TRUE(reported.outcomes.empty());
}

TEST_F(StreamWriterTest, AFullStreamIsOverloadNotAnOutage) {
  EventStream stream(*nats_, {.replicas = 3, .max_bytes = 4'096});
  ASSERT_TRUE(stream.Ensure("full-writer").ok());
  StreamWriter writer(*nats_, {});
  ASSERT_TRUE(writer.Start().ok());
  std::vector<ingest::LogEntry> entries = Entries("full-writer", 0, 10);
  for (ingest::LogEntry& entry : entries) entry.record.assign(1'000, 'e');
  Reported reported = SubmitAndWait(writer, std::move(entries));
  EXPECT_TRUE(absl::IsResourceExhausted(reported.status)) << "503 overloaded, not unavailable: " << reported.status;
  EXPECT_NE(std::string(reported.status.message()).find("limits"), std::string::npos) << reported.status;
}

TEST_F(StreamWriterTest, AnUnansweredPublishFailsAtItsTimeoutAndTheBoundRefusesMoreMeanwhile) {
  // A plain subscriber on the space's subject, and no stream: publishes reach it and nobody ever
  // acknowledges them.
  const std::string subject = StreamSubject("silent");
  natsSubscription* silent = nullptr;
  ASSERT_EQ(natsConnection_SubscribeSync(&silent, nats_->raw(), subject.c_str()), NATS_OK);
  ASSERT_EQ(natsConnection_FlushTimeout(nats_->raw(), 5'000), NATS_OK);
  StreamWriter writer(*nats_, {.publish_timeout = milliseconds(1'500), .max_pending_events = 10});
  ASSERT_TRUE(writer.Start().ok());

  const auto start = std::chrono::steady_clock::now();
  auto promise = std::make_shared<std::promise<Reported>>();
  std::future<Reported> future = promise->get_future();
  absl::Status submitted = writer.Submit(Entries("silent", 0, 8), [promise](absl::Status status,
                                                                            std::vector<EventOutcome> outcomes) {
    promise->set_value(Reported{std::move(status), std::move(outcomes)});
  });
  ASSERT_TRUE(submitted.ok()) << submitted;
  absl::Status over = writer.Submit(Entries("silent", 100, 5), [](absl::Status, std::vector<EventOutcome>) {
    ADD_FAILURE() << "a refused request is never reported";
  });
  EXPECT_TRUE(absl::IsResourceExhausted(over)) << "8 waiting + 5 > 10: " << over;
  ASSERT_EQ(future.wait_for(seconds(30)), std::future_status::ready);
  Reported reported = future.get();
  EXPECT_GE(std::chrono::steady_clock::now() - start, milliseconds(1'400)) << "failed at the timeout, not before";
  EXPECT_TRUE(ingest::IsStoreUnreachable(reported.status)) << "no acknowledgement: " << reported.status;
  EXPECT_TRUE(reported.outcomes.empty());
  EXPECT_EQ(writer.queued_events(), 0u);
  std::string page;
  writer.AppendPrometheus(page);
  EXPECT_NE(page.find("tessera_cluster_publish_failures_total{reason=\"unreachable\"} 8\n"), std::string::npos)
      << page;
  natsSubscription_Destroy(silent);
}

TEST_F(StreamWriterTest, StopReportsWhatIsStillUnansweredAndRefusesLaterRequests) {
  const std::string subject = StreamSubject("silent-stop");
  natsSubscription* silent = nullptr;
  ASSERT_EQ(natsConnection_SubscribeSync(&silent, nats_->raw(), subject.c_str()), NATS_OK);
  ASSERT_EQ(natsConnection_FlushTimeout(nats_->raw(), 5'000), NATS_OK);
  StreamWriter writer(*nats_, {.publish_timeout = milliseconds(500)});
  ASSERT_TRUE(writer.Start().ok());
  std::atomic<int> calls{0};
  absl::Status reported;
  ASSERT_TRUE(writer.Submit(Entries("silent-stop", 0, 3), [&](absl::Status status, std::vector<EventOutcome>) {
                  reported = status;
                  calls.fetch_add(1);
                }).ok());
  writer.Stop();
  EXPECT_EQ(calls.load(), 1) << "every accepted request is reported exactly once by the time Stop returns";
  EXPECT_FALSE(reported.ok());
  EXPECT_TRUE(absl::IsUnavailable(writer.Submit(Entries("silent-stop", 10, 1), [](absl::Status, std::vector<EventOutcome>) {
    ADD_FAILURE() << "refused after Stop";
  })));
  natsSubscription_Destroy(silent);
}


// Near the stream's limits a gateway sheds requests itself, before JetStream refuses them, and
// says so in its metrics.
TEST_F(StreamWriterTest, RequestsForAStreamNearItsLimitAreShedAsNearlyFull) {
  EventStream stream(*nats_, {.replicas = 3, .max_bytes = 8 << 10});
  ASSERT_TRUE(stream.Ensure("nearly_full").ok());
  StreamFill fill(*nats_, 0.5, milliseconds(50));
  StreamWriter writer(*nats_, {.fill = &fill});
  ASSERT_TRUE(writer.Start().ok());
  EXPECT_FALSE(fill.Shedding("nearly_full"));
  // Half of 8 KiB in records of about 100 bytes (with their headers), then shedding.
  absl::Status refused = absl::OkStatus();
  int sent = 0;
  for (; sent < 200 && refused.ok(); sent += 5) {
    Reported reported = SubmitAndWait(writer, Entries("nearly_full", sent, 5));
    if (!reported.status.ok()) {
      refused = reported.status;
      break;
    }
    std::this_thread::sleep_for(milliseconds(60));
  }
  ASSERT_FALSE(refused.ok()) << "never shed after " << sent << " events";
  EXPECT_TRUE(ingest::IsStoreNearlyFull(refused)) << refused;
  auto state = stream.State("nearly_full");
  ASSERT_TRUE(state.ok());
  EXPECT_LT(state->bytes, uint64_t{8} << 10) << "shed before JetStream's own limit";
  std::string metrics;
  writer.AppendPrometheus(metrics);
  EXPECT_NE(metrics.find("tessera_cluster_publish_failures_total{reason=\"shed\"} 5\n"), std::string::npos)
      << metrics;
  EXPECT_NE(metrics.find("tessera_cluster_stream_fill{space=\"nearly_full\"} 0."), std::string::npos) << metrics;
  // Another space is not affected.
  ASSERT_TRUE(EventStream(*nats_, {.replicas = 3}).Ensure("roomy").ok());
  EXPECT_TRUE(SubmitAndWait(writer, Entries("roomy", 0, 5)).status.ok());
  writer.Stop();
}

}  // namespace
}  // namespace tessera::cluster
