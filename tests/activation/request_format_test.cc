// The wire formats: the webhook's body and headers, and Meta Custom Audiences' add and remove
// requests in the shape of the Marketing API's documented example
//   curl -F 'payload={"schema":["EMAIL","PHONE"],"data":[["<HASH>","<HASH>"]]}'
//        -F 'access_token=<ACCESS_TOKEN>' https://graph.facebook.com/<VERSION>/<CUSTOM_AUDIENCE_ID>/users
// with the hashes checked against `sha256sum` of the normalized values.

#include "activation/request_format.h"

#include <gtest/gtest.h>

#include "activation/webhook_signature.h"
#include "tests/activation/format_test_support.h"

namespace tessera::activation {
namespace {

// What printf '%s' VALUE | sha256sum printed for the normalized values.
constexpr std::string_view kJaneEmailSha256 = "86e0b9e56c17cc4d12387e1949b85053fbe73bc3ce5a1188713a9d300cc6133d";
constexpr std::string_view kKoreanPhoneSha256 = "5d639079300bfabb1fa81139c823d324b2a67e9dd4157475190a31fb17528bc0";
constexpr std::string_view kKimEmailSha256 = "2c7fb226b5ae4e35eae4196825a654c5c177b7dea6709354c9daac0eadf66177";

DestinationSpec Meta() {
  DestinationSpec spec;
  spec.name = "meta";
  spec.type = DestinationType::kMetaCustomAudience;
  spec.secret = "EAAB-token";
  spec.audiences = {"vip"};
  spec.options_json = R"({"audience_id":"23851234567890123"})";
  return spec;
}

TEST(MetaCustomAudienceFormatTest, AddsAndRemovesHashedMultiKeyRowsAsTheMarketingApiDocuments) {
  const DestinationSpec spec = Meta();
  ASSERT_TRUE(ValidateDestination(spec).ok());
  const HttpUrl url = *ParseHttpUrl(DefaultUrl(spec));
  EXPECT_EQ(url.host, "graph.facebook.com");
  const RequestContext context{spec, url, std::chrono::system_clock::now(), "meta-1-2"};
  const std::vector<OutboxItem> entries = {
      Member(OutboxKind::kAudienceEntered, {{"email", " Jane.Doe@Example.com"}, {"phone", "+821012345678"},
                                             {"user_id", "u-1"}}),
      Member(OutboxKind::kAudienceEntered, {{"email", "kim@example.kr"}}),
      Member(OutboxKind::kAudienceEntered, {{"user_id", "u-no-contact"}})};
  EXPECT_EQ(RequestPrefix(spec, entries), 3u);
  absl::StatusOr<std::optional<OutgoingRequest>> added = FormatRequest(context, entries);
  ASSERT_TRUE(added.ok()) << added.status();
  ASSERT_TRUE(added->has_value());
  const OutgoingRequest& request = **added;
  EXPECT_EQ(request.method, "POST");
  EXPECT_EQ(request.target, "/v19.0/23851234567890123/users");
  EXPECT_EQ(request.content_type, "application/x-www-form-urlencoded");
  EXPECT_EQ(FormField(request.body, "access_token"), "EAAB-token");
  EXPECT_EQ(FormField(request.body, "payload"),
            R"({"schema":["EMAIL","PHONE"],"data":[[")" + std::string(kJaneEmailSha256) + R"(",")" +
                std::string(kKoreanPhoneSha256) + R"("],[")" + std::string(kKimEmailSha256) + R"(",""]]})");

  const std::vector<OutboxItem> mixed = {
      Member(OutboxKind::kAudienceExited, {{"email", "kim@example.kr"}}),
      Member(OutboxKind::kAudienceExited, {{"phone", "+821012345678"}}),
      Member(OutboxKind::kAudienceEntered, {{"email", "kim@example.kr"}})};
  ASSERT_EQ(RequestPrefix(spec, mixed), 2u) << "removals and additions are separate calls";
  absl::StatusOr<std::optional<OutgoingRequest>> removed =
      FormatRequest(context, std::vector<OutboxItem>(mixed.begin(), mixed.begin() + 2));
  ASSERT_TRUE(removed.ok() && removed->has_value());
  EXPECT_EQ((*removed)->method, "DELETE");
  EXPECT_EQ(FormField((*removed)->body, "payload"),
            R"({"schema":["EMAIL","PHONE"],"data":[[")" + std::string(kKimEmailSha256) + R"(",""],["",")" +
                std::string(kKoreanPhoneSha256) + R"("]]})");

  absl::StatusOr<std::optional<OutgoingRequest>> nothing =
      FormatRequest(context, {Member(OutboxKind::kAudienceEntered, {{"user_id", "u-1"}})});
  ASSERT_TRUE(nothing.ok());
  EXPECT_FALSE(nothing->has_value()) << "no email or phone: nothing a provider could match";
}

TEST(MetaCustomAudienceFormatTest, ASettingThatCannotWorkIsRefusedBeforeAnythingIsSent) {
  DestinationSpec spec = Meta();
  spec.options_json = "{}";
  EXPECT_EQ(ValidateDestination(spec).message(),
            "options.audience_id: the Custom Audience's id (digits, as a string) is required");
  spec = Meta();
  spec.secret.clear();
  EXPECT_EQ(ValidateDestination(spec).message(), "secret: the Marketing API access token is required");
  spec = Meta();
  spec.event_types = {"track"};
  EXPECT_EQ(ValidateDestination(spec).message(), "events: a Custom Audience takes audience entries and exits only");
  spec.type = DestinationType::kMailgunList;
  spec.event_types.clear();
  EXPECT_EQ(ValidateDestination(spec).message(), "options.list: the mailing list's address is required");
}

TEST(WebhookFormatTest, OneSignedBatchOfEventsAndAudienceChanges) {
  DestinationSpec spec;
  spec.name = "hook";
  spec.space = "shop";
  spec.secret = "whsec";
  const HttpUrl url = *ParseHttpUrl("https://crm.example/hook?x=1");
  const auto now = std::chrono::system_clock::time_point(std::chrono::seconds(1765000000));
  OutboxItem event;
  event.event_json = R"({"type":"track","event":"Order Completed","messageId":"m-1"})";
  OutboxItem entered = Member(OutboxKind::kAudienceEntered, {});
  entered.message_id = "aud-1";
  entered.user_id = "u-1";
  entered.time = base::Timestamp(std::chrono::seconds(1765000000));
  entered.traits_json = R"({"plan":"pro"})";
  absl::StatusOr<std::optional<OutgoingRequest>> request =
      FormatRequest(RequestContext{spec, url, now, "hook-1-2"}, {event, entered});
  ASSERT_TRUE(request.ok() && request->has_value());
  EXPECT_EQ((*request)->target, "/hook?x=1");
  EXPECT_EQ((*request)->body,
            R"({"batch":[{"type":"track","event":"Order Completed","messageId":"m-1"},)"
            R"({"type":"track","event":"Audience Entered","messageId":"aud-1","userId":"u-1",)"
            R"("timestamp":"2025-12-06T05:46:40.000Z","properties":{"audience":"vip","space":"shop","profileId":"p0000000000000007"},)"
            R"("context":{"traits":{"plan":"pro"}}}],"sentAt":"2025-12-06T05:46:40.000Z"})");
  ASSERT_EQ((*request)->headers.size(), 2u);
  EXPECT_EQ((*request)->headers[0].first, "Tessera-Signature");
  EXPECT_TRUE(VerifyWebhook("whsec", (*request)->headers[0].second, (*request)->body, now, std::chrono::seconds(1)).ok());
  EXPECT_EQ((*request)->headers[1], (std::pair<std::string, std::string>("Idempotency-Key", "hook-1-2")));
}


// Issue 26: a service event's free text goes out only to a destination that names it; other
// channels' events go as they are.
TEST(WebhookFormatTest, ServiceFreeTextIsSentOnlyWhenTheDestinationNamesIt) {
  DestinationSpec spec;
  spec.name = "crm";
  spec.space = "shop";
  spec.secret = "whsec";
  const HttpUrl url = *ParseHttpUrl("https://crm.example/hook");
  const auto now = std::chrono::system_clock::time_point(std::chrono::seconds(1765000000));
  OutboxItem call;
  call.message_id = "twilio-CA1-TR1";
  call.event_json = R"({"messageId":"twilio-CA1-TR1","type":"track","channel":"service",)"
                    R"("event":"Call Transcription Completed","properties":{"call_sid":"CA1",)"
                    R"("transcript":"my card number is 4111","notes":"angry"}})";
  OutboxItem review;
  review.event_json = R"({"messageId":"m-2","type":"track","channel":"web","properties":{"comment":"great shoes"}})";
  const auto body = [&]() -> std::string {
    absl::StatusOr<std::optional<OutgoingRequest>> request =
        FormatRequest(RequestContext{spec, url, now, "crm-1-2"}, {call, review});
    EXPECT_TRUE(request.ok()) << request.status();
    if (!request.ok() || !request->has_value()) return "<no request>";
    EXPECT_TRUE(VerifyWebhook("whsec", (*request)->headers[0].second, (*request)->body, now, std::chrono::seconds(1)).ok())
        << "the signature covers the body as sent";
    return (*request)->body;
  };

  EXPECT_EQ(body(),
            R"({"batch":[{"messageId":"twilio-CA1-TR1","type":"track","channel":"service",)"
            R"("event":"Call Transcription Completed","properties":{"call_sid":"CA1"}},)"
            R"({"messageId":"m-2","type":"track","channel":"web","properties":{"comment":"great shoes"}}],)"
            R"("sentAt":"2025-12-06T05:46:40.000Z"})")
      << "by default the transcript and the notes stay home; the web comment is no free text of the service channel";

  spec.free_text = {"transcript"};
  EXPECT_EQ(body(),
            R"({"batch":[{"messageId":"twilio-CA1-TR1","type":"track","channel":"service",)"
            R"("event":"Call Transcription Completed","properties":{"call_sid":"CA1",)"
            R"("transcript":"my card number is 4111"}},)"
            R"({"messageId":"m-2","type":"track","channel":"web","properties":{"comment":"great shoes"}}],)"
            R"("sentAt":"2025-12-06T05:46:40.000Z"})")
      << "named, the transcript goes; notes, not named, still do not";

  spec.free_text.clear();
  call.event_json = R"({"channel":"service","properties":{"transcript":"cut off)";
  absl::StatusOr<std::optional<OutgoingRequest>> damaged =
      FormatRequest(RequestContext{spec, url, now, "crm-1-3"}, {call});
  EXPECT_TRUE(absl::IsInvalidArgument(damaged.status())) << damaged.status();
  EXPECT_NE(damaged.status().message().find("event twilio-CA1-TR1 at log position 0: cannot remove its free text"),
            std::string::npos)
      << damaged.status() << ": a damaged event is not sent with text nobody allowed";
}

}  // namespace
}  // namespace tessera::activation
