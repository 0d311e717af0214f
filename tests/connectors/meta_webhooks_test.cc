#include "connectors/meta_webhooks.h"

#include <gtest/gtest.h>

#include <cctype>
#include <chrono>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "tests/connectors/sample_payloads.h"
#include "connectors/signatures.h"
#include "simdjson.h"

namespace tessera::connectors {
namespace {

constexpr std::string_view kSecret = "test-app-secret";

std::string ReadSample(const std::string& name) { return testing::ReadSample("facebook/" + name); }

MetaOptions Options() { return MetaOptions{std::string(kSecret), "my-verify-token"}; }

std::string Sign(std::string_view body, std::string_view secret = kSecret) {
  return "sha256=" + HexEncode(HmacSha256(secret, body));
}

ingest::Timestamp Millis(int64_t ms) { return ingest::Timestamp(std::chrono::milliseconds(ms)); }

// Translates `body` signed with the test secret (or with `signature` when given).
absl::StatusOr<ingest::ParsedRequest> Translate(const std::string& body,
                                                const std::string* signature = nullptr) {
  const std::string header_value = signature ? *signature : Sign(body);
  WebhookRequest request;
  request.body = body;
  request.header = [header_value](std::string_view name) -> std::string_view {
    std::string lower(name);
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return lower == "x-hub-signature-256" ? std::string_view(header_value) : std::string_view();
  };
  request.received_at = Millis(1700000000000);
  return TranslateMetaWebhook(request, Options());
}

ingest::ParsedRequest TranslateOk(const std::string& body) {
  absl::StatusOr<ingest::ParsedRequest> parsed = Translate(body);
  EXPECT_TRUE(parsed.ok()) << parsed.status();
  if (!parsed.ok()) return {};
  EXPECT_FALSE(parsed->request_error)
      << parsed->request_error->field << ": " << parsed->request_error->message;
  return *std::move(parsed);
}

// A string member at `pointer` (RFC 6901) of a JSON document; "<absent>" when not a string.
std::string JsonString(const std::string& json, std::string_view pointer) {
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (parser.parse(json).get(root)) return "<invalid json>";
  std::string_view value;
  if (root.at_pointer(pointer).get_string().get(value)) return "<absent>";
  return std::string(value);
}

std::string ExternalId(const ingest::CanonicalEvent& event) {
  return JsonString(event.context, "/externalIds/0/type") + "=" +
         JsonString(event.context, "/externalIds/0/id");
}

TEST(MetaWebhookTest, MessengerSampleBecomesMessageReceived) {
  const ingest::ParsedRequest parsed = TranslateOk(ReadSample("messenger_request.json"));
  ASSERT_EQ(parsed.events.size(), 1u);
  EXPECT_EQ(parsed.event_count, 1u);
  EXPECT_TRUE(parsed.rejected.empty());
  const ingest::CanonicalEvent& event = parsed.events[0];
  EXPECT_EQ(event.type, ingest::EventType::kTrack);
  EXPECT_EQ(event.event, "Message Received");
  EXPECT_EQ(event.message_id, "meta-mid.1486464322190:cb04e5a654");
  EXPECT_FALSE(event.message_id_generated);
  EXPECT_EQ(ExternalId(event), "fb_psid=1895382890692545:1412611362105802") << event.context;
  EXPECT_EQ(JsonString(event.context, "/externalIds/0/collection"), "users");
  EXPECT_EQ(JsonString(event.context, "/externalIds/0/encoding"), "none");
  EXPECT_EQ(JsonString(event.properties, "/text"), "text") << event.properties;
  EXPECT_EQ(JsonString(event.properties, "/platform"), "messenger");
  EXPECT_EQ(JsonString(event.properties, "/page_id"), "1895382890692545");
  EXPECT_EQ(event.timestamp, Millis(1486464322190)) << "the item's timestamp (ms) is the event time";
  EXPECT_EQ(event.received_at, Millis(1700000000000));
  EXPECT_TRUE(event.space.empty() && event.source.empty() && event.channel.empty());
}

TEST(MetaWebhookTest, BatchSampleYieldsEveryItemInOrder) {
  const ingest::ParsedRequest parsed = TranslateOk(ReadSample("messenger_batchRequest.json"));
  ASSERT_EQ(parsed.events.size(), 2u);
  EXPECT_EQ(parsed.index_of, (std::vector<size_t>{0, 1}));
  EXPECT_EQ(JsonString(parsed.events[0].properties, "/text"), "test 1");
  EXPECT_EQ(JsonString(parsed.events[1].properties, "/text"), "test 2");
  EXPECT_EQ(parsed.events[0].message_id, "meta-mid.1486464322190:cb04e5a654");
  EXPECT_EQ(parsed.events[1].message_id, "meta-mid.1486464322190:cb04e5a656");
  // Same PSID on two pages: two different identifiers, so the two never merge by accident.
  EXPECT_EQ(ExternalId(parsed.events[0]), "fb_psid=1895382890692545:1412611362105802");
  EXPECT_EQ(ExternalId(parsed.events[1]), "fb_psid=189538289069256:1412611362105802");
}

TEST(MetaWebhookTest, EchoSampleIsMessageSentKeyedByRecipient) {
  const ingest::ParsedRequest parsed = TranslateOk(ReadSample("messenger_echoRequest.json"));
  ASSERT_EQ(parsed.events.size(), 1u);
  const ingest::CanonicalEvent& event = parsed.events[0];
  EXPECT_EQ(event.event, "Message Sent");
  EXPECT_EQ(ExternalId(event), "fb_psid=1134713619900975:1244813222196986")
      << "an echo is the page's message: the person is the recipient";
  EXPECT_EQ(event.message_id, "meta-mid.$cAARS90328R5hrBz-Vlbete17ftIb");
  EXPECT_EQ(event.timestamp, Millis(1492414608982)) << "a timestamp written as 1492414608982.0 is accepted";
  EXPECT_NE(event.properties.find("\"app_id\":1821152484774199"), std::string::npos) << event.properties;
}

TEST(MetaWebhookTest, SnakeCaseEchoAsMetaSendsIt) {
  const std::string body = R"({"object":"page","entry":[{"id":"P1","time":1492414608999,"messaging":[
    {"sender":{"id":"P1"},"recipient":{"id":"U1"},"timestamp":1492414608982,
     "message":{"is_echo":true,"app_id":1821152484774199,"mid":"m_echo","text":"hi"}}]}]})";
  const ingest::ParsedRequest parsed = TranslateOk(body);
  ASSERT_EQ(parsed.events.size(), 1u);
  EXPECT_EQ(parsed.events[0].event, "Message Sent");
  EXPECT_EQ(ExternalId(parsed.events[0]), "fb_psid=P1:U1");
}

TEST(MetaWebhookTest, SignatureMustVerify) {
  const std::string body = ReadSample("messenger_request.json");
  const std::string wrong = Sign(body, "another-secret");
  const std::string empty;
  const std::string no_prefix = HexEncode(HmacSha256(kSecret, body));
  const std::string upper = "SHA256=" + HexEncode(HmacSha256(kSecret, body));
  EXPECT_EQ(Translate(body, &wrong).status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(Translate(body, &empty).status().code(), absl::StatusCode::kUnauthenticated) << "missing header";
  EXPECT_EQ(Translate(body, &no_prefix).status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_TRUE(Translate(body, &upper).ok()) << "the prefix is case-insensitive";
  const std::string tampered = body + " ";
  const std::string original_signature = Sign(body);
  EXPECT_EQ(Translate(tampered, &original_signature).status().code(), absl::StatusCode::kUnauthenticated);

  WebhookRequest request;
  request.body = body;
  const std::string signature = Sign(body, "");
  request.header = [&signature](std::string_view) { return std::string_view(signature); };
  EXPECT_EQ(TranslateMetaWebhook(request, MetaOptions{"", "t"}).status().code(),
            absl::StatusCode::kUnauthenticated)
      << "an empty app secret verifies nothing";
}

TEST(MetaVerificationTest, Handshake) {
  const MetaOptions options = Options();
  absl::StatusOr<std::string> ok = MetaVerificationChallenge(
      "hub.mode=subscribe&hub.verify_token=my-verify-token&hub.challenge=1158201444", options);
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(*ok, "1158201444");

  absl::StatusOr<std::string> encoded = MetaVerificationChallenge(
      "hub.challenge=a%20b+c%2Bd%26&hub.verify_token=my%2Dverify%2dtoken&hub.mode=subscribe", options);
  ASSERT_TRUE(encoded.ok()) << encoded.status();
  EXPECT_EQ(*encoded, "a b c+d&");

  absl::StatusOr<std::string> wrong_token =
      MetaVerificationChallenge("hub.mode=subscribe&hub.verify_token=guess&hub.challenge=1", options);
  EXPECT_EQ(wrong_token.status().code(), absl::StatusCode::kPermissionDenied);

  absl::StatusOr<std::string> no_token_configured = MetaVerificationChallenge(
      "hub.mode=subscribe&hub.verify_token=anything&hub.challenge=1", MetaOptions{"s", ""});
  EXPECT_EQ(no_token_configured.status().code(), absl::StatusCode::kPermissionDenied)
      << "no configured token verifies nothing";

  absl::StatusOr<std::string> wrong_mode = MetaVerificationChallenge(
      "hub.mode=unsubscribe&hub.verify_token=my-verify-token&hub.challenge=1", options);
  EXPECT_EQ(wrong_mode.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(wrong_mode.status().message().find("hub.mode"), std::string::npos) << wrong_mode.status();

  absl::StatusOr<std::string> no_challenge =
      MetaVerificationChallenge("hub.mode=subscribe&hub.verify_token=my-verify-token", options);
  EXPECT_EQ(no_challenge.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(no_challenge.status().message().find("hub.challenge"), std::string::npos)
      << no_challenge.status();

  absl::StatusOr<std::string> no_mode =
      MetaVerificationChallenge("hub.verify_token=my-verify-token&hub.challenge=1", options);
  EXPECT_EQ(no_mode.status().code(), absl::StatusCode::kInvalidArgument);

  absl::StatusOr<std::string> bad_escape = MetaVerificationChallenge(
      "hub.mode=subscribe&hub.verify_token=my-verify-token&hub.challenge=%zz", options);
  EXPECT_EQ(bad_escape.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(bad_escape.status().message().find("hub.challenge"), std::string::npos) << bad_escape.status();
}

// The shape of Meta's Instagram "comments" webhook (developers.facebook.com, Instagram webhooks).
constexpr std::string_view kInstagramComments = R"({
  "object": "instagram",
  "entry": [{
    "id": "17841405822304914",
    "time": 1700000100,
    "changes": [{
      "field": "comments",
      "value": {
        "from": {"id": "232323232", "username": "test"},
        "media": {"id": "123123123", "media_product_type": "FEED"},
        "id": "17865799348089039",
        "text": "This is an example."
      }
    }]
  }]
})";

TEST(MetaWebhookTest, InstagramCommentBecomesCommentPosted) {
  const ingest::ParsedRequest parsed = TranslateOk(std::string(kInstagramComments));
  ASSERT_EQ(parsed.events.size(), 1u);
  const ingest::CanonicalEvent& event = parsed.events[0];
  EXPECT_EQ(event.event, "Comment Posted");
  EXPECT_EQ(event.message_id, "meta-comment-17865799348089039");
  EXPECT_EQ(ExternalId(event), "ig_sid=17841405822304914:232323232");
  EXPECT_EQ(JsonString(event.properties, "/text"), "This is an example.");
  EXPECT_EQ(JsonString(event.properties, "/media_id"), "123123123");
  EXPECT_EQ(JsonString(event.properties, "/platform"), "instagram");
  EXPECT_EQ(event.timestamp, Millis(1700000100000)) << "entry.time of a change is in seconds";
}

TEST(MetaWebhookTest, PageFeedCommentBecomesCommentPosted) {
  const std::string body = R"({"object":"page","entry":[{"id":"44444444","time":1700000200,"changes":[
    {"field":"feed","value":{"from":{"id":"55555","name":"Ada"},"item":"comment","comment_id":"44_66",
     "post_id":"44_77","verb":"add","created_time":1700000150,"message":"Nice!"}}]}]})";
  const ingest::ParsedRequest parsed = TranslateOk(body);
  ASSERT_EQ(parsed.events.size(), 1u);
  EXPECT_EQ(parsed.events[0].event, "Comment Posted");
  EXPECT_EQ(parsed.events[0].message_id, "meta-comment-44_66");
  EXPECT_EQ(ExternalId(parsed.events[0]), "fb_psid=44444444:55555");
  EXPECT_EQ(JsonString(parsed.events[0].properties, "/text"), "Nice!");
  EXPECT_EQ(JsonString(parsed.events[0].properties, "/post_id"), "44_77");
  EXPECT_EQ(parsed.events[0].timestamp, Millis(1700000150000)) << "value.created_time wins over entry.time";
}

TEST(MetaWebhookTest, UnknownChangeFieldIsKeptAsGenericSocialEvent) {
  const std::string body = R"({"object":"instagram","entry":[{"id":"1784","time":1700000100,"changes":[
    {"field":"story_reactions","value":{"from":{"id":"999"},"reaction":"love"}}]}]})";
  const ingest::ParsedRequest parsed = TranslateOk(body);
  ASSERT_EQ(parsed.events.size(), 1u);
  EXPECT_EQ(parsed.events[0].event, "Social Event");
  EXPECT_EQ(JsonString(parsed.events[0].properties, "/provider_event"), "story_reactions");
  EXPECT_EQ(JsonString(parsed.events[0].properties, "/provider_payload/reaction"), "love");
  EXPECT_TRUE(parsed.events[0].message_id_generated);
  EXPECT_EQ(parsed.events[0].message_id.rfind("meta-", 0), 0u);
}

TEST(MetaWebhookTest, ChangeWithoutUserIdIsRejectedByPath) {
  const std::string body = R"({"object":"instagram","entry":[{"id":"1784","time":1700000100,"changes":[
    {"field":"comments","value":{"from":{"id":"1"},"id":"c1","text":"first"}},
    {"field":"mentions","value":{"media_id":"m1","comment_id":"c2"}}]}]})";
  const ingest::ParsedRequest parsed = TranslateOk(body);
  ASSERT_EQ(parsed.events.size(), 1u);
  ASSERT_EQ(parsed.rejected.size(), 1u);
  EXPECT_EQ(parsed.event_count, 2u);
  EXPECT_EQ(parsed.rejected[0].index, 1u);
  EXPECT_EQ(parsed.rejected[0].error.code, ingest::error_code::kMissingIdentity);
  EXPECT_EQ(parsed.rejected[0].error.field, "entry[0].changes[1].value.from.id");
  EXPECT_EQ(parsed.rejected[0].message_id, "meta-mention-c2");
}

TEST(MetaWebhookTest, MessagingKindsAndBadItemsAcrossEntries) {
  const std::string body = R"({"object":"page","entry":[
    {"id":"P1","time":1700000000000,"messaging":[
      {"sender":{"id":"U1"},"recipient":{"id":"P1"},"timestamp":1700000000001,
       "postback":{"title":"Start","payload":"GET_STARTED","mid":"m_pb"}},
      {"sender":{"id":"U1"},"recipient":{"id":"P1"},"timestamp":1700000000002,"read":{"watermark":1699999999999}},
      {"recipient":{"id":"P1"},"timestamp":1700000000003,"message":{"mid":"m_nosender","text":"?"}}]},
    {"id":"P2","time":1700000000000,"messaging":[
      {"sender":{"id":"U2"},"recipient":{"id":"P2"},"timestamp":1700000000004,
       "delivery":{"mids":["m_a"],"watermark":1700000000000}},
      {"sender":{"id":"U2"},"recipient":{"id":"P2"},
       "reaction":{"mid":"m_a","action":"react","reaction":"love"}},
      {"sender":{"id":"U2"},"recipient":{"id":"P2"},"timestamp":1700000000005,
       "message":{"mid":"m_qr","text":"Red","quick_reply":{"payload":"RED"},
                  "attachments":[{"type":"image","payload":{"url":"https://x"}}]}}]}]})";
  const ingest::ParsedRequest parsed = TranslateOk(body);
  EXPECT_EQ(parsed.event_count, 6u);
  ASSERT_EQ(parsed.events.size(), 5u);
  EXPECT_EQ(parsed.index_of, (std::vector<size_t>{0, 1, 3, 4, 5}));
  EXPECT_EQ(parsed.events[0].event, "Postback Received");
  EXPECT_EQ(parsed.events[0].message_id, "meta-m_pb");
  EXPECT_EQ(JsonString(parsed.events[0].properties, "/payload"), "GET_STARTED");
  EXPECT_EQ(JsonString(parsed.events[0].properties, "/title"), "Start");
  EXPECT_EQ(parsed.events[1].event, "Message Read");
  EXPECT_TRUE(parsed.events[1].message_id_generated);
  EXPECT_EQ(parsed.events[2].event, "Message Delivered");
  EXPECT_EQ(JsonString(parsed.events[2].properties, "/mids/0"), "m_a");
  EXPECT_EQ(parsed.events[3].event, "Social Event");
  EXPECT_EQ(JsonString(parsed.events[3].properties, "/provider_event"), "reaction");
  EXPECT_EQ(parsed.events[3].timestamp, Millis(1700000000000)) << "no item timestamp: entry.time";
  EXPECT_NE(parsed.events[3].message_id, "meta-m_a") << "a reaction must not reuse the reacted message's id";
  EXPECT_EQ(parsed.events[4].event, "Message Received");
  EXPECT_EQ(JsonString(parsed.events[4].properties, "/quick_reply_payload"), "RED");
  EXPECT_EQ(JsonString(parsed.events[4].properties, "/attachment_types/0"), "image");
  EXPECT_EQ(ExternalId(parsed.events[4]), "fb_psid=P2:U2");

  ASSERT_EQ(parsed.rejected.size(), 1u);
  EXPECT_EQ(parsed.rejected[0].index, 2u);
  EXPECT_EQ(parsed.rejected[0].error.code, ingest::error_code::kMissingIdentity);
  EXPECT_EQ(parsed.rejected[0].error.field, "entry[0].messaging[2].sender.id");
  EXPECT_EQ(parsed.rejected[0].message_id, "meta-m_nosender");
}

TEST(MetaWebhookTest, InstagramMessagingUsesIgsid) {
  const std::string body = R"({"object":"instagram","entry":[{"id":"1784","time":1700000000000,"messaging":[
    {"sender":{"id":"IGSID1"},"recipient":{"id":"1784"},"timestamp":1700000000000,
     "message":{"mid":"aWdfZA","text":"hello"}}]}]})";
  const ingest::ParsedRequest parsed = TranslateOk(body);
  ASSERT_EQ(parsed.events.size(), 1u);
  EXPECT_EQ(ExternalId(parsed.events[0]), "ig_sid=1784:IGSID1");
  EXPECT_EQ(JsonString(parsed.events[0].properties, "/platform"), "instagram");
}

TEST(MetaWebhookTest, ReplayGivesIdenticalMessageIds) {
  const std::string body = R"({"object":"page","entry":[{"id":"P1","time":1700000000000,"messaging":[
    {"sender":{"id":"U1"},"recipient":{"id":"P1"},"timestamp":1700000000002,"read":{"watermark":1699999999999}},
    {"sender":{"id":"U1"},"recipient":{"id":"P1"},"timestamp":1700000000003,"read":{"watermark":1700000000003}},
    {"sender":{"id":"U1"},"recipient":{"id":"P1"},"timestamp":1700000000004,"message":{"mid":"m1","text":"x"}}]}]})";
  const ingest::ParsedRequest first = TranslateOk(body);
  const ingest::ParsedRequest second = TranslateOk(body);
  ASSERT_EQ(first.events.size(), 3u);
  ASSERT_EQ(second.events.size(), 3u);
  for (size_t i = 0; i < first.events.size(); ++i) {
    EXPECT_EQ(first.events[i].message_id, second.events[i].message_id) << "item " << i;
  }
  EXPECT_NE(first.events[0].message_id, first.events[1].message_id)
      << "different read receipts, different ids";
}

TEST(MetaWebhookTest, MalformedEnvelopeIsARequestError) {
  struct Case {
    std::string body;
    std::string code;
    std::string field;
  };
  const std::vector<Case> cases = {
      {"not json", "invalid_json", ""},
      {"[1]", "invalid_type", ""},
      {R"({"object":"page"})", "missing_field", "entry"},
      {R"({"object":"page","entry":{}})", "invalid_type", "entry"},
      {R"({"object":"user","entry":[]})", "invalid_value", "object"},
      {R"({"entry":[]})", "missing_field", "object"},
  };
  for (const Case& test : cases) {
    absl::StatusOr<ingest::ParsedRequest> parsed = Translate(test.body);
    ASSERT_TRUE(parsed.ok()) << parsed.status();
    ASSERT_TRUE(parsed->request_error) << test.body;
    EXPECT_EQ(parsed->request_error->code, test.code) << test.body;
    EXPECT_EQ(parsed->request_error->field, test.field) << test.body;
    EXPECT_TRUE(parsed->events.empty());
  }
}

TEST(MetaWebhookTest, BadEntryAndBadTimestampAreRejectedItems) {
  const std::string body = R"({"object":"page","entry":[
    "oops",
    {"time":1700000000000,"messaging":[{"sender":{"id":"U"},"message":{"mid":"m_noentryid"}}]},
    {"id":"P","messaging":[{"sender":{"id":"U"},"timestamp":"yesterday","message":{"mid":"m_t"}}]},
    {"id":"P","messaging":[{"sender":{"id":7},"timestamp":1700000000000,"message":{"mid":"m_ok"}}]}]})";
  const ingest::ParsedRequest parsed = TranslateOk(body);
  EXPECT_EQ(parsed.event_count, 4u);
  ASSERT_EQ(parsed.rejected.size(), 3u);
  EXPECT_EQ(parsed.rejected[0].error.field, "entry[0]");
  EXPECT_EQ(parsed.rejected[1].error.field, "entry[1].id");
  EXPECT_EQ(parsed.rejected[2].error.field, "entry[2].messaging[0].timestamp");
  EXPECT_EQ(parsed.rejected[2].error.code, ingest::error_code::kInvalidTimestamp);
  ASSERT_EQ(parsed.events.size(), 1u);
  EXPECT_EQ(parsed.index_of[0], 3u);
  EXPECT_EQ(ExternalId(parsed.events[0]), "fb_psid=P:7") << "integer ids are taken as their decimal text";
}

}  // namespace
}  // namespace tessera::connectors
