// Destinations in cluster mode: two resolvers apply the same stream and write the same outbox,
// only the lease holder sends, the standby follows the shared record (deleting what was
// delivered), a pause given to either member stops the holder, and when the holder is killed with
// SIGKILL the standby takes the lease and sends the rest: every event arrives, none was sent by
// the standby before, and the repeats are at most the batches the holder had in flight.

#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gtest/gtest.h"
#include "simdjson.h"
#include "tests/cluster/nats_test_cluster.h"
#include "tests/e2e/cluster_e2e_support.h"
#include "tests/e2e/e2e_support.h"
#include "tests/support/fake_http_server.h"

namespace tessera::e2e {
namespace {

using namespace std::chrono_literals;
using testing::FakeHttpServer;
using testing::FakeResponse;
using testing::RecordedRequest;

constexpr int kBatch = 10;

absl::StatusOr<std::unique_ptr<ServerProcess>> StartWithDestination(const TempDir& dir,
                                                                     const testing::NatsTestCluster& nats,
                                                                     const std::string& name, const std::string& role,
                                                                     const std::string& hook_url) {
  return ServerProcess::Start(
      {.data_dir = dir.path() + "/" + name,
       .extra_json = absl::StrCat(
           R"("cluster": {"nats_urls": [")", absl::StrJoin(nats.urls(), "\", \""), R"("], "role": ")", role,
           R"(", "name": ")", name, R"(", "lease_ttl_seconds": 3, "publish_timeout_ms": 5000},)",
           R"("destinations": [{"name": "hook", "type": "webhook", "url": ")", hook_url,
           R"(", "secret": "s", "events": {"types": ["track"]}, "batch_events": )", kBatch,
           R"(, "requests_per_second": 1000, "retry": {"initial_ms": 20, "max_ms": 200}}])")});
}

std::string Tracks(int first, int count) {
  std::string body = R"({"batch":[)";
  for (int i = first; i < first + count; ++i) {
    if (i > first) body += ",";
    absl::StrAppend(&body, R"({"type":"track","userId":"u-)", i % 13, R"(","event":"Viewed","messageId":"t-)", i,
                    R"("})");
  }
  return body + "]}";
}

// The message ids of every accepted request, in arrival order.
std::vector<std::string> Received(const FakeHttpServer& receiver) {
  std::vector<std::string> ids;
  simdjson::dom::parser parser;
  for (const RecordedRequest& request : receiver.Accepted()) {
    simdjson::dom::element root;
    if (parser.parse(request.body).get(root) != simdjson::SUCCESS) continue;
    for (simdjson::dom::element event : root["batch"].get_array()) {
      std::string_view id;
      if (event["messageId"].get(id) == simdjson::SUCCESS) ids.emplace_back(id);
    }
  }
  return ids;
}

size_t Distinct(const std::vector<std::string>& ids) { return std::set<std::string>(ids.begin(), ids.end()).size(); }

TEST(ClusterDestinationsE2eTest, OnlyTheLeaseHolderSendsAndTheStandbyGoesOnFromWhereItStopped) {
  testing::NatsTestCluster nats(3);
  ASSERT_TRUE(nats.ok()) << nats.error();
  FakeHttpServer receiver;
  TempDir dir;
  auto gateway = StartWithDestination(dir, nats, "gateway-1", "gateway", receiver.Url("/hook"));
  ASSERT_TRUE(gateway.ok()) << gateway.status();
  auto resolver_a = StartWithDestination(dir, nats, "resolver-a", "resolver", receiver.Url("/hook"));
  ASSERT_TRUE(resolver_a.ok()) << resolver_a.status();
  auto resolver_b = StartWithDestination(dir, nats, "resolver-b", "resolver", receiver.Url("/hook"));
  ASSERT_TRUE(resolver_b.ok()) << resolver_b.status();
  HttpClient to_gateway((*gateway)->port()), to_a((*resolver_a)->port()), to_b((*resolver_b)->port());
  ASSERT_TRUE(WaitFor(
      [&] { return Gauge(to_a, "tessera_cluster_lease_held") + Gauge(to_b, "tessera_cluster_lease_held") == 1; },
      15s));
  const bool a_holds = Gauge(to_a, "tessera_cluster_lease_held") == 1;
  std::unique_ptr<ServerProcess>& holder = a_holds ? *resolver_a : *resolver_b;
  HttpClient& to_standby = a_holds ? to_b : to_a;
  HttpClient& to_holder = a_holds ? to_a : to_b;
  const std::map<std::string, std::string> admin{{"Authorization", "Bearer " + std::string(kAdminKey)}};
  auto send = [&](int first, int count) {
    auto sent = to_gateway.PostJson("/v1/batch", Tracks(first, count), kWriteKey);
    ASSERT_TRUE(sent.ok()) << sent.status();
    ASSERT_EQ(sent->status, 200) << sent->body;
  };
  auto standby_status = [&] {
    auto got = to_standby.Request("GET", "/v1/destinations/hook", {}, admin);
    return got.ok() ? got->body : std::string();
  };

  // Phase 1: the holder alone sends; the standby's outbox follows it down to nothing.
  send(0, 100);
  ASSERT_TRUE(WaitFor([&] { return Distinct(Received(receiver)) == 100; }, 30s)) << Received(receiver).size();
  EXPECT_EQ(Received(receiver).size(), 100u) << "each event once";
  EXPECT_NE(standby_status().find(R"("requests":0,)"), std::string::npos)
      << "the standby sends nothing: " << standby_status();
  EXPECT_TRUE(WaitFor([&] { return standby_status().find(R"("lag":0)") != std::string::npos; }, 15s))
      << "the standby deletes what the holder delivered: " << standby_status();

  // A pause given to the standby stops the holder: the switch is the cluster's.
  auto paused = to_standby.Request("POST", "/v1/destinations/hook/pause", "{}", admin);
  ASSERT_TRUE(paused.ok());
  ASSERT_EQ(paused->status, 200) << paused->body;
  // The holder has taken the cluster's switch when its own status says so.
  ASSERT_TRUE(WaitFor(
      [&] {
        auto got = to_holder.Request("GET", "/v1/destinations/hook", {}, admin);
        return got.ok() && got->body.find(R"("paused":true)") != std::string::npos;
      },
      15s));
  send(100, 20);
  std::this_thread::sleep_for(1500ms);  // A window in which a holder that was sending would have sent.
  EXPECT_EQ(Received(receiver).size(), 100u) << "nothing is sent while paused";
  auto resumed = to_standby.Request("POST", "/v1/destinations/hook/resume", "{}", admin);
  ASSERT_TRUE(resumed.ok());
  ASSERT_EQ(resumed->status, 200) << resumed->body;
  ASSERT_TRUE(WaitFor([&] { return Distinct(Received(receiver)) == 120; }, 30s)) << Received(receiver).size();

  // Phase 2: a slow receiver, the holder killed while batches wait; the standby sends the rest.
  receiver.SetResponder([](const RecordedRequest&, size_t) { return FakeResponse{.delay = 40ms}; });
  send(120, 200);
  ASSERT_TRUE(WaitFor([&] { return Distinct(Received(receiver)) >= 150; }, 30s));
  EXPECT_NE(standby_status().find(R"("requests":0,)"), std::string::npos)
      << "the standby sends nothing while the holder lives: " << standby_status();
  holder->Kill();
  const size_t at_kill = Distinct(Received(receiver));
  EXPECT_LT(at_kill, 320u) << "the kill came after everything was delivered: nothing tested";
  ASSERT_TRUE(WaitFor([&] { return Distinct(Received(receiver)) == 320; }, 60s))
      << Distinct(Received(receiver)) << " of 320\n"
      << standby_status();
  const size_t repeats = Received(receiver).size() - 320;
  EXPECT_LE(repeats, static_cast<size_t>(2 * kBatch)) << "the standby went on from the shared record";
  EXPECT_TRUE(WaitFor([&] { return Gauge(to_standby, "tessera_cluster_lease_held") == 1; }, 15s));
}

}  // namespace
}  // namespace tessera::e2e
