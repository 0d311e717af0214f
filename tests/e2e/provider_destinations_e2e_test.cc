// The providers' destinations end to end: the real server delivers to real local servers standing
// in for Google Ads, SendGrid, Mailgun and a Kakao AlimTalk gateway (answering as their
// documentation shows, including failures), and to a real nats-server with JetStream. It shows:
// - Google's three-call job, where a failed call is retried by itself and the calls before it are
//   not made again, and an erasure removing the person in a job of its own;
// - SendGrid's add, and after an erasure the search for the contact's id and its deletion;
// - Mailgun's bulk add and per-address removal;
// - the gateway's 200-with-isSuccessful:false refusal becoming a dead letter with its words;
// - the NATS subject receiving every event once, in order, even across a kill -9 of Tessera
//   (the stream drops the repeats by their ids).

#include <algorithm>
#include <string>
#include <vector>

#include "cluster/nats_connection.h"
#include "gtest/gtest.h"
#include "nats/nats.h"
#include "simdjson.h"
#include "tests/cluster/nats_test_cluster.h"
#include "tests/e2e/e2e_support.h"
#include "tests/support/fake_http_server.h"

namespace tessera::e2e {
namespace {

using namespace std::chrono_literals;
using testing::FakeHttpServer;
using testing::FakeResponse;
using testing::RecordedRequest;

// printf '%s' kim@example.kr | sha256sum; printf '%s' +821012345678 | sha256sum.
constexpr std::string_view kKimEmailSha256 = "2c7fb226b5ae4e35eae4196825a654c5c177b7dea6709354c9daac0eadf66177";
constexpr std::string_view kKimPhoneE164Sha256 = "2efdd01fdf56e3f07de56acd9d40beb256d5983aec5f6d597c2c48354f35f9e0";

constexpr std::string_view kIdentifyKim =
    R"({"type":"identify","userId":"u-kim","messageId":"i-1","traits":{"email":" Kim@Example.KR","phone":"010-1234-5678","name":"김민준"}})";
constexpr std::string_view kKimOrders =
    R"({"type":"track","userId":"u-kim","event":"Order Completed","messageId":"o-1","properties":{"order_id":"A-100","revenue":129000}})";

class ProviderDestinationsE2eTest : public ::testing::Test {
 protected:
  void StartServer(const std::string& destinations) {
    auto started = ServerProcess::Start(
        {.data_dir = temp_.path() + "/data",
         .extra_json = R"("identity":{"default_phone_region":"KR"},"destinations":[)" + destinations +
                       R"(],"audiences":[{"name":"buyers","condition":{"event":"Order Completed"}}])"});
    ASSERT_TRUE(started.ok()) << started.status();
    server_ = *std::move(started);
    client_ = std::make_unique<HttpClient>(server_->port(), 60s);
  }

  void Send(const std::vector<std::string_view>& events) {
    std::string body = R"({"batch":[)";
    for (size_t i = 0; i < events.size(); ++i) body += std::string(i ? "," : "") + std::string(events[i]);
    body += "]}";
    auto response = client_->PostJson("/v1/batch", body, kWriteKey);
    ASSERT_TRUE(response.ok()) << response.status();
    ASSERT_EQ(response->status, 200) << response->body;
  }

  void Erase(std::string_view user) {
    auto erased = client_->Request("POST", "/v1/privacy/erase",
                                   R"({"type":"user_id","value":")" + std::string(user) + R"("})",
                                   {{"Authorization", "Bearer " + std::string(kAdminKey)}});
    ASSERT_TRUE(erased.ok());
    ASSERT_EQ(erased->status, 202) << erased->body;
  }

  std::string Get(const std::string& target) {
    auto response = client_->Request("GET", target, {}, {{"Authorization", "Bearer " + std::string(kAdminKey)}});
    EXPECT_TRUE(response.ok()) << response.status();
    return response.ok() ? response->body : std::string();
  }

  static std::string Retry() { return R"("retry":{"initial_ms":20,"max_ms":200},"requests_per_second":1000)"; }

  FakeHttpServer provider_;
  TempDir temp_;
  std::unique_ptr<ServerProcess> server_;
  std::unique_ptr<HttpClient> client_;
};

std::vector<std::string> Targets(const std::vector<RecordedRequest>& requests) {
  std::vector<std::string> targets;
  for (const RecordedRequest& request : requests) targets.push_back(request.method + " " + request.target);
  return targets;
}

TEST_F(ProviderDestinationsE2eTest, GoogleCustomerMatchRunsAJobPerBatchAndRetriesOnlyTheCallThatFailed) {
  std::atomic<int> add_calls{0};
  provider_.SetResponder([&](const RecordedRequest& request, size_t) {
    if (request.target.ends_with(":create")) {
      return FakeResponse{.body = R"({"resourceName":"customers/1234567890/offlineUserDataJobs/77"})"};
    }
    // The first addOperations meets a busy server, as Google's quota errors look.
    if (request.target.ends_with(":addOperations") && add_calls++ == 0) {
      return FakeResponse{.status = 503, .body = R"({"error":{"code":503,"status":"UNAVAILABLE"}})"};
    }
    if (request.target.ends_with(":run")) return FakeResponse{.body = R"({"name":"customers/1234567890/operations/1"})"};
    return FakeResponse{};
  });
  StartServer(R"({"name":"google-buyers","type":"google_customer_match","url":")" + provider_.Url("/v26") +
              R"(","secret":"ya29.token","audiences":["buyers"],)" + Retry() +
              R"(,"options":{"customer_id":"123-456-7890","user_list_id":"987654","developer_token":"dev-tok"}})");
  Send({kIdentifyKim, kKimOrders});
  ASSERT_TRUE(WaitFor([&] { return provider_.Accepted().size() >= 3; }, 30s));
  const std::vector<RecordedRequest> all = provider_.All();
  EXPECT_EQ(Targets(all), (std::vector<std::string>{
                              "POST /v26/customers/1234567890/offlineUserDataJobs:create",
                              "POST /v26/customers/1234567890/offlineUserDataJobs/77:addOperations",
                              "POST /v26/customers/1234567890/offlineUserDataJobs/77:addOperations",
                              "POST /v26/customers/1234567890/offlineUserDataJobs/77:run"}));
  for (const RecordedRequest& request : all) {
    EXPECT_EQ(request.Header("authorization"), "Bearer ya29.token");
    EXPECT_EQ(request.Header("developer-token"), "dev-tok");
  }
  EXPECT_EQ(all[1].body, all[2].body) << "the retry repeats the same operations";
  EXPECT_EQ(all[1].body, R"({"enablePartialFailure":true,"operations":[{"create":{"userIdentifiers":[)"
                         R"({"hashedEmail":")" + std::string(kKimEmailSha256) + R"("},)"
                         R"({"hashedPhoneNumber":")" + std::string(kKimPhoneE164Sha256) + R"("}]}}]})");

  Erase("u-kim");
  ASSERT_TRUE(WaitFor([&] { return provider_.Accepted().size() >= 6; }, 30s));
  const std::vector<RecordedRequest> after = provider_.Accepted();
  EXPECT_NE(after[4].body.find(R"({"remove":{"userIdentifiers":[{"hashedEmail":")" + std::string(kKimEmailSha256)),
            std::string::npos)
      << after[4].body;
  EXPECT_TRUE(after[5].target.ends_with(":run"));
}

TEST_F(ProviderDestinationsE2eTest, GoogleTokensAreRefreshedFromTheRefreshTokenAndAfterA401) {
  std::atomic<int> tokens{0};
  std::atomic<bool> refused_once{false};
  provider_.SetResponder([&](const RecordedRequest& request, size_t) {
    if (request.target == "/token") {
      return FakeResponse{.body = R"({"access_token":"ya29.t)" + std::to_string(++tokens) +
                                  R"(","expires_in":3599,"token_type":"Bearer"})"};
    }
    // The second job's first call finds its token revoked.
    if (request.target.ends_with(":create") && request.Header("authorization") == "Bearer ya29.t1" &&
        provider_.All().size() > 4 && !refused_once.exchange(true)) {
      return FakeResponse{.status = 401, .body = R"({"error":{"code":401,"status":"UNAUTHENTICATED"}})"};
    }
    if (request.target.ends_with(":create")) {
      return FakeResponse{.body = R"({"resourceName":"customers/1234567890/offlineUserDataJobs/78"})"};
    }
    return FakeResponse{};
  });
  StartServer(R"({"name":"google-buyers","type":"google_customer_match","url":")" + provider_.Url("/v26") +
              R"(","audiences":["buyers"],)" + Retry() +
              R"(,"options":{"customer_id":"1234567890","user_list_id":"1","developer_token":"dev-tok",)"
              R"("oauth":{"client_id":"cid.apps.googleusercontent.com","client_secret":"csecret","refresh_token":"1//rt",)"
              R"("token_url":")" + provider_.Url("/token") + R"("}}})");
  Send({kIdentifyKim, kKimOrders});
  ASSERT_TRUE(WaitFor([&] { return provider_.Accepted().size() >= 4; }, 30s));
  const RecordedRequest token = provider_.All()[0];
  EXPECT_EQ(token.method + " " + token.target, "POST /token");
  EXPECT_EQ(token.Header("content-type"), "application/x-www-form-urlencoded");
  EXPECT_EQ(token.body, "grant_type=refresh_token&client_id=cid.apps.googleusercontent.com&client_secret=csecret"
                        "&refresh_token=1%2F%2Frt");
  for (size_t i = 1; i < 4; ++i) EXPECT_EQ(provider_.All()[i].Header("authorization"), "Bearer ya29.t1");

  Send({R"({"type":"identify","userId":"u-lee","messageId":"i-2","traits":{"email":"lee@example.kr"}})",
        R"({"type":"track","userId":"u-lee","event":"Order Completed","messageId":"o-2"})"});
  ASSERT_TRUE(WaitFor([&] { return provider_.Accepted().size() >= 8; }, 30s)) << provider_.All().size();
  const std::vector<RecordedRequest> all = provider_.All();
  EXPECT_EQ(tokens.load(), 2) << "one token for the first job, one after the 401";
  EXPECT_EQ(all[4].Header("authorization"), "Bearer ya29.t1");
  EXPECT_EQ(all[4].target, "/v26/customers/1234567890/offlineUserDataJobs:create");
  EXPECT_EQ(all[5].target, "/token");
  for (size_t i = 6; i < all.size(); ++i) EXPECT_EQ(all[i].Header("authorization"), "Bearer ya29.t2") << i;
}

TEST_F(ProviderDestinationsE2eTest, SendgridAddsTheContactAndDeletesItAfterAnErasure) {
  provider_.SetResponder([](const RecordedRequest& request, size_t) {
    if (request.target == "/v3/marketing/contacts/search/emails") {
      return FakeResponse{.body = R"({"result":{"kim@example.kr":{"contact":{"id":"c-kim-1","email":"kim@example.kr"}}}})"};
    }
    return FakeResponse{.status = 202, .body = R"({"job_id":"j-1"})"};
  });
  StartServer(R"({"name":"sendgrid-buyers","type":"sendgrid_contacts","url":")" + provider_.Url("") +
              R"(","secret":"SG.key","audiences":["buyers"],)" + Retry() +
              R"(,"options":{"list_id":"057204d4-755b-4364-a0d1-6a0b1c7e3f5a"}})");
  Send({kIdentifyKim, kKimOrders});
  ASSERT_TRUE(WaitFor([&] { return provider_.Accepted().size() >= 1; }, 30s));
  const RecordedRequest added = provider_.Accepted()[0];
  EXPECT_EQ(added.method, "PUT");
  EXPECT_EQ(added.target, "/v3/marketing/contacts");
  EXPECT_EQ(added.Header("authorization"), "Bearer SG.key");
  EXPECT_EQ(added.body, R"({"list_ids":["057204d4-755b-4364-a0d1-6a0b1c7e3f5a"],"contacts":[)"
                        R"({"email":"kim@example.kr","external_id":"u-kim"}]})");
  Erase("u-kim");
  ASSERT_TRUE(WaitFor([&] { return provider_.Accepted().size() >= 3; }, 30s));
  EXPECT_EQ(Targets(provider_.Accepted()),
            (std::vector<std::string>{"PUT /v3/marketing/contacts", "POST /v3/marketing/contacts/search/emails",
                                      "DELETE /v3/marketing/contacts?ids=c-kim-1"}));
  EXPECT_EQ(provider_.Accepted()[1].body, R"({"emails":["kim@example.kr"]})");
}

TEST_F(ProviderDestinationsE2eTest, MailgunAddsMembersInBulkAndRemovesAnErasedOne) {
  provider_.SetResponder([](const RecordedRequest& request, size_t) {
    // A member the list no longer has: Mailgun answers 404, which is as good as removed.
    if (request.method == "DELETE") return FakeResponse{.status = 404, .body = R"({"message":"Member not found"})"};
    return FakeResponse{.body = R"({"message":"Mailing list has been updated","task-id":"t-1"})"};
  });
  StartServer(R"({"name":"mailgun-buyers","type":"mailgun_list","url":")" + provider_.Url("") +
              R"(","secret":"key-3ax6xnjp29jd6fds4gc373sgvjxteol0","audiences":["buyers"],)" + Retry() +
              R"(,"options":{"list":"buyers@mg.example.com"}})");
  Send({kIdentifyKim, kKimOrders});
  ASSERT_TRUE(WaitFor([&] { return provider_.Accepted().size() >= 1; }, 30s));
  const RecordedRequest added = provider_.Accepted()[0];
  EXPECT_EQ(added.method + " " + added.target, "POST /v3/lists/buyers@mg.example.com/members.json");
  EXPECT_EQ(added.Header("authorization"), "Basic YXBpOmtleS0zYXg2eG5qcDI5amQ2ZmRzNGdjMzczc2d2anh0ZW9sMA==");
  EXPECT_EQ(added.Header("content-type"), "application/x-www-form-urlencoded");
  EXPECT_TRUE(added.body.starts_with("members=%5B%7B%22address%22%3A%22kim%40example.kr%22")) << added.body;
  EXPECT_TRUE(added.body.ends_with("&upsert=yes")) << added.body;
  Erase("u-kim");
  ASSERT_TRUE(WaitFor([&] { return provider_.All().size() >= 2; }, 30s));
  EXPECT_EQ(Targets(provider_.All())[1], "DELETE /v3/lists/buyers@mg.example.com/members/kim@example.kr");
  ASSERT_TRUE(WaitFor([&] { return Get("/v1/destinations/mailgun-buyers").find(R"("delivered":2)") != std::string::npos; },
                      30s))
      << Get("/v1/destinations/mailgun-buyers");
  EXPECT_NE(Get("/v1/destinations/mailgun-buyers").find(R"("deadLetters":0)"), std::string::npos);
  EXPECT_EQ(provider_.All().size(), 2u) << "a 404 on removal is not retried";
}

TEST_F(ProviderDestinationsE2eTest, AKakaoGatewaysRefusalInA200BecomesADeadLetterWithItsWords) {
  provider_.SetResponder([](const RecordedRequest& request, size_t) {
    if (request.target.find("/appkeys/refusing/") != std::string::npos) {
      return FakeResponse{.body = R"({"header":{"resultCode":-1004,"resultMessage":"Invalid template code","isSuccessful":false}})"};
    }
    return FakeResponse{.body = R"({"header":{"resultCode":0,"resultMessage":"SUCCESS","isSuccessful":true},)"
                                R"("message":{"requestId":"20261206-1"}})"};
  });
  const std::string common = R"(","secret":"nhn-secret","events":{"types":["track"],"names":["Order Completed"]},)" +
                             Retry() + R"(,"url":")" + provider_.Url("") + "\"";
  StartServer(R"({"name":"alimtalk","type":"kakao_alimtalk)" + common +
              R"(,"options":{"app_key":"AbC123","sender_key":"s-1","template_code":"ORDER_01",)"
              R"("parameters":{"name":"traits.name","order":"properties.order_id"}}},)"
              R"({"name":"alimtalk-bad","type":"kakao_alimtalk)" + common +
              R"(,"options":{"app_key":"refusing","sender_key":"s-1","template_code":"NOPE"}})");
  Send({kIdentifyKim, kKimOrders});
  ASSERT_TRUE(WaitFor([&] { return provider_.All().size() >= 2; }, 30s));
  ASSERT_TRUE(WaitFor([&] { return Get("/v1/destinations/alimtalk-bad").find(R"("deadLetters":1)") != std::string::npos; },
                      30s))
      << Get("/v1/destinations/alimtalk-bad");
  for (const RecordedRequest& request : provider_.All()) {
    if (request.target != "/alimtalk/v2.3/appkeys/AbC123/messages") continue;
    EXPECT_EQ(request.Header("x-secret-key"), "nhn-secret");
    EXPECT_EQ(request.body, R"({"senderKey":"s-1","templateCode":"ORDER_01","recipientList":[{"recipientNo":"01012345678",)"
                            R"("templateParameter":{"name":"김민준","order":"A-100"},"recipientGroupingKey":"o-1"}]})");
  }
  const std::string letters = Get("/v1/destinations/alimtalk-bad/dead-letters");
  EXPECT_NE(letters.find("the gateway refused the request: resultCode -1004: Invalid template code"), std::string::npos)
      << letters;
  EXPECT_NE(Get("/v1/destinations/alimtalk").find(R"("delivered":1)"), std::string::npos)
      << Get("/v1/destinations/alimtalk");
}

// The stream's messages, in order: (Nats-Msg-Id, the event's messageId).
std::vector<std::pair<std::string, std::string>> StreamMessages(jsCtx* jetstream, const std::string& stream) {
  std::vector<std::pair<std::string, std::string>> messages;
  simdjson::dom::parser parser;
  for (uint64_t sequence = 1;; ++sequence) {
    natsMsg* message = nullptr;
    if (js_GetMsg(&message, jetstream, stream.c_str(), sequence, nullptr, nullptr) != NATS_OK) break;
    const char* id = nullptr;
    natsMsgHeader_Get(message, "Nats-Msg-Id", &id);
    std::string_view message_id;
    if (parser.parse(natsMsg_GetData(message), natsMsg_GetDataLength(message))["messageId"].get(message_id) !=
        simdjson::SUCCESS) {
      message_id = "<not JSON with a messageId>";
    }
    messages.emplace_back(id == nullptr ? "" : id, std::string(message_id));
    natsMsg_Destroy(message);
  }
  return messages;
}

TEST_F(ProviderDestinationsE2eTest, AJetStreamSubjectGetsEveryEventOnceInOrderAcrossAKillNine) {
  testing::NatsTestCluster nats(1);
  ASSERT_TRUE(nats.ok()) << nats.error();
  auto connection = cluster::NatsConnection::Connect({.urls = {nats.url(0)}});
  ASSERT_TRUE(connection.ok());
  ASSERT_TRUE((*connection)->WaitConnected(10s));
  jsStreamConfig config;
  jsStreamConfig_Init(&config);
  config.Name = "OUT";
  const char* subjects[] = {"tessera.out"};
  config.Subjects = subjects;
  config.SubjectsLen = 1;
  config.Duplicates = int64_t{600} * 1'000'000'000;  // Ten minutes, in nanoseconds.
  jsStreamInfo* info = nullptr;
  ASSERT_EQ(js_AddStream(&info, (*connection)->jetstream(), &config, nullptr, nullptr), NATS_OK);
  jsStreamInfo_Destroy(info);

  // Twenty batches of five a second: the kill lands while most of the events still wait.
  const std::string destination = R"({"name":"nats-out","type":"nats","url":")" + nats.url(0) +
                                  R"(","events":{"types":["track"]},"batch_events":5,"requests_per_second":20,)"
                                  R"("retry":{"initial_ms":20,"max_ms":200},)"
                                  R"("options":{"subject":"tessera.out","jetstream":true}})";
  StartServer(destination);
  std::vector<std::string> events;
  std::vector<std::string> expected;
  for (int i = 0; i < 200; ++i) {
    expected.push_back("n-" + std::to_string(i));
    events.push_back(R"({"type":"track","userId":"u-)" + std::to_string(i % 7) + R"(","event":"Viewed","messageId":")" +
                     expected.back() + R"("})");
  }
  for (size_t i = 0; i < events.size(); i += 50) {
    std::vector<std::string_view> chunk(events.begin() + i, events.begin() + std::min(events.size(), i + 50));
    Send(chunk);
  }
  ASSERT_TRUE(WaitFor([&] { return StreamMessages((*connection)->jetstream(), "OUT").size() >= 5; }, 30s));
  server_->Kill();
  EXPECT_LT(StreamMessages((*connection)->jetstream(), "OUT").size(), expected.size())
      << "the kill came after everything was delivered: nothing tested";
  StartServer(destination);
  ASSERT_TRUE(WaitFor([&] { return StreamMessages((*connection)->jetstream(), "OUT").size() >= expected.size(); }, 60s))
      << StreamMessages((*connection)->jetstream(), "OUT").size();
  std::this_thread::sleep_for(500ms);  // Anything sent twice would have arrived by now.
  const auto messages = StreamMessages((*connection)->jetstream(), "OUT");
  std::vector<std::string> received;
  for (const auto& [id, message_id] : messages) {
    EXPECT_TRUE(id.starts_with("default:")) << id;
    received.push_back(message_id);
  }
  EXPECT_EQ(received, expected) << "every event once, in the order accepted";
}

TEST_F(ProviderDestinationsE2eTest, ACoreNatsSubscriberGetsEventsAndAudienceChangesWithTheirIds) {
  testing::NatsTestCluster nats(1);
  ASSERT_TRUE(nats.ok()) << nats.error();
  auto connection = cluster::NatsConnection::Connect({.urls = {nats.url(0)}});
  ASSERT_TRUE(connection.ok());
  ASSERT_TRUE((*connection)->WaitConnected(10s));
  natsSubscription* subscription = nullptr;
  ASSERT_EQ(natsConnection_SubscribeSync(&subscription, (*connection)->raw(), "tessera.core"), NATS_OK);
  ASSERT_EQ(natsConnection_FlushTimeout((*connection)->raw(), 5000), NATS_OK);
  StartServer(R"({"name":"core-out","type":"nats","url":")" + nats.url(0) +
              R"(","events":{"types":["track"]},"audiences":["buyers"],)" + Retry() +
              R"(,"options":{"subject":"tessera.core"}})");
  Send({kIdentifyKim, kKimOrders});
  std::vector<std::string> received;
  for (int i = 0; i < 2; ++i) {
    natsMsg* message = nullptr;
    ASSERT_EQ(natsSubscription_NextMsg(&message, subscription, 30'000), NATS_OK) << "message " << i;
    const char* id = nullptr;
    ASSERT_EQ(natsMsgHeader_Get(message, "Nats-Msg-Id", &id), NATS_OK);
    simdjson::dom::parser parser;
    std::string_view event;
    ASSERT_EQ(parser.parse(natsMsg_GetData(message), natsMsg_GetDataLength(message))["event"].get(event),
              simdjson::SUCCESS);
    received.push_back(std::string(event) + " " + std::string(id).substr(0, 8));
    natsMsg_Destroy(message);
  }
  natsSubscription_Destroy(subscription);
  // The order as applied: the order's event, then the audience entry it caused.
  ASSERT_EQ(received.size(), 2u);
  EXPECT_TRUE(received[0].starts_with("Order Completed default:")) << received[0];
  EXPECT_TRUE(received[1].starts_with("Audience Entered")) << received[1];
}

}  // namespace
}  // namespace tessera::e2e
