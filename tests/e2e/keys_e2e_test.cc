// End-to-end keys and scopes, on a real server over real sockets: keys given as SHA-256 digests in
// the configuration work like the secrets; each kind of key does what its scope allows and gets
// 403 (a known key out of scope) or 401 (no or unknown key) otherwise; and a refused key learns
// nothing about which profiles or audiences exist.

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/e2e/e2e_support.h"

namespace tessera::e2e {
namespace {

using namespace std::chrono_literals;

// Secrets the clients send, and their digests as the configuration gives them
// (`printf %s hashed-write-key | sha256sum`).
constexpr std::string_view kHashedWriteKey = "hashed-write-key";
constexpr std::string_view kHashedReadKey = "hashed-read-key";
constexpr std::string_view kHashedAdminKey = "hashed-admin-key";
constexpr char kHashedWriteDigest[] =
    "sha256:57e96677781c6281ecbf22abfd0c017ff9e90c37e0cbab253cd9df0ab6401920";
constexpr char kHashedReadDigest[] =
    "sha256:120a1ad5a057a555708aa347db617dade87a413a5466940e633fee7d6c3186ef";
constexpr char kHashedAdminDigest[] =
    "sha256:ca7ff3f1c5135a54c162d03b8b94a5475a46464c501862f4ef39ca2f9a9ee0e4";

constexpr std::string_view kUnknownKey = "not-a-configured-key";

class KeysE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto started = ServerProcess::Start({.data_dir = temp_.path() + "/data",
                                         .extra_sources = std::string(R"({"name":"hashed","write_key":")") +
                                                          kHashedWriteDigest + R"(","channel":"app"})",
                                         .extra_read_keys = {kHashedReadDigest},
                                         .extra_admin_keys = {kHashedAdminDigest}});
    ASSERT_TRUE(started.ok()) << started.status();
    server_ = std::move(*started);
    client_ = std::make_unique<HttpClient>(server_->port());
  }

  absl::StatusOr<HttpResponse> Call(std::string_view method, const std::string& target, std::string_view key,
                                    std::string_view body = {}) {
    std::map<std::string, std::string> headers = {{"Content-Type", "application/json"}};
    if (!key.empty()) headers["Authorization"] = "Bearer " + std::string(key);
    return client_->Request(method, target, body, headers);
  }

  int Status(std::string_view method, const std::string& target, std::string_view key,
             std::string_view body = {}) {
    auto response = Call(method, target, key, body);
    EXPECT_TRUE(response.ok()) << method << " " << target << ": " << response.status();
    return response.ok() ? response->status : 0;
  }

  // Sends an identify for `user_id` with `write_key` and waits until its profile can be read.
  void CreateProfile(std::string_view write_key, const std::string& user_id) {
    auto sent = client_->PostJson("/v1/identify", R"({"userId":")" + user_id + R"("})", write_key);
    ASSERT_TRUE(sent.ok()) << sent.status();
    ASSERT_EQ(sent->status, 200) << sent->body;
    ASSERT_TRUE(
        WaitFor([&] { return Status("GET", "/v1/profiles/user_id:" + user_id, kReadKey) == 200; }, 30s))
        << "the profile of " << user_id << " never appeared";
  }

  TempDir temp_;
  std::unique_ptr<ServerProcess> server_;
  std::unique_ptr<HttpClient> client_;
};

TEST_F(KeysE2eTest, KeysConfiguredAsDigestsWorkLikeTheirSecrets) {
  ASSERT_NO_FATAL_FAILURE(CreateProfile(kHashedWriteKey, "hashed-user"));
  EXPECT_EQ(Status("GET", "/v1/profiles/user_id:hashed-user", kHashedReadKey), 200);
  EXPECT_EQ(
      Status("PUT", "/v1/audiences/with_email", kHashedAdminKey, R"({"condition":{"identifier":"email"}})"),
      200);
  EXPECT_EQ(
      Status("PUT", "/v1/audiences/with_phone", kHashedReadKey, R"({"condition":{"identifier":"phone"}})"),
      403)
      << "a hashed read key is still only a read key";

  // The digest is what the configuration holds, not a key: presenting it gets nothing.
  EXPECT_EQ(Status("GET", "/v1/profiles/user_id:hashed-user", kHashedReadDigest), 401);
  auto digest_as_write_key =
      client_->PostJson("/v1/track", R"({"userId":"x","event":"E"})", kHashedWriteDigest);
  ASSERT_TRUE(digest_as_write_key.ok()) << digest_as_write_key.status();
  EXPECT_EQ(digest_as_write_key->status, 401) << digest_as_write_key->body;
}

TEST_F(KeysE2eTest, EachKeyDoesWhatItsScopeAllowsAndNothingMore) {
  ASSERT_NO_FATAL_FAILURE(CreateProfile(kWriteKey, "scoped-user"));
  const std::string profile = "/v1/profiles/user_id:scoped-user";
  const std::string audience_body = R"({"condition":{"identifier":"email"}})";
  const std::string trait_body = R"({"kind":"count","event":"Order Completed","window":"90d"})";

  // Admin keys do everything.
  EXPECT_EQ(Status("PUT", "/v1/computed-traits/orders_90d", kAdminKey, trait_body), 200);
  EXPECT_EQ(Status("PUT", "/v1/audiences/emailable", kAdminKey, audience_body), 200);
  EXPECT_EQ(Status("PUT", "/v1/audiences/doomed", kAdminKey, audience_body), 200);
  EXPECT_EQ(Status("GET", profile, kAdminKey), 200);
  EXPECT_EQ(Status("GET", "/v1/audiences/emailable", kAdminKey), 200);
  EXPECT_EQ(Status("DELETE", "/v1/audiences/doomed", kAdminKey), 200);

  // Read keys read profiles and audiences, and change nothing.
  EXPECT_EQ(Status("GET", profile, kReadKey), 200);
  EXPECT_EQ(Status("GET", profile + "/events", kReadKey), 200);
  EXPECT_EQ(Status("GET", "/v1/audiences", kReadKey), 200);
  EXPECT_EQ(Status("GET", "/v1/audiences/emailable", kReadKey), 200);
  EXPECT_EQ(Status("GET", "/v1/computed-traits", kReadKey), 200);
  EXPECT_EQ(Status("PUT", "/v1/audiences/emailable", kReadKey, audience_body), 403);
  EXPECT_EQ(Status("DELETE", "/v1/audiences/emailable", kReadKey), 403);
  EXPECT_EQ(Status("PUT", "/v1/computed-traits/orders_90d", kReadKey, trait_body), 403);

  // Write keys ingest, and read nothing.
  EXPECT_EQ(Status("GET", profile, kWriteKey), 403);
  EXPECT_EQ(Status("GET", "/v1/audiences", kWriteKey), 403);
  EXPECT_EQ(Status("PUT", "/v1/audiences/emailable", kWriteKey, audience_body), 403);
  EXPECT_EQ(Status("PUT", "/v1/computed-traits/orders_90d", kWriteKey, trait_body), 403);

  // Read and admin keys are not write keys.
  for (std::string_view key : {kReadKey, kAdminKey}) {
    auto track = client_->PostJson("/v1/track", R"({"userId":"scoped-user","event":"E"})", key);
    ASSERT_TRUE(track.ok()) << track.status();
    EXPECT_EQ(track->status, 401) << key << ": " << track->body;
  }

  // No key or an unknown one: 401 everywhere.
  for (std::string_view key : {kUnknownKey, std::string_view()}) {
    EXPECT_EQ(Status("GET", profile, key), 401) << "key \"" << key << "\"";
    EXPECT_EQ(Status("GET", "/v1/audiences", key), 401) << "key \"" << key << "\"";
    EXPECT_EQ(Status("PUT", "/v1/audiences/emailable", key, audience_body), 401) << "key \"" << key << "\"";
    EXPECT_EQ(Status("DELETE", "/v1/audiences/emailable", key), 401) << "key \"" << key << "\"";
    EXPECT_EQ(Status("PUT", "/v1/computed-traits/orders_90d", key, trait_body), 401)
        << "key \"" << key << "\"";
  }
  // Nothing a refused key asked for happened.
  EXPECT_EQ(Status("GET", "/v1/audiences/emailable", kAdminKey), 200);
}

TEST_F(KeysE2eTest, ARefusedKeyCannotTellWhetherAProfileOrAudienceExists) {
  ASSERT_NO_FATAL_FAILURE(CreateProfile(kWriteKey, "existing-user"));
  ASSERT_EQ(Status("PUT", "/v1/audiences/existing", kAdminKey, R"({"condition":{"identifier":"email"}})"),
            200);
  ASSERT_EQ(Status("GET", "/v1/profiles/user_id:nobody", kReadKey), 404)
      << "the control: a read key sees the difference";

  const std::vector<std::pair<std::string, std::string>> pairs = {
      {"/v1/profiles/user_id:existing-user", "/v1/profiles/user_id:nobody"},
      {"/v1/profiles/user_id:existing-user/events", "/v1/profiles/user_id:nobody/events"},
      {"/v1/profiles/user_id:existing-user?space=default",
       "/v1/profiles/user_id:existing-user?space=nowhere"},
      {"/v1/audiences/existing", "/v1/audiences/missing"},
      {"/v1/audiences/existing/members", "/v1/audiences/missing/members"},
  };
  for (std::string_view key : {kWriteKey, kPosWriteKey, kUnknownKey, std::string_view()}) {
    for (const auto& [existing, missing] : pairs) {
      auto for_existing = Call("GET", existing, key);
      auto for_missing = Call("GET", missing, key);
      ASSERT_TRUE(for_existing.ok() && for_missing.ok());
      EXPECT_TRUE(for_existing->status == 401 || for_existing->status == 403)
          << "key \"" << key << "\" on " << existing << ": " << for_existing->status;
      EXPECT_EQ(for_existing->status, for_missing->status)
          << "key \"" << key << "\": " << existing << " vs " << missing;
      EXPECT_EQ(for_existing->body, for_missing->body)
          << "key \"" << key << "\": " << existing << " vs " << missing;
    }
  }
}

}  // namespace
}  // namespace tessera::e2e
