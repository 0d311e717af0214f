// End-to-end stewardship: a person who shopped at a store with one email and online with another
// has two profiles; an admin merges them over HTTP, then says the two emails are not the same
// person, and the two profiles come back exactly as they were, which `tessera verify` confirms is
// what a rebuild from the log gives. Bad requests get precise errors.

#include <chrono>
#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/e2e/e2e_support.h"

namespace tessera::e2e {
namespace {

using namespace std::chrono_literals;

constexpr std::string_view kStoreEmail = "minjun.kim@example.com";
constexpr std::string_view kWebEmail = "mj.kim@example.net";

class StewardshipE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto started = ServerProcess::Start({.data_dir = data_dir_, .extra_json = R"("identity":{"default_phone_region":"KR"})"});
    ASSERT_TRUE(started.ok()) << started.status();
    server_ = std::move(*started);
    client_ = std::make_unique<HttpClient>(server_->port());
  }

  absl::StatusOr<HttpResponse> Call(std::string_view method, const std::string& target, std::string_view key,
                                    std::string_view body = {}) {
    return client_->Request(method, target, body, {{"Authorization", "Bearer " + std::string(key)}});
  }

  HttpResponse Decide(std::string_view kind, std::string_view body, std::string_view key = kAdminKey) {
    auto response = Call("POST", "/v1/identity/" + std::string(kind), key, body);
    EXPECT_TRUE(response.ok()) << response.status();
    return response.ok() ? *response : HttpResponse{};
  }

  std::string Profile(std::string_view email) {
    auto response = Call("GET", "/v1/profiles/email:" + std::string(email), kReadKey);
    EXPECT_TRUE(response.ok()) << response.status();
    return response.ok() && response->status == 200 ? response->body : "";
  }

  // Kim Min-jun at the store (one email) and online (another email, and an order).
  void Seed() {
    auto response = client_->PostJson("/v1/batch", R"({"batch":[
      {"type":"identify","anonymousId":"pos-1","messageId":"s-1",
       "traits":{"email":"minjun.kim@example.com","name":"Kim Min-jun","birthday":"1988-03-02","phone":"010-1234-5678"}},
      {"type":"identify","anonymousId":"web-1","messageId":"w-1",
       "traits":{"email":"mj.kim@example.net","name":"Kim Min-jun","birthday":"1988-03-02","city":"Seoul"}},
      {"type":"track","anonymousId":"web-1","event":"Order Completed","messageId":"w-2","properties":{"revenue":42}}]})",
                                      kWriteKey);
    ASSERT_TRUE(response.ok()) << response.status();
    ASSERT_EQ(response->status, 200) << response->body;
    ASSERT_TRUE(WaitFor([&] { return Profile(kWebEmail).find("\"eventCount\":2") != std::string::npos; }, 30s))
        << Profile(kWebEmail);
  }

  TempDir temp_;
  std::string data_dir_ = temp_.path() + "/data";
  std::unique_ptr<ServerProcess> server_;
  std::unique_ptr<HttpClient> client_;
};

TEST_F(StewardshipE2eTest, AManualMergeAndASeparationRestoreTheTwoProfilesAsARebuildDoes) {
  Seed();
  const std::string store_before = Profile(kStoreEmail);
  const std::string web_before = Profile(kWebEmail);
  const std::string store_id = JsonStringMember(store_before, "profileId");
  const std::string web_id = JsonStringMember(web_before, "profileId");
  ASSERT_FALSE(store_id.empty());
  ASSERT_NE(store_id, web_id);

  // No identifier joins them, but the same name and birth date make them likely duplicates.
  auto duplicates = Call("GET", "/v1/profiles/id:" + store_id + "/duplicates", kReadKey);
  ASSERT_TRUE(duplicates.ok()) << duplicates.status();
  ASSERT_EQ(duplicates->status, 200) << duplicates->body;
  const std::string& pair = duplicates->body;
  EXPECT_NE(pair.find(R"("candidates":[{"profile":")" + web_id + "\""), std::string::npos) << pair;
  EXPECT_NE(pair.find(R"("matchProbability":0.9)"), std::string::npos) << pair;
  for (std::string_view field : {R"("comparison":"name","level":"exact")", R"("comparison":"birth_date","level":"exact")",
                                 R"("left":"Kim Min-jun","right":"Kim Min-jun")"}) {
    EXPECT_NE(pair.find(field), std::string::npos) << field << " in " << pair;
  }

  HttpResponse merged = Decide("merge", R"({"a":"email:minjun.kim@example.com","b":"id:)" + web_id +
                                            R"(","note":"same customer, checked by phone"})");
  ASSERT_EQ(merged.status, 200) << merged.body;
  EXPECT_EQ(JsonStringMember(merged.body, "state"), "applied");
  EXPECT_NE(merged.body.find("\"together\":true"), std::string::npos) << merged.body;
  EXPECT_EQ(JsonStringMember(Profile(kWebEmail), "profileId"), store_id);
  auto merges = Call("GET", absl::StrCat("/v1/profiles/id:", store_id, "/merges"), kReadKey);
  ASSERT_TRUE(merges.ok());
  EXPECT_NE(merges->body.find("same customer, checked by phone"), std::string::npos) << merges->body;

  HttpResponse separated =
      Decide("separate", R"({"a":"email:MJ.Kim@example.net","b":"email:minjun.kim@example.com"})");
  ASSERT_EQ(separated.status, 200) << separated.body;
  EXPECT_NE(separated.body.find("\"together\":false"), std::string::npos) << separated.body;
  // Both profiles are back, byte for byte as the API showed them before the merge.
  EXPECT_EQ(Profile(kStoreEmail), store_before);
  EXPECT_EQ(Profile(kWebEmail), web_before);

  // A later event carrying both emails merges nothing: the decision holds.
  auto both = client_->PostJson(
      "/v1/identify", R"({"userId":"u-77","traits":{"email":"minjun.kim@example.com"},"messageId":"b-1"})", kWriteKey);
  ASSERT_TRUE(both.ok());
  auto again = client_->PostJson(
      "/v1/identify", R"({"userId":"u-77","traits":{"email":"mj.kim@example.net"},"messageId":"b-2"})", kWriteKey);
  ASSERT_TRUE(again.ok());
  // Both go to the user id's profile (the highest-priority identifier); the second email stays apart.
  ASSERT_TRUE(WaitFor([&] { return Profile(kStoreEmail).find("\"eventCount\":3") != std::string::npos; }, 30s))
      << Profile(kStoreEmail);
  EXPECT_NE(Profile(kStoreEmail).find("u-77"), std::string::npos);
  EXPECT_EQ(Profile(kWebEmail), web_before);

  // The live state is what a rebuild from the log gives.
  ASSERT_TRUE(server_->Terminate().ok());
  CommandResult verify = RunCommand(temp_.path(), absl::StrCat(TESSERA_BINARY, " verify --config ", data_dir_,
                                                               "/test-config.json"));
  EXPECT_EQ(verify.exit_code, 0) << verify.output;
  // Both decisions are in the log, which `tessera log` shows.
  CommandResult log =
      RunCommand(temp_.path(), absl::StrCat(TESSERA_BINARY, " log --config ", data_dir_, "/test-config.json"));
  EXPECT_EQ(log.exit_code, 0) << log.output;
  EXPECT_NE(log.output.find(R"("kind":"merge")"), std::string::npos) << log.output;
  EXPECT_NE(log.output.find(R"("kind":"separate","requestId":"sd_)"), std::string::npos) << log.output;
  EXPECT_NE(log.output.find("same customer, checked by phone"), std::string::npos) << log.output;
}

TEST_F(StewardshipE2eTest, OnlyAdminKeysDecideAndBadRequestsArePrecise) {
  Seed();
  const std::string pair = R"({"a":"email:minjun.kim@example.com","b":"email:mj.kim@example.net"})";
  EXPECT_EQ(Decide("merge", pair, kReadKey).status, 403);
  EXPECT_EQ(Decide("merge", pair, "no-such-key").status, 401);
  auto get = Call("GET", "/v1/identity/merge", kAdminKey);
  ASSERT_TRUE(get.ok());
  EXPECT_EQ(get->status, 405);
  EXPECT_EQ(Decide("unmerge", pair).status, 404);
  struct Case {
    std::string body;
    int status;
    std::string code;
  };
  const Case cases[] = {
      {"not json", 400, "invalid_json"},
      {R"({"a":"email:minjun.kim@example.com"})", 400, "missing_field"},
      {R"({"a":"email:minjun.kim@example.com","b":7})", 400, "invalid_type"},
      {R"({"a":"email:minjun.kim@example.com","b":"mj.kim@example.net"})", 400, "invalid_value"},
      {R"({"a":"shoe_size:42","b":"email:mj.kim@example.net"})", 400, "unknown_identifier_type"},
      {R"({"a":"email:not an email","b":"email:mj.kim@example.net"})", 400, "invalid_value"},
      {R"({"a":"email:minjun.kim@example.com","b":"email:MINJUN.KIM@example.com"})", 400, "invalid_value"},
      {R"({"a":"email:minjun.kim@example.com","b":"email:nobody@example.com"})", 404, "not_found"},
      {R"({"a":"email:minjun.kim@example.com","b":"id:p0000000000099999"})", 404, "not_found"},
      {R"({"a":"email:minjun.kim@example.com","b":"email:mj.kim@example.net","colour":"red"})", 400, "invalid_value"},
      {R"({"a":"phone:010-1234-5678","b":"email:mj.kim@example.net","region":"XX"})", 400, "invalid_value"},
  };
  for (const Case& c : cases) {
    HttpResponse response = Decide("separate", c.body);
    EXPECT_EQ(response.status, c.status) << c.body << " -> " << response.body;
    EXPECT_EQ(JsonStringMember(response.body, "code"), c.code) << c.body << " -> " << response.body;
  }
  auto unknown_space = Call("POST", "/v1/identity/merge?space=nowhere", kAdminKey, pair);
  ASSERT_TRUE(unknown_space.ok());
  EXPECT_EQ(unknown_space->status, 404) << unknown_space->body;
  // None of them changed anything: the two are still apart, and nothing was logged as a decision.
  EXPECT_NE(JsonStringMember(Profile(kStoreEmail), "profileId"), JsonStringMember(Profile(kWebEmail), "profileId"));
  // A phone in local format is read in the default region, like ingestion.
  HttpResponse by_phone = Decide("merge", R"({"a":"phone:010-1234-5678","b":"email:mj.kim@example.net"})");
  EXPECT_EQ(by_phone.status, 200) << by_phone.body;
  EXPECT_EQ(JsonStringMember(Profile(kStoreEmail), "profileId"), JsonStringMember(Profile(kWebEmail), "profileId"));
}

}  // namespace
}  // namespace tessera::e2e
