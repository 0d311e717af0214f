#include "connectors/helpdesk_webhooks.h"

#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "base/time.h"
#include "connectors/signatures.h"
#include "ingest/identifier_extractor.h"
#include "simdjson.h"

namespace tessera::connectors {
namespace {

constexpr std::string_view kSecret = "zd-signing-secret";
constexpr std::string_view kSignedAt = "2024-04-17T17:18:10Z";

ingest::Timestamp At(std::string_view iso) { return *base::ParseIso8601(iso); }

// Headers by case-insensitive name, owned by the test; the request borrows them.
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

// One delivery; it owns everything the WebhookRequest borrows.
struct Delivery {
  std::string body;
  Headers headers;
  ingest::Timestamp received_at = At("2024-04-17T17:18:40Z");

  WebhookRequest Request() const {
    return WebhookRequest{.body = body, .header = headers.Lookup(), .query = {}, .received_at = received_at};
  }
};

// A Zendesk delivery signed the documented way: base64(HMAC-SHA256(secret, timestamp + body)).
Delivery SignedZendesk(std::string body, std::string_view secret = kSecret,
                       std::string timestamp = std::string(kSignedAt)) {
  Delivery delivery;
  delivery.headers.Set("X-Zendesk-Webhook-Signature", Base64Encode(HmacSha256(secret, timestamp + body)));
  delivery.headers.Set("X-Zendesk-Webhook-Signature-Timestamp", timestamp);
  delivery.body = std::move(body);
  return delivery;
}

absl::StatusOr<ingest::ParsedRequest> Zendesk(const Delivery& delivery, int64_t max_age_seconds = 300) {
  return TranslateZendeskWebhook(delivery.Request(),
                                 {.secret = std::string(kSecret), .max_age_seconds = max_age_seconds});
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

// The one event of a delivery that must translate.
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

// The request error of a delivery that must not translate, as "code field".
std::string RequestError(const absl::StatusOr<ingest::ParsedRequest>& parsed) {
  EXPECT_TRUE(parsed.ok()) << parsed.status();
  if (!parsed.ok() || !parsed->request_error) return "<no request error>";
  EXPECT_TRUE(parsed->events.empty());
  return parsed->request_error->code + " " + parsed->request_error->field;
}

constexpr std::string_view kTriggerTicket = R"({"ticket":{"id":35436,"subject":"Where is my order?",
  "status":"Open","priority":"high","tags":"vip delivery","via":{"channel":"email"},
  "requester":{"id":6596848315901,"email":"Lea@Example.com","phone":"+49 151 12345678","name":"Lea Fischer"},
  "satisfaction_rating":{"score":"good"},
  "created_at":"2024-04-17T17:18:10Z","updated_at":"2024-04-17T17:18:10Z"}})";

TEST(ZendeskWebhookTest, TriggerTicketBecomesTicketCreatedOnTheRequestersProfile) {
  const ingest::CanonicalEvent& event = OnlyEvent(Zendesk(SignedZendesk(std::string(kTriggerTicket))));
  EXPECT_EQ(event.event, "Ticket Created") << "created_at equals updated_at";
  EXPECT_EQ(event.type, ingest::EventType::kTrack);
  EXPECT_EQ(event.message_id, "zendesk-35436-2024-04-17T17:18:10Z");
  EXPECT_FALSE(event.message_id_generated);
  EXPECT_EQ(event.timestamp, At("2024-04-17T17:18:10Z"));
  EXPECT_EQ(event.properties,
            R"({"provider":"zendesk","ticket_id":"35436","subject":"Where is my order?","status":"open",)"
            R"("priority":"high","tags":["vip","delivery"],"via":"email","satisfaction":"good","csat":1})");
  EXPECT_EQ(JsonMember(event.context, "/traits"),
            R"({"email":"Lea@Example.com","phone":"+49 151 12345678","name":"Lea Fischer"})");
  EXPECT_EQ(JsonMember(event.context, "/externalIds/0"),
            R"({"id":"6596848315901","type":"zendesk_user_id","collection":"users","encoding":"none"})");

  // The identifier extractor finds the requester's email, phone and Zendesk id.
  const ingest::ExtractedIdentifiers found = ingest::IdentifierExtractor().Extract(event);
  std::vector<std::string> types;
  for (const auto& identifier : found.identifiers) types.push_back(std::string(identifier.type));
  EXPECT_EQ(types, (std::vector<std::string>{"email", "phone", "zendesk_user_id"})) << event.context;
}

TEST(ZendeskWebhookTest, StatusDecidesSolvedAndUpdatedAndUnknownStatusesAreKept) {
  auto ticket = [](std::string_view status, std::string_view updated_at) {
    return std::string(R"({"ticket":{"id":"7","status":")") + std::string(status) +
           R"(","requester":{"email":"a@example.com"},"created_at":"2024-04-17T10:00:00Z","updated_at":")" +
           std::string(updated_at) + R"("}})";
  };
  EXPECT_EQ(OnlyEvent(Zendesk(SignedZendesk(ticket("solved", "2024-04-17T11:00:00Z")))).event,
            "Ticket Solved");
  EXPECT_EQ(OnlyEvent(Zendesk(SignedZendesk(ticket("Closed", "2024-04-17T11:00:00Z")))).event,
            "Ticket Solved");
  EXPECT_EQ(OnlyEvent(Zendesk(SignedZendesk(ticket("pending", "2024-04-17T11:00:00Z")))).event,
            "Ticket Updated");
  const ingest::CanonicalEvent& unknown =
      OnlyEvent(Zendesk(SignedZendesk(ticket("escalated", "2024-04-17T11:00:00Z"))));
  EXPECT_EQ(unknown.event, "Ticket Updated");
  EXPECT_EQ(JsonMember(unknown.properties, "/status"), R"("escalated")");
  EXPECT_EQ(JsonMember(unknown.properties, "/satisfaction"), "null");
  EXPECT_EQ(JsonMember(unknown.properties, "/csat"), "null");

  // Zendesk's default placeholder is no ISO-8601 date: the event takes its receive time, the text
  // still names the version of the ticket.
  const Delivery delivery = SignedZendesk(ticket("open", "April 17, 2024 11:00"));
  const ingest::CanonicalEvent& plain = OnlyEvent(Zendesk(delivery));
  EXPECT_EQ(plain.message_id, "zendesk-7-April 17, 2024 11:00");
  EXPECT_EQ(plain.timestamp, delivery.received_at);
  EXPECT_FALSE(plain.original_timestamp.has_value());
}

TEST(ZendeskWebhookTest, SatisfactionIsGoodBadOrNull) {
  auto rated = [](std::string_view rating) {
    return std::string(R"({"ticket":{"id":1,"requester":{"email":"a@example.com"},"satisfaction_rating":)") +
           std::string(rating) + "}}";
  };
  const ingest::CanonicalEvent& bad =
      OnlyEvent(Zendesk(SignedZendesk(rated(R"({"score":"bad","comment":"slow"})"))));
  EXPECT_EQ(JsonMember(bad.properties, "/satisfaction"), R"("bad")");
  EXPECT_EQ(JsonMember(bad.properties, "/csat"), "0");
  const ingest::CanonicalEvent& offered = OnlyEvent(Zendesk(SignedZendesk(rated(R"({"score":"offered"})"))));
  EXPECT_EQ(JsonMember(offered.properties, "/satisfaction"), "null");
  EXPECT_EQ(JsonMember(offered.properties, "/csat"), "null");
  const ingest::CanonicalEvent& text = OnlyEvent(Zendesk(SignedZendesk(rated(R"("Good")"))));
  EXPECT_EQ(JsonMember(text.properties, "/csat"), "1");
}

// Issue 26: the ticket's description and latest comment are free text. The connector emits them
// (the pipeline removes them unless the service source keeps free text), and only when sent.
TEST(ZendeskWebhookTest, DescriptionAndLatestCommentBecomeFreeTextProperties) {
  const std::string trigger = R"({"ticket":{"id":35436,"status":"open","requester":{"email":"lea@example.com"},
    "description":"My order 1042 never arrived.","latest_comment":"Lea Fischer, Apr 17:\nStill waiting!",
    "updated_at":"2024-04-17T17:18:10Z"}})";
  const ingest::CanonicalEvent& event = OnlyEvent(Zendesk(SignedZendesk(trigger)));
  EXPECT_EQ(JsonMember(event.properties, "/description"), R"("My order 1042 never arrived.")");
  EXPECT_EQ(JsonMember(event.properties, "/comment"), R"("Lea Fischer, Apr 17:\nStill waiting!")");

  const std::string subscription = R"({"type":"zen:event-type:ticket.created","id":"evt-9",
    "time":"2024-04-17T17:18:10Z","detail":{"id":"35436","requester_id":"6596848315901",
    "description":"My order 1042 never arrived."}})";
  const ingest::CanonicalEvent& created = OnlyEvent(Zendesk(SignedZendesk(subscription)));
  EXPECT_EQ(JsonMember(created.properties, "/description"), R"("My order 1042 never arrived.")");
  EXPECT_EQ(JsonMember(created.properties, "/comment"), "");

  const ingest::CanonicalEvent& plain = OnlyEvent(Zendesk(SignedZendesk(std::string(kTriggerTicket))));
  EXPECT_EQ(JsonMember(plain.properties, "/description"), "") << "absent, not null, when not sent";
}

// The event-subscription shape, as Zendesk's event schema documents it.
TEST(ZendeskWebhookTest, EventSubscriptionTicketEventsUseTheEventIdAndTime) {
  const std::string created = R"({"type":"zen:event-type:ticket.created","account_id":88888888,
    "id":"01HNXXXX-CTEXAMPLE","time":"2024-04-17T17:18:10Z","zendesk_event_version":"2022-11-06",
    "subject":"zen:ticket:35436","detail":{"id":"35436","status":"Open","via":{"channel":"web"},
    "requester_id":"6596848315901","created_at":"2024-04-17T17:18:10Z","updated_at":"2024-04-17T17:18:10Z"},
    "event":{"current":{"status":"Open"}}})";
  const ingest::CanonicalEvent& event = OnlyEvent(Zendesk(SignedZendesk(created)));
  EXPECT_EQ(event.event, "Ticket Created");
  EXPECT_EQ(event.message_id, "zendesk-35436-01HNXXXX-CTEXAMPLE");
  EXPECT_EQ(event.timestamp, At("2024-04-17T17:18:10Z"));
  EXPECT_EQ(JsonMember(event.properties, "/provider_event"), R"("zen:event-type:ticket.created")");
  EXPECT_EQ(JsonMember(event.properties, "/via"), R"("web")");
  EXPECT_EQ(JsonMember(event.context, "/externalIds/0/id"), R"("6596848315901")");

  const std::string solved = R"({"type":"zen:event-type:ticket.status_changed","id":"evt-2",
    "time":"2024-04-18T09:00:00Z","detail":{"id":"35436","requester_id":"6596848315901","status":"OPEN"},
    "event":{"current":"SOLVED","previous":"OPEN"}})";
  const ingest::CanonicalEvent& status = OnlyEvent(Zendesk(SignedZendesk(solved)));
  EXPECT_EQ(status.event, "Ticket Solved") << "event.current is the new status";
  EXPECT_EQ(JsonMember(status.properties, "/status"), R"("solved")");

  const std::string user_event = R"({"type":"zen:event-type:user.active_changed","account_id":12514403,
    "id":"2b24ef10-19d4-4740-93cf-8f98ec4776c0","time":"2099-07-04T05:33:18Z","subject":"zen:user:6596848315901",
    "detail":{"email":"ada@example.com","id":"6596848315901","role":"end-user"},"event":{"current":false,"previous":true}})";
  const ingest::CanonicalEvent& generic = OnlyEvent(Zendesk(SignedZendesk(user_event)));
  EXPECT_EQ(generic.event, "Zendesk Event") << "an event kind not about tickets is kept, not dropped";
  EXPECT_EQ(JsonMember(generic.properties, "/provider_event"), R"("zen:event-type:user.active_changed")");
  EXPECT_EQ(JsonMember(generic.context, "/traits/email"), R"("ada@example.com")");
  EXPECT_EQ(JsonMember(generic.properties, "/object_id"), R"("6596848315901")");
  EXPECT_EQ(JsonMember(generic.properties, "/ticket_id"), "") << "a user event poses as no ticket";
}

TEST(ZendeskWebhookTest, MalformedPayloadsNameTheField) {
  EXPECT_EQ(RequestError(Zendesk(SignedZendesk("{nope"))), "invalid_json ");
  EXPECT_EQ(RequestError(Zendesk(SignedZendesk("[1]"))), "invalid_type ");
  EXPECT_EQ(RequestError(Zendesk(SignedZendesk(R"({"id":1})"))), "missing_field ticket");
  EXPECT_EQ(RequestError(Zendesk(SignedZendesk(R"({"ticket":"35436"})"))), "invalid_type ticket");
  EXPECT_EQ(RequestError(Zendesk(SignedZendesk(R"({"ticket":{"requester":{"email":"a@b.c"}}})"))),
            "missing_field ticket.id");
  EXPECT_EQ(RequestError(Zendesk(
                SignedZendesk(R"({"ticket":{"id":1,"tags":{"a":1},"requester":{"email":"a@b.c"}}})"))),
            "invalid_type ticket.tags");
  EXPECT_EQ(RequestError(Zendesk(SignedZendesk(R"({"ticket":{"id":1,"requester":{"email":["a@b.c"]}}})"))),
            "invalid_type ticket.requester.email");
  EXPECT_EQ(RequestError(Zendesk(SignedZendesk(R"({"ticket":{"id":1,"requester":{"name":"Lea"}}})"))),
            "missing_identity ticket.requester");
  EXPECT_EQ(RequestError(Zendesk(SignedZendesk(R"({"type":"zen:event-type:ticket.created","id":"e"})"))),
            "missing_field detail");
  EXPECT_EQ(
      RequestError(Zendesk(SignedZendesk(
          R"({"type":"zen:event-type:ticket.created","id":"e","time":"yesterday","detail":{"id":"1","requester_id":"2"}})"))),
      "invalid_timestamp time");
  EXPECT_EQ(
      RequestError(Zendesk(SignedZendesk(R"({"type":"zen:event-type:ticket.created","detail":{"id":"1"}})"))),
      "missing_identity detail.requester_id");
}

// Zendesk's published example (see signatures_test.cc) in the documented order timestamp + body:
// the connector accepts it, and refuses the published signature made in the old order.
TEST(ZendeskWebhookTest, VerifiesZendesksExampleInTheDocumentedOrder) {
  Delivery delivery;
  delivery.body = R"({"say": "hello"})";
  delivery.headers.Set("X-Zendesk-Webhook-Signature-Timestamp", "2021-07-25T10:00:00Z");
  delivery.headers.Set("X-Zendesk-Webhook-Signature", "Rry/4TtIdFyawtXXp8QdI6tlAUUQ/5kL1OTp5qo/ZIk=");
  delivery.received_at = At("2021-07-25T10:00:05Z");
  const ZendeskOptions options{.secret = "HRkRd4BeOAoUkfZr-mhauJT64rvBASlJRoIyPsd3zeA="};
  EXPECT_EQ(RequestError(TranslateZendeskWebhook(delivery.Request(), options)), "missing_field ticket")
      << "verified, then refused as no ticket";
  delivery.headers.Set("X-Zendesk-Webhook-Signature", "tRDSF7URY8BLCDlaBcQ7FHu051Zk+aAB0NKMP53teMw=");
  EXPECT_TRUE(absl::IsUnauthenticated(TranslateZendeskWebhook(delivery.Request(), options).status()));
}

TEST(ZendeskWebhookTest, WrongMissingAndStaleSignaturesAreUnauthenticated) {
  const std::string body(kTriggerTicket);
  EXPECT_TRUE(absl::IsUnauthenticated(Zendesk(SignedZendesk(body, "another-secret")).status()));
  Delivery tampered = SignedZendesk(body);
  tampered.body[tampered.body.find("high")] = 'H';
  EXPECT_TRUE(absl::IsUnauthenticated(Zendesk(tampered).status()));
  Delivery unsigned_delivery = SignedZendesk(body);
  unsigned_delivery.headers.by_lower_name.erase("x-zendesk-webhook-signature");
  EXPECT_TRUE(absl::IsUnauthenticated(Zendesk(unsigned_delivery).status()));
  Delivery no_timestamp = SignedZendesk(body);
  no_timestamp.headers.by_lower_name.erase("x-zendesk-webhook-signature-timestamp");
  EXPECT_TRUE(absl::IsUnauthenticated(Zendesk(no_timestamp).status()));
  // A signature over another timestamp than the header's does not verify.
  Delivery moved = SignedZendesk(body);
  moved.headers.Set("X-Zendesk-Webhook-Signature-Timestamp", "2024-04-17T17:18:11Z");
  EXPECT_TRUE(absl::IsUnauthenticated(Zendesk(moved).status()));
  EXPECT_TRUE(absl::IsUnauthenticated(
      TranslateZendeskWebhook(SignedZendesk(body, "").Request(), {.secret = ""}).status()))
      << "no secret configured refuses everything";

  // Stale: signed 10 minutes before it arrived; the default tolerance is 5 minutes.
  Delivery stale = SignedZendesk(body);
  stale.received_at = At(kSignedAt) + std::chrono::minutes(10);
  const absl::Status refused = Zendesk(stale).status();
  EXPECT_TRUE(absl::IsUnauthenticated(refused)) << refused;
  EXPECT_NE(refused.message().find("more than 300 seconds"), absl::string_view::npos) << refused;
  EXPECT_TRUE(Zendesk(stale, /*max_age_seconds=*/0).ok()) << "0 turns the check off";
  EXPECT_TRUE(Zendesk(stale, /*max_age_seconds=*/900).ok());
  // A timestamp that is no date cannot be judged fresh.
  EXPECT_TRUE(absl::IsUnauthenticated(Zendesk(SignedZendesk(body, kSecret, "1713374290")).status()));
}

// ---------------------------------------------------------------------------------------------
// Freshdesk

absl::StatusOr<ingest::ParsedRequest> Freshdesk(const Delivery& delivery,
                                                const FreshdeskOptions& options = {}) {
  return TranslateFreshdeskWebhook(delivery.Request(), options);
}

Delivery Unsigned(std::string body) {
  Delivery delivery;
  delivery.body = std::move(body);
  return delivery;
}

constexpr std::string_view kFreshdeskTicket = R"({"freshdesk_webhook":{"ticket_id":4211,
  "ticket_subject":"Refund request","ticket_status":4,"ticket_priority":3,"ticket_source":3,
  "ticket_tags":"refund, vip","ticket_contact_email":"jin@example.kr","ticket_contact_mobile":"010-1234-5678",
  "ticket_contact_name":"Jin","ticket_contact_id":"80012","ticket_satisfaction_rating":"103",
  "ticket_created_at":"2024-05-01T09:00:00Z","ticket_updated_at":"2024-05-02T10:30:00Z",
  "triggered_event":"{status:{from:Open,to:Resolved}}"}})";

TEST(FreshdeskWebhookTest, AutomationWebhookBecomesTicketSolvedWithNamedCodes) {
  const ingest::CanonicalEvent& event = OnlyEvent(Freshdesk(Unsigned(std::string(kFreshdeskTicket))));
  EXPECT_EQ(event.event, "Ticket Solved") << "status 4 is Resolved";
  EXPECT_EQ(event.message_id, "freshdesk-4211-2024-05-02T10:30:00Z");
  EXPECT_EQ(event.timestamp, At("2024-05-02T10:30:00Z"));
  EXPECT_EQ(
      event.properties,
      R"({"provider":"freshdesk","provider_event":"{status:{from:Open,to:Resolved}}","ticket_id":"4211",)"
      R"("subject":"Refund request","status":"resolved","priority":"high","tags":["refund","vip"],)"
      R"("via":"phone","satisfaction":"good","csat":1})");
  EXPECT_EQ(JsonMember(event.context, "/traits"),
            R"({"email":"jin@example.kr","phone":"010-1234-5678","name":"Jin"})");
  EXPECT_EQ(JsonMember(event.context, "/externalIds/0/type"), R"("freshdesk_contact_id")");
}

TEST(FreshdeskWebhookTest, CreatedUpdatedAndTheBareObject) {
  const ingest::CanonicalEvent& created = OnlyEvent(Freshdesk(Unsigned(
      R"({"freshdesk_webhook":{"ticket_id":"9","ticket_status":"Open","ticket_contact_email":"a@example.com",)"
      R"("triggered_event":"{ticket_action:created}","ticket_satisfaction_rating":"Not good"}})")));
  EXPECT_EQ(created.event, "Ticket Created");
  EXPECT_EQ(JsonMember(created.properties, "/satisfaction"), R"("bad")");
  EXPECT_EQ(JsonMember(created.properties, "/csat"), "0");
  EXPECT_TRUE(created.message_id.rfind("freshdesk-9-h-", 0) == 0) << created.message_id;
  EXPECT_TRUE(created.message_id_generated);
  EXPECT_EQ(
      OnlyEvent(
          Freshdesk(Unsigned(
              R"({"freshdesk_webhook":{"ticket_id":"9","ticket_status":"Open","ticket_contact_email":"a@example.com",)"
              R"("triggered_event":"{ticket_action:created}","ticket_satisfaction_rating":"Not good"}})")))
          .message_id,
      created.message_id)
      << "a replayed delivery without updated_at hashes alike";

  const ingest::CanonicalEvent& bare = OnlyEvent(Freshdesk(Unsigned(
      R"({"ticket_id":10,"ticket_status":"Waiting on Customer","ticket_contact_phone":"+821012345678",)"
      R"("ticket_created_at":"2024-05-01T09:00:00Z","ticket_updated_at":"2024-05-01T09:05:00Z"})")));
  EXPECT_EQ(bare.event, "Ticket Updated");
  EXPECT_EQ(JsonMember(bare.properties, "/status"), R"("waiting on customer")");
  EXPECT_EQ(JsonMember(bare.properties, "/tags"), "[]");
  EXPECT_EQ(JsonMember(bare.properties, "/satisfaction"), "null");
}

TEST(FreshdeskWebhookTest, DescriptionAndLatestPublicCommentBecomeFreeTextProperties) {
  const ingest::CanonicalEvent& event = OnlyEvent(Freshdesk(Unsigned(
      R"({"freshdesk_webhook":{"ticket_id":"9","ticket_contact_email":"a@example.com",)"
      R"("ticket_description":"<div>The blender broke.</div>","ticket_latest_public_comment":"We sent a new one."}})")));
  EXPECT_EQ(JsonMember(event.properties, "/description"), R"("<div>The blender broke.</div>")");
  EXPECT_EQ(JsonMember(event.properties, "/comment"), R"("We sent a new one.")");
}

TEST(FreshdeskWebhookTest, MalformedPayloadsNameTheField) {
  EXPECT_EQ(RequestError(Freshdesk(Unsigned("ticket_id=1"))), "invalid_json ");
  EXPECT_EQ(RequestError(Freshdesk(Unsigned(R"({"freshdesk_webhook":[1]})"))),
            "invalid_type freshdesk_webhook");
  EXPECT_EQ(RequestError(Freshdesk(Unsigned(R"({"freshdesk_webhook":{"ticket_contact_email":"a@b.c"}})"))),
            "missing_field freshdesk_webhook.ticket_id");
  EXPECT_EQ(
      RequestError(Freshdesk(Unsigned(R"({"freshdesk_webhook":{"ticket_id":1,"ticket_subject":"x"}})"))),
      "missing_identity freshdesk_webhook.ticket_contact_email");
  EXPECT_EQ(RequestError(Freshdesk(
                Unsigned(R"({"freshdesk_webhook":{"ticket_id":1.5,"ticket_contact_email":"a@b.c"}})"))),
            "invalid_type freshdesk_webhook.ticket_id");
}

TEST(FreshdeskWebhookTest, AConfiguredSharedSecretMustComeInItsHeader) {
  const FreshdeskOptions options{.secret = "fd-shared", .secret_header = "X-Tessera-Secret"};
  Delivery delivery = Unsigned(std::string(kFreshdeskTicket));
  EXPECT_TRUE(absl::IsUnauthenticated(Freshdesk(delivery, options).status())) << "missing";
  delivery.headers.Set("X-Tessera-Secret", "fd-wrong");
  EXPECT_TRUE(absl::IsUnauthenticated(Freshdesk(delivery, options).status())) << "wrong";
  delivery.headers.Set("x-tessera-secret", "fd-shared");
  EXPECT_TRUE(Freshdesk(delivery, options).ok());
  EXPECT_TRUE(Freshdesk(Unsigned(std::string(kFreshdeskTicket))).ok())
      << "without a secret the write key suffices";
}

}  // namespace
}  // namespace tessera::connectors
