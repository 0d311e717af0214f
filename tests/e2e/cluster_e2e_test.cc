// Cluster mode end to end against a real three-server NATS cluster: `tessera cluster init|status`,
// and `tessera serve` in each role: gateways, a resolver with its standby, and a replica.

#include <gtest/gtest.h>

#include <fstream>
#include <optional>
#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "cluster/event_stream.h"
#include "cluster/nats_connection.h"
#include "cluster/space_lease.h"
#include "tests/cluster/nats_test_cluster.h"
#include "tests/e2e/cluster_e2e_support.h"
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
  EXPECT_NE(init.output.find("suppression bucket tessera_suppression: ready"), std::string::npos) << init.output;
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
  // An erasure request is refused the same way: nothing is requested that cannot reach the stream.
  auto erase = client.Request("POST", "/v1/privacy/erase", R"({"type":"email","value":"ada@example.com"})",
                              {{"Authorization", "Bearer " + std::string(kAdminKey)}});
  ASSERT_TRUE(erase.ok()) << erase.status();
  EXPECT_EQ(erase->status, 503) << erase->body;
  EXPECT_EQ(erase->headers["retry-after"], "1");
  EXPECT_NE(erase->body.find(R"("code":"unavailable")"), std::string::npos) << erase->body;
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

TEST(ClusterE2eTest, BadUsageOfTheClusterCommandExitsWith2AndSaysWhy) {
  TempDir dir;
  const std::string config = WriteClusterConfig(dir, {"nats://127.0.0.1:1"});
  const std::string tessera = TESSERA_BINARY;
  struct Case {
    std::string args;
    std::string message;
  };
  const Case cases[] = {
      {"cluster", "expected `cluster init` or `cluster status`"},
      {"cluster grow --config " + config, "expected `cluster init` or `cluster status`"},
      {"cluster status", "--config FILE is required"},
      {"cluster status --config " + config + " --timeout-ms 0", "--timeout-ms takes a positive number"},
      {"cluster status --config " + config + " --timeout-ms soon", "--timeout-ms takes a positive number"},
      {"cluster status --config " + config + " --colour", "colour"},
      {"cluster status --config " + dir.path() + "/missing.json", "invalid configuration"},
  };
  for (const Case& c : cases) {
    CommandResult result = RunCommand(dir.path(), tessera + " " + c.args, 30);
    EXPECT_EQ(result.exit_code, 2) << c.args << ": " << result.output;
    EXPECT_NE(result.output.find(c.message), std::string::npos) << c.args << ": " << result.output;
  }
}

// Two gateways, a resolver with a standby, and a replica, all real processes, on a three-server
// NATS cluster: events through either gateway are applied by all three appliers alike; killing the
// resolver hands its lease to the standby within the TTL, which goes on from its own store.
TEST(ClusterE2eTest, GatewaysResolverStandbyAndReplicaApplyTheSameStateAndTheStandbyTakesOver) {
  testing::NatsTestCluster nats(3);
  ASSERT_TRUE(nats.ok()) << nats.error();
  TempDir dir;
  auto gateway_1 = StartMember(dir, nats, "gateway-1", "gateway");
  ASSERT_TRUE(gateway_1.ok()) << gateway_1.status();
  auto gateway_2 = StartMember(dir, nats, "gateway-2", "gateway");
  ASSERT_TRUE(gateway_2.ok()) << gateway_2.status();
  auto resolver_a = StartMember(dir, nats, "resolver-a", "resolver");
  ASSERT_TRUE(resolver_a.ok()) << resolver_a.status();
  auto resolver_b = StartMember(dir, nats, "resolver-b", "resolver");
  ASSERT_TRUE(resolver_b.ok()) << resolver_b.status();
  auto replica = StartMember(dir, nats, "replica-1", "replica");
  ASSERT_TRUE(replica.ok()) << replica.status();
  HttpClient to_gateway_1((*gateway_1)->port()), to_gateway_2((*gateway_2)->port());
  HttpClient to_a((*resolver_a)->port()), to_b((*resolver_b)->port()), to_replica((*replica)->port());

  const std::map<std::string, std::string> read_key{{"Authorization", "Bearer " + std::string(kReadKey)}};
  for (int batch = 0; batch < 10; ++batch) {
    HttpClient& gateway = batch % 2 == 0 ? to_gateway_1 : to_gateway_2;
    auto sent = gateway.PostJson("/v1/batch", IdentifyBatch(batch * 20, 20), kWriteKey);
    ASSERT_TRUE(sent.ok()) << sent.status();
    ASSERT_EQ(sent->status, 200) << sent->body;
    // Read-your-writes: the answer's position, passed as min_position, holds the batch's events.
    const std::string position = sent->headers["tessera-position"];
    EXPECT_EQ(position, std::to_string((batch + 1) * 20)) << sent->body;
    EXPECT_NE(sent->body.find("\"position\":" + position), std::string::npos) << sent->body;
    auto read = to_replica.Request(
        "GET", absl::StrCat("/v1/profiles/user_id:user-", batch * 20 + 19, "?min_position=", position), {}, read_key);
    ASSERT_TRUE(read.ok()) << read.status();
    EXPECT_EQ(read->status, 200) << read->body;
    EXPECT_GE(std::stoll(read->headers["tessera-position"]), std::stoll(position));
  }
  auto too_far = to_replica.Request("GET", "/v1/profiles/user_id:user-1?min_position=1000000", {}, read_key);
  ASSERT_TRUE(too_far.ok()) << too_far.status();
  EXPECT_EQ(too_far->status, 503) << too_far->body;
  EXPECT_EQ(too_far->headers["retry-after"], "1");
  EXPECT_NE(too_far->body.find("not yet min_position 1000000"), std::string::npos) << too_far->body;
  // Without the right key nothing waits and no position is told.
  auto unknown_key = to_replica.Request("GET", "/v1/profiles/user_id:user-1?min_position=1000000", {},
                                        {{"Authorization", "Bearer not-a-key"}});
  ASSERT_TRUE(unknown_key.ok());
  EXPECT_EQ(unknown_key->status, 401) << unknown_key->body;
  EXPECT_EQ(unknown_key->headers.count("tessera-position"), 0u);
  auto bad = to_replica.Request("GET", "/v1/profiles/user_id:user-1?min_position=soon", {}, read_key);
  ASSERT_TRUE(bad.ok());
  EXPECT_EQ(bad->status, 400) << bad->body;
  // An applier takes no events of its own.
  auto refused = to_replica.PostJson("/v1/batch", IdentifyBatch(0, 1), kWriteKey);
  ASSERT_TRUE(refused.ok());
  EXPECT_EQ(refused->status, 404) << refused->body;
  EXPECT_NE(refused->body.find("send them to a gateway"), std::string::npos) << refused->body;

  auto all_applied = [&](std::vector<HttpClient*> clients, int64_t last) {
    return WaitFor(
        [&] {
          for (HttpClient* client : clients) {
            if (Gauge(*client, "tessera_cluster_applied_position") != last) return false;
          }
          return true;
        },
        std::chrono::seconds(30));
  };
  ASSERT_TRUE(all_applied({&to_a, &to_b, &to_replica}, 200))
      << Gauge(to_a, "tessera_cluster_applied_position") << " " << Gauge(to_b, "tessera_cluster_applied_position")
      << " " << Gauge(to_replica, "tessera_cluster_applied_position") << "\n"
      << (*resolver_a)->Output();
  ASSERT_TRUE(WaitFor(
      [&] { return Gauge(to_a, "tessera_cluster_lease_held") + Gauge(to_b, "tessera_cluster_lease_held") == 1; },
      std::chrono::seconds(15)));

  // The same people, with the same profile ids and traits, on all three.
  auto profile = [&read_key](HttpClient& client, int user) {
    auto got = client.Request("GET", absl::StrCat("/v1/profiles/user_id:user-", user), {}, read_key);
    return got.ok() && got->status == 200 ? got->body : absl::StrCat("(", got.ok() ? got->status : 0, ")");
  };
  for (int user : {0, 1, 2, 3, 100, 199}) {
    const std::string expected = profile(to_replica, user);
    EXPECT_EQ(expected.front(), '{') << expected;
    EXPECT_EQ(profile(to_a, user), expected) << user;
    EXPECT_EQ(profile(to_b, user), expected) << user;
  }

  // The holder dies; the standby takes the lease within the TTL and goes on.
  const bool a_held = Gauge(to_a, "tessera_cluster_lease_held") == 1;
  std::unique_ptr<ServerProcess>& holder = a_held ? *resolver_a : *resolver_b;
  HttpClient& to_standby = a_held ? to_b : to_a;
  holder->Kill();
  for (int batch = 10; batch < 15; ++batch) {
    auto sent = to_gateway_1.PostJson("/v1/batch", IdentifyBatch(batch * 20, 20), kWriteKey);
    ASSERT_TRUE(sent.ok()) << sent.status();
    ASSERT_EQ(sent->status, 200) << sent->body;
  }
  EXPECT_TRUE(WaitFor([&] { return Gauge(to_standby, "tessera_cluster_lease_held") == 1; }, std::chrono::seconds(15)));
  ASSERT_TRUE(all_applied({&to_standby, &to_replica}, 300));
  for (int user : {0, 250, 299}) EXPECT_EQ(profile(to_standby, user), profile(to_replica, user)) << user;

  CommandResult status = RunCommand(
      dir.path(), absl::StrCat(TESSERA_BINARY, " cluster status --config ", dir.path(), "/replica-1/test-config.json"));
  EXPECT_NE(status.output.find("replica-1"), std::string::npos) << status.output;
  EXPECT_NE(status.output.find("gateway-2"), std::string::npos) << status.output;
  EXPECT_NE(status.output.find(a_held ? "resolver-b" : "resolver-a"), std::string::npos) << status.output;

  // Every applier's derived state is what its log gives.
  for (auto* member : {&*gateway_1, &*gateway_2, &*replica, a_held ? &*resolver_b : &*resolver_a}) {
    auto stopped = (*member)->Terminate();
    ASSERT_TRUE(stopped.ok());
    EXPECT_EQ(*stopped, 0) << (*member)->Output();
  }
  for (const std::string name : {"replica-1", "resolver-a", "resolver-b"}) {
    CommandResult verify = RunCommand(
        dir.path(), absl::StrCat(TESSERA_BINARY, " verify --config ", dir.path(), "/", name, "/test-config.json"), 120);
    EXPECT_EQ(verify.exit_code, 0) << name << ": " << verify.output;
    EXPECT_NE(verify.output.find("derived state equals a rebuild from the log"), std::string::npos) << verify.output;
  }
}


// A new replica starts from a backup of another member's store plus the stream after it, not from
// the stream's beginning: here the stream no longer holds what the backup covers, so a replica
// started empty cannot follow it, while the restored one goes on.
TEST(ClusterE2eTest, ANewReplicaBootstrapsFromAnotherMembersBackupAndTheStreamAfterIt) {
  testing::NatsTestCluster nats(3);
  ASSERT_TRUE(nats.ok()) << nats.error();
  TempDir dir;
  auto gateway = StartMember(dir, nats, "gateway-1", "gateway");
  ASSERT_TRUE(gateway.ok()) << gateway.status();
  auto first = StartMember(dir, nats, "replica-1", "replica");
  ASSERT_TRUE(first.ok()) << first.status();
  HttpClient to_gateway((*gateway)->port()), to_first((*first)->port());
  for (int batch = 0; batch < 5; ++batch) {
    auto sent = to_gateway.PostJson("/v1/batch", IdentifyBatch(batch * 20, 20), kWriteKey);
    ASSERT_TRUE(sent.ok() && sent->status == 200);
  }
  ASSERT_TRUE(WaitFor([&] { return Gauge(to_first, "tessera_cluster_applied_position") == 100; },
                      std::chrono::seconds(30)));
  const std::string backups = dir.path() + "/backups";
  const std::map<std::string, std::string> admin_key{{"Authorization", "Bearer " + std::string(kAdminKey)}};
  auto backup = to_first.Request("POST", "/v1/admin/backup", R"({"to":")" + backups + R"("})", admin_key);
  ASSERT_TRUE(backup.ok()) << backup.status();
  ASSERT_EQ(backup->status, 200) << backup->body;

  // The stream drops everything the backup holds; more events arrive.
  auto connection = cluster::NatsConnection::Connect({.urls = nats.urls()});
  ASSERT_TRUE(connection.ok());
  ASSERT_TRUE((*connection)->WaitConnected(std::chrono::seconds(10)));
  jsOptions purge;
  jsOptions_Init(&purge);
  purge.Stream.Purge.Sequence = 101;  // Keep from 101 on.
  ASSERT_EQ(js_PurgeStream((*connection)->jetstream(), cluster::StreamName("default").c_str(), &purge, nullptr),
            NATS_OK);
  for (int batch = 5; batch < 7; ++batch) {
    auto sent = to_gateway.PostJson("/v1/batch", IdentifyBatch(batch * 20, 20), kWriteKey);
    ASSERT_TRUE(sent.ok() && sent->status == 200);
  }

  CommandResult restore = RunCommand(
      dir.path(), absl::StrCat(TESSERA_BINARY, " restore --from ", backups, " --data-dir ", dir.path(), "/replica-2"));
  ASSERT_EQ(restore.exit_code, 0) << restore.output;
  auto second = StartMember(dir, nats, "replica-2", "replica");
  ASSERT_TRUE(second.ok()) << second.status();
  auto empty = StartMember(dir, nats, "replica-3", "replica");
  ASSERT_TRUE(empty.ok()) << empty.status();
  HttpClient to_second((*second)->port());
  ASSERT_TRUE(WaitFor(
      [&] {
        return Gauge(to_first, "tessera_cluster_applied_position") == 140 &&
               Gauge(to_second, "tessera_cluster_applied_position") == 140;
      },
      std::chrono::seconds(30)))
      << (*second)->Output();
  const std::map<std::string, std::string> read_key{{"Authorization", "Bearer " + std::string(kReadKey)}};
  for (int user : {0, 99, 100, 139}) {
    auto expected = to_first.Request("GET", absl::StrCat("/v1/profiles/user_id:user-", user), {}, read_key);
    auto restored = to_second.Request("GET", absl::StrCat("/v1/profiles/user_id:user-", user), {}, read_key);
    ASSERT_TRUE(expected.ok() && restored.ok());
    EXPECT_EQ(expected->status, 200) << expected->body;
    EXPECT_EQ(restored->body, expected->body) << user;
  }
  EXPECT_TRUE(WaitFor([&] { return (*empty)->Output().find("starts at sequence 101") != std::string::npos; },
                      std::chrono::seconds(15)))
      << (*empty)->Output();
}


// A gateway sheds load with 429 before the stream reaches its limit, and says so in /metrics.
TEST(ClusterE2eTest, AGatewayAnswers429BeforeTheStreamIsFull) {
  testing::NatsTestCluster nats(3);
  ASSERT_TRUE(nats.ok()) << nats.error();
  auto connection = cluster::NatsConnection::Connect({.urls = nats.urls()});
  ASSERT_TRUE(connection.ok());
  ASSERT_TRUE((*connection)->WaitConnected(std::chrono::seconds(10)));
  cluster::EventStream stream(**connection, {.replicas = 3, .max_bytes = 64 << 10});
  ASSERT_TRUE(stream.Ensure("default").ok());
  TempDir dir;
  auto gateway = ServerProcess::Start(
      {.data_dir = dir.path() + "/gateway",
       .extra_json = absl::StrCat(R"("cluster": {"nats_urls": [")", absl::StrJoin(nats.urls(), "\", \""),
                                  R"("], "role": "gateway", "shed_at_percent": 80})")});
  ASSERT_TRUE(gateway.ok()) << gateway.status();
  HttpClient client((*gateway)->port());
  int accepted_batches = 0;
  std::optional<HttpResponse> shed;
  for (int batch = 0; batch < 400 && !shed; ++batch) {
    auto sent = client.PostJson("/v1/batch", IdentifyBatch(batch * 20, 20), kWriteKey);
    ASSERT_TRUE(sent.ok()) << sent.status();
    if (sent->status == 200) {
      ++accepted_batches;
    } else {
      shed = *sent;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // The fill is read once a second.
  }
  ASSERT_TRUE(shed.has_value()) << accepted_batches << " batches accepted, none shed";
  EXPECT_EQ(shed->status, 429) << shed->body;
  EXPECT_NE(shed->body.find(R"("code":"stream_full")"), std::string::npos) << shed->body;
  EXPECT_EQ(shed->headers["retry-after"], "30");
  auto state = stream.State("default");
  ASSERT_TRUE(state.ok());
  EXPECT_LT(state->bytes, uint64_t{64} << 10) << "shed before JetStream refused";
  auto metrics = client.Request("GET", "/metrics");
  ASSERT_TRUE(metrics.ok());
  EXPECT_NE(metrics->body.find("tessera_cluster_publish_failures_total{reason=\"shed\"} 20\n"), std::string::npos)
      << metrics->body;
  const std::string fill_prefix = "tessera_cluster_stream_fill{space=\"default\"} ";
  const size_t fill_at = metrics->body.find(fill_prefix);
  ASSERT_NE(fill_at, std::string::npos) << metrics->body;
  const double fill = std::stod(metrics->body.substr(fill_at + fill_prefix.size()));
  EXPECT_GE(fill, 0.8);
  EXPECT_LT(fill, 1.0);
}

}  // namespace
}  // namespace tessera::e2e
