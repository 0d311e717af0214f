#include "connectors/twilio_voice.h"

#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "base/time.h"
#include "ingest/identifier_extractor.h"
#include "simdjson.h"

namespace tessera::connectors {
namespace {

constexpr std::string_view kToken = "twilio-auth-token";
constexpr std::string_view kPublicUrl = "https://cdp.example.com/v1/connectors/service/twilio-voice";

// Twilio's published example (twilio-python tests/unit/test_request_validator.py, the same values
// in twilio-node's and twilio-java's validator tests).
constexpr std::string_view kSdkToken = "12345";
constexpr std::string_view kSdkUrl = "https://mycompany.com/myapp.php?foo=1&bar=2";
constexpr std::string_view kSdkSignature = "RSOYDt4T1cUTdK1PDd93/VVr8B8=";
const std::vector<FormParam> kSdkParams = {{"CallSid", "CA1234567890ABCDE"},
                                           {"Caller", "+14158675309"},
                                           {"Digits", "1234"},
                                           {"From", "+14158675309"},
                                           {"To", "+18005551212"}};
// The same parameters as Twilio would post them (order as sent, not sorted).
constexpr std::string_view kSdkBody =
    "To=%2B18005551212&From=%2B14158675309&CallSid=CA1234567890ABCDE&Digits=1234&Caller=%2B14158675309";

ingest::Timestamp At(std::string_view iso) { return *base::ParseIso8601(iso); }

struct Headers {
  std::map<std::string, std::string> by_lower_name;

  void Set(const std::string& name, std::string value) {
    by_lower_name[absl::AsciiStrToLower(name)] = std::move(value);
  }
  std::function<std::string_view(std::string_view)> Lookup() const {
    return [this](std::string_view name) -> std::string_view {
      const auto found =
          by_lower_name.find(absl::AsciiStrToLower(absl::string_view(name.data(), name.size())));
      return found == by_lower_name.end() ? std::string_view() : std::string_view(found->second);
    };
  }
};

// One callback; it owns everything the WebhookRequest borrows.
struct Callback {
  std::string body;
  std::string query;
  Headers headers;

  WebhookRequest Request() const {
    return WebhookRequest{
        .body = body, .header = headers.Lookup(), .query = query, .received_at = At("2026-12-01T09:00:00Z")};
  }
};

// A callback signed for kPublicUrl + "?" + query with kToken.
Callback Signed(std::string body, std::string query = "writeKey=wk") {
  Callback callback;
  callback.body = std::move(body);
  callback.query = std::move(query);
  const std::string url = std::string(kPublicUrl) + (callback.query.empty() ? "" : "?" + callback.query);
  callback.headers.Set("X-Twilio-Signature", TwilioSignature(kToken, url, *DecodeForm(callback.body)));
  return callback;
}

absl::StatusOr<ingest::ParsedRequest> Translate(const Callback& callback) {
  return TranslateTwilioVoiceCallback(
      callback.Request(), {.auth_token = std::string(kToken), .public_url = std::string(kPublicUrl)});
}

std::string JsonMember(const std::string& json, std::string_view pointer) {
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (parser.parse(json).get(root) != simdjson::SUCCESS) return "<invalid JSON: " + json + ">";
  simdjson::dom::element value;
  if (root.at_pointer(pointer).get(value) != simdjson::SUCCESS) return "";
  return simdjson::minify(value);
}

// A copy: callers pass the temporary result of a translation.
ingest::CanonicalEvent OnlyEvent(const absl::StatusOr<ingest::ParsedRequest>& parsed) {
  const ingest::CanonicalEvent kNone;
  EXPECT_TRUE(parsed.ok()) << parsed.status();
  if (!parsed.ok()) return kNone;
  EXPECT_FALSE(parsed->request_error)
      << parsed->request_error->field << ": " << parsed->request_error->message;
  EXPECT_EQ(parsed->events.size(), 1u);
  return parsed->events.empty() ? kNone : parsed->events[0];
}

std::string RequestError(const absl::StatusOr<ingest::ParsedRequest>& parsed) {
  EXPECT_TRUE(parsed.ok()) << parsed.status();
  if (!parsed.ok() || !parsed->request_error) return "<no request error>";
  EXPECT_TRUE(parsed->events.empty());
  return parsed->request_error->code + " " + parsed->request_error->field;
}

std::string StatusCallback(std::string_view status, std::string_view direction = "inbound",
                           std::string_view extra = "") {
  return "AccountSid=AC00000000000000000000000000000001&CallSid=CA11112222333344445555666677778888"
         "&From=010-1234-5678&To=%2B8215771234&Direction=" +
         std::string(direction) + "&CallStatus=" + std::string(status) +
         "&Timestamp=Tue%2C+01+Dec+2026+08%3A59%3A30+%2B0000" + std::string(extra);
}

TEST(TwilioSignatureTest, MatchesTwilioSdkExamples) {
  EXPECT_EQ(TwilioSignature(kSdkToken, kSdkUrl, kSdkParams), kSdkSignature);
  // Duplicate keys: sorted by name, then value, identical pairs once (the SDK's duplicate test).
  EXPECT_EQ(TwilioSignature(kSdkToken, kSdkUrl,
                            {{"Sid", "CA123"},
                             {"SidAccount", "AC123"},
                             {"Digits", "5678"},
                             {"Digits", "1234"},
                             {"Digits", "1234"}}),
            "IK+Dwps556ElfBT0I3Rgjkr1wJU=");
  // The SDK's port tests: the same request signed over https with :443, over http with :80, and
  // over http with :1234.
  EXPECT_EQ(TwilioSignature(kSdkToken, "https://mycompany.com:443/myapp.php?foo=1&bar=2", kSdkParams),
            "kvajT1Ptam85bY51eRf/AJRuM3w=");
  EXPECT_EQ(TwilioSignature(kSdkToken, "http://mycompany.com:80/myapp.php?foo=1&bar=2", kSdkParams),
            "0ZXoZLH/DfblKGATFgpif+LLRf4=");
  EXPECT_EQ(TwilioSignature(kSdkToken, "http://mycompany.com:1234/myapp.php?foo=1&bar=2", kSdkParams),
            "Zmvh+3yNM1Phv2jhDCwEM3q5ebU=");
}

TEST(TwilioSignatureTest, TheConnectorVerifiesTheSdkExampleFromItsWireForm) {
  struct Case {
    std::string public_url;
    std::string signature;
  };
  for (const Case& c : std::vector<Case>{
           {"https://mycompany.com/myapp.php", std::string(kSdkSignature)},
           {"https://mycompany.com:1234/myapp.php", std::string(kSdkSignature)},  // port removed
           {"https://mycompany.com/myapp.php", "kvajT1Ptam85bY51eRf/AJRuM3w="},   // :443 added
           {"http://mycompany.com/myapp.php", "0ZXoZLH/DfblKGATFgpif+LLRf4="},    // :80 added
           {"http://mycompany.com:1234/myapp.php", "Zmvh+3yNM1Phv2jhDCwEM3q5ebU="},
       }) {
    Callback callback;
    callback.body = std::string(kSdkBody);
    callback.query = "foo=1&bar=2";
    callback.headers.Set("X-Twilio-Signature", c.signature);
    const absl::StatusOr<ingest::ParsedRequest> parsed = TranslateTwilioVoiceCallback(
        callback.Request(), {.auth_token = std::string(kSdkToken), .public_url = c.public_url});
    ASSERT_TRUE(parsed.ok()) << c.public_url << " " << c.signature << ": " << parsed.status();
    // The SDK's example is a <Gather> callback, no status callback: verified, then refused as such.
    EXPECT_EQ(RequestError(parsed), "missing_field CallStatus") << c.public_url;
  }

  // Rebuilt from the headers when no public URL is configured.
  Callback proxied;
  proxied.body = std::string(kSdkBody);
  proxied.query = "foo=1&bar=2";
  proxied.headers.Set("X-Twilio-Signature", std::string(kSdkSignature));
  proxied.headers.Set("Host", "10.0.0.7:8080");
  proxied.headers.Set("X-Forwarded-Host", "mycompany.com");
  proxied.headers.Set("X-Forwarded-Proto", "https");
  const TwilioVoiceOptions rebuilt{.auth_token = std::string(kSdkToken), .request_path = "/myapp.php"};
  EXPECT_TRUE(TranslateTwilioVoiceCallback(proxied.Request(), rebuilt).ok());
  proxied.headers.Set("X-Forwarded-Proto", "http");
  EXPECT_TRUE(absl::IsUnauthenticated(TranslateTwilioVoiceCallback(proxied.Request(), rebuilt).status()))
      << "the scheme the proxy reports is signed";
  proxied.headers.by_lower_name.erase("x-forwarded-proto");
  proxied.headers.by_lower_name.erase("x-forwarded-host");
  proxied.headers.Set("Host", "mycompany.com");
  EXPECT_TRUE(TranslateTwilioVoiceCallback(proxied.Request(), rebuilt).ok())
      << "https and http are both tried";
}

TEST(TwilioSignatureTest, WrongMissingAndUnconfiguredSignaturesAreUnauthenticated) {
  const Callback good = Signed(StatusCallback("completed"));
  ASSERT_TRUE(Translate(good).ok()) << Translate(good).status();
  Callback tampered = good;
  tampered.body.replace(tampered.body.find("010-1234-5678"), 13, "010-9999-9999");
  EXPECT_TRUE(absl::IsUnauthenticated(Translate(tampered).status())) << "a changed parameter";
  Callback other_query = good;
  other_query.query = "writeKey=other";
  EXPECT_TRUE(absl::IsUnauthenticated(Translate(other_query).status())) << "the query is part of the URL";
  Callback unsigned_callback = good;
  unsigned_callback.headers.by_lower_name.clear();
  EXPECT_TRUE(absl::IsUnauthenticated(Translate(unsigned_callback).status()));
  Callback wrong_token = good;
  wrong_token.headers.Set(
      "X-Twilio-Signature",
      TwilioSignature("not-the-token", std::string(kPublicUrl) + "?writeKey=wk", *DecodeForm(good.body)));
  EXPECT_TRUE(absl::IsUnauthenticated(Translate(wrong_token).status()));
  EXPECT_TRUE(absl::IsUnauthenticated(
      TranslateTwilioVoiceCallback(good.Request(), {.auth_token = "", .public_url = std::string(kPublicUrl)})
          .status()));
  EXPECT_TRUE(absl::IsUnauthenticated(
      TranslateTwilioVoiceCallback(good.Request(), {.auth_token = std::string(kToken)}).status()))
      << "no public URL and no Host header: nothing to check against";
}

TEST(TwilioVoiceTest, CompletedInboundCallIsOnTheCallersPhone) {
  const ingest::CanonicalEvent& event =
      OnlyEvent(Translate(Signed(StatusCallback("completed", "inbound", "&CallDuration=42&CallerName=KIM"))));
  EXPECT_EQ(event.event, "Call Completed");
  EXPECT_EQ(event.message_id, "twilio-CA11112222333344445555666677778888-completed");
  EXPECT_EQ(event.timestamp, At("2026-12-01T08:59:30Z"));
  EXPECT_EQ(
      event.properties,
      R"({"provider":"twilio","call_sid":"CA11112222333344445555666677778888",)"
      R"("account_sid":"AC00000000000000000000000000000001","direction":"inbound","status":"completed",)"
      R"("duration_seconds":42,"from":"010-1234-5678","to":"+8215771234","caller_name":"KIM"})");
  EXPECT_EQ(JsonMember(event.context, "/traits"), R"({"phone":"010-1234-5678"})");
  EXPECT_EQ(
      JsonMember(event.context, "/externalIds/0"),
      R"({"id":"CA11112222333344445555666677778888","type":"twilio_call_sid","collection":"users","encoding":"none"})");
  const ingest::ExtractedIdentifiers found = ingest::IdentifierExtractor().Extract(event);
  ASSERT_EQ(found.identifiers.size(), 2u) << event.context;
  EXPECT_EQ(found.identifiers[0].type, "phone");
  EXPECT_EQ(found.identifiers[0].value, "010-1234-5678") << "normalized downstream, in the source's region";
}

TEST(TwilioVoiceTest, StatusesMapToMissedNotConnectedAndGenericEvents) {
  EXPECT_EQ(OnlyEvent(Translate(Signed(StatusCallback("no-answer")))).event, "Call Missed");
  EXPECT_EQ(OnlyEvent(Translate(Signed(StatusCallback("busy")))).event, "Call Missed");
  EXPECT_EQ(OnlyEvent(Translate(Signed(StatusCallback("canceled")))).event, "Call Missed");
  const ingest::CanonicalEvent& outbound =
      OnlyEvent(Translate(Signed(StatusCallback("failed", "outbound-api"))));
  EXPECT_EQ(outbound.event, "Call Not Connected");
  EXPECT_EQ(JsonMember(outbound.context, "/traits/phone"), R"("+8215771234")")
      << "the customer is To when we call";
  EXPECT_EQ(OnlyEvent(Translate(Signed(StatusCallback("ringing")))).event, "Call Status Changed");
  const ingest::CanonicalEvent& unknown = OnlyEvent(Translate(Signed(StatusCallback("teleported"))));
  EXPECT_EQ(unknown.event, "Call Status Changed") << "an unknown status is kept";
  EXPECT_EQ(JsonMember(unknown.properties, "/status"), R"("teleported")");
  EXPECT_EQ(unknown.message_id, "twilio-CA11112222333344445555666677778888-teleported");
}

TEST(TwilioVoiceTest, QueueAndAgentComeFromTheCallbackUrlOrTheBody) {
  const ingest::CanonicalEvent& from_query =
      OnlyEvent(Translate(Signed(StatusCallback("completed"), "writeKey=wk&queue=sales&agent=kim%20ji")));
  EXPECT_EQ(JsonMember(from_query.properties, "/queue"), R"("sales")");
  EXPECT_EQ(JsonMember(from_query.properties, "/agent"), R"("kim ji")");
  const ingest::CanonicalEvent& from_body =
      OnlyEvent(Translate(Signed(StatusCallback("completed", "inbound", "&Queue=support&QueueSid=QU123"))));
  EXPECT_EQ(JsonMember(from_body.properties, "/queue"), R"("support")");
  EXPECT_EQ(JsonMember(from_body.properties, "/queue_sid"), R"("QU123")");
}

TEST(TwilioVoiceTest, RecordingCallbacksJoinTheirCallBySid) {
  const ingest::CanonicalEvent& event = OnlyEvent(Translate(
      Signed("AccountSid=AC00000000000000000000000000000001&CallSid=CA11112222333344445555666677778888"
             "&RecordingSid=RE0123&RecordingStatus=completed&RecordingDuration=37"
             "&RecordingUrl=https%3A%2F%2Fapi.twilio.com%2F2010-04-01%2FAccounts%2FAC1%2FRecordings%2FRE0123"
             "&RecordingStartTime=Tue%2C+01+Dec+2026+08%3A59%3A35+%2B0000")));
  EXPECT_EQ(event.event, "Call Recording Completed");
  EXPECT_EQ(event.message_id, "twilio-CA11112222333344445555666677778888-RE0123");
  EXPECT_EQ(event.timestamp, At("2026-12-01T08:59:35Z"));
  EXPECT_EQ(JsonMember(event.properties, "/recording_sid"), R"("RE0123")");
  EXPECT_EQ(JsonMember(event.properties, "/recording_duration"), "37");
  EXPECT_EQ(JsonMember(event.properties, "/recording_url"),
            R"("https://api.twilio.com/2010-04-01/Accounts/AC1/Recordings/RE0123")");
  EXPECT_EQ(JsonMember(event.context, "/traits"), "") << "a recording callback carries no numbers";
  EXPECT_EQ(JsonMember(event.context, "/externalIds/0/id"), R"("CA11112222333344445555666677778888")");

  const ingest::CanonicalEvent& failed =
      OnlyEvent(Translate(Signed("CallSid=CA1&RecordingSid=RE9&RecordingStatus=failed")));
  EXPECT_EQ(failed.event, "Call Recording Status Changed");
  EXPECT_EQ(failed.message_id, "twilio-CA1-RE9-failed");
}

// Issue 26: <Record transcribe>'s callback carries the recording's and the call's parameters too
// (CallStatus among them); the transcription decides the event, and the text travels as the free
// text property `transcript`, which the pipeline removes unless the source keeps free text.
TEST(TwilioVoiceTest, TranscriptionCallbacksCarryTheTranscript) {
  const ingest::CanonicalEvent& event = OnlyEvent(Translate(Signed(
      "AccountSid=AC00000000000000000000000000000001&CallSid=CA11112222333344445555666677778888"
      "&From=010-1234-5678&To=%2B8215771234&Direction=inbound&CallStatus=completed"
      "&RecordingSid=RE0123&RecordingUrl=https%3A%2F%2Fapi.twilio.com%2FRecordings%2FRE0123"
      "&TranscriptionSid=TR0456&TranscriptionStatus=completed"
      "&TranscriptionText=My+parcel+never+arrived%2C+please+call+me+back."
      "&TranscriptionUrl=https%3A%2F%2Fapi.twilio.com%2FTranscriptions%2FTR0456")));
  EXPECT_EQ(event.event, "Call Transcription Completed");
  EXPECT_EQ(event.message_id, "twilio-CA11112222333344445555666677778888-TR0456");
  EXPECT_EQ(JsonMember(event.properties, "/transcription_sid"), R"("TR0456")");
  EXPECT_EQ(JsonMember(event.properties, "/transcription_status"), R"("completed")");
  EXPECT_EQ(JsonMember(event.properties, "/transcript"), R"("My parcel never arrived, please call me back.")");
  EXPECT_EQ(JsonMember(event.properties, "/recording_sid"), R"("RE0123")");
  EXPECT_EQ(JsonMember(event.context, "/traits/phone"), R"("010-1234-5678")");

  const ingest::CanonicalEvent& failed =
      OnlyEvent(Translate(Signed("CallSid=CA1&RecordingSid=RE9&TranscriptionSid=TR9&TranscriptionStatus=failed")));
  EXPECT_EQ(failed.event, "Call Transcription Status Changed");
  EXPECT_EQ(failed.message_id, "twilio-CA1-TR9");
  EXPECT_EQ(JsonMember(failed.properties, "/transcript"), "") << "no text, no property";
  EXPECT_EQ(JsonMember(failed.properties, "/transcription_status"), R"("failed")");
}

TEST(TwilioVoiceTest, ClientAndSipAddressesAreNoPhoneNumbers) {
  const ingest::CanonicalEvent& event = OnlyEvent(Translate(
      Signed("CallSid=CA2&From=client%3Aalice&To=%2B8215771234&Direction=inbound&CallStatus=completed")));
  EXPECT_EQ(JsonMember(event.context, "/traits"), "");
  EXPECT_EQ(JsonMember(event.properties, "/from"), R"("client:alice")");
}

TEST(TwilioVoiceTest, MalformedCallbacksNameTheField) {
  EXPECT_EQ(RequestError(Translate(Signed(StatusCallback("completed", "inbound", "&CallDuration=abc")))),
            "invalid_value CallDuration");
  EXPECT_EQ(RequestError(Translate(Signed(StatusCallback("completed", "inbound", "&CallDuration=-1")))),
            "invalid_value CallDuration");
  EXPECT_EQ(RequestError(Translate(Signed("CallSid=CA1&RecordingSid=RE1&RecordingDuration=x"))),
            "invalid_value RecordingDuration");
  EXPECT_EQ(RequestError(Translate(Signed("From=%2B821012345678&CallStatus=completed"))),
            "missing_field CallSid");
  EXPECT_EQ(RequestError(Translate(Signed("CallSid=CA1&From=%2B821012345678"))), "missing_field CallStatus");
  EXPECT_EQ(RequestError(Translate(Signed("CallSid=CA1&CallStatus=completed&Timestamp=yesterday"))),
            "invalid_timestamp Timestamp");
  EXPECT_EQ(RequestError(Translate(Signed(
                "CallSid=CA1&CallStatus=completed&Timestamp=Tue%2C+31+Feb+2026+08%3A59%3A30+%2B0000"))),
            "invalid_timestamp Timestamp");
  Callback bad_escape;
  bad_escape.body = "CallSid=CA1&From=%2";
  EXPECT_EQ(RequestError(Translate(bad_escape)), "invalid_value body");
}

TEST(TwilioVoiceTest, FormDecodingAndRfc2822Offsets) {
  const std::optional<std::vector<FormParam>> params = DecodeForm("a=1+2&b=%41%3d&&c&=v&d=");
  ASSERT_TRUE(params.has_value());
  EXPECT_EQ(*params, (std::vector<FormParam>{{"a", "1 2"}, {"b", "A="}, {"c", ""}, {"", "v"}, {"d", ""}}));
  EXPECT_FALSE(DecodeForm("a=%zz").has_value());
  const ingest::CanonicalEvent& event = OnlyEvent(Translate(
      Signed("CallSid=CA3&CallStatus=completed&Timestamp=Tue%2C+01+Dec+2026+17%3A59%3A30+%2B0900")));
  EXPECT_EQ(event.timestamp, At("2026-12-01T08:59:30Z"));
}

}  // namespace
}  // namespace tessera::connectors
