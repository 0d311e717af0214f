// End-to-end test of consent per purpose (issue 8): events carrying consent in each accepted shape
// go to the real server over sockets; profiles must show the newest consent per purpose (also
// across a merge and when an older event arrives later), an audience with a consent condition and
// member exports restricted with ?consent= and `tessera export --consent` must hold exactly the
// people the events say, and malformed consent is a warning, a malformed purpose a 400 / exit 2.

#include <sys/wait.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/e2e/e2e_support.h"

namespace tessera::e2e {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;

// Every event of the test has an explicit time: consent is ordered by event time, not arrival.
std::string At(int hour) {
  return "2026-11-20T" + std::string(hour < 10 ? "0" : "") + std::to_string(hour) + ":00:00.000Z";
}

std::string ReadText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// The user ids in CSV rows "user_id\r\nc-0\r\n..." (the header dropped).
std::set<std::string> UserIds(const std::string& csv) {
  std::set<std::string> ids;
  size_t start = csv.find("\r\n");
  while (start != std::string::npos && start + 2 < csv.size()) {
    const size_t end = csv.find("\r\n", start + 2);
    ids.insert(csv.substr(start + 2, end - start - 2));
    start = end;
  }
  return ids;
}

class ConsentE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    data_dir_ = temp_.path() + "/data";
    auto started = ServerProcess::Start(
        {.data_dir = data_dir_,
         .extra_json = R"("audiences":[{"name":"signed_up","condition":{"event":"Signed Up"}}])"});
    ASSERT_TRUE(started.ok()) << started.status();
    server_ = std::move(*started);
    client_ = std::make_unique<HttpClient>(server_->port());
  }

  void Post(std::string_view write_key, const std::string& batch) {
    auto response = client_->PostJson("/v1/batch", batch, write_key);
    ASSERT_TRUE(response.ok()) << response.status();
    ASSERT_EQ(response->status, 200) << response->body;
  }

  HttpResponse Get(const std::string& target, std::string_view key = kReadKey) {
    auto response = client_->Request("GET", target, {}, {{"Authorization", "Bearer " + std::string(key)}});
    EXPECT_TRUE(response.ok()) << target << ": " << response.status();
    return response.ok() ? *response : HttpResponse{};
  }

  // Members of `audience` as a set of user ids, with the query's restriction.
  std::set<std::string> Members(const std::string& audience, const std::string& query = {}) {
    HttpResponse response = Get("/v1/audiences/" + audience + "/members?format=csv&fields=user_id" + query);
    EXPECT_EQ(response.status, 200) << response.body;
    EXPECT_TRUE(response.body.starts_with("user_id\r\n")) << response.body;
    return UserIds(response.body);
  }

  TempDir temp_;
  std::string data_dir_;
  std::unique_ptr<ServerProcess> server_;
  std::unique_ptr<HttpClient> client_;
};

TEST_F(ConsentE2eTest, ProfilesAudiencesAndExportsFollowTheNewestConsent) {
  // c-0: Segment's categoryPreferences. c-1: identify traits. c-2: granted on the web, withdrawn
  // later at the till. c-3: granted, then an older withdrawal arrives late. c-4: a non-boolean.
  // c-5: nothing. c-6: consent given anonymously and as a user, then the two profiles merge.
  // c-7: sms only.
  std::string web = R"({"batch":[)";
  for (int i = 0; i < 8; ++i) {
    web += R"({"type":"track","userId":"c-)" + std::to_string(i) + R"(","event":"Signed Up","timestamp":")" +
           At(8) + R"("},)";
  }
  web +=
      R"({"type":"track","userId":"c-0","event":"Viewed","timestamp":")" + At(10) +
      R"(","context":{"consent":{"categoryPreferences":{"Marketing Email":true,"SMS":true,"Analytics":false}}}},)"
      R"({"type":"identify","userId":"c-1","timestamp":")" +
      At(10) +
      R"(","traits":{"consent":{"marketing_email":true,"sms":false}}},)"
      R"({"type":"track","userId":"c-2","event":"Viewed","timestamp":")" +
      At(10) +
      R"(","context":{"consent":{"marketing_email":true}}},)"
      R"({"type":"track","userId":"c-3","event":"Viewed","timestamp":")" +
      At(10) +
      R"(","context":{"consent":{"marketing_email":true}}},)"
      R"({"type":"track","userId":"c-4","event":"Viewed","timestamp":")" +
      At(10) +
      R"(","context":{"consent":{"marketing_email":"yes"}}},)"
      R"({"type":"page","anonymousId":"a-6","name":"Home","timestamp":")" +
      At(10) +
      R"(","context":{"consent":{"marketing_email":true}}},)"
      R"({"type":"track","userId":"c-6","event":"Viewed","timestamp":")" +
      At(11) +
      R"(","context":{"consent":{"sms":true,"marketing_email":false}}},)"
      R"({"type":"identify","userId":"c-6","anonymousId":"a-6","timestamp":")" +
      At(12) +
      R"("},)"
      R"({"type":"track","userId":"c-7","event":"Viewed","timestamp":")" +
      At(10) + R"(","context":{"consent":{"sms":true}}}]})";
  Post(kWriteKey, web);
  Post(kPosWriteKey, R"({"batch":[{"type":"track","userId":"c-2","event":"Order Completed","timestamp":")" +
                         At(11) +
                         R"(","context":{"consent":{"marketing_email":false}}},)"
                         R"({"type":"track","userId":"c-3","event":"Order Completed","timestamp":")" +
                         At(9) + R"(","context":{"consent":{"marketing_email":false}}}]})");
  // The resolver applies the log in order: once the last event shows, every earlier one has.
  Post(kWriteKey, R"({"batch":[{"type":"track","userId":"c-last","event":"Done"}]})");
  ASSERT_TRUE(WaitFor([&] { return Get("/v1/profiles/user_id:c-last").status == 200; }, 60s))
      << server_->Output();

  // Profiles.
  const std::string c0 = Get("/v1/profiles/user_id:c-0?fields=consent").body;
  EXPECT_THAT(c0,
              HasSubstr(R"("consent":{"analytics":{"granted":false,"at":")" + At(10) +
                        R"(","source":"website","channel":"web"},"marketing_email":{"granted":true,"at":")" +
                        At(10) + R"(","source":"website","channel":"web"},"sms":{"granted":true,"at":")" +
                        At(10) + R"(","source":"website","channel":"web"}}})"));
  EXPECT_THAT(c0, ::testing::Not(HasSubstr("identities"))) << "fields=consent trims the profile";
  EXPECT_THAT(Get("/v1/profiles/user_id:c-2").body,
              HasSubstr(R"("consent":{"marketing_email":{"granted":false,"at":")" + At(11) +
                        R"(","source":"store","channel":"pos"}})"))
      << "the later withdrawal at the till wins";
  EXPECT_THAT(Get("/v1/profiles/user_id:c-3?fields=consent").body,
              HasSubstr(R"("marketing_email":{"granted":true,"at":")" + At(10) + R"(","source":"website")"))
      << "an older withdrawal arriving later must not overwrite the newer grant";
  EXPECT_THAT(Get("/v1/profiles/user_id:c-4?fields=consent").body, HasSubstr(R"("consent":{})"));
  EXPECT_THAT(Get("/v1/profiles/user_id:c-4/events?event=Viewed").body,
              HasSubstr(R"(context.consent.marketing_email: expected true or false, got \"yes\"; ignored)"));
  const std::string c6 = Get("/v1/profiles/user_id:c-6?fields=consent,mergedFrom").body;
  EXPECT_THAT(c6, HasSubstr(R"("marketing_email":{"granted":false,"at":")" + At(11) + "\""))
      << "after the merge the later (11:00) withdrawal wins over the anonymous 10:00 grant: " << c6;
  EXPECT_THAT(c6, HasSubstr(R"("sms":{"granted":true,"at":")" + At(11) + "\""));
  EXPECT_THAT(c6, HasSubstr(R"("mergedFrom":["p)")) << "the scenario must merge two profiles: " << c6;

  // An audience over consent.
  auto put =
      client_->Request("PUT", "/v1/audiences/email_ok", R"({"condition":{"consent":"Marketing Email"}})",
                       {{"Authorization", "Bearer " + std::string(kAdminKey)}});
  ASSERT_TRUE(put.ok()) << put.status();
  ASSERT_EQ(put->status, 200) << put->body;
  auto bad = client_->Request("PUT", "/v1/audiences/bad", R"({"condition":{"all":[{"consent":"e-mail?"}]}})",
                              {{"Authorization", "Bearer " + std::string(kAdminKey)}});
  ASSERT_TRUE(bad.ok()) << bad.status();
  EXPECT_EQ(bad->status, 400) << bad->body;
  EXPECT_THAT(bad->body, HasSubstr(R"("field":"condition.all[0].consent")"));
  ASSERT_TRUE(WaitFor(
      [&] { return Get("/v1/audiences/email_ok").body.find(R"("evaluated":true)") != std::string::npos; },
      60s))
      << Get("/v1/audiences/email_ok").body;
  EXPECT_EQ(Members("email_ok"), (std::set<std::string>{"c-0", "c-1", "c-3"}));

  // Exports restricted to consent.
  EXPECT_EQ(Members("signed_up").size(), 8u);
  EXPECT_EQ(Members("signed_up", "&consent=marketing_email"), (std::set<std::string>{"c-0", "c-1", "c-3"}));
  EXPECT_EQ(Members("signed_up", "&consent=sms"), (std::set<std::string>{"c-0", "c-6", "c-7"}));
  EXPECT_EQ(Members("signed_up", "&consent=marketing_email,sms"), (std::set<std::string>{"c-0"}));
  HttpResponse malformed = Get("/v1/audiences/signed_up/members?consent=sms%21");
  EXPECT_EQ(malformed.status, 400) << malformed.body;
  EXPECT_THAT(malformed.body, HasSubstr(R"("field":"consent")"));

  // The command line, next to the running server.
  const std::string out = temp_.path() + "/out.csv";
  const std::string err = temp_.path() + "/err.txt";
  const auto run = [&](const std::string& arguments) {
    const int status =
        std::system(("timeout -s KILL 120 " + std::string(TESSERA_BINARY) + " export signed_up --data-dir " +
                     data_dir_ + " --fields user_id " + arguments + " > " + out + " 2> " + err)
                        .c_str());
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  };
  ASSERT_EQ(run("--consent sms"), 0) << ReadText(err);
  EXPECT_EQ(UserIds(ReadText(out)), (std::set<std::string>{"c-0", "c-6", "c-7"}));
  EXPECT_THAT(ReadText(err), HasSubstr("left out 5 members without the consent asked for"));
  EXPECT_EQ(run("--consent 'sms!'"), 2);
  EXPECT_THAT(ReadText(err), HasSubstr(R"(--consent: "sms!" is not a consent purpose)"));
}

}  // namespace
}  // namespace tessera::e2e
