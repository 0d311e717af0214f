// The service channel end to end (issue 26's case), against the real server: a customer browses
// the web anonymously, logs in, calls the call centre from a phone written in the Korean local
// format (a signed Twilio status callback) and opens a Zendesk ticket from their email (a signed
// Zendesk webhook). One profile then holds the web visit, the login, the call and the ticket, shows
// the service history and the service computed traits, and an audience that excludes people with an
// open ticket excludes them until the ticket is solved. `tessera verify` agrees with the live state.

#include <chrono>
#include <ctime>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "absl/strings/str_cat.h"
#include "connectors/signatures.h"
#include "connectors/twilio_voice.h"
#include "gtest/gtest.h"
#include "tests/e2e/e2e_support.h"

namespace tessera::e2e {
namespace {

using namespace std::chrono_literals;

constexpr char kServiceKey[] = "e2e-service-history";
constexpr char kZendeskSecret[] = "zd-secret";
constexpr char kTwilioToken[] = "tw-token";
constexpr char kTwilioUrl[] = "https://cdp.example.com/v1/connectors/service/twilio-voice";
constexpr char kAudience[] = "coupon_campaign";

std::string FormatNow(std::chrono::seconds ago, const char* format) {
  const std::time_t at = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now() - ago);
  std::tm utc{};
  gmtime_r(&at, &utc);
  char text[64];
  std::strftime(text, sizeof text, format, &utc);
  return text;
}

// Twilio's Timestamp parameter (RFC 2822), form-encoded.
std::string TwilioTimestamp(std::chrono::seconds ago) {
  std::string encoded;
  for (char c : FormatNow(ago, "%a, %d %b %Y %H:%M:%S +0000")) {
    if (c == ' ') {
      encoded += '+';
    } else if (c == ',' || c == ':' || c == '+') {
      encoded += absl::StrCat("%", absl::Hex(static_cast<unsigned char>(c), absl::kZeroPad2));
    } else {
      encoded += c;
    }
  }
  return encoded;
}

std::string Iso(std::chrono::seconds ago) { return FormatNow(ago, "%Y-%m-%dT%H:%M:%SZ"); }

std::string Ticket(const std::string& status, const std::string& satisfaction, std::chrono::seconds ago) {
  return absl::StrCat(R"json({"ticket":{"id":35436,"subject":"배송이 늦어요 (late delivery)","status":")json", status,
                      R"(","priority":"high","tags":"delivery","via":{"channel":"email"},)",
                      R"("requester":{"id":900001,"email":"Mina@Example.kr","name":"Mina"},)",
                      R"("satisfaction_rating":{"score":")", satisfaction, R"("},)", R"("created_at":")",
                      Iso(600s), R"(","updated_at":")", Iso(ago), R"("}})");
}

class ServiceHistoryE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string sources =
        absl::StrCat(R"({"name":"call-centre","write_key":")", kServiceKey,
                     R"(","channel":"service","phone_region":"KR","connectors":{"zendesk":{"secret":")",
                     kZendeskSecret, R"("},"twilio_voice":{"auth_token":")", kTwilioToken, R"(","public_url":")",
                     kTwilioUrl, R"("}}})");
    auto started = ServerProcess::Start({.data_dir = data_dir(), .extra_sources = sources});
    ASSERT_TRUE(started.ok()) << started.status();
    server_ = std::move(*started);
    client_ = std::make_unique<HttpClient>(server_->port());
  }

  std::string data_dir() const { return temp_.path() + "/data"; }

  HttpResponse PostService(const std::string& connector, std::string_view body,
                           const std::map<std::string, std::string>& headers) {
    auto response = client_->Request(
        "POST", absl::StrCat("/v1/connectors/service/", connector, "?writeKey=", kServiceKey), body, headers);
    EXPECT_TRUE(response.ok()) << response.status();
    return response.ok() ? *response : HttpResponse{};
  }

  HttpResponse PostTwilio(const std::string& body) {
    const std::string signature = connectors::TwilioSignature(
        kTwilioToken, absl::StrCat(kTwilioUrl, "?writeKey=", kServiceKey), *connectors::DecodeForm(body));
    return PostService("twilio-voice", body,
                       {{"X-Twilio-Signature", signature}, {"Content-Type", "application/x-www-form-urlencoded"}});
  }

  HttpResponse PostZendesk(const std::string& body) {
    const std::string timestamp = Iso(0s);
    return PostService("zendesk", body,
                       {{"X-Zendesk-Webhook-Signature",
                         connectors::Base64Encode(connectors::HmacSha256(kZendeskSecret, timestamp + body))},
                        {"X-Zendesk-Webhook-Signature-Timestamp", timestamp},
                        {"Content-Type", "application/json"}});
  }

  HttpResponse Web(std::string_view path, std::string_view body) {
    auto response = client_->PostJson(path, body, kWriteKey);
    EXPECT_TRUE(response.ok()) << response.status();
    return response.ok() ? *response : HttpResponse{};
  }

  HttpResponse Get(const std::string& target, std::string_view key = kReadKey) {
    auto response = client_->Request("GET", target, {}, {{"Authorization", "Bearer " + std::string(key)}});
    EXPECT_TRUE(response.ok()) << response.status();
    return response.ok() ? *response : HttpResponse{};
  }

  // The profile of `ref` once `wanted` appears in it (30 s at most); the last answer otherwise.
  std::string ProfileWith(const std::string& ref, std::string_view wanted) {
    std::string last;
    const bool found = WaitFor(
        [&] {
          last = Get("/v1/profiles/" + ref).body;
          return last.find(wanted) != std::string::npos;
        },
        30s);
    EXPECT_TRUE(found) << ref << " never showed " << wanted << "; last answer: " << last;
    return last;
  }

  std::string Members() {
    return Get(absl::StrCat("/v1/audiences/", kAudience, "/members?format=ndjson"), kAdminKey).body;
  }

  TempDir temp_;
  std::unique_ptr<ServerProcess> server_;
  std::unique_ptr<HttpClient> client_;
};

TEST_F(ServiceHistoryE2eTest, WebLoginCallAndTicketMakeOneProfileWithItsServiceHistory) {
  // The campaign's audience: web visitors without an open ticket.
  auto defined = client_->Request(
      "PUT", absl::StrCat("/v1/audiences/", kAudience),
      R"({"condition":{"all":[{"channel":"web"},{"not":{"computed":"open_tickets","op":"gt","value":0}}]}})",
      {{"Authorization", "Bearer " + std::string(kAdminKey)}, {"Content-Type", "application/json"}});
  ASSERT_TRUE(defined.ok());
  ASSERT_EQ(defined->status, 200) << defined->body;

  // Mina browses anonymously, then logs in with her email and her phone in international form.
  ASSERT_EQ(Web("/v1/page", R"({"anonymousId":"anon-mina","name":"Shoes","messageId":"w-1"})").status, 200);
  ASSERT_EQ(Web("/v1/identify", R"({"anonymousId":"anon-mina","userId":"u-mina","messageId":"w-2",)"
                                R"("traits":{"email":"mina@example.kr","phone":"+82 10-1234-5678"}})")
                .status,
            200);
  // Joon only browses: he is the audience's control.
  ASSERT_EQ(Web("/v1/identify", R"({"userId":"u-joon","messageId":"w-3","traits":{"email":"joon@example.kr"}})").status,
            200);

  // She calls from 010-1234-5678 (the call centre's source reads numbers in KR), then writes in.
  const std::string call = absl::StrCat(
      "AccountSid=AC00000000000000000000000000000001&CallSid=CAe2e00000000000000000000000000026"
      "&From=010-1234-5678&To=%2B8215771234&Direction=inbound&CallStatus=completed&CallDuration=95"
      "&Queue=delivery&Timestamp=",
      TwilioTimestamp(300s));
  HttpResponse called = PostTwilio(call);
  ASSERT_EQ(called.status, 200) << called.body;
  HttpResponse ticket = PostZendesk(Ticket("open", "unoffered", 120s));
  ASSERT_EQ(ticket.status, 200) << ticket.body;

  const std::string profile = ProfileWith("user_id:u-mina", R"("openTickets":1)");
  const std::string profile_id = JsonStringMember(profile, "profileId");
  // One profile: the anonymous visit, the login, the call's number and the ticket's requester.
  for (std::string_view part :
       {R"("type":"anonymous_id","value":"anon-mina")", R"("type":"email","value":"mina@example.kr")",
        R"("type":"phone","value":"+821012345678")", R"("type":"twilio_call_sid")",
        R"("type":"zendesk_user_id","value":"900001")", R"("web":{)", R"("service":{)"}) {
    EXPECT_NE(profile.find(part), std::string::npos) << part << " missing from " << profile;
  }
  for (std::string_view part :
       {R"("tickets":[{"provider":"zendesk","id":"35436","status":"open","open":true,)",
        R"json("subject":"배송이 늦어요 (late delivery)","priority":"high")json", R"("lastContact":{"at":")",
        R"("kind":"ticket","provider":"zendesk")", R"("calls30d":1,"contacts30d":2,"csatAvg90d":null)",
        R"("computedTraits":{)", R"("open_tickets":1)", R"("last_contact_at":")"}) {
    EXPECT_NE(profile.find(part), std::string::npos) << part << " missing from " << profile;
  }
  for (const std::string ref : {"zendesk_user_id:900001", "twilio_call_sid:CAe2e00000000000000000000000000026",
                                "phone:010-1234-5678?region=KR"}) {
    EXPECT_EQ(JsonStringMember(Get("/v1/profiles/" + ref).body, "profileId"), profile_id) << ref;
  }

  // The campaign excludes her while the ticket is open, and not Joon.
  const std::string joon_id = JsonStringMember(ProfileWith("user_id:u-joon", "profileId"), "profileId");
  ASSERT_TRUE(WaitFor([&] { return Members().find(joon_id) != std::string::npos; }, 30s)) << Members();
  EXPECT_EQ(Members().find(profile_id), std::string::npos) << Members();

  // Solved, and rated good: she is in the campaign again and her satisfaction shows.
  ASSERT_EQ(PostZendesk(Ticket("solved", "good", 60s)).status, 200);
  const std::string solved = ProfileWith("user_id:u-mina", R"("openTickets":0,"solvedTickets":1)");
  EXPECT_NE(solved.find(R"("satisfaction":"good")"), std::string::npos) << solved;
  EXPECT_NE(solved.find(R"("csatAvg90d":1,"ratings90d":1)"), std::string::npos) << solved;
  EXPECT_NE(solved.find(R"("csat_avg_90d":1)"), std::string::npos) << solved;
  EXPECT_TRUE(WaitFor([&] { return Members().find(profile_id) != std::string::npos; }, 30s)) << Members();

  // The live state is what a rebuild from the log gives.
  ASSERT_TRUE(server_->Terminate().ok());
  CommandResult verify =
      RunCommand(temp_.path(), absl::StrCat(TESSERA_BINARY, " verify --config ", data_dir(), "/test-config.json"));
  EXPECT_EQ(verify.exit_code, 0) << verify.output;
}

}  // namespace
}  // namespace tessera::e2e
