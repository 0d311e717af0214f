#include "cluster/event_stream.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <thread>

#include "absl/strings/str_cat.h"
#include "cluster/nats_connection.h"
#include "tests/cluster/nats_test_cluster.h"

namespace tessera::cluster {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

class EventStreamTest : public testing::NatsClusterTest {
 protected:
  // Publishes until JetStream acknowledges (a server may be restarting or a leader being
  // elected), with the same message id each time, as a client's retry would.
  absl::StatusOr<PublishAck> PublishWithRetries(EventStream& stream, std::string_view space, std::string_view id,
                                                std::string_view payload) {
    absl::StatusOr<PublishAck> ack = absl::UnavailableError("not tried");
    for (int attempt = 0; attempt < 120 && !ack.ok(); ++attempt) {
      ack = stream.Publish(space, id, payload, milliseconds(1'000));
      if (!ack.ok()) std::this_thread::sleep_for(milliseconds(250));
    }
    return ack;
  }

  bool WaitForCurrentReplicas(EventStream& stream, std::string_view space, int64_t replicas) {
    for (int attempt = 0; attempt < 120; ++attempt) {
      auto state = stream.State(space);
      if (state.ok() && state->current_replicas >= replicas) return true;
      std::this_thread::sleep_for(milliseconds(250));
    }
    return false;
  }
};

TEST_F(EventStreamTest, EventsAreAcknowledgedInOrderOnThreeReplicas) {
  EventStream stream(*nats_, {.replicas = 3});
  ASSERT_TRUE(stream.Ensure("ordered").ok());
  for (uint64_t i = 1; i <= 3; ++i) {
    auto ack = stream.Publish("ordered", absl::StrCat("m", i), absl::StrCat("event ", i), seconds(5));
    ASSERT_TRUE(ack.ok()) << ack.status();
    EXPECT_EQ(ack->sequence, i);
    EXPECT_FALSE(ack->duplicate);
  }
  auto state = stream.State("ordered");
  ASSERT_TRUE(state.ok()) << state.status();
  EXPECT_EQ(state->messages, 3u);
  EXPECT_EQ(state->last_sequence, 3u);
  EXPECT_EQ(state->replicas, 3);
  EXPECT_TRUE(WaitForCurrentReplicas(stream, "ordered", 3)) << "all three servers hold the stream";
  EXPECT_TRUE(stream.Ensure("ordered").ok()) << "ensuring an existing stream with the same options is a no-op";
}

TEST_F(EventStreamTest, JetStreamKeepsTheEventsEncryptedAtRestOnEveryServer) {
  EventStream stream(*nats_, {.replicas = 3});
  ASSERT_TRUE(stream.Ensure("at-rest").ok());
  const std::string secret = "jetstream.quokka.secret@example.com";
  for (int i = 0; i < 20; ++i) {
    auto ack = stream.Publish("at-rest", absl::StrCat("m", i), absl::StrCat(R"({"email":")", secret, R"("})"), seconds(5));
    ASSERT_TRUE(ack.ok()) << ack.status();
  }
  ASSERT_TRUE(WaitForCurrentReplicas(stream, "at-rest", 3));
  // Each server's message blocks reach its disk on their own schedule: wait until all three wrote some.
  auto block_bytes = [&](int server) {
    uintmax_t bytes = 0;
    for (const auto& entry : std::filesystem::recursive_directory_iterator(cluster_->store_dir(server))) {
      if (entry.is_regular_file() && entry.path().extension() == ".blk") bytes += entry.file_size();
    }
    return bytes;
  };
  for (int server = 0; server < cluster_->size(); ++server) {
    EXPECT_TRUE(testing::WaitUntil([&] { return block_bytes(server) > 20 * secret.size(); }, seconds(10)))
        << "server " << server << " wrote no message blocks";
    for (const auto& entry : std::filesystem::recursive_directory_iterator(cluster_->store_dir(server))) {
      if (!entry.is_regular_file()) continue;
      std::ifstream in(entry.path(), std::ios::binary);
      const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      EXPECT_EQ(bytes.find("quokka"), std::string::npos) << entry.path() << " holds an event in plain text";
    }
  }
}

TEST_F(EventStreamTest, ARetriedMessageIdIsStoredOnceAndAnsweredWithItsFirstSequence) {
  EventStream stream(*nats_, {.replicas = 3});
  ASSERT_TRUE(stream.Ensure("retries").ok());
  auto first = stream.Publish("retries", "same-id", "payload", seconds(5));
  ASSERT_TRUE(first.ok()) << first.status();
  auto other = stream.Publish("retries", "other-id", "payload", seconds(5));
  ASSERT_TRUE(other.ok()) << other.status();
  auto again = stream.Publish("retries", "same-id", "payload", seconds(5));
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_TRUE(again->duplicate);
  EXPECT_EQ(again->sequence, first->sequence);
  auto state = stream.State("retries");
  ASSERT_TRUE(state.ok());
  EXPECT_EQ(state->messages, 2u);
}

TEST_F(EventStreamTest, LosingOneServerOfThreeKeepsAcknowledgingAndStoresEachRetryOnce) {
  EventStream stream(*nats_, {.replicas = 3});
  ASSERT_TRUE(stream.Ensure("one-down").ok());
  ASSERT_TRUE(stream.Publish("one-down", "before", "x", seconds(5)).ok());
  // The server this connection uses may be the one killed: the client moves to another.
  for (int killed = 0; killed < 3; ++killed) {
    cluster_->Kill(killed);
    auto ack = PublishWithRetries(stream, "one-down", absl::StrCat("while-", killed, "-down"), "x");
    ASSERT_TRUE(ack.ok()) << "server " << killed << " down: " << ack.status();
    cluster_->Start(killed);
    // The restarted server must catch up before the next one goes, or two of three would be
    // behind: a quorum of the stream's replicas must be current.
    ASSERT_TRUE(WaitForCurrentReplicas(stream, "one-down", 3)) << "server " << killed << " did not catch up";
    auto again = PublishWithRetries(stream, "one-down", absl::StrCat("after-", killed), "x");
    ASSERT_TRUE(again.ok()) << again.status();
  }
  auto state = stream.State("one-down");
  ASSERT_TRUE(state.ok()) << state.status();
  EXPECT_EQ(state->messages, 7u) << "each message id once, however many retries it took";
}

TEST_F(EventStreamTest, WithoutAQuorumAPublishFailsAsUnavailableAndIsNeverAcknowledged) {
  EventStream stream(*nats_, {.replicas = 3});
  ASSERT_TRUE(stream.Ensure("no-quorum").ok());
  ASSERT_TRUE(stream.Publish("no-quorum", "first", "x", seconds(5)).ok());
  cluster_->Kill(1);
  cluster_->Kill(2);
  ASSERT_TRUE(nats_->WaitConnected(seconds(10))) << "server 0 is still up";
  for (int i = 0; i < 3; ++i) {
    auto ack = stream.Publish("no-quorum", absl::StrCat("lonely-", i), "x", milliseconds(1'500));
    EXPECT_FALSE(ack.ok()) << "one server of three must not acknowledge a replicated write";
    if (!ack.ok()) {
      EXPECT_TRUE(absl::IsUnavailable(ack.status())) << ack.status();
    }
  }
  cluster_->Start(1);
  cluster_->Start(2);
  auto later = PublishWithRetries(stream, "no-quorum", "after-quorum", "x");
  ASSERT_TRUE(later.ok()) << later.status();
}

TEST_F(EventStreamTest, NoServerAtAllFailsFastAsUnavailable) {
  auto nowhere = NatsConnection::Connect({.urls = {"nats://127.0.0.1:1"}, .connect_timeout = milliseconds(200)});
  ASSERT_TRUE(nowhere.ok()) << "a process starts while NATS is down; it keeps trying in the background";
  EXPECT_FALSE((*nowhere)->connected());
  EventStream stream(**nowhere, {.replicas = 3});
  const auto start = std::chrono::steady_clock::now();
  auto ack = stream.Publish("default", "m", "x", seconds(2));
  ASSERT_FALSE(ack.ok());
  EXPECT_TRUE(absl::IsUnavailable(ack.status())) << ack.status();
  EXPECT_LT(std::chrono::steady_clock::now() - start, seconds(10)) << "bounded by the publish timeout";
  EXPECT_TRUE(absl::IsInvalidArgument(NatsConnection::Connect({.urls = {}}).status()));
}

TEST_F(EventStreamTest, AStreamWithOtherReplicasIsNotSilentlyChanged) {
  EventStream three(*nats_, {.replicas = 3});
  ASSERT_TRUE(three.Ensure("replicas").ok());
  EventStream one(*nats_, {.replicas = 1});
  absl::Status status = one.Ensure("replicas");
  EXPECT_TRUE(absl::IsFailedPrecondition(status)) << status;
}

TEST_F(EventStreamTest, AFullStreamRefusesNewEventsAndKeepsTheOldOnes) {
  EventStream stream(*nats_, {.replicas = 3, .max_bytes = 4'096});
  ASSERT_TRUE(stream.Ensure("full").ok());
  const std::string payload(1'000, 'e');
  int stored = 0;
  absl::Status refused;
  for (int i = 0; i < 10 && refused.ok(); ++i) {
    auto ack = stream.Publish("full", absl::StrCat("m", i), payload, seconds(5));
    if (ack.ok()) {
      ++stored;
    } else {
      refused = ack.status();
    }
  }
  EXPECT_FALSE(refused.ok()) << "4 KB cannot hold ten 1 KB events";
  auto state = stream.State("full");
  ASSERT_TRUE(state.ok());
  EXPECT_EQ(state->messages, static_cast<uint64_t>(stored)) << "nothing stored was discarded to make room";
  EXPECT_EQ(state->first_sequence, 1u);
}

}  // namespace
}  // namespace tessera::cluster
