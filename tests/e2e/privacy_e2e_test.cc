// End-to-end privacy and audit: an admin erases a person by a phone number in local format; their
// profile, timeline and log records go, everyone else stays (including a person who shared a
// blocked device with them), later events for them are rejected and counted, the erasure
// survives a restart and a rebuild, and every privileged or personal-data request is audited.

#include <chrono>
#include <cstdlib>
#include <string>

#include "gtest/gtest.h"
#include "tests/e2e/e2e_support.h"
#include "tests/e2e/log_reader.h"

namespace tessera::e2e {
namespace {

using namespace std::chrono_literals;

class PrivacyE2eTest : public ::testing::Test {
 protected:
  void SetUp() override { Start(); }

  void Start() {
    auto started = ServerProcess::Start(
        {.data_dir = data_dir_, .extra_json = R"("identity":{"default_phone_region":"KR"})"});
    ASSERT_TRUE(started.ok()) << started.status();
    server_ = std::move(*started);
    client_ = std::make_unique<HttpClient>(server_->port());
  }

  absl::StatusOr<HttpResponse> Call(std::string_view method, const std::string& target, std::string_view key,
                                    std::string_view body = {}) {
    return client_->Request(method, target, body, {{"Authorization", "Bearer " + std::string(key)}});
  }

  int Status(std::string_view method, const std::string& target, std::string_view key,
             std::string_view body = {}) {
    auto response = Call(method, target, key, body);
    EXPECT_TRUE(response.ok()) << response.status();
    return response.ok() ? response->status : 0;
  }

  void Seed() {
    auto response = client_->PostJson("/v1/batch", R"({"batch":[
      {"type":"identify","userId":"u-ada","messageId":"ada-1","traits":{"email":"ada@example.com","phone":"010-1234-5678"},
       "context":{"device":{"id":"00000000-0000-0000-0000-000000000000"}}},
      {"type":"track","userId":"u-ada","event":"Order Completed","messageId":"ada-2"},
      {"type":"page","anonymousId":"a-ada","userId":"u-ada","name":"Pricing","messageId":"ada-3"},
      {"type":"identify","userId":"u-bob","messageId":"bob-1","traits":{"email":"bob@example.com"},
       "context":{"device":{"id":"00000000-0000-0000-0000-000000000000"}}},
      {"type":"track","userId":"u-bob","event":"Order Completed","messageId":"bob-2"}]})",
                                      kWriteKey);
    ASSERT_TRUE(response.ok()) << response.status();
    ASSERT_EQ(response->status, 200) << response->body;
    ASSERT_TRUE(WaitFor(
        [&] {
          return Status("GET", "/v1/profiles/user_id:u-bob", kReadKey) == 200 &&
                 Status("GET", "/v1/profiles/anonymous_id:a-ada", kReadKey) == 200;
        },
        30s));
  }

  std::string Erase(const std::string& body) {
    auto response = Call("POST", "/v1/privacy/erase", kAdminKey, body);
    EXPECT_TRUE(response.ok()) << response.status();
    if (!response.ok()) return "";
    EXPECT_EQ(response->status, 202) << response->body;
    // Neither as sent nor normalized (ids and times may hold any digits, so look for the whole value).
    for (std::string_view value : {"1234-5678", "821012345678", "ada@example.com"}) {
      EXPECT_EQ(response->body.find(value), std::string::npos) << "the identifier's value is never echoed";
    }
    return JsonStringMember(response->body, "id");
  }

  void WaitCompleted(const std::string& id) {
    std::string last;
    ASSERT_TRUE(WaitFor(
        [&] {
          auto response = Call("GET", "/v1/privacy/erase/" + id, kAdminKey);
          if (!response.ok()) return false;
          last = response->body;
          return JsonStringMember(last, "state") == "completed";
        },
        30s))
        << last;
  }

  TempDir temp_;
  std::string data_dir_ = temp_.path() + "/data";
  std::unique_ptr<ServerProcess> server_;
  std::unique_ptr<HttpClient> client_;
};

TEST_F(PrivacyE2eTest, ErasedPersonIsGoneEverywhereAndStaysGoneWhileOthersAreUntouched) {
  Seed();
  auto bob_before = Call("GET", "/v1/profiles/user_id:u-bob", kReadKey);
  ASSERT_TRUE(bob_before.ok());
  auto bob_events_before = Call("GET", "/v1/profiles/user_id:u-bob/events", kReadKey);
  ASSERT_TRUE(bob_events_before.ok());

  const std::string id = Erase(R"({"type":"phone","value":"010-1234-5678"})");
  ASSERT_FALSE(id.empty());
  WaitCompleted(id);
  auto status = Call("GET", "/v1/privacy/erase/" + id, kAdminKey);
  ASSERT_TRUE(status.ok());
  EXPECT_NE(status->body.find(R"("events":3)"), std::string::npos) << status->body;
  EXPECT_NE(status->body.find(R"("identifierType":"phone")"), std::string::npos) << status->body;

  for (const char* ref :
       {"email:ada%40example.com", "user_id:u-ada", "anonymous_id:a-ada", "phone:010-1234-5678"}) {
    EXPECT_EQ(Status("GET", std::string("/v1/profiles/") + ref, kReadKey), 404)
        << ref << " still finds a profile";
  }
  auto bob_after = Call("GET", "/v1/profiles/user_id:u-bob", kReadKey);
  ASSERT_TRUE(bob_after.ok());
  EXPECT_EQ(bob_after->body, bob_before->body)
      << "Bob shared a blocked device with Ada and must be untouched";
  auto bob_events_after = Call("GET", "/v1/profiles/user_id:u-bob/events", kReadKey);
  ASSERT_TRUE(bob_events_after.ok());
  EXPECT_EQ(bob_events_after->body, bob_events_before->body);

  // Later events carrying any of her identifiers are rejected with a precise code and counted.
  auto single =
      client_->PostJson("/v1/track", R"({"userId":"u-ada","event":"Viewed","messageId":"ada-4"})", kWriteKey);
  ASSERT_TRUE(single.ok());
  EXPECT_EQ(single->status, 400) << single->body;
  EXPECT_NE(single->body.find(R"("code":"suppressed")"), std::string::npos) << single->body;
  auto batch = client_->PostJson("/v1/batch", R"({"batch":[
      {"type":"track","userId":"u-bob","event":"Viewed","messageId":"bob-3"},
      {"type":"track","anonymousId":"x","event":"Viewed","messageId":"ada-5","context":{"traits":{"email":"ADA@example.com"}}}]})",
                                 kWriteKey);
  ASSERT_TRUE(batch.ok());
  EXPECT_EQ(batch->status, 200) << batch->body;
  EXPECT_NE(batch->body.find(R"("index":1,"messageId":"ada-5","code":"suppressed")"), std::string::npos)
      << batch->body;
  auto metrics = client_->Request("GET", "/metrics");
  ASSERT_TRUE(metrics.ok());
  EXPECT_NE(metrics->body.find("tessera_events_total{result=\"suppressed\"} 2"), std::string::npos);
  EXPECT_NE(metrics->body.find("tessera_privacy_erasures_total{space=\"default\"} 1"), std::string::npos);

  // After a restart and a rebuild from the log, she is still gone and still suppressed.
  ASSERT_TRUE(server_->Terminate().ok());
  for (const ingest::CanonicalEvent& event : ReadLog(data_dir_)) {
    EXPECT_FALSE(event.message_id.starts_with("ada-")) << event.message_id << " is still in the log";
  }
  const std::string rebuild =
      std::string(TESSERA_BINARY) + " rebuild --config " + data_dir_ + "/test-config.json >/dev/null 2>&1";
  ASSERT_EQ(std::system(rebuild.c_str()), 0) << rebuild;
  Start();
  EXPECT_EQ(Status("GET", "/v1/profiles/email:ada%40example.com", kReadKey), 404);
  EXPECT_EQ(Status("GET", "/v1/profiles/user_id:u-bob", kReadKey), 200);
  auto again = client_->PostJson("/v1/identify", R"({"userId":"u-new","traits":{"email":"ada@example.com"}})",
                                 kWriteKey);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->status, 400) << "the suppression list survives restarts: " << again->body;
}

TEST_F(PrivacyE2eTest, OnlyAdminKeysMayEraseAndBadRequestsArePrecise) {
  const std::string body = R"({"type":"email","value":"ada@example.com"})";
  EXPECT_EQ(Status("POST", "/v1/privacy/erase", kReadKey, body), 403);
  EXPECT_EQ(Status("POST", "/v1/privacy/erase", kWriteKey, body), 403);
  EXPECT_EQ(Status("POST", "/v1/privacy/erase", "no-such-key", body), 401);
  auto response = Call("POST", "/v1/privacy/erase", kAdminKey, R"({"type":"shoe_size","value":"42"})");
  ASSERT_TRUE(response.ok());
  EXPECT_EQ(response->status, 400);
  EXPECT_NE(response->body.find("unknown_identifier_type"), std::string::npos) << response->body;
  response = Call("POST", "/v1/privacy/erase", kAdminKey, R"({"type":"email","value":"not an email"})");
  ASSERT_TRUE(response.ok());
  EXPECT_EQ(response->status, 400) << response->body;
  EXPECT_NE(response->body.find(R"("field":"value")"), std::string::npos) << response->body;
  response = Call("POST", "/v1/privacy/erase", kAdminKey, R"({"type":"email"})");
  ASSERT_TRUE(response.ok());
  EXPECT_EQ(response->status, 400);
  EXPECT_NE(response->body.find("missing_field"), std::string::npos) << response->body;
  EXPECT_EQ(Status("POST", "/v1/privacy/erase", kAdminKey, "{not json"), 400);
  EXPECT_EQ(Status("GET", "/v1/privacy/erase/er_0000000000000000", kAdminKey), 404);
  EXPECT_EQ(Status("GET", "/v1/privacy/erase", kAdminKey), 405);
}

TEST_F(PrivacyE2eTest, ProfileReadsAndAdminActionsAreAuditedWithoutKeysOrValues) {
  Seed();
  EXPECT_EQ(Status("GET", "/v1/profiles/email:ada%40example.com", kReadKey), 200);
  EXPECT_EQ(Status("GET", "/v1/profiles/email:nobody%40example.com", kReadKey), 404);
  EXPECT_EQ(Status("GET", "/v1/profiles/email:ada%40example.com", kWriteKey), 403);
  EXPECT_EQ(Status("PUT", "/v1/audiences/buyers", kReadKey, R"({"condition":{"event":"Order Completed"}})"),
            403);
  EXPECT_EQ(Status("PUT", "/v1/audiences/buyers", kAdminKey, R"({"condition":{"event":"Order Completed"}})"),
            200);
  Erase(R"({"type":"email","value":"ada@example.com"})");
  EXPECT_EQ(Status("POST", "/v1/admin/backup", kReadKey, R"({"to":"/nonexistent/backups"})"), 403);

  auto audit = Call("GET", "/v1/audit?limit=1000", kAdminKey);
  ASSERT_TRUE(audit.ok());
  ASSERT_EQ(audit->status, 200) << audit->body;
  const std::string& log = audit->body;
  EXPECT_NE(log.find(R"("action":"GET /v1/profiles","target":"profile p)"), std::string::npos) << log;
  EXPECT_NE(log.find(R"(by email","space":"default","status":200)"), std::string::npos) << log;
  EXPECT_NE(log.find(R"("target":"lookup by email","space":"default","status":404)"), std::string::npos)
      << log;
  EXPECT_NE(log.find(R"("key":"write:website","action":"GET /v1/profiles")"), std::string::npos) << log;
  EXPECT_NE(log.find(R"("action":"PUT /v1/audiences","target":"buyers","space":"default","status":403)"),
            std::string::npos)
      << log;
  EXPECT_NE(log.find(R"("action":"PUT /v1/audiences","target":"buyers","space":"default","status":200)"),
            std::string::npos)
      << log;
  EXPECT_NE(log.find(R"("action":"POST /v1/privacy/erase","target":"erasure er_)"), std::string::npos) << log;
  EXPECT_NE(log.find(R"("action":"POST /v1/admin/backup","target":"","space":"default","status":403)"),
            std::string::npos)
      << log;
  for (std::string_view secret : {kReadKey, kAdminKey, kWriteKey, std::string_view("ada@example.com")}) {
    EXPECT_EQ(log.find(secret), std::string::npos) << secret << " appears in the audit log";
  }

  // Queried by key and time: only the admin key's entries, and none before `since`.
  const std::string admin_label = JsonStringMember(
      log.substr(
          log.find(R"("action":"PUT /v1/audiences","target":"buyers","space":"default","status":200)") - 40),
      "key");
  ASSERT_TRUE(admin_label.starts_with("admin:")) << admin_label;
  auto by_key = Call("GET", "/v1/audit?key=" + admin_label, kAdminKey);
  ASSERT_TRUE(by_key.ok());
  EXPECT_EQ(by_key->body.find("read:"), std::string::npos) << by_key->body;
  EXPECT_NE(by_key->body.find("POST /v1/privacy/erase"), std::string::npos) << by_key->body;
  auto future = Call("GET", "/v1/audit?since=2100-01-01T00:00:00Z", kAdminKey);
  ASSERT_TRUE(future.ok());
  EXPECT_EQ(future->body, R"({"entries":[],"next":null})");
  EXPECT_EQ(Status("GET", "/v1/audit", kReadKey), 403);
  EXPECT_EQ(Status("GET", "/v1/audit?since=yesterday", kAdminKey), 400);
  for (const char* bad : {"/v1/audit?limit=0", "/v1/audit?limit=1001", "/v1/audit?limit=ten", "/v1/audit?cursor=nope",
                          "/v1/audit?key=%zz"}) {
    auto response = Call("GET", bad, kAdminKey);
    ASSERT_TRUE(response.ok()) << response.status();
    EXPECT_EQ(response->status, 400) << bad << ": " << response->body;
    EXPECT_NE(response->body.find(R"("field":")"), std::string::npos) << bad << " must name the parameter";
  }
}

}  // namespace
}  // namespace tessera::e2e
