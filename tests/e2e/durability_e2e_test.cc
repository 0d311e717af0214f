// End-to-end durability tests: what the server acknowledged survives kill -9, and duplicates are
// stored once, also across restarts. The accepted-event log is read directly from the store after
// the server has exited.

#include <atomic>
#include <chrono>
#include <functional>
#include <iostream>
#include <latch>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "ingest/accepted_log.h"
#include "ingest/event.h"
#include "ingest/event_codec.h"
#include "profile_store/store.h"
#include "tests/e2e/e2e_support.h"
#include "tests/e2e/encryption_support.h"
#include "tests/e2e/log_reader.h"

namespace tessera::e2e {
namespace {

using namespace std::chrono_literals;

constexpr std::string_view kSyncedStore = R"("store":{"sync_writes":true})";


std::map<std::string, int> CountByMessageId(const std::vector<ingest::CanonicalEvent>& events) {
  std::map<std::string, int> counts;
  for (const auto& event : events) ++counts[event.message_id];
  return counts;
}

std::string TrackEvent(std::string_view message_id, int n) {
  return R"({"type":"track","userId":"user-)" + std::to_string(n % 97) + R"(","event":"Order Completed",)"
         R"("properties":{"order":)" + std::to_string(n) + R"(,"total":19.99,"currency":"EUR"},"messageId":")" +
         std::string(message_id) + R"("})";
}

std::string Batch(const std::vector<std::string>& message_ids) {
  std::string body = R"({"batch":[)";
  for (size_t i = 0; i < message_ids.size(); ++i) {
    if (i > 0) body += ',';
    body += TrackEvent(message_ids[i], static_cast<int>(i));
  }
  return body + "]}";
}

std::unique_ptr<ServerProcess> StartOrDie(const std::string& data_dir, const std::string& extra_json = "") {
  auto server = ServerProcess::Start(
      {.data_dir = data_dir, .extra_json = std::string(kSyncedStore) + (extra_json.empty() ? "" : ",") + extra_json});
  EXPECT_TRUE(server.ok()) << server.status();
  return server.ok() ? std::move(*server) : nullptr;
}

void TerminateCleanly(ServerProcess& server) {
  auto exit_code = server.Terminate();
  ASSERT_TRUE(exit_code.ok()) << exit_code.status() << "\noutput:\n" << server.Output();
  EXPECT_EQ(*exit_code, 0) << "SIGTERM must exit cleanly; output:\n" << server.Output();
}

// Plain, and with encryption at rest: the encrypted files' partial last slots are rewritten on every
// flush, so what a synced write put on disk must survive a kill there too.
class KillNineE2eTest : public testing::TestWithParam<bool> {};

TEST_P(KillNineE2eTest, AcknowledgedEventsSurviveKillNine) {
  TempDir temp;
  const std::string data_dir = temp.path() + "/data";
  const std::string encryption = GetParam() ? EncryptionJson(temp.path()) : "";
  auto server = StartOrDie(data_dir, encryption);
  ASSERT_NE(server, nullptr);

  constexpr int kClients = 4;
  constexpr int kEventsPerBatch = 25;
  constexpr int kAcknowledgedRequestsBeforeKill = 60;
  std::atomic<bool> stop{false};
  std::atomic<int> acknowledged_requests{0};
  std::atomic<int> failed_requests{0};
  std::mutex mutex;
  std::vector<std::string> acknowledged;  // Guarded by mutex.

  std::vector<std::thread> clients;
  for (int c = 0; c < kClients; ++c) {
    clients.emplace_back([&, c] {
      HttpClient client(server->port(), 10s);
      for (int request = 0; !stop.load(); ++request) {
        std::vector<std::string> ids;
        for (int e = 0; e < kEventsPerBatch; ++e) {
          ids.push_back("kill-" + std::to_string(c) + "-" + std::to_string(request) + "-" + std::to_string(e));
        }
        auto response = client.PostJson("/v1/batch", Batch(ids), kWriteKey);
        if (!response.ok()) {
          // The server is gone: this request may or may not be stored, but it was not acknowledged.
          failed_requests.fetch_add(1);
          return;
        }
        if (response->status != 200) continue;
        {
          std::lock_guard lock(mutex);
          acknowledged.insert(acknowledged.end(), ids.begin(), ids.end());
        }
        acknowledged_requests.fetch_add(1);
      }
    });
  }

  const bool enough = WaitFor([&] { return acknowledged_requests.load() >= kAcknowledgedRequestsBeforeKill; }, 60s);
  // Kill while the clients keep sending, so that some requests are in flight.
  server->Kill();
  stop.store(true);
  for (std::thread& client : clients) client.join();
  ASSERT_TRUE(enough) << "only " << acknowledged_requests.load() << " requests were acknowledged in 60 s";

  // The store must open again after a crash, and the restarted server must go on accepting.
  auto restarted = StartOrDie(data_dir, encryption);
  ASSERT_NE(restarted, nullptr) << "the server does not start on the data dir of a killed server";
  {
    HttpClient client(restarted->port(), 10s);
    auto response = client.PostJson("/v1/batch", Batch({"after-restart-1"}), kWriteKey);
    ASSERT_TRUE(response.ok()) << response.status();
    EXPECT_EQ(response->status, 200) << response->body;
  }
  TerminateCleanly(*restarted);

  const std::map<std::string, int> counts =
      CountByMessageId(ReadLog(data_dir, GetParam() ? TestKeyRing() : nullptr));
  std::lock_guard lock(mutex);
  size_t missing = 0;
  for (const std::string& id : acknowledged) {
    const auto it = counts.find(id);
    if (it == counts.end()) {
      if (++missing <= 10) ADD_FAILURE() << "acknowledged event " << id << " is not in the log after kill -9";
    } else {
      EXPECT_EQ(it->second, 1) << id << " is stored " << it->second << " times";
    }
  }
  EXPECT_EQ(missing, 0u) << "of " << acknowledged.size() << " acknowledged events";
  for (const auto& [id, count] : counts) EXPECT_EQ(count, 1) << id << " is stored " << count << " times";
  EXPECT_EQ(counts.count("after-restart-1"), 1u);
  std::cout << "[ info ] acknowledged " << acknowledged.size() << " events before kill -9; "
            << failed_requests.load() << " requests were cut off; the log holds " << counts.size() << " events\n";
}

INSTANTIATE_TEST_SUITE_P(AtRest, KillNineE2eTest, testing::Values(false, true),
                         [](const testing::TestParamInfo<bool>& info) { return info.param ? "Encrypted" : "Plain"; });

TEST(DurabilityE2eTest, ConcurrentDuplicateBatchesAreStoredOnceAlsoAfterRestart) {
  TempDir temp;
  const std::string data_dir = temp.path() + "/data";
  std::vector<std::string> ids;
  for (int i = 0; i < 100; ++i) ids.push_back("dup-" + std::to_string(i));
  const std::string batch = Batch(ids);

  auto server = StartOrDie(data_dir);
  ASSERT_NE(server, nullptr);
  constexpr int kSenders = 3;
  std::latch start(kSenders);
  std::vector<int> statuses(kSenders, 0);
  std::vector<std::string> bodies(kSenders);
  std::vector<std::thread> senders;
  for (int s = 0; s < kSenders; ++s) {
    senders.emplace_back([&, s] {
      HttpClient client(server->port(), 30s);
      start.arrive_and_wait();
      auto response = client.PostJson("/v1/batch", batch, kWriteKey);
      if (response.ok()) {
        statuses[s] = response->status;
        bodies[s] = response->body;
      } else {
        bodies[s] = response.status().ToString();
      }
    });
  }
  for (std::thread& sender : senders) sender.join();
  for (int s = 0; s < kSenders; ++s) EXPECT_EQ(statuses[s], 200) << "sender " << s << ": " << bodies[s];
  TerminateCleanly(*server);

  std::map<std::string, int> counts = CountByMessageId(ReadLog(data_dir));
  EXPECT_EQ(counts.size(), ids.size());
  for (const std::string& id : ids) EXPECT_EQ(counts[id], 1) << id << " after three concurrent sends";

  // The dedup window outlives the process.
  auto restarted = StartOrDie(data_dir);
  ASSERT_NE(restarted, nullptr);
  {
    HttpClient client(restarted->port(), 30s);
    auto response = client.PostJson("/v1/batch", batch, kWriteKey);
    ASSERT_TRUE(response.ok()) << response.status();
    EXPECT_EQ(response->status, 200) << "a duplicate is still a success: " << response->body;
  }
  TerminateCleanly(*restarted);

  counts = CountByMessageId(ReadLog(data_dir));
  EXPECT_EQ(counts.size(), ids.size());
  for (const std::string& id : ids) EXPECT_EQ(counts[id], 1) << id << " after resending to a restarted server";
}

TEST(DurabilityE2eTest, IdenticalEventsWithoutMessageIdAreStoredOnce) {
  TempDir temp;
  const std::string data_dir = temp.path() + "/data";
  auto server = StartOrDie(data_dir);
  ASSERT_NE(server, nullptr);

  const std::string event =
      R"({"userId":"no-id-user","event":"Order Completed","properties":{"total":10},"timestamp":"2024-05-01T12:00:00Z"})";
  const std::string other =
      R"({"userId":"no-id-user","event":"Order Completed","properties":{"total":11},"timestamp":"2024-05-01T12:00:00Z"})";
  {
    HttpClient client(server->port(), 10s);
    for (const std::string* body : {&event, &event, &other}) {
      auto response = client.PostJson("/v1/track", *body, kWriteKey);
      ASSERT_TRUE(response.ok()) << response.status();
      EXPECT_EQ(response->status, 200) << response->body;
    }
  }
  TerminateCleanly(*server);

  const auto events = ReadLog(data_dir);
  int total_10 = 0;
  int total_11 = 0;
  for (const auto& stored : events) {
    EXPECT_TRUE(stored.message_id_generated) << "no messageId was sent, so Tessera must have generated it";
    EXPECT_FALSE(stored.message_id.empty());
    if (stored.properties.find(R"("total":10)") != std::string::npos) ++total_10;
    if (stored.properties.find(R"("total":11)") != std::string::npos) ++total_11;
  }
  EXPECT_EQ(total_10, 1) << "the same content sent twice must get the same generated id and be stored once";
  EXPECT_EQ(total_11, 1) << "different content must get a different generated id";
  EXPECT_EQ(events.size(), 2u);
}

}  // namespace
}  // namespace tessera::e2e
