#include "connectors/email_webhooks.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include <chrono>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "tests/connectors/sample_payloads.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "connectors/signatures.h"
#include "ingest/identifier_extractor.h"
#include "simdjson.h"

namespace tessera::connectors {
namespace {

using std::chrono::seconds;

using testing::ReadSample;

ingest::Timestamp UnixSeconds(int64_t value) { return ingest::Timestamp(seconds(value)); }

// Headers by case-insensitive name, owned by the test; the request borrows them.
struct Headers {
  std::map<std::string, std::string> by_lower_name;

  void Set(const std::string& name, std::string value) {
    by_lower_name[absl::AsciiStrToLower(name)] = std::move(value);
  }
  std::function<std::string_view(std::string_view)> Lookup() const {
    return [this](std::string_view name) -> std::string_view {
      const auto found = by_lower_name.find(absl::AsciiStrToLower(absl::string_view(name.data(), name.size())));
      return found == by_lower_name.end() ? std::string_view() : std::string_view(found->second);
    };
  }
};

// A P-256 key pair made for the test, to sign SendGrid bodies the way SendGrid does.
class TestSigningKey {
 public:
  TestSigningKey() : key_(EVP_EC_gen("P-256"), EVP_PKEY_free) {}
  TestSigningKey(const TestSigningKey&) = delete;
  TestSigningKey& operator=(const TestSigningKey&) = delete;

  // The public key as SendGrid shows it: base64 of the DER SubjectPublicKeyInfo.
  std::string PublicKeyBase64() const {
    unsigned char* der = nullptr;
    const int length = i2d_PUBKEY(key_.get(), &der);
    EXPECT_GT(length, 0);
    std::string encoded = absl::Base64Escape(absl::string_view(reinterpret_cast<const char*>(der), length));
    OPENSSL_free(der);
    return encoded;
  }

  // base64 of the DER ECDSA signature over SHA-256(data).
  std::string Sign(const std::string& data) const {
    std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> context(EVP_MD_CTX_new(), EVP_MD_CTX_free);
    size_t length = 0;
    EXPECT_EQ(EVP_DigestSignInit(context.get(), nullptr, EVP_sha256(), nullptr, key_.get()), 1);
    EXPECT_EQ(EVP_DigestSign(context.get(), nullptr, &length, reinterpret_cast<const unsigned char*>(data.data()),
                             data.size()), 1);
    std::string signature(length, '\0');
    EXPECT_EQ(EVP_DigestSign(context.get(), reinterpret_cast<unsigned char*>(signature.data()), &length,
                             reinterpret_cast<const unsigned char*>(data.data()), data.size()), 1);
    signature.resize(length);
    return absl::Base64Escape(signature);
  }

 private:
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key_;
};

// One SendGrid delivery, signed; it owns everything the WebhookRequest borrows.
struct SendGridDelivery {
  std::string body;
  Headers headers;

  WebhookRequest Request(ingest::Timestamp received_at = UnixSeconds(1'700'000'000)) const {
    WebhookRequest request;
    request.body = body;
    request.header = headers.Lookup();
    request.received_at = received_at;
    return request;
  }
};

SendGridDelivery SignedSendGrid(const TestSigningKey& key, std::string body, const std::string& timestamp = "1700000000") {
  SendGridDelivery delivery;
  delivery.headers.Set("X-Twilio-Email-Event-Webhook-Timestamp", timestamp);
  delivery.headers.Set("X-Twilio-Email-Event-Webhook-Signature", key.Sign(timestamp + body));
  delivery.body = std::move(body);
  return delivery;
}

// SendGrid's own signed sample (sendgrid-python's test), with its key.
struct SendGridSample {
  SendGridDelivery delivery;
  SendGridOptions options;
};

SendGridSample ReadSignedSendGridSample() {
  SendGridSample sample;
  sample.delivery.body = ReadSample("sendgrid/signed_event_body.bin");
  const std::string headers_json = ReadSample("sendgrid/signed_event_headers.json");
  simdjson::dom::parser parser;
  simdjson::dom::element headers = parser.parse(headers_json);
  std::string_view key, signature, timestamp;
  EXPECT_EQ(headers["verification_public_key_base64_der"].get(key), simdjson::SUCCESS);
  EXPECT_EQ(headers["header_X-Twilio-Email-Event-Webhook-Signature"].get(signature), simdjson::SUCCESS);
  EXPECT_EQ(headers["header_X-Twilio-Email-Event-Webhook-Timestamp"].get(timestamp), simdjson::SUCCESS);
  sample.options.public_key = std::string(key);
  sample.delivery.headers.Set("x-twilio-email-event-webhook-signature", std::string(signature));
  sample.delivery.headers.Set("X-TWILIO-EMAIL-EVENT-WEBHOOK-TIMESTAMP", std::string(timestamp));
  return sample;
}

// A member of a JSON object text, as minified JSON ("" when absent), for compact assertions.
std::string JsonMember(const std::string& json, std::string_view pointer) {
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (parser.parse(json).get(root) != simdjson::SUCCESS) return "<invalid JSON: " + json + ">";
  simdjson::dom::element value;
  if (root.at_pointer(pointer).get(value) != simdjson::SUCCESS) return "";
  return simdjson::minify(value);
}

std::vector<std::string> EventNames(const ingest::ParsedRequest& parsed) {
  std::vector<std::string> names;
  for (const ingest::CanonicalEvent& event : parsed.events) names.push_back(event.event);
  return names;
}

// ---------------------------------------------------------------------------------------------
// SendGrid

TEST(SendGridEventsTest, SignedSampleVerifiesAndTranslates) {
  const SendGridSample sample = ReadSignedSendGridSample();
  const auto parsed = TranslateSendGridEvents(sample.delivery.Request(), sample.options);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  ASSERT_FALSE(parsed->request_error.has_value()) << parsed->request_error->message;
  ASSERT_EQ(parsed->events.size(), 1u);
  EXPECT_EQ(parsed->event_count, 1u);
  EXPECT_TRUE(parsed->rejected.empty());
  const ingest::CanonicalEvent& event = parsed->events[0];
  EXPECT_EQ(event.type, ingest::EventType::kTrack);
  EXPECT_EQ(event.event, "Email Dropped");
  EXPECT_EQ(event.message_id, "sendgrid-ZHJvcC0xMDk5NDkxOS1MUnpYbF9OSFN0T0doUTRrb2ZTbV9BLTA");
  EXPECT_FALSE(event.message_id_generated);
  EXPECT_EQ(event.timestamp, UnixSeconds(1600112492));
  EXPECT_EQ(event.received_at, UnixSeconds(1'700'000'000));
  EXPECT_TRUE(event.user_id.empty() && event.anonymous_id.empty());
  EXPECT_TRUE(event.space.empty() && event.source.empty() && event.channel.empty()) << "the pipeline stamps these";
  EXPECT_EQ(JsonMember(event.context, "/traits/email"), "\"hello@world.com\"") << event.context;
  EXPECT_EQ(JsonMember(event.properties, "/provider"), "\"sendgrid\"") << event.properties;
  EXPECT_EQ(JsonMember(event.properties, "/provider_event"), "\"dropped\"");
  EXPECT_EQ(JsonMember(event.properties, "/reason"), "\"Bounced Address\"");
  EXPECT_EQ(JsonMember(event.properties, "/sg_message_id"),
            "\"LRzXl_NHStOGhQ4kofSm_A.filterdrecv-p3mdw1-756b745b58-kmzbl-18-5F5FC76C-9.0\"");
  EXPECT_EQ(JsonMember(event.properties, "/smtp_id"), "\"<LRzXl_NHStOGhQ4kofSm_A@ismtpd0039p1iad1.sendgrid.net>\"");
}

TEST(SendGridEventsTest, IdentifierExtractorFindsTheRecipientsEmail) {
  const SendGridSample sample = ReadSignedSendGridSample();
  const auto parsed = TranslateSendGridEvents(sample.delivery.Request(), sample.options);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  ASSERT_EQ(parsed->events.size(), 1u);
  const ingest::ExtractedIdentifiers found = ingest::IdentifierExtractor().Extract(parsed->events[0]);
  ASSERT_EQ(found.identifiers.size(), 1u) << parsed->events[0].context;
  EXPECT_EQ(found.identifiers[0].type, "email");
  EXPECT_EQ(found.identifiers[0].value, "hello@world.com");
  EXPECT_TRUE(found.warnings.empty());
}

TEST(SendGridEventsTest, TamperedBodyOrSignatureIsUnauthenticated) {
  SendGridSample sample = ReadSignedSendGridSample();
  sample.delivery.body.replace(sample.delivery.body.find("hello@world.com"), 15, "hacker@evil.com");
  const auto tampered = TranslateSendGridEvents(sample.delivery.Request(), sample.options);
  EXPECT_TRUE(absl::IsUnauthenticated(tampered.status())) << tampered.status();

  SendGridSample other_timestamp = ReadSignedSendGridSample();
  other_timestamp.delivery.headers.Set("X-Twilio-Email-Event-Webhook-Timestamp", "1600112503");
  EXPECT_TRUE(absl::IsUnauthenticated(TranslateSendGridEvents(other_timestamp.delivery.Request(),
                                                              other_timestamp.options).status()))
      << "the timestamp header is signed too";

  SendGridSample garbage_signature = ReadSignedSendGridSample();
  garbage_signature.delivery.headers.Set("X-Twilio-Email-Event-Webhook-Signature", "bm90IGEgc2lnbmF0dXJl");
  EXPECT_TRUE(absl::IsUnauthenticated(
      TranslateSendGridEvents(garbage_signature.delivery.Request(), garbage_signature.options).status()));
}

TEST(SendGridEventsTest, MissingHeadersOrKeyAreUnauthenticated) {
  SendGridSample no_signature = ReadSignedSendGridSample();
  no_signature.delivery.headers.by_lower_name.erase("x-twilio-email-event-webhook-signature");
  EXPECT_TRUE(absl::IsUnauthenticated(TranslateSendGridEvents(no_signature.delivery.Request(), no_signature.options).status()));

  SendGridSample no_timestamp = ReadSignedSendGridSample();
  no_timestamp.delivery.headers.by_lower_name.erase("x-twilio-email-event-webhook-timestamp");
  EXPECT_TRUE(absl::IsUnauthenticated(TranslateSendGridEvents(no_timestamp.delivery.Request(), no_timestamp.options).status()));

  const SendGridSample sample = ReadSignedSendGridSample();
  const auto unconfigured = TranslateSendGridEvents(sample.delivery.Request(), SendGridOptions{});
  EXPECT_TRUE(absl::IsUnauthenticated(unconfigured.status())) << unconfigured.status();
  EXPECT_NE(unconfigured.status().message().find("no verification key configured"), std::string_view::npos);

  const auto unreadable = TranslateSendGridEvents(sample.delivery.Request(), SendGridOptions{.public_key = "AAAA"});
  EXPECT_TRUE(absl::IsFailedPrecondition(unreadable.status())) << unreadable.status();
}

TEST(SendGridEventsTest, StaleTimestampRefusedWhenMaxAgeSet) {
  SendGridSample sample = ReadSignedSendGridSample();  // signed at 1600112502
  sample.options.max_age_seconds = 300;
  EXPECT_TRUE(TranslateSendGridEvents(sample.delivery.Request(UnixSeconds(1600112502 + 299)), sample.options).ok());
  EXPECT_TRUE(absl::IsUnauthenticated(
      TranslateSendGridEvents(sample.delivery.Request(UnixSeconds(1600112502 + 301)), sample.options).status()));
}

TEST(SendGridEventsTest, AllTypesSummaryTranslatesEveryKind) {
  const TestSigningKey key;
  const SendGridDelivery delivery = SignedSendGrid(key, ReadSample("sendgrid/event_webhook_all_types_summary.json"));
  const auto parsed = TranslateSendGridEvents(delivery.Request(), SendGridOptions{.public_key = key.PublicKeyBase64()});
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  ASSERT_FALSE(parsed->request_error.has_value()) << parsed->request_error->message;
  EXPECT_TRUE(parsed->rejected.empty());
  EXPECT_EQ(parsed->event_count, 11u);
  EXPECT_EQ(EventNames(*parsed),
            (std::vector<std::string>{"Email Processed", "Email Deferred", "Email Delivered", "Email Opened",
                                      "Email Link Clicked", "Email Bounced", "Email Dropped", "Email Marked as Spam",
                                      "Unsubscribed", "Unsubscribed from Group", "Resubscribed to Group"}));
  for (size_t i = 0; i < parsed->events.size(); ++i) {
    const ingest::CanonicalEvent& event = parsed->events[i];
    EXPECT_EQ(parsed->index_of[i], i);
    EXPECT_EQ(event.message_id, "sendgrid-sg_event_id") << "the summary gives every event the id \"sg_event_id\"";
    EXPECT_EQ(event.timestamp, UnixSeconds(1513299569)) << event.event;
    EXPECT_EQ(JsonMember(event.context, "/traits/email"), "\"example@test.com\"") << event.event;
    EXPECT_EQ(JsonMember(event.properties, "/category"), "\"cat facts\"") << event.event;
  }
  EXPECT_EQ(JsonMember(parsed->events[1].properties, "/response"), "\"400 try again later\"");
  EXPECT_EQ(JsonMember(parsed->events[1].properties, "/attempt"), "\"5\"");
  EXPECT_EQ(JsonMember(parsed->events[3].context, "/ip"), "\"255.255.255.255\"");
  EXPECT_NE(JsonMember(parsed->events[3].context, "/userAgent").find("MSIE 6.1"), std::string::npos);
  EXPECT_EQ(JsonMember(parsed->events[4].properties, "/url"), "\"http://www.sendgrid.com/\"");
  EXPECT_EQ(JsonMember(parsed->events[5].properties, "/reason"), "\"500 unknown recipient\"");
  EXPECT_EQ(JsonMember(parsed->events[5].properties, "/status"), "\"5.0.0\"");
  EXPECT_EQ(JsonMember(parsed->events[9].properties, "/asm_group_id"), "10");
  EXPECT_EQ(JsonMember(parsed->events[10].properties, "/asm_group_id"), "10");
}

TEST(SendGridEventsTest, PerTypeExamplesTranslateEveryKind) {
  const TestSigningKey key;
  const SendGridDelivery delivery = SignedSendGrid(key, ReadSample("sendgrid/event_webhook_per_type_examples.json"));
  const auto parsed = TranslateSendGridEvents(delivery.Request(), SendGridOptions{.public_key = key.PublicKeyBase64()});
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  ASSERT_FALSE(parsed->request_error.has_value()) << parsed->request_error->message;
  for (const ingest::RejectedEvent& rejected : parsed->rejected) {
    ADD_FAILURE() << "rejected [" << rejected.index << "] " << rejected.error.field << ": " << rejected.error.message;
  }
  EXPECT_EQ(parsed->event_count, 15u);
  EXPECT_EQ(EventNames(*parsed),
            (std::vector<std::string>{"Email Processed", "Email Dropped", "Email Delivered", "Email Deferred",
                                      "Email Bounced", "Email Bounced", "Email Opened", "Email Link Clicked",
                                      "Email Marked as Spam", "Unsubscribed", "Unsubscribed from Group",
                                      "Resubscribed to Group", "Email Opened", "Email Processed",
                                      "Email Link Clicked"}));
  const auto& events = parsed->events;
  ASSERT_EQ(events.size(), 15u);
  EXPECT_EQ(events[0].message_id, "sendgrid-rbtnWrG1DVDGGGFHFyun0A==");
  EXPECT_EQ(JsonMember(events[0].properties, "/pool"), R"({"name":"new_MY_test","id":210})");
  EXPECT_EQ(JsonMember(events[4].properties, "/type"), "\"bounce\"");
  EXPECT_EQ(JsonMember(events[5].properties, "/type"), "\"blocked\"");
  EXPECT_EQ(events[4].message_id, events[5].message_id) << "the sample reuses one sg_event_id for both bounces";
  // The Single Send example sends its timestamp in milliseconds and a non-string category.
  EXPECT_EQ(events[12].timestamp, ingest::Timestamp(std::chrono::milliseconds(1591726752372)));
  EXPECT_EQ(JsonMember(events[12].properties, "/category"), "[]");
  EXPECT_EQ(JsonMember(events[12].properties, "/custom_args/singlesend_name"), "\"Example Single Send\"");
  EXPECT_EQ(JsonMember(events[13].context, "/traits/email"), "\"john.doe@sendgrid.com\"");
  EXPECT_EQ(events[13].timestamp, UnixSeconds(1427409578));
  EXPECT_EQ(JsonMember(events[14].properties, "/category"), R"(["category1","category2"])");
  EXPECT_EQ(JsonMember(events[14].properties, "/url"), "\"http://yourdomain.com/blog/news.html\"");
  EXPECT_EQ(JsonMember(events[14].properties, "/custom_args/unique_arg_key"), "\"unique_arg_value\"")
      << events[14].properties;
  EXPECT_EQ(JsonMember(events[14].properties, "/custom_args/newsletter"), "") << "objects are not simple custom args";
  EXPECT_EQ(JsonMember(events[14].properties, "/url_offset"), R"({"index":0,"type":"html"})");
}

TEST(SendGridEventsTest, MissingEmailIsRejectedByIndexAndTheOthersGoOn) {
  const TestSigningKey key;
  const SendGridDelivery delivery = SignedSendGrid(key, R"([
    {"email":"a@example.com","event":"delivered","sg_event_id":"e0","timestamp":1513299569},
    {"event":"open","sg_event_id":"e1","timestamp":1513299570},
    {"email":"c@example.com","event":"click","sg_event_id":"e2","timestamp":1513299571,"url":"https://x.test/"},
    "not an event",
    {"email":"","event":"open","sg_event_id":"e4"},
    {"email":"f@example.com","sg_event_id":"e5"},
    {"email":"g@example.com","event":"open","sg_event_id":"e6","timestamp":"yesterday"}
  ])");
  const auto parsed = TranslateSendGridEvents(delivery.Request(), SendGridOptions{.public_key = key.PublicKeyBase64()});
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->event_count, 7u);
  ASSERT_EQ(parsed->events.size(), 2u);
  EXPECT_EQ(parsed->events[0].message_id, "sendgrid-e0");
  EXPECT_EQ(parsed->events[1].message_id, "sendgrid-e2");
  EXPECT_EQ(parsed->index_of, (std::vector<size_t>{0, 2}));
  ASSERT_EQ(parsed->rejected.size(), 5u);
  EXPECT_EQ(parsed->rejected[0].index, 1u);
  EXPECT_EQ(parsed->rejected[0].error.code, ingest::error_code::kMissingIdentity);
  EXPECT_EQ(parsed->rejected[0].error.field, "[1].email");
  EXPECT_EQ(parsed->rejected[0].message_id, "sendgrid-e1");
  EXPECT_EQ(parsed->rejected[1].index, 3u);
  EXPECT_EQ(parsed->rejected[1].error.code, ingest::error_code::kInvalidType);
  EXPECT_EQ(parsed->rejected[1].error.field, "[3]");
  EXPECT_EQ(parsed->rejected[2].error.field, "[4].email");
  EXPECT_EQ(parsed->rejected[2].error.code, ingest::error_code::kMissingIdentity);
  EXPECT_EQ(parsed->rejected[3].error.field, "[5].event");
  EXPECT_EQ(parsed->rejected[3].error.code, ingest::error_code::kMissingField);
  EXPECT_EQ(parsed->rejected[4].error.field, "[6].timestamp");
  EXPECT_EQ(parsed->rejected[4].error.code, ingest::error_code::kInvalidTimestamp);
}

TEST(SendGridEventsTest, UnknownKindIsKeptAsGenericEmailEvent) {
  const TestSigningKey key;
  const SendGridDelivery delivery = SignedSendGrid(
      key, R"([{"email":"a@example.com","event":"machine_opened","sg_event_id":"u1","timestamp":1700000000}])");
  const auto parsed = TranslateSendGridEvents(delivery.Request(), SendGridOptions{.public_key = key.PublicKeyBase64()});
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  ASSERT_EQ(parsed->events.size(), 1u);
  EXPECT_EQ(parsed->events[0].event, "Email Event");
  EXPECT_EQ(JsonMember(parsed->events[0].properties, "/provider_event"), "\"machine_opened\"");
  EXPECT_EQ(parsed->events[0].message_id, "sendgrid-u1");
}

TEST(SendGridEventsTest, ReplayGivesIdenticalMessageIdsEvenWithoutEventIds) {
  const TestSigningKey key;
  const std::string body = R"([{"email":"a@example.com","event":"open","timestamp":1700000000},
                               {"email":"a@example.com","event":"open","timestamp":1700000001},
                               {"email":"b@example.com","event":"open","sg_event_id":"x9","timestamp":1700000000}])";
  const SendGridOptions options{.public_key = key.PublicKeyBase64()};
  const SendGridDelivery first = SignedSendGrid(key, body, "1700000000");
  const SendGridDelivery replay = SignedSendGrid(key, body, "1700000600");
  const auto a = TranslateSendGridEvents(first.Request(), options);
  const auto b = TranslateSendGridEvents(replay.Request(UnixSeconds(1'700'000'700)), options);
  ASSERT_TRUE(a.ok() && b.ok()) << a.status() << " / " << b.status();
  ASSERT_EQ(a->events.size(), 3u);
  ASSERT_EQ(b->events.size(), 3u);
  for (size_t i = 0; i < 3; ++i) EXPECT_EQ(a->events[i].message_id, b->events[i].message_id) << i;
  EXPECT_TRUE(a->events[0].message_id.starts_with("sendgrid-h-")) << a->events[0].message_id;
  EXPECT_TRUE(a->events[0].message_id_generated);
  EXPECT_NE(a->events[0].message_id, a->events[1].message_id) << "different events hash apart";
  EXPECT_EQ(a->events[2].message_id, "sendgrid-x9");
  EXPECT_FALSE(a->events[2].message_id_generated);
}

TEST(SendGridEventsTest, BodyNotAnArrayIsARequestError) {
  const TestSigningKey key;
  const SendGridOptions options{.public_key = key.PublicKeyBase64()};
  const SendGridDelivery object_body = SignedSendGrid(key, R"({"email":"a@example.com","event":"open"})");
  const auto parsed = TranslateSendGridEvents(object_body.Request(), options);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  ASSERT_TRUE(parsed->request_error.has_value());
  EXPECT_EQ(parsed->request_error->code, ingest::error_code::kInvalidType);
  EXPECT_TRUE(parsed->events.empty());

  const SendGridDelivery not_json = SignedSendGrid(key, "[{\"email\":");
  const auto broken = TranslateSendGridEvents(not_json.Request(), options);
  ASSERT_TRUE(broken.ok()) << broken.status();
  ASSERT_TRUE(broken->request_error.has_value());
  EXPECT_EQ(broken->request_error->code, ingest::error_code::kInvalidJson);
}

// ---------------------------------------------------------------------------------------------
// Mailgun

constexpr std::string_view kMailgunKey = "key-test-0123456789abcdef";

// {"signature":{...},"event-data":<event_data>} signed with `key`.
std::string MailgunEnvelope(std::string_view event_data, std::string_view key = kMailgunKey,
                            std::string_view timestamp = "1700000000", std::string_view token = "a8ce0edb2dd8301dee6c2405235584e45aa91d1e9f979f3de0") {
  const std::string signature = HexEncode(HmacSha256(key, std::string(timestamp) + std::string(token)));
  return std::string(R"({"signature":{"timestamp":")") + std::string(timestamp) + R"(","token":")" +
         std::string(token) + R"(","signature":")" + signature + R"("},"event-data":)" + std::string(event_data) + "}";
}

WebhookRequest MailgunRequest(const std::string& body, ingest::Timestamp received_at = UnixSeconds(1'700'000'010)) {
  WebhookRequest request;
  request.body = body;
  request.received_at = received_at;
  return request;
}

std::vector<std::string> MailgunSamples() {
  const std::string text = ReadSample("mailgun/event_data_examples.json");
  simdjson::dom::parser parser;
  simdjson::dom::array items;
  EXPECT_EQ(parser.parse(text).get(items), simdjson::SUCCESS);
  std::vector<std::string> samples;
  for (simdjson::dom::element item : items) samples.push_back(simdjson::minify(item));
  return samples;
}

TEST(MailgunEventTest, AllTenSamplesTranslate) {
  const std::vector<std::string> samples = MailgunSamples();
  ASSERT_EQ(samples.size(), 10u);
  struct Expected {
    std::string name, message_id, email;
    int64_t micros;
  };
  const std::vector<Expected> expected = {
      {"Email Accepted", "mailgun-jxVuhYlhReaK3QsggHfFRA", "team@example.org", 1529692198641821},
      {"Email Accepted", "mailgun-cWgTfzV6QQiXY4PqhlLClw", "john@example.com", 1529692198719447},
      {"Email Delivered", "mailgun-hK7mQVt1QtqRiOfQXta4sw", "john@example.com", 1529692199626182},
      {"Email Bounced", "mailgun-pl271FzxTTmGRW8Uj3dUWw", "slava@mailgun.com", 1529701969818328},
      {"Email Deferred", "mailgun-xYrATi63Rke8EC_s7EoJeA", "test@test.com", 1665066523871657},
      {"Email Opened", "mailgun--laxIqj9QWubsjY_3pTq_g", "recipient@example.com", 1377047343042277},
      {"Email Link Clicked", "mailgun-G5zMz2ysS6OxZ2C8xb2Tqg", "recipient@example.com", 1377075564094891},
      {"Unsubscribed", "mailgun-W3X4JOhFT-OZidZGKKr9iA", "recipient@example.com", 1377213791421473},
      {"Email Marked as Spam", "mailgun-ncV2XwymRUKbPek_MIM-Gw", "foo@example.com", 1377214260049634},
      {"Email Stored", "mailgun-WRVmVc47QYi4DHth_xpRUA", "team@example.org", 1529692198691758},
  };
  const MailgunOptions options{.signing_key = std::string(kMailgunKey)};
  for (size_t i = 0; i < samples.size(); ++i) {
    const std::string body = MailgunEnvelope(samples[i]);
    const auto parsed = TranslateMailgunEvent(MailgunRequest(body), options);
    ASSERT_TRUE(parsed.ok()) << "sample " << i << ": " << parsed.status();
    ASSERT_FALSE(parsed->request_error.has_value()) << "sample " << i << ": " << parsed->request_error->field << " "
                                                    << parsed->request_error->message;
    ASSERT_EQ(parsed->events.size(), 1u) << "sample " << i;
    EXPECT_EQ(parsed->event_count, 1u);
    const ingest::CanonicalEvent& event = parsed->events[0];
    EXPECT_EQ(event.type, ingest::EventType::kTrack);
    EXPECT_EQ(event.event, expected[i].name) << "sample " << i;
    EXPECT_EQ(event.message_id, expected[i].message_id) << "sample " << i;
    EXPECT_EQ(JsonMember(event.context, "/traits/email"), "\"" + expected[i].email + "\"") << "sample " << i;
    EXPECT_EQ(event.timestamp, ingest::Timestamp(std::chrono::microseconds(expected[i].micros))) << "sample " << i;
    EXPECT_EQ(event.received_at, UnixSeconds(1'700'000'010));
    EXPECT_EQ(JsonMember(event.properties, "/provider"), "\"mailgun\"") << "sample " << i;
  }
  const auto failed = TranslateMailgunEvent(MailgunRequest(MailgunEnvelope(samples[3])), options);
  EXPECT_EQ(JsonMember(failed->events[0].properties, "/severity"), "\"permanent\"");
  EXPECT_EQ(JsonMember(failed->events[0].properties, "/delivery_status/code"), "605");
  const auto clicked = TranslateMailgunEvent(MailgunRequest(MailgunEnvelope(samples[6])), options);
  EXPECT_EQ(JsonMember(clicked->events[0].properties, "/url"), "\"http://example.com/signup\"");
  EXPECT_EQ(JsonMember(clicked->events[0].context, "/ip"), "\"123.123.123.321\"");
  EXPECT_EQ(JsonMember(clicked->events[0].context, "/location/city"), "\"Austin\"");
  EXPECT_NE(JsonMember(clicked->events[0].context, "/userAgent").find("Chromium"), std::string::npos);
  const auto complained = TranslateMailgunEvent(MailgunRequest(MailgunEnvelope(samples[8])), options);
  EXPECT_EQ(JsonMember(complained->events[0].properties, "/from"), "\"John Doe <sender@example.com>\"");
  EXPECT_EQ(JsonMember(complained->events[0].properties, "/email_message_id"),
            "\"20130718032413.263EE2E0926@example.com\"");
}

TEST(MailgunEventTest, BadSignatureIsUnauthenticated) {
  const std::string event = MailgunSamples()[2];
  const MailgunOptions options{.signing_key = std::string(kMailgunKey)};
  const std::string wrong_key = MailgunEnvelope(event, "another-key");
  EXPECT_TRUE(absl::IsUnauthenticated(TranslateMailgunEvent(MailgunRequest(wrong_key), options).status()));

  std::string tampered_token = MailgunEnvelope(event);
  tampered_token.replace(tampered_token.find("a8ce0edb"), 8, "b8ce0edb");
  EXPECT_TRUE(absl::IsUnauthenticated(TranslateMailgunEvent(MailgunRequest(tampered_token), options).status()));

  const std::string unsigned_body = std::string(R"({"event-data":)") + event + "}";
  EXPECT_TRUE(absl::IsUnauthenticated(TranslateMailgunEvent(MailgunRequest(unsigned_body), options).status()));

  const std::string good = MailgunEnvelope(event);
  EXPECT_TRUE(TranslateMailgunEvent(MailgunRequest(good), options).ok());
  EXPECT_TRUE(absl::IsUnauthenticated(TranslateMailgunEvent(MailgunRequest(good), MailgunOptions{}).status()))
      << "no signing key configured refuses everything";
}

TEST(MailgunEventTest, StaleTimestampRefusedWhenMaxAgeSet) {
  const std::string body = MailgunEnvelope(MailgunSamples()[2], kMailgunKey, "1700000000");
  const MailgunOptions options{.signing_key = std::string(kMailgunKey), .max_age_seconds = 600};
  EXPECT_TRUE(TranslateMailgunEvent(MailgunRequest(body, UnixSeconds(1'700'000'599)), options).ok());
  const auto stale = TranslateMailgunEvent(MailgunRequest(body, UnixSeconds(1'700'000'601)), options);
  EXPECT_TRUE(absl::IsUnauthenticated(stale.status())) << stale.status();
  const MailgunOptions unchecked{.signing_key = std::string(kMailgunKey)};
  EXPECT_TRUE(TranslateMailgunEvent(MailgunRequest(body, UnixSeconds(1'800'000'000)), unchecked).ok())
      << "max_age_seconds 0 means no check";
}

TEST(MailgunEventTest, UnknownKindIsGenericAndMissingRecipientIsARequestError) {
  const MailgunOptions options{.signing_key = std::string(kMailgunKey)};
  const std::string unknown =
      MailgunEnvelope(R"({"event":"list_member_uploaded","id":"Zz1","timestamp":1700000000.5,"recipient":"a@example.com"})");
  const auto parsed = TranslateMailgunEvent(MailgunRequest(unknown), options);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  ASSERT_EQ(parsed->events.size(), 1u);
  EXPECT_EQ(parsed->events[0].event, "Email Event");
  EXPECT_EQ(parsed->events[0].message_id, "mailgun-Zz1");
  EXPECT_EQ(JsonMember(parsed->events[0].properties, "/provider_event"), "\"list_member_uploaded\"");
  EXPECT_EQ(parsed->events[0].timestamp, ingest::Timestamp(std::chrono::milliseconds(1'700'000'000'500)));

  const std::string anonymous = MailgunEnvelope(R"({"event":"opened","id":"Zz2","timestamp":1700000000})");
  const auto missing = TranslateMailgunEvent(MailgunRequest(anonymous), options);
  ASSERT_TRUE(missing.ok()) << missing.status();
  ASSERT_TRUE(missing->request_error.has_value());
  EXPECT_EQ(missing->request_error->code, ingest::error_code::kMissingIdentity);
  EXPECT_EQ(missing->request_error->field, "event-data.recipient");
  EXPECT_TRUE(missing->events.empty());

  const auto not_json = TranslateMailgunEvent(MailgunRequest("{\"signature\":"), options);
  ASSERT_TRUE(not_json.ok()) << not_json.status();
  ASSERT_TRUE(not_json->request_error.has_value());
  EXPECT_EQ(not_json->request_error->code, ingest::error_code::kInvalidJson);
}

TEST(MailgunEventTest, ReplayGivesIdenticalMessageIds) {
  const MailgunOptions options{.signing_key = std::string(kMailgunKey)};
  const std::string sample = MailgunSamples()[5];
  const auto first = TranslateMailgunEvent(MailgunRequest(MailgunEnvelope(sample, kMailgunKey, "1700000000", "tok1")), options);
  const auto again = TranslateMailgunEvent(MailgunRequest(MailgunEnvelope(sample, kMailgunKey, "1700000300", "tok2")), options);
  ASSERT_TRUE(first.ok() && again.ok());
  ASSERT_EQ(first->events.size(), 1u);
  ASSERT_EQ(again->events.size(), 1u);
  EXPECT_EQ(first->events[0].message_id, again->events[0].message_id);
}

}  // namespace
}  // namespace tessera::connectors
