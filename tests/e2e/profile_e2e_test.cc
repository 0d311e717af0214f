// End-to-end profile query API: a person built from web, app, POS and email events is found by
// each identifier with the same profile id; pagination returns every event once while ingestion
// goes on; a merged-away id resolves; errors are precise.

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "tests/e2e/e2e_support.h"

namespace tessera::e2e {
namespace {

using namespace std::chrono_literals;

constexpr std::string_view kAppWriteKey = "test-app-write-key";
constexpr std::string_view kEmailWriteKey = "test-email-write-key";

size_t Count(const std::string& text, const std::string& needle) {
  size_t count = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++count;
  return count;
}

class ProfileE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto started = ServerProcess::Start(
        {.data_dir = temp_.path() + "/data",
         .extra_json = R"("identity":{"default_phone_region":"KR"})",
         .extra_sources = std::string(R"({"name":"app","write_key":")") + std::string(kAppWriteKey) +
                          R"(","channel":"app"},{"name":"esp","write_key":")" + std::string(kEmailWriteKey) +
                          R"(","channel":"email"})"});
    ASSERT_TRUE(started.ok()) << started.status();
    server_ = std::move(*started);
    client_ = std::make_unique<HttpClient>(server_->port());
  }

  void Send(std::string_view key, const std::string& batch_body) {
    auto response = client_->PostJson("/v1/batch", batch_body, key);
    ASSERT_TRUE(response.ok()) << response.status();
    ASSERT_EQ(response->status, 200) << response->body;
  }

  absl::StatusOr<HttpResponse> Get(const std::string& target, std::string_view key = kReadKey) {
    return client_->Request("GET", target, {}, {{"Authorization", "Bearer " + std::string(key)}});
  }

  // Waits until the profile found by `ref` has `events` events.
  void WaitForEventCount(const std::string& ref, int events) {
    std::string last;
    ASSERT_TRUE(WaitFor(
        [&] {
          auto response = Get("/v1/profiles/" + ref + "?fields=eventCount");
          if (!response.ok()) return false;
          last = response->body;
          return response->status == 200 && last.find("\"eventCount\":" + std::to_string(events)) != std::string::npos;
        },
        30s))
        << "profile " << ref << " never reached " << events << " events; last answer: " << last;
  }

  TempDir temp_;
  std::unique_ptr<ServerProcess> server_;
  std::unique_ptr<HttpClient> client_;
};

TEST_F(ProfileE2eTest, OnePersonFromFourChannelsIsFoundByEveryIdentifier) {
  Send(kWriteKey, R"({"batch":[{"type":"page","anonymousId":"web-anon-1","name":"Home"},
      {"type":"identify","anonymousId":"web-anon-1","userId":"u-7","traits":{"email":"Mina@Example.com","name":"Mina \"M\" Kim\u2028"}}]})");
  Send(kAppWriteKey, R"({"batch":[{"type":"screen","userId":"u-7","name":"Cart",
      "context":{"device":{"id":"DEVICE-ABC","advertisingId":"AAAA-1111","adTrackingEnabled":true},"os":{"name":"iOS"}}}]})");
  Send(kPosWriteKey, R"({"batch":[{"type":"track","anonymousId":"receipt-9","event":"Order Completed",
      "properties":{"total":42},"context":{"traits":{"email":"mina@example.com","phone":"010-1234-5678"}}}]})");
  Send(kEmailWriteKey, R"({"batch":[{"type":"track","userId":"u-7","event":"Email Opened"}]})");
  WaitForEventCount("user_id:u-7", 5);

  std::set<std::string> ids;
  for (const std::string ref : {"user_id:u-7", "anonymous_id:web-anon-1", "email:MINA%40example.com",
                                "phone:010-1234-5678", "phone:%2B821012345678", "device_id:device-abc",
                                "idfa:aaaa-1111", "anonymous_id:receipt-9"}) {
    auto response = Get("/v1/profiles/" + ref);
    ASSERT_TRUE(response.ok()) << response.status();
    ASSERT_EQ(response->status, 200) << ref << ": " << response->body;
    ids.insert(JsonStringMember(response->body, "profileId"));
    EXPECT_EQ(response->headers["cache-control"], "no-store") << ref;
    EXPECT_FALSE(response->headers["etag"].empty()) << ref;
  }
  EXPECT_EQ(ids.size(), 1u) << "every identifier must find the same profile";

  auto profile = Get("/v1/profiles/user_id:u-7");
  ASSERT_TRUE(profile.ok());
  for (const char* channel : {"\"web\":", "\"app\":", "\"pos\":", "\"email\":"}) {
    EXPECT_NE(profile->body.find(channel), std::string::npos) << "channel summary lacks " << channel << profile->body;
  }
  EXPECT_NE(profile->body.find(R"("name":"Mina \"M\" Kim\u2028")"), std::string::npos)
      << "traits must be escaped correctly: " << profile->body;

  // ETag: the same profile answers 304 to If-None-Match.
  const std::string etag = profile->headers["etag"];
  auto again = client_->Request("GET", "/v1/profiles/user_id:u-7", {},
                                {{"Authorization", std::string("Bearer ") + std::string(kReadKey)}, {"If-None-Match", etag}});
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->status, 304);

  // Sub-resources and field trimming.
  auto traits = Get("/v1/profiles/user_id:u-7/traits");
  ASSERT_TRUE(traits.ok());
  EXPECT_EQ(traits->status, 200);
  EXPECT_NE(traits->body.find("\"traits\":{"), std::string::npos) << traits->body;
  EXPECT_EQ(traits->body.find("\"identities\""), std::string::npos) << traits->body;
  auto identities = Get("/v1/profiles/user_id:u-7/identities");
  ASSERT_TRUE(identities.ok());
  EXPECT_NE(identities->body.find(R"("type":"phone","value":"+821012345678")"), std::string::npos) << identities->body;
  auto trimmed = Get("/v1/profiles/user_id:u-7?fields=eventCount");
  ASSERT_TRUE(trimmed.ok());
  EXPECT_EQ(trimmed->body.find("\"traits\""), std::string::npos) << trimmed->body;
}

TEST_F(ProfileE2eTest, PagesReturnEveryEventOnceWhileIngestionContinues) {
  std::string batch = R"({"batch":[)";
  for (int i = 0; i < 120; ++i) {
    if (i) batch += ",";
    batch += R"({"type":"track","userId":"pager","event":"E)" + std::to_string(i) + R"(","messageId":"p-)" +
             std::to_string(i) + R"(","timestamp":"2026-01-01T00:)" + (i / 60 < 10 ? "0" : "") +
             std::to_string(i / 60) + ":" + (i % 60 < 10 ? "0" : "") + std::to_string(i % 60) + R"(Z"})";
  }
  batch += "]}";
  Send(kWriteKey, batch);
  WaitForEventCount("user_id:pager", 120);

  std::set<std::string> seen;
  std::string cursor;
  int pages = 0;
  int later = 0;
  std::string previous_timestamp = "9999";
  do {
    auto page = Get("/v1/profiles/user_id:pager/events?limit=25" + (cursor.empty() ? "" : "&cursor=" + cursor));
    ASSERT_TRUE(page.ok()) << page.status();
    ASSERT_EQ(page->status, 200) << page->body;
    for (size_t at = page->body.find("\"messageId\":\""); at != std::string::npos;
         at = page->body.find("\"messageId\":\"", at + 1)) {
      const size_t start = at + 13;
      const std::string id = page->body.substr(start, page->body.find('"', start) - start);
      EXPECT_TRUE(seen.insert(id).second) << id << " returned twice";
    }
    // New events arrive between pages (newer than everything paged so far).
    Send(kWriteKey, R"({"batch":[{"type":"track","userId":"pager","event":"Later","messageId":"later-)" +
                        std::to_string(later++) + R"("}]})");
    cursor = JsonStringMember(page->body, "next");
    ++pages;
  } while (!cursor.empty() && pages < 20);
  for (int i = 0; i < 120; ++i) EXPECT_TRUE(seen.contains("p-" + std::to_string(i))) << "p-" << i << " never returned";
  EXPECT_GE(pages, 5);

  auto filtered = Get("/v1/profiles/user_id:pager/events?event=E7&limit=10");
  ASSERT_TRUE(filtered.ok());
  EXPECT_EQ(Count(filtered->body, "\"messageId\":"), 1u) << filtered->body;
  auto bad_cursor = Get("/v1/profiles/user_id:pager/events?cursor=garbage");
  ASSERT_TRUE(bad_cursor.ok());
  EXPECT_EQ(bad_cursor->status, 400) << bad_cursor->body;
  auto bad_limit = Get("/v1/profiles/user_id:pager/events?limit=1001");
  ASSERT_TRUE(bad_limit.ok());
  EXPECT_EQ(bad_limit->status, 400) << bad_limit->body;
}

TEST_F(ProfileE2eTest, MergedAwayIdResolvesAndMergesAreListed) {
  Send(kWriteKey, R"({"batch":[{"type":"page","anonymousId":"m-anon"}]})");
  WaitForEventCount("anonymous_id:m-anon", 1);
  Send(kWriteKey, R"({"batch":[{"type":"identify","userId":"m-user"}]})");
  WaitForEventCount("user_id:m-user", 1);
  auto anon = Get("/v1/profiles/anonymous_id:m-anon");
  auto user = Get("/v1/profiles/user_id:m-user");
  ASSERT_TRUE(anon.ok() && user.ok());
  const std::string anon_profile = JsonStringMember(anon->body, "profileId");
  const std::string user_profile = JsonStringMember(user->body, "profileId");
  ASSERT_NE(anon_profile, user_profile) << "two profiles before the linking event";

  Send(kWriteKey, R"({"batch":[{"type":"identify","userId":"m-user","anonymousId":"m-anon"}]})");
  WaitForEventCount("user_id:m-user", 3);
  auto winner = Get("/v1/profiles/user_id:m-user");
  ASSERT_TRUE(winner.ok());
  EXPECT_EQ(JsonStringMember(winner->body, "profileId"), anon_profile) << "merges go into the oldest profile";
  auto by_old_id = Get("/v1/profiles/id:" + user_profile);
  ASSERT_TRUE(by_old_id.ok());
  EXPECT_EQ(by_old_id->status, 200) << by_old_id->body;
  EXPECT_EQ(JsonStringMember(by_old_id->body, "profileId"), anon_profile) << "a merged-away id must resolve to the winner";
  EXPECT_NE(by_old_id->body.find(user_profile), std::string::npos) << "mergedFrom must name it: " << by_old_id->body;

  auto merges = Get("/v1/profiles/user_id:m-user/merges");
  ASSERT_TRUE(merges.ok());
  EXPECT_NE(merges->body.find("\"kind\":\"merge\""), std::string::npos) << merges->body;
  auto events = Get("/v1/profiles/user_id:m-user/events");
  ASSERT_TRUE(events.ok());
  EXPECT_EQ(Count(events->body, "\"messageId\":"), 3u) << "events of merged profiles are one timeline: " << events->body;
}

TEST_F(ProfileE2eTest, ErrorsArePrecise) {
  Send(kWriteKey, R"({"batch":[{"type":"identify","userId":"e-user"}]})");
  WaitForEventCount("user_id:e-user", 1);
  auto unknown_type = Get("/v1/profiles/shoe_size:42");
  ASSERT_TRUE(unknown_type.ok());
  EXPECT_EQ(unknown_type->status, 400);
  EXPECT_NE(unknown_type->body.find("email"), std::string::npos) << "the error must name the known types";
  auto not_found = Get("/v1/profiles/user_id:nobody");
  ASSERT_TRUE(not_found.ok());
  EXPECT_EQ(not_found->status, 404);
  auto write_key = Get("/v1/profiles/user_id:e-user", kWriteKey);
  ASSERT_TRUE(write_key.ok());
  EXPECT_EQ(write_key->status, 403) << "a write key must not read profiles";
  auto no_key = client_->Request("GET", "/v1/profiles/user_id:e-user");
  ASSERT_TRUE(no_key.ok());
  EXPECT_EQ(no_key->status, 401);
  auto bad_phone = Get("/v1/profiles/phone:12");
  ASSERT_TRUE(bad_phone.ok());
  EXPECT_EQ(bad_phone->status, 400);
  auto bad_id = Get("/v1/profiles/id:zzz");
  ASSERT_TRUE(bad_id.ok());
  EXPECT_EQ(bad_id->status, 400);
  auto bad_sub = Get("/v1/profiles/user_id:e-user/nope");
  ASSERT_TRUE(bad_sub.ok());
  EXPECT_EQ(bad_sub->status, 404);
  auto post = client_->Request("POST", "/v1/profiles/user_id:e-user", "{}",
                               {{"Authorization", std::string("Bearer ") + std::string(kReadKey)}});
  ASSERT_TRUE(post.ok());
  EXPECT_EQ(post->status, 405);
}

}  // namespace
}  // namespace tessera::e2e
