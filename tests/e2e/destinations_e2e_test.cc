// Destinations, end to end: the real server delivers to real local HTTP servers standing in for a
// webhook receiver, and shows that every accepted event and audience change arrives at least once,
// signed, in order per profile; that a receiver that is down delays nothing and gets everything
// once it is back; that kill -9 during delivery loses nothing; that a profile without the
// destination's consent purpose is never sent; and that dead letters keep their reason and can be
// replayed.

#include <map>
#include <set>
#include <string>
#include <vector>

#include "activation/webhook_signature.h"
#include "gtest/gtest.h"
#include "simdjson.h"
#include "tests/e2e/e2e_support.h"
#include "tests/e2e/tls_client.h"
#include "tests/support/fake_http_server.h"

namespace tessera::e2e {
namespace {

using namespace std::chrono_literals;
using testing::FakeHttpServer;
using testing::FakeResponse;
using testing::RecordedRequest;

constexpr std::string_view kSecret = "whsec_e2e_secret";

struct Delivered {
  std::string message_id;
  std::string user_id;
  std::string event;  // track name, or the type for other calls
  std::string audience;
};

class DestinationsE2eTest : public ::testing::Test {
 protected:
  // A webhook destination to `receiver_`, with `extra` members (e.g. R"(,"consent":"marketing")").
  std::string Webhook(std::string_view extra = {}, int batch_events = 50) const {
    return std::string(R"({"name":"crm-hook","type":"webhook","url":")") + receiver_.Url("/hook") +
           R"(","secret":")" + std::string(kSecret) +
           R"(","events":{"types":["track","identify"]},"audiences":["buyers"],"batch_events":)" +
           std::to_string(batch_events) + R"(,"requests_per_second":1000,"timeout_ms":2000,"retry":{"initial_ms":20,"max_ms":200})" +
           std::string(extra) + "}";
  }

  void StartServer(const std::string& destinations) {
    auto started = ServerProcess::Start(
        {.data_dir = temp_.path() + "/data",
         .extra_json = R"("destinations":[)" + destinations +
                       R"(],"audiences":[{"name":"buyers","condition":{"event":"Order Completed"}}])"});
    ASSERT_TRUE(started.ok()) << started.status();
    server_ = *std::move(started);
    client_ = std::make_unique<HttpClient>(server_->port(), 60s);
  }

  // Sends the events (JSON objects) in one /v1/batch; every one must be accepted.
  void Send(const std::vector<std::string>& events) {
    std::string body = R"({"batch":[)";
    for (size_t i = 0; i < events.size(); ++i) body += (i ? "," : "") + events[i];
    body += "]}";
    auto response = client_->PostJson("/v1/batch", body, kWriteKey);
    ASSERT_TRUE(response.ok()) << response.status();
    ASSERT_EQ(response->status, 200) << response->body;
  }

  static std::string Track(const std::string& user, const std::string& name, int n, std::string context = "{}") {
    return R"({"type":"track","userId":")" + user + R"(","event":")" + name + R"(","messageId":"m-)" +
           std::to_string(n) + R"(","timestamp":"2026-01-01T00:00:)" + (n % 60 < 10 ? "0" : "") +
           std::to_string(n % 60) + R"(Z","properties":{"n":)" + std::to_string(n) + R"(},"context":)" + context +
           "}";
  }

  // Every item of every accepted request, in arrival order, checking each request's signature.
  std::vector<Delivered> Received() {
    std::vector<Delivered> items;
    simdjson::dom::parser parser;
    for (const RecordedRequest& request : receiver_.Accepted()) {
      EXPECT_TRUE(activation::VerifyWebhook(kSecret, request.Header("tessera-signature"), request.body,
                                            std::chrono::system_clock::now(), 600s)
                      .ok())
          << "signature " << request.Header("tessera-signature");
      EXPECT_FALSE(request.Header("idempotency-key").empty());
      simdjson::dom::element root;
      if (parser.parse(request.body).get(root) != simdjson::SUCCESS) {
        ADD_FAILURE() << "not JSON: " << request.body;
        continue;
      }
      std::string_view sent_at;
      EXPECT_EQ(root["sentAt"].get(sent_at), simdjson::SUCCESS);
      for (simdjson::dom::element event : root["batch"].get_array()) {
        Delivered item;
        std::string_view text;
        if (event["messageId"].get(text) == simdjson::SUCCESS) item.message_id = std::string(text);
        if (event["userId"].get(text) == simdjson::SUCCESS) item.user_id = std::string(text);
        if (event["event"].get(text) == simdjson::SUCCESS) {
          item.event = std::string(text);
        } else if (event["type"].get(text) == simdjson::SUCCESS) {
          item.event = std::string(text);
        }
        if (event["properties"]["audience"].get(text) == simdjson::SUCCESS) item.audience = std::string(text);
        items.push_back(std::move(item));
      }
    }
    return items;
  }

  bool WaitForMessages(const std::set<std::string>& expected, std::chrono::milliseconds timeout) {
    return WaitFor(
        [&] {
          std::set<std::string> seen;
          for (const Delivered& item : Received()) seen.insert(item.message_id);
          return std::includes(seen.begin(), seen.end(), expected.begin(), expected.end());
        },
        timeout);
  }

  std::string Get(const std::string& target) {
    auto response = client_->Request("GET", target, {}, {{"Authorization", "Bearer " + std::string(kAdminKey)}});
    EXPECT_TRUE(response.ok()) << response.status();
    return response.ok() ? response->body : std::string();
  }

  FakeHttpServer receiver_;
  TempDir temp_;
  std::unique_ptr<ServerProcess> server_;
  std::unique_ptr<HttpClient> client_;
};

TEST_F(DestinationsE2eTest, EveryEventAndAudienceEntryArrivesSignedAndInOrderPerProfile) {
  StartServer(Webhook());
  EXPECT_NE(server_->Output().find("sends over plain HTTP"), std::string::npos) << server_->Output();
  EXPECT_EQ(server_->Output().find(kSecret), std::string::npos) << "the secret is never printed";
  std::set<std::string> sent;
  std::map<std::string, std::vector<std::string>> sent_per_user;
  int n = 0;
  for (int round = 0; round < 6; ++round) {
    std::vector<std::string> events;
    for (int user = 0; user < 20; ++user) {
      const std::string id = "u-" + std::to_string(user);
      const std::string name = (round == 3 && user % 2 == 0) ? "Order Completed" : "Viewed";
      events.push_back(Track(id, name, ++n));
      sent.insert("m-" + std::to_string(n));
      sent_per_user[id].push_back("m-" + std::to_string(n));
    }
    Send(events);
  }
  ASSERT_TRUE(WaitForMessages(sent, 60s)) << "delivered " << Received().size() << " of " << sent.size();
  const std::vector<Delivered> received = Received();
  std::map<std::string, std::vector<std::string>> received_per_user;
  std::set<std::string> entered;
  for (const Delivered& item : received) {
    if (item.event == "Audience Entered") {
      EXPECT_EQ(item.audience, "buyers");
      entered.insert(item.user_id);
      continue;
    }
    std::vector<std::string>& order = received_per_user[item.user_id];
    // At least once: a repeat is allowed, but only of what came before, never out of order.
    if (std::find(order.begin(), order.end(), item.message_id) == order.end()) order.push_back(item.message_id);
  }
  EXPECT_EQ(received_per_user, sent_per_user) << "per profile, in the order they happened";
  ASSERT_TRUE(WaitFor(
      [&] {
        std::set<std::string> users;
        for (const Delivered& item : Received()) {
          if (item.event == "Audience Entered") users.insert(item.user_id);
        }
        return users.size() == 10;
      },
      30s));
  const std::string status = Get("/v1/destinations/crm-hook");
  EXPECT_NE(status.find(R"("delivered":130)"), std::string::npos) << status;
  EXPECT_NE(status.find(R"("lag":0)"), std::string::npos) << status;
  auto metrics = client_->Request("GET", "/metrics");
  ASSERT_TRUE(metrics.ok());
  EXPECT_NE(metrics->body.find(R"(tessera_destination_delivered_total{destination="crm-hook",space="default",type="webhook"} 130)"),
            std::string::npos);
}

TEST_F(DestinationsE2eTest, AReceiverThatIsDownDelaysNothingAndGetsEverythingWhenItIsBack) {
  std::atomic<bool> down{true};
  receiver_.SetResponder([&](const RecordedRequest&, size_t index) {
    if (!down) return FakeResponse{};
    // Down in every way a receiver can be.
    switch (index % 4) {
      case 0: return FakeResponse{.status = 503, .body = "maintenance"};
      case 1: return FakeResponse{.status = 429, .body = "", .headers = {{"Retry-After", "0"}}};
      case 2: return FakeResponse{.close_without_answer = true};
      default: return FakeResponse{.status = 500, .body = "oops"};
    }
  });
  StartServer(Webhook());
  std::set<std::string> sent;
  int n = 0;
  for (int round = 0; round < 20; ++round) {
    std::vector<std::string> events;
    for (int i = 0; i < 25; ++i) {
      events.push_back(Track("u-" + std::to_string(i), "Viewed", ++n));
      sent.insert("m-" + std::to_string(n));
    }
    Send(events);  // every request answered 200 while the receiver fails
  }
  ASSERT_TRUE(WaitFor([&] { return receiver_.Count() >= 8; }, 30s));
  const std::string status = Get("/v1/destinations/crm-hook");
  EXPECT_EQ(status.find(R"("failures":0,)"), std::string::npos) << status;
  EXPECT_EQ(status.find(R"("lag":0,)"), std::string::npos) << status;
  EXPECT_NE(status.find("maintenance"), std::string::npos) << "the last errors are shown: " << status;
  down = false;
  ASSERT_TRUE(WaitForMessages(sent, 60s));
  EXPECT_TRUE(Get("/v1/destinations/crm-hook/dead-letters").find(R"("deadLetters":[])") != std::string::npos);
}

TEST_F(DestinationsE2eTest, KillNineDuringDeliveryLosesNothing) {
  // A slow receiver, so that the kill lands while batches are in flight and rows wait.
  receiver_.SetResponder([](const RecordedRequest&, size_t) { return FakeResponse{.delay = 30ms}; });
  StartServer(Webhook({}, 5));
  std::set<std::string> sent;
  int n = 0;
  for (int round = 0; round < 20; ++round) {
    std::vector<std::string> events;
    for (int i = 0; i < 20; ++i) {
      events.push_back(Track("u-" + std::to_string(i), "Viewed", ++n));
      sent.insert("m-" + std::to_string(n));
    }
    Send(events);
  }
  ASSERT_TRUE(WaitFor([&] { return receiver_.Accepted().size() >= 5; }, 30s));
  server_->Kill();
  const size_t before_restart = Received().size();
  EXPECT_LT(before_restart, sent.size()) << "the kill came after everything was delivered: nothing tested";
  StartServer(Webhook({}, 5));
  ASSERT_TRUE(WaitForMessages(sent, 120s)) << "received " << Received().size() << " of " << sent.size();
}

TEST_F(DestinationsE2eTest, AProfileWithoutTheRequiredPurposeIsNeverSentInAnyBatch) {
  StartServer(Webhook(R"(,"consent":"Marketing")"));
  std::vector<std::string> events;
  std::set<std::string> expected;
  int n = 0;
  for (int user = 0; user < 30; ++user) {
    const std::string id = "u-" + std::to_string(user);
    const bool grants = user % 3 == 0;
    const std::string consent =
        std::string(R"({"consent":{"categoryPreferences":{"Marketing":)") + (grants ? "true" : "false") + "}}}";
    events.push_back(R"({"type":"identify","userId":")" + id + R"(","messageId":"m-)" + std::to_string(++n) +
                     R"(","context":)" + consent + "}");
    if (grants) expected.insert("m-" + std::to_string(n));
    events.push_back(Track(id, user % 2 ? "Viewed" : "Order Completed", ++n));
    if (grants) expected.insert("m-" + std::to_string(n));
  }
  // The last user says nothing about consent at all.
  events.push_back(Track("u-silent", "Order Completed", ++n));
  Send(events);
  ASSERT_TRUE(WaitForMessages(expected, 60s));
  // Anything else would have been sent by now, in order after these.
  Send({Track("u-0", "Viewed", ++n)});
  expected.insert("m-" + std::to_string(n));
  ASSERT_TRUE(WaitForMessages(expected, 60s));
  for (const Delivered& item : Received()) {
    const int user = std::stoi(item.user_id.substr(2) == "silent" ? "-1" : item.user_id.substr(2));
    EXPECT_TRUE(user >= 0 && user % 3 == 0) << item.user_id << " " << item.event << " was sent without consent";
  }
}

TEST_F(DestinationsE2eTest, DeadLettersKeepTheAnswerAndAReplaySendsThemAgain) {
  std::atomic<bool> fixed{false};
  receiver_.SetResponder([&](const RecordedRequest& request, size_t) {
    if (!fixed && request.body.find("\"Broken\"") != std::string::npos) {
      return FakeResponse{.status = 422, .body = R"({"error":"unknown event Broken"})"};
    }
    return FakeResponse{};
  });
  StartServer(Webhook({}, 1));
  Send({Track("u-1", "Viewed", 1), Track("u-1", "Broken", 2), Track("u-1", "Viewed", 3)});
  ASSERT_TRUE(WaitForMessages({"m-1", "m-3"}, 30s));
  std::string letters = Get("/v1/destinations/crm-hook/dead-letters");
  EXPECT_NE(letters.find(R"("reason":"HTTP 422: {\"error\":\"unknown event Broken\"}")"), std::string::npos) << letters;
  EXPECT_NE(letters.find(R"("lastStatus":422)"), std::string::npos) << letters;
  EXPECT_NE(letters.find(R"("messageId":"m-2")"), std::string::npos) << letters;

  fixed = true;
  const CommandResult replay =
      RunCommand(temp_.path(), std::string(TESSERA_BINARY) + " destinations replay crm-hook --server http://127.0.0.1:" +
                                   std::to_string(server_->port()) + " --admin-key " + std::string(kAdminKey),
                 60);
  EXPECT_EQ(replay.exit_code, 0) << replay.output;
  EXPECT_NE(replay.output.find("1 dead letter"), std::string::npos) << replay.output;
  ASSERT_TRUE(WaitForMessages({"m-2"}, 30s));
  ASSERT_TRUE(WaitFor([&] { return Get("/v1/destinations/crm-hook/dead-letters").find(R"("deadLetters":[])") !=
                                   std::string::npos; },
                      30s));
}

TEST_F(DestinationsE2eTest, ABadDestinationIsRefusedAtStartWithoutPrintingItsSecret) {
  TempDir temp;
  const std::string data_dir = temp.path() + "/data";
  auto server = ServerProcess::Start(
      {.data_dir = data_dir,
       .extra_json = R"("destinations":[{"name":"crm-hook","type":"webhook","url":"https://crm.example/hook",)"
                     R"("secret":"whsec_1","space":"nowhere","events":{"types":["track"]}}])"});
  ASSERT_FALSE(server.ok()) << "the server must not start";
  const CommandResult result =
      RunCommand(temp.path(), std::string(TESSERA_BINARY) + " serve --config " + data_dir + "/test-config.json", 60);
  EXPECT_EQ(result.exit_code, 2) << result.output;
  EXPECT_NE(result.output.find("destinations[0].space: \"nowhere\" is the space of no source"), std::string::npos)
      << result.output;
  EXPECT_EQ(result.output.find("whsec_1"), std::string::npos) << "a destination's secret is never printed";

  // Issue 26: free_text names only free-text properties (ingest/free_text.h), checked at start.
  TempDir other;
  const std::string other_dir = other.path() + "/data";
  ASSERT_FALSE(ServerProcess::Start({.data_dir = other_dir,
                                     .extra_json = R"("destinations":[{"name":"crm-hook","type":"webhook",)"
                                                   R"("url":"https://crm.example/hook","events":{"types":["track"]},)"
                                                   R"("free_text":["transcript","transcripts"]}])"})
                   .ok());
  const CommandResult free_text =
      RunCommand(other.path(), std::string(TESSERA_BINARY) + " serve --config " + other_dir + "/test-config.json", 60);
  EXPECT_EQ(free_text.exit_code, 2) << free_text.output;
  EXPECT_NE(free_text.output.find("destinations[0].free_text[1]: \"transcripts\" is not one of transcript, notes, "
                                  "description, comment"),
            std::string::npos)
      << free_text.output;
}

TEST_F(DestinationsE2eTest, AMetaCustomAudienceGetsHashedMembersAddedAndAnErasedPersonRemoved) {
  // The Graph API's users edge, as a local server: POST adds, DELETE removes.
  StartServer(std::string(R"({"name":"meta-vip","type":"meta_custom_audience","url":")") + receiver_.Url("/v19.0") +
              R"(","secret":"EAAB-token","audiences":["buyers"],"options":{"audience_id":"23851234567890123"},)"
              R"("retry":{"initial_ms":20,"max_ms":200}})");
  Send({R"({"type":"identify","userId":"u-kim","messageId":"i-1","traits":{"email":" Kim@Example.KR","phone":"+82 10-1234-5678"}})",
        Track("u-kim", "Order Completed", 2), Track("u-lee", "Order Completed", 3)});
  ASSERT_TRUE(WaitFor([&] { return receiver_.Accepted().size() >= 1; }, 30s));
  // What printf '%s' kim@example.kr | sha256sum and printf '%s' 821012345678 | sha256sum print.
  const std::string kim_row =
      R"(["2c7fb226b5ae4e35eae4196825a654c5c177b7dea6709354c9daac0eadf66177",)"
      R"("5d639079300bfabb1fa81139c823d324b2a67e9dd4157475190a31fb17528bc0"])";
  const RecordedRequest added = receiver_.Accepted()[0];
  EXPECT_EQ(added.method, "POST");
  EXPECT_EQ(added.target, "/v19.0/23851234567890123/users");
  EXPECT_EQ(added.Header("content-type"), "application/x-www-form-urlencoded");
  EXPECT_NE(added.body.find("access_token=EAAB-token"), std::string::npos) << added.body;
  // %5B%22: the form-encoded '["' of the payload's rows.
  std::string encoded_row;
  for (char c : kim_row) {
    if (c == '[') encoded_row += "%5B";
    else if (c == ']') encoded_row += "%5D";
    else if (c == '"') encoded_row += "%22";
    else if (c == ',') encoded_row += "%2C";
    else encoded_row += c;
  }
  EXPECT_NE(added.body.find(encoded_row), std::string::npos) << "kim's hashed email and phone: " << added.body;
  EXPECT_EQ(added.body.find("u-lee"), std::string::npos) << "no user id reaches Meta";

  auto erased = client_->Request("POST", "/v1/privacy/erase", R"({"type":"user_id","value":"u-kim"})",
                                 {{"Authorization", "Bearer " + std::string(kAdminKey)}});
  ASSERT_TRUE(erased.ok());
  ASSERT_EQ(erased->status, 202) << erased->body;
  ASSERT_TRUE(WaitFor(
      [&] {
        for (const RecordedRequest& request : receiver_.Accepted()) {
          if (request.method == "DELETE") return true;
        }
        return false;
      },
      30s));
  for (const RecordedRequest& request : receiver_.Accepted()) {
    if (request.method != "DELETE") continue;
    EXPECT_EQ(request.target, "/v19.0/23851234567890123/users");
    EXPECT_NE(request.body.find(encoded_row), std::string::npos) << "the erased person is removed: " << request.body;
  }
}

TEST_F(DestinationsE2eTest, AnErasureTakesThePersonsWaitingRowsOutOfTheOutbox) {
  StartServer(Webhook());
  auto post = [&](const std::string& target) {
    auto response = client_->Request("POST", target, "{}", {{"Authorization", "Bearer " + std::string(kAdminKey)}});
    ASSERT_TRUE(response.ok());
    ASSERT_EQ(response->status, 200) << response->body;
  };
  post("/v1/destinations/crm-hook/pause");
  Send({Track("u-gone", "Viewed", 1), Track("u-kept", "Viewed", 2), Track("u-gone", "Viewed", 3)});
  ASSERT_TRUE(WaitFor([&] { return Get("/v1/destinations/crm-hook").find(R"("lag":3)") != std::string::npos; }, 30s));
  auto erased = client_->Request("POST", "/v1/privacy/erase", R"({"type":"user_id","value":"u-gone"})",
                                 {{"Authorization", "Bearer " + std::string(kAdminKey)}});
  ASSERT_TRUE(erased.ok());
  ASSERT_EQ(erased->status, 202) << erased->body;
  const std::string id = JsonStringMember(erased->body, "id");
  ASSERT_TRUE(WaitFor(
      [&] { return Get("/v1/privacy/erase/" + id).find(R"("state":"completed")") != std::string::npos; }, 30s));
  post("/v1/destinations/crm-hook/resume");
  ASSERT_TRUE(WaitForMessages({"m-2"}, 30s));
  Send({Track("u-kept", "Viewed", 4)});
  ASSERT_TRUE(WaitForMessages({"m-4"}, 30s));
  for (const Delivered& item : Received()) {
    EXPECT_NE(item.user_id, "u-gone") << item.message_id << " was sent after its person was erased";
  }
}

TEST_F(DestinationsE2eTest, BadRequestsToTheDestinationAndLiftApisGetPreciseErrors) {
  StartServer(Webhook());
  auto call = [&](std::string_view method, const std::string& target, std::string_view key) {
    std::map<std::string, std::string> headers;
    if (!key.empty()) headers["Authorization"] = "Bearer " + std::string(key);
    auto response = client_->Request(method, target, method == "POST" ? "{}" : "", headers);
    EXPECT_TRUE(response.ok()) << response.status();
    return response.ok() ? *response : HttpResponse{};
  };
  struct Case {
    std::string method, target;
    std::string_view key;
    int status;
    std::string code;
  };
  const Case cases[] = {
      {"GET", "/v1/destinations", "", 401, "unauthorized"},
      {"GET", "/v1/destinations", "not-a-key", 401, "unauthorized"},
      {"GET", "/v1/destinations", kWriteKey, 403, "forbidden"},
      {"POST", "/v1/destinations/crm-hook/pause", kReadKey, 403, "forbidden"},
      {"GET", "/v1/destinations/nope", kAdminKey, 404, "unknown_destination"},
      {"GET", "/v1/destinations/crm-hook/frobnicate", kAdminKey, 404, "not_found"},
      {"GET", "/v1/destinations/crm-hook/pause", kAdminKey, 405, "method_not_allowed"},
      {"POST", "/v1/destinations/crm-hook", kAdminKey, 405, "method_not_allowed"},
      {"POST", "/v1/destinations", kAdminKey, 405, "method_not_allowed"},
      {"GET", "/v1/destinations/crm-hook/dead-letters?limit=0", kAdminKey, 400, "invalid_value"},
      {"GET", "/v1/destinations/crm-hook/dead-letters?limit=1001", kAdminKey, 400, "invalid_value"},
      {"GET", "/v1/destinations/crm-hook/dead-letters?after=x", kAdminKey, 400, "invalid_value"},
      {"GET", "/v1/audiences/buyers/lift?since=yesterday", kReadKey, 400, "invalid_value"},
      {"GET", "/v1/audiences/buyers/lift?until=2026-13-01", kReadKey, 400, "invalid_value"},
      {"GET", "/v1/audiences/nobody/lift", kReadKey, 404, "unknown_audience"},
      {"PUT", "/v1/audiences/buyers/lift", kAdminKey, 405, "method_not_allowed"},
  };
  for (const Case& test : cases) {
    const HttpResponse response = call(test.method, test.target, test.key);
    EXPECT_EQ(response.status, test.status) << test.method << " " << test.target << ": " << response.body;
    EXPECT_NE(response.body.find("\"code\":\"" + test.code + "\""), std::string::npos)
        << test.method << " " << test.target << ": " << response.body;
  }
  const HttpResponse limit = call("GET", "/v1/destinations/crm-hook/dead-letters?limit=0", kAdminKey);
  EXPECT_NE(limit.body.find(R"("field":"limit")"), std::string::npos) << limit.body;
  const HttpResponse since = call("GET", "/v1/audiences/buyers/lift?since=yesterday", kReadKey);
  EXPECT_NE(since.body.find(R"("field":"since")"), std::string::npos) << since.body;
  // And the good ones answer.
  EXPECT_EQ(call("GET", "/v1/destinations/crm-hook/dead-letters?limit=5", kReadKey).status, 200);
  EXPECT_EQ(call("GET", "/v1/audiences/buyers/lift?since=2026-01-01", kReadKey).status, 200);
  const CommandResult unknown =
      RunCommand(temp_.path(), std::string(TESSERA_BINARY) + " destinations replay nope --server http://127.0.0.1:" +
                                   std::to_string(server_->port()) + " --admin-key " + std::string(kAdminKey),
                 60);
  EXPECT_EQ(unknown.exit_code, 2) << unknown.output;
  EXPECT_NE(unknown.output.find("no destination \"nope\""), std::string::npos) << unknown.output;
  const CommandResult usage = RunCommand(temp_.path(), std::string(TESSERA_BINARY) + " destinations rewind crm-hook", 60);
  EXPECT_EQ(usage.exit_code, 2) << usage.output;
}

TEST(DestinationsTlsE2eTest, AnHttpsReceiverIsReachedThroughItsPrivateCaAndRefusedWithoutIt) {
  TempDir temp;
  const std::string cert = temp.path() + "/receiver.pem";
  const std::string key = temp.path() + "/receiver.key";
  ASSERT_TRUE(WriteSelfSignedCertificate(cert, key).ok());
  FakeHttpServer receiver(testing::FakeTls{.cert_file = cert, .key_file = key});
  const std::string common = std::string(R"("type":"webhook","url":")") + receiver.Url("/hook") +
                             R"(","secret":"s","events":{"types":["track"]},"retry":{"initial_ms":20,"max_ms":200})";
  auto server = ServerProcess::Start(
      {.data_dir = temp.path() + "/data",
       .extra_json = R"("destinations":[{"name":"trusted",)" + common + R"(,"ca_file":")" + cert +
                     R"("},{"name":"untrusted",)" + common + "}]"});
  ASSERT_TRUE(server.ok()) << server.status();
  EXPECT_EQ((*server)->Output().find("sends over plain HTTP"), std::string::npos);
  HttpClient client((*server)->port(), 60s);
  auto sent = client.PostJson("/v1/track", R"({"userId":"u-1","event":"Viewed","messageId":"m-tls"})", kWriteKey);
  ASSERT_TRUE(sent.ok() && sent->status == 200);
  ASSERT_TRUE(receiver.WaitFor([](const auto& accepted) { return !accepted.empty(); }, 30s));
  EXPECT_NE(receiver.Accepted()[0].body.find("m-tls"), std::string::npos);
  // The destination that trusts only the system's roots refuses the self-signed certificate.
  ASSERT_TRUE(WaitFor(
      [&] {
        auto status = client.Request("GET", "/v1/destinations/untrusted", {},
                                     {{"Authorization", "Bearer " + std::string(kAdminKey)}});
        return status.ok() && status->body.find("TLS handshake") != std::string::npos;
      },
      30s));
  std::this_thread::sleep_for(500ms);
  EXPECT_EQ(receiver.Accepted().size(), 1u) << "only the trusting destination got through";
}

}  // namespace
}  // namespace tessera::e2e
