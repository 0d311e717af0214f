// Privacy in cluster mode, end to end against a real three-server NATS cluster: an erasure taken
// by one gateway reaches the resolver and the replica through the stream, both carry it out at the
// same position, and the erased person's identifiers are refused at every gateway.

#include <gtest/gtest.h>

#include <map>
#include <string>

#include "absl/strings/str_cat.h"
#include "cluster/event_stream.h"
#include "cluster/nats_connection.h"
#include "tests/cluster/nats_test_cluster.h"
#include "tests/e2e/cluster_e2e_support.h"
#include "tests/e2e/e2e_support.h"

namespace tessera::e2e {
namespace {

using std::chrono::seconds;

const std::map<std::string, std::string>& AdminKey() {
  static const std::map<std::string, std::string> key{{"Authorization", "Bearer " + std::string(kAdminKey)}};
  return key;
}

// Whether a gateway refuses, as suppressed, an event carrying `identity` (a JSON fragment) in a
// batch with one event of Bob's, which it must take.
bool Suppressed(HttpClient& gateway, const std::string& identity, int attempt) {
  auto sent = gateway.PostJson(
      "/v1/batch",
      absl::StrCat(R"({"batch":[{"type":"track","userId":"u-bob","event":"Viewed","messageId":"bob-)", attempt,
                   R"("},{"type":"track","event":"Viewed","messageId":"probe-)", attempt, R"(",)", identity, "}]}"),
      kWriteKey);
  return sent.ok() && sent->status == 200 && sent->body.find(R"("code":"suppressed")") != std::string::npos;
}

// The sequences of the messages of the default space's stream whose bytes contain `text`.
std::string StreamMessagesMentioning(cluster::NatsConnection& nats, std::string_view text) {
  absl::StatusOr<cluster::StreamState> state = cluster::EventStream(nats, {}).State("default");
  if (!state.ok()) return std::string(state.status().message());
  std::string found;
  for (uint64_t sequence = state->first_sequence; sequence <= state->last_sequence; ++sequence) {
    natsMsg* message = nullptr;
    if (js_GetMsg(&message, nats.jetstream(), cluster::StreamName("default").c_str(), sequence, nullptr, nullptr) !=
        NATS_OK) {
      continue;  // Erased.
    }
    const std::string_view data(natsMsg_GetData(message), static_cast<size_t>(natsMsg_GetDataLength(message)));
    if (data.find(text) != std::string_view::npos) absl::StrAppend(&found, sequence, " ");
    natsMsg_Destroy(message);
  }
  return found;
}

TEST(ClusterPrivacyE2eTest, AnErasureReachesEveryApplierThroughTheStreamAndSuppressionHoldsAtEveryGateway) {
  testing::NatsTestCluster nats(3);
  ASSERT_TRUE(nats.ok()) << nats.error();
  TempDir dir;
  auto gateway_1 = StartMember(dir, nats, "gateway-1", "gateway");
  ASSERT_TRUE(gateway_1.ok()) << gateway_1.status();
  auto gateway_2 = StartMember(dir, nats, "gateway-2", "gateway");
  ASSERT_TRUE(gateway_2.ok()) << gateway_2.status();
  auto resolver = StartMember(dir, nats, "resolver-a", "resolver");
  ASSERT_TRUE(resolver.ok()) << resolver.status();
  auto replica = StartMember(dir, nats, "replica-1", "replica");
  ASSERT_TRUE(replica.ok()) << replica.status();
  HttpClient to_gateway_1((*gateway_1)->port()), to_gateway_2((*gateway_2)->port());
  HttpClient to_resolver((*resolver)->port()), to_replica((*replica)->port());
  const std::map<std::string, std::string> read_key{{"Authorization", "Bearer " + std::string(kReadKey)}};

  auto seeded = to_gateway_1.PostJson("/v1/batch", R"({"batch":[
      {"type":"identify","userId":"u-ada","anonymousId":"a-ada","messageId":"ada-1","traits":{"email":"ada@example.com"}},
      {"type":"track","anonymousId":"a-ada","event":"Viewed","messageId":"ada-2"},
      {"type":"identify","userId":"u-bob","messageId":"bob-1","traits":{"email":"bob@example.com"}}]})",
                                      kWriteKey);
  ASSERT_TRUE(seeded.ok()) << seeded.status();
  ASSERT_EQ(seeded->status, 200) << seeded->body;
  for (HttpClient* applier : {&to_resolver, &to_replica}) {
    ASSERT_TRUE(WaitFor([&] { return Gauge(*applier, "tessera_cluster_applied_position") == 3; }, seconds(30)));
  }
  auto bob_before = to_replica.Request("GET", "/v1/profiles/user_id:u-bob", {}, read_key);
  ASSERT_TRUE(bob_before.ok());
  ASSERT_EQ(bob_before->status, 200);

  // Taken by the other gateway: 202 with the stream position of the command.
  auto erased = to_gateway_2.Request("POST", "/v1/privacy/erase", R"({"type":"email","value":"Ada@Example.com"})",
                                     AdminKey());
  ASSERT_TRUE(erased.ok()) << erased.status();
  ASSERT_EQ(erased->status, 202) << erased->body;
  EXPECT_EQ(erased->body.find("ada@example.com"), std::string::npos) << "the value is never echoed";
  const std::string id = JsonStringMember(erased->body, "id");
  ASSERT_FALSE(id.empty()) << erased->body;
  EXPECT_EQ(erased->headers["tessera-position"], "4") << erased->body;
  EXPECT_NE(erased->body.find(R"("position":4)"), std::string::npos) << erased->body;

  // From the answer on, the gateway that took it refuses the email; the other within moments.
  EXPECT_TRUE(Suppressed(to_gateway_2, R"("anonymousId":"probe","context":{"traits":{"email":"ADA@example.com"}})", 1));
  EXPECT_TRUE(WaitFor([&, attempt = 10]() mutable {
    return Suppressed(to_gateway_1, R"("anonymousId":"probe","context":{"traits":{"email":"ada@example.com"}})", ++attempt);
  }, seconds(10)));

  // Carried out by the resolver and the replica at that position: the same record on both, and
  // Ada gone from both while Bob is untouched.
  std::string statuses[2];
  int index = 0;
  for (HttpClient* applier : {&to_resolver, &to_replica}) {
    std::string& last = statuses[index++];
    ASSERT_TRUE(WaitFor(
        [&] {
          auto status = applier->Request("GET", "/v1/privacy/erase/" + id, {}, AdminKey());
          if (!status.ok()) return false;
          last = status->body;
          return JsonStringMember(last, "state") == "completed";
        },
        seconds(30)))
        << last;
    EXPECT_NE(last.find(R"("events":2)"), std::string::npos) << last;
    EXPECT_NE(last.find(R"("identifiers":3)"), std::string::npos) << last;
    for (const char* ref : {"user_id:u-ada", "anonymous_id:a-ada", "email:ada%40example.com"}) {
      auto profile = applier->Request("GET", std::string("/v1/profiles/") + ref, {}, read_key);
      ASSERT_TRUE(profile.ok());
      EXPECT_EQ(profile->status, 404) << ref << ": " << profile->body;
    }
  }

  // Every identifier the person had is then refused at every gateway, not only the one named.
  for (HttpClient* gateway : {&to_gateway_1, &to_gateway_2}) {
    EXPECT_TRUE(WaitFor([&, attempt = 100]() mutable {
      return Suppressed(*gateway, R"("anonymousId":"a-ada")", ++attempt) &&
             Suppressed(*gateway, R"("userId":"u-ada")", ++attempt);
    }, seconds(10)));
  }

  // Bob, whose events went on through it all, is the same person on both, under the same id.
  EXPECT_TRUE(WaitFor(
      [&] {
        const int64_t last = Gauge(to_replica, "tessera_cluster_stream_last_sequence");
        return Gauge(to_replica, "tessera_cluster_applied_position") == last &&
               Gauge(to_resolver, "tessera_cluster_applied_position") == last;
      },
      seconds(30)));
  auto bob_on_resolver = to_resolver.Request("GET", "/v1/profiles/user_id:u-bob", {}, read_key);
  auto bob_on_replica = to_replica.Request("GET", "/v1/profiles/user_id:u-bob", {}, read_key);
  ASSERT_TRUE(bob_on_resolver.ok() && bob_on_replica.ok());
  EXPECT_EQ(bob_on_resolver->body, bob_on_replica->body);
  EXPECT_EQ(JsonStringMember(bob_on_replica->body, "profileId"), JsonStringMember(bob_before->body, "profileId"));

  // The lease holder then erases her messages, and the command with her email, from the stream
  // itself, once every member has applied them.
  auto connection = cluster::NatsConnection::Connect({.urls = nats.urls(), .request_timeout = seconds(20)});
  ASSERT_TRUE(connection.ok()) << connection.status();
  ASSERT_TRUE((*connection)->WaitConnected(seconds(10)));
  std::string held;
  EXPECT_TRUE(WaitFor([&] { return (held = StreamMessagesMentioning(**connection, "ada")).empty(); }, seconds(30)))
      << "still in the stream: " << held;
  EXPECT_FALSE(StreamMessagesMentioning(**connection, "u-bob").empty()) << "Bob's messages stay";

  // A replica started empty now cannot follow: it would miss what was erased, and says so.
  auto late_replica = StartMember(dir, nats, "replica-late", "replica");
  ASSERT_TRUE(late_replica.ok()) << late_replica.status();
  EXPECT_TRUE(WaitFor([&] { return (*late_replica)->Output().find("scrubbed from stream") != std::string::npos; },
                      seconds(30)))
      << (*late_replica)->Output();

  // Members that take no events send erasure requests to a gateway; gateways keep no records.
  auto on_replica = to_replica.Request("POST", "/v1/privacy/erase", R"({"type":"email","value":"eve@example.com"})",
                                       AdminKey());
  ASSERT_TRUE(on_replica.ok());
  EXPECT_EQ(on_replica->status, 404) << on_replica->body;
  EXPECT_NE(on_replica->body.find("send erasure requests to a gateway"), std::string::npos) << on_replica->body;
  auto on_gateway = to_gateway_1.Request("GET", "/v1/privacy/erase/" + id, {}, AdminKey());
  ASSERT_TRUE(on_gateway.ok());
  EXPECT_EQ(on_gateway->status, 404) << on_gateway->body;

  // A gateway started after the erasure reads the list before it takes any event.
  auto gateway_3 = StartMember(dir, nats, "gateway-3", "gateway");
  ASSERT_TRUE(gateway_3.ok()) << gateway_3.status();
  HttpClient to_gateway_3((*gateway_3)->port());
  EXPECT_TRUE(Suppressed(to_gateway_3, R"("userId":"u-ada")", 1000));

  // The replica that cannot follow does not hold the scrubbing back while it runs: Bob's erasure
  // is scrubbed too.
  auto bob_erased = to_gateway_1.Request("POST", "/v1/privacy/erase", R"({"type":"user_id","value":"u-bob"})",
                                         AdminKey());
  ASSERT_TRUE(bob_erased.ok()) << bob_erased.status();
  ASSERT_EQ(bob_erased->status, 202) << bob_erased->body;
  EXPECT_TRUE(WaitFor([&] { return (held = StreamMessagesMentioning(**connection, "u-bob")).empty(); }, seconds(30)))
      << "still in the stream: " << held;

  // Both appliers' derived state is what their logs give (the command's record is gone from them).
  for (auto* member : {&*gateway_1, &*gateway_2, &*gateway_3, &*resolver, &*replica, &*late_replica}) {
    auto stopped = (*member)->Terminate();
    ASSERT_TRUE(stopped.ok());
    EXPECT_EQ(*stopped, 0) << (*member)->Output();
  }
  for (const std::string name : {"resolver-a", "replica-1"}) {
    CommandResult verify = RunCommand(
        dir.path(), absl::StrCat(TESSERA_BINARY, " verify --config ", dir.path(), "/", name, "/test-config.json"), 120);
    EXPECT_EQ(verify.exit_code, 0) << name << ": " << verify.output;
    CommandResult log = RunCommand(
        dir.path(), absl::StrCat(TESSERA_BINARY, " log --config ", dir.path(), "/", name, "/test-config.json"), 120);
    EXPECT_EQ(log.exit_code, 0) << name << ": " << log.output;
    for (const char* gone : {"ada", "u-bob", "\"command\""}) {
      EXPECT_EQ(log.output.find(gone), std::string::npos) << name << " still logs " << gone << ": " << log.output;
    }
  }
}

}  // namespace
}  // namespace tessera::e2e
