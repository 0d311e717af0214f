// End-to-end tests of the service channel's connectors (POST /v1/connectors/service/{zendesk,
// freshdesk,twilio-voice}) against the real server: a Twilio call from a Korean local number and a
// Zendesk ticket from an email land on the profiles of that phone and that email; bad signatures
// are 401 and store nothing.

#include <chrono>
#include <ctime>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "connectors/signatures.h"
#include "connectors/twilio_voice.h"
#include "gtest/gtest.h"
#include "tests/e2e/e2e_support.h"
#include "tests/e2e/log_reader.h"

namespace tessera::e2e {
namespace {

using namespace std::chrono_literals;

constexpr std::string_view kServiceKey = "e2e-service";
constexpr std::string_view kZendeskSecret = "zd-secret";
constexpr std::string_view kFreshdeskSecret = "fd-secret";
constexpr std::string_view kTwilioToken = "tw-token";
// What Twilio is configured to call; the server behind its proxy is on an ephemeral port.
constexpr std::string_view kTwilioUrl = "https://cdp.example.com/v1/connectors/service/twilio-voice";

// `age` ago, as Zendesk writes its signature timestamps ("2024-04-17T17:18:10Z").
std::string IsoSecondsAgo(std::chrono::seconds age) {
  const std::time_t at = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now() - age);
  std::tm utc{};
  gmtime_r(&at, &utc);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return text;
}

constexpr std::string_view kCallFromKoreanMobile =
    "AccountSid=AC00000000000000000000000000000001&CallSid=CAe2e00000000000000000000000000001"
    "&From=010-1234-5678&To=%2B8215771234&Direction=inbound&CallStatus=completed&CallDuration=95"
    "&Timestamp=Tue%2C+01+Dec+2026+08%3A59%3A30+%2B0000";

constexpr std::string_view kTicketFromEmail = R"({"ticket":{"id":35436,"subject":"Where is my order?",
  "status":"new","priority":"normal","tags":"delivery","via":{"channel":"email"},
  "requester":{"id":900001,"email":"Mina@Example.kr","name":"Mina"},
  "created_at":"2026-12-01T09:00:00Z","updated_at":"2026-12-01T09:00:00Z"}})";

class ServiceConnectorsE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string sources = R"({"name":"service","write_key":")" + std::string(kServiceKey) +
                                R"(","channel":"service","phone_region":"KR","connectors":{)"
                                R"("zendesk":{"secret":")" +
                                std::string(kZendeskSecret) +
                                R"("},)"
                                R"("freshdesk":{"secret":")" +
                                std::string(kFreshdeskSecret) +
                                R"(","header":"X-Tessera-Secret"},)"
                                R"("twilio_voice":{"auth_token":")" +
                                std::string(kTwilioToken) + R"(","public_url":")" + std::string(kTwilioUrl) +
                                R"("}}})";
    auto started = ServerProcess::Start({.data_dir = data_dir(), .extra_sources = sources});
    ASSERT_TRUE(started.ok()) << started.status();
    server_ = std::move(*started);
    client_ = std::make_unique<HttpClient>(server_->port());
  }

  std::string data_dir() const { return temp_.path() + "/data"; }
  static std::string Query() { return "writeKey=" + std::string(kServiceKey); }

  HttpResponse Post(std::string_view format, std::string_view body,
                    const std::map<std::string, std::string>& headers, const std::string& query = Query()) {
    const std::string target =
        "/v1/connectors/service/" + std::string(format) + (query.empty() ? "" : "?" + query);
    auto response = client_->Request("POST", target, body, headers);
    EXPECT_TRUE(response.ok()) << response.status();
    return response.ok() ? *response : HttpResponse{};
  }

  HttpResponse PostTwilio(std::string_view body, std::string_view token = kTwilioToken) {
    const std::string signature = connectors::TwilioSignature(token, std::string(kTwilioUrl) + "?" + Query(),
                                                              *connectors::DecodeForm(body));
    return Post("twilio-voice", body,
                {{"X-Twilio-Signature", signature}, {"Content-Type", "application/x-www-form-urlencoded"}});
  }

  HttpResponse PostZendesk(std::string_view body, std::string_view secret = kZendeskSecret,
                           std::chrono::seconds age = 0s) {
    const std::string timestamp = IsoSecondsAgo(age);
    return Post("zendesk", body,
                {{"X-Zendesk-Webhook-Signature",
                  connectors::Base64Encode(connectors::HmacSha256(secret, timestamp + std::string(body)))},
                 {"X-Zendesk-Webhook-Signature-Timestamp", timestamp},
                 {"Content-Type", "application/json"}});
  }

  absl::StatusOr<HttpResponse> Get(const std::string& target) {
    return client_->Request("GET", target, {}, {{"Authorization", "Bearer " + std::string(kReadKey)}});
  }

  // Waits until the timeline of profile `ref` holds `event_name`; the last timeline seen otherwise.
  std::string WaitForEvent(const std::string& ref, std::string_view event_name) {
    std::string last;
    const bool found = WaitFor(
        [&] {
          auto events = Get("/v1/profiles/" + ref + "/events");
          if (!events.ok() || events->status != 200) return false;
          last = events->body;
          return last.find("\"" + std::string(event_name) + "\"") != std::string::npos;
        },
        30s);
    EXPECT_TRUE(found) << ref << " never showed " << event_name << "; last answer: " << last;
    return last;
  }

  TempDir temp_;
  std::unique_ptr<ServerProcess> server_;
  std::unique_ptr<HttpClient> client_;
};

TEST_F(ServiceConnectorsE2eTest, ACallAndATicketLandOnThePhoneAndEmailProfiles) {
  HttpResponse call = PostTwilio(kCallFromKoreanMobile);
  ASSERT_EQ(call.status, 200) << call.body;
  HttpResponse ticket = PostZendesk(kTicketFromEmail);
  ASSERT_EQ(ticket.status, 200) << ticket.body;
  // Freshdesk: the write key as Basic username (Freshdesk's "requires authentication") and the
  // shared secret header.
  HttpResponse freshdesk = Post(
      "freshdesk",
      R"({"freshdesk_webhook":{"ticket_id":4211,"ticket_status":5,"ticket_contact_email":"jun@example.kr",)"
      R"("ticket_satisfaction_rating":"103","ticket_updated_at":"2026-12-01T10:00:00Z"}})",
      {{"Authorization", "Basic " + Base64(std::string(kServiceKey) + ":")},
       {"X-Tessera-Secret", std::string(kFreshdeskSecret)}},
      "");
  ASSERT_EQ(freshdesk.status, 200) << freshdesk.body;

  // 010-1234-5678 is read in the source's region (KR): +821012345678.
  const std::string call_timeline = WaitForEvent("phone:%2B821012345678", "Call Completed");
  EXPECT_NE(call_timeline.find("twilio-CAe2e00000000000000000000000000001-completed"), std::string::npos)
      << call_timeline;
  const std::string ticket_timeline = WaitForEvent("email:mina%40example.kr", "Ticket Created");
  EXPECT_NE(ticket_timeline.find("zendesk-35436-2026-12-01T09:00:00Z"), std::string::npos) << ticket_timeline;
  EXPECT_EQ(ticket_timeline.find("Call Completed"), std::string::npos)
      << "the ticket's requester is not the caller: " << ticket_timeline;
  WaitForEvent("email:jun%40example.kr", "Ticket Solved");

  auto profile = Get("/v1/profiles/phone:%2B821012345678");
  ASSERT_TRUE(profile.ok()) << profile.status();
  EXPECT_NE(profile->body.find("\"service\":"), std::string::npos)
      << "the channel summary counts the service channel: " << profile->body;
  // A recording callback carries no numbers: it joins the call's profile through the call sid.
  HttpResponse recording = PostTwilio(
      "AccountSid=AC00000000000000000000000000000001&CallSid=CAe2e00000000000000000000000000001"
      "&RecordingSid=REe2e0001&RecordingStatus=completed&RecordingDuration=90");
  ASSERT_EQ(recording.status, 200) << recording.body;
  const std::string with_recording = WaitForEvent("phone:%2B821012345678", "Call Recording Completed");
  EXPECT_NE(with_recording.find("twilio-CAe2e00000000000000000000000000001-REe2e0001"), std::string::npos)
      << with_recording;
}

TEST_F(ServiceConnectorsE2eTest, BadSignaturesAreRefusedAndStoreNothing) {
  HttpResponse forged_call = PostTwilio(kCallFromKoreanMobile, "not-the-token");
  EXPECT_EQ(forged_call.status, 401) << forged_call.body;
  EXPECT_NE(forged_call.body.find("invalid_signature"), std::string::npos) << forged_call.body;
  HttpResponse unsigned_call = Post("twilio-voice", kCallFromKoreanMobile, {});
  EXPECT_EQ(unsigned_call.status, 401) << unsigned_call.body;
  HttpResponse forged_ticket = PostZendesk(kTicketFromEmail, "not-the-secret");
  EXPECT_EQ(forged_ticket.status, 401) << forged_ticket.body;
  HttpResponse stale_ticket = PostZendesk(kTicketFromEmail, kZendeskSecret, 600s);
  EXPECT_EQ(stale_ticket.status, 401) << "signed 10 minutes ago, tolerance 5: " << stale_ticket.body;
  HttpResponse no_secret = Post("freshdesk", R"({"ticket_id":1,"ticket_contact_email":"a@example.com"})", {});
  EXPECT_EQ(no_secret.status, 401) << no_secret.body;
  // The Basic path still needs a known key.
  HttpResponse no_key = Post("zendesk", kTicketFromEmail, {}, "writeKey=unknown");
  EXPECT_EQ(no_key.status, 401) << no_key.body;

  auto exit_code = server_->Terminate();
  ASSERT_TRUE(exit_code.ok()) << exit_code.status();
  EXPECT_TRUE(ReadLog(data_dir()).empty()) << "a refused webhook must store nothing";
}

TEST_F(ServiceConnectorsE2eTest, ReplayedCallbacksAreStoredOnceAndMalformedOnesNameTheField) {
  for (int i = 0; i < 3; ++i) {
    HttpResponse call = PostTwilio(kCallFromKoreanMobile);
    EXPECT_EQ(call.status, 200) << call.body;
  }
  HttpResponse bad_duration =
      PostTwilio("CallSid=CA1&CallStatus=completed&CallDuration=soon&From=010-1234-5678");
  EXPECT_EQ(bad_duration.status, 400) << bad_duration.body;
  EXPECT_NE(bad_duration.body.find(R"("field":"CallDuration")"), std::string::npos) << bad_duration.body;
  HttpResponse no_ticket = PostZendesk(R"({"event":"created"})");
  EXPECT_EQ(no_ticket.status, 400) << no_ticket.body;
  EXPECT_NE(no_ticket.body.find(R"("field":"ticket")"), std::string::npos) << no_ticket.body;

  auto exit_code = server_->Terminate();
  ASSERT_TRUE(exit_code.ok()) << exit_code.status();
  std::map<std::string, int> counts;
  for (const auto& event : ReadLog(data_dir())) {
    ++counts[event.message_id];
    EXPECT_EQ(event.channel, "service");
  }
  EXPECT_EQ(counts, (std::map<std::string, int>{{"twilio-CAe2e00000000000000000000000000001-completed", 1}}));
}

}  // namespace
}  // namespace tessera::e2e
