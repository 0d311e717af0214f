// Cluster mode end to end against a real three-server NATS cluster: `tessera cluster init|status`,
// and `tessera serve` as a gateway.

#include <gtest/gtest.h>

#include <fstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "cluster/event_stream.h"
#include "cluster/nats_connection.h"
#include "cluster/space_lease.h"
#include "tests/cluster/nats_test_cluster.h"
#include "tests/e2e/e2e_support.h"

namespace tessera::e2e {
namespace {

// A configuration with sources in two spaces and a cluster section naming `urls`.
std::string WriteClusterConfig(const TempDir& dir, const std::vector<std::string>& urls) {
  const std::string path = dir.path() + "/cluster.json";
  std::ofstream(path) << R"({"data_dir": ")" << dir.path() << R"(/data",
    "sources": [{"name": "web", "write_key": "wk-web", "channel": "web"},
                {"name": "shop", "write_key": "wk-shop", "channel": "pos", "space": "shop"}],
    "read_keys": ["rk"], "admin_keys": ["ak"],
    "cluster": {"nats_urls": [")" << absl::StrJoin(urls, "\", \"") << R"("], "role": "gateway",
                "duplicate_window_seconds": 300, "lease_ttl_seconds": 5}})";
  return path;
}

TEST(ClusterE2eTest, InitMakesEverySpacesStreamAndStatusShowsEventsAndTheResolver) {
  testing::NatsTestCluster nats(3);
  ASSERT_TRUE(nats.ok()) << nats.error();
  TempDir dir;
  const std::string config = WriteClusterConfig(dir, nats.urls());
  const std::string tessera = TESSERA_BINARY;

  CommandResult before = RunCommand(dir.path(), tessera + " cluster status --config " + config);
  EXPECT_EQ(before.exit_code, 1) << before.output;
  EXPECT_NE(before.output.find("(none: run tessera cluster init)"), std::string::npos) << before.output;

  CommandResult init = RunCommand(dir.path(), tessera + " cluster init --config " + config);
  ASSERT_EQ(init.exit_code, 0) << init.output;
  EXPECT_NE(init.output.find("stream TESSERA_EVENTS_default for space default: ready (3 replicas, duplicate window 300s)"),
            std::string::npos)
      << init.output;
  EXPECT_NE(init.output.find("stream TESSERA_EVENTS_shop for space shop: ready"), std::string::npos) << init.output;
  CommandResult again = RunCommand(dir.path(), tessera + " cluster init --config " + config);
  EXPECT_EQ(again.exit_code, 0) << "init is idempotent: " << again.output;

  // What a gateway and a resolver will do: publish an event, take the space's lease.
  auto connection = cluster::NatsConnection::Connect({.urls = nats.urls()});
  ASSERT_TRUE(connection.ok());
  ASSERT_TRUE((*connection)->WaitConnected(std::chrono::seconds(10)));
  cluster::EventStream stream(**connection, {.replicas = 3, .duplicate_window = std::chrono::seconds(300)});
  ASSERT_TRUE(stream.Publish("shop", "m-1", "event", std::chrono::seconds(5)).ok());
  ASSERT_TRUE(stream.Publish("shop", "m-2", "event", std::chrono::seconds(5)).ok());
  auto leases = cluster::SpaceLeases::Open(**connection, {.ttl = std::chrono::seconds(5)}, /*create=*/false);
  ASSERT_TRUE(leases.ok()) << "init made the lease bucket: " << leases.status();
  auto lease = (*leases)->TryAcquire("shop", "resolver-1:8080");
  ASSERT_TRUE(lease.ok() && lease->has_value());

  CommandResult status = RunCommand(dir.path(), tessera + " cluster status --config " + config);
  ASSERT_EQ(status.exit_code, 0) << status.output;
  std::string shop_line;
  std::string default_line;
  const std::vector<std::string> lines = absl::StrSplit(status.output, '\n');
  for (const std::string& line : lines) {
    if (line.rfind("shop ", 0) == 0) shop_line = line;
    if (line.rfind("default ", 0) == 0) default_line = line;
  }
  std::vector<std::string> shop = absl::StrSplit(shop_line, ' ', absl::SkipEmpty());
  ASSERT_EQ(shop.size(), 7u) << status.output;
  EXPECT_EQ(shop[1], "TESSERA_EVENTS_shop");
  EXPECT_EQ(shop[2], "2") << "events";
  EXPECT_EQ(shop[3], "2") << "last sequence";
  EXPECT_EQ(shop[5], "3") << "replicas";
  EXPECT_EQ(shop[6], "resolver-1:8080");
  std::vector<std::string> space_default = absl::StrSplit(default_line, ' ', absl::SkipEmpty());
  ASSERT_EQ(space_default.size(), 7u) << status.output;
  EXPECT_EQ(space_default[2], "0");
  EXPECT_EQ(space_default[6], "(none)");
}

TEST(ClusterE2eTest, UnreachableNatsIsReportedWithinTheTimeout) {
  TempDir dir;
  const std::string config = WriteClusterConfig(dir, {"nats://127.0.0.1:1"});
  CommandResult status =
      RunCommand(dir.path(), std::string(TESSERA_BINARY) + " cluster status --timeout-ms 300 --config " + config, 30);
  EXPECT_EQ(status.exit_code, 1) << status.output;
  EXPECT_NE(status.output.find("no NATS server answered within 300 ms at nats://127.0.0.1:1"), std::string::npos)
      << status.output;
}

// A batch of `count` track events, message ids "<prefix>-<i>".
std::string Batch(const std::string& prefix, int count) {
  std::string body = R"({"batch":[)";
  for (int i = 0; i < count; ++i) {
    if (i > 0) body += ",";
    absl::StrAppend(&body, R"({"type":"track","event":"Viewed","userId":"u-)", i, R"(","messageId":")", prefix, "-",
                    i, R"("})");
  }
  return body + "]}";
}

TEST(ClusterE2eTest, AGatewayAnswers200OnlyForEventsInTheStreamAnd503WhileNatsIsDown) {
  testing::NatsTestCluster nats(3);
  ASSERT_TRUE(nats.ok()) << nats.error();
  TempDir dir;
  auto server = ServerProcess::Start(
      {.data_dir = dir.path() + "/data",
       .extra_json = absl::StrCat(R"("cluster": {"nats_urls": [")", absl::StrJoin(nats.urls(), "\", \""),
                                  R"("], "role": "gateway", "publish_timeout_ms": 2000})")});
  ASSERT_TRUE(server.ok()) << server.status();
  auto connection = cluster::NatsConnection::Connect({.urls = nats.urls()});
  ASSERT_TRUE(connection.ok());
  ASSERT_TRUE((*connection)->WaitConnected(std::chrono::seconds(10)));
  cluster::EventStream stream(**connection, {.replicas = 3});
  HttpClient client((*server)->port());

  auto first = client.PostJson("/v1/batch", Batch("a", 20), kWriteKey);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->status, 200) << first->body;
  auto state = stream.State("default");
  ASSERT_TRUE(state.ok()) << "the gateway made its space's stream: " << state.status();
  EXPECT_EQ(state->messages, 20u) << "every event acknowledged is in the stream";

  // A client's retry through the gateway is stored once.
  auto retry = client.PostJson("/v1/batch", Batch("a", 20), kWriteKey);
  ASSERT_TRUE(retry.ok());
  EXPECT_EQ(retry->status, 200);
  state = stream.State("default");
  ASSERT_TRUE(state.ok());
  EXPECT_EQ(state->messages, 20u);

  // NATS gone: never a 200 for an event that is not in the stream.
  for (int i = 0; i < nats.size(); ++i) nats.Kill(i);
  int refused = 0;
  for (int attempt = 0; attempt < 5; ++attempt) {
    auto down = client.PostJson("/v1/batch", Batch(absl::StrCat("down-", attempt), 5), kWriteKey);
    ASSERT_TRUE(down.ok()) << down.status();
    EXPECT_NE(down->status, 200) << "attempt " << attempt << ": " << down->body;
    if (down->status == 503) {
      ++refused;
      EXPECT_FALSE(down->headers["retry-after"].empty());
      EXPECT_NE(down->body.find(R"("code":"unavailable")"), std::string::npos) << down->body;
    }
  }
  EXPECT_EQ(refused, 5);
  auto metrics = client.Request("GET", "/metrics");
  ASSERT_TRUE(metrics.ok()) << metrics.status();
  EXPECT_NE(metrics->body.find("tessera_events_total{result=\"accepted\"} 20\n"), std::string::npos) << metrics->body;
  EXPECT_NE(metrics->body.find("tessera_events_total{result=\"duplicate\"} 20\n"), std::string::npos);
  EXPECT_NE(metrics->body.find("tessera_cluster_publish_failures_total{reason=\"unreachable\"} 25\n"),
            std::string::npos)
      << "5 refused requests of 5 events";
  EXPECT_NE(metrics->body.find("tessera_cluster_connected 0\n"), std::string::npos);

  // NATS back: the same gateway process reconnects and accepts again.
  for (int i = 0; i < nats.size(); ++i) nats.Start(i);
  ASSERT_TRUE(nats.WaitReady(std::chrono::seconds(30)));
  bool accepted = WaitFor(
      [&] {
        auto again = client.PostJson("/v1/batch", Batch("b", 10), kWriteKey);
        return again.ok() && again->status == 200;
      },
      std::chrono::seconds(30));
  EXPECT_TRUE(accepted) << (*server)->Output();
  auto reconnected = cluster::NatsConnection::Connect({.urls = nats.urls()});
  ASSERT_TRUE(reconnected.ok());
  ASSERT_TRUE((*reconnected)->WaitConnected(std::chrono::seconds(10)));
  cluster::EventStream after(**reconnected, {.replicas = 3});
  state = after.State("default");
  ASSERT_TRUE(state.ok()) << state.status();
  // The ten new events, and none of the refused ones unless JetStream stored one before its
  // acknowledgement was lost (then the client's retry would be deduplicated).
  EXPECT_GE(state->messages, 30u);
  EXPECT_LE(state->messages, 30u + 25u);
  auto status = (*server)->Terminate();
  ASSERT_TRUE(status.ok());
  EXPECT_EQ(*status, 0) << (*server)->Output();
}

TEST(ClusterE2eTest, ServeRefusesRolesItDoesNotRunYet) {
  TempDir dir;
  const std::string config = WriteClusterConfig(dir, {"nats://127.0.0.1:1"});
  std::string text;
  {
    std::ifstream in(config);
    text.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  const size_t at = text.find(R"("role": "gateway")");
  ASSERT_NE(at, std::string::npos);
  text.replace(at, 17, R"("role": ["gateway", "resolver"])");
  std::ofstream(config) << text;
  CommandResult serve = RunCommand(dir.path(), std::string(TESSERA_BINARY) + " serve --config " + config, 30);
  EXPECT_EQ(serve.exit_code, 2) << serve.output;
  EXPECT_NE(serve.output.find("serves the gateway role only"), std::string::npos) << serve.output;
}

}  // namespace
}  // namespace tessera::e2e
