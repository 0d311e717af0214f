#include "connectors/helpdesk_webhooks.h"

#include <array>
#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "base/json_writer.h"
#include "base/time.h"
#include "connectors/internal/satisfaction.h"
#include "connectors/internal/text.h"
#include "connectors/signatures.h"
#include "simdjson.h"

namespace tessera::connectors {
namespace {

using base::JsonWriter;
using ingest::FieldError;
using simdjson::dom::element;
using simdjson::dom::element_type;
using simdjson::dom::object;

constexpr std::string_view kZendeskEventPrefix = "zen:event-type:";

// One parser per thread, reused: connectors are called from the api's worker threads.
simdjson::dom::parser& ThreadParser() {
  thread_local simdjson::dom::parser parser;
  return parser;
}

absl::string_view ToAbsl(std::string_view text) { return absl::string_view(text.data(), text.size()); }

FieldError MakeError(std::string_view code, std::string message, std::string field) {
  return FieldError{std::string(code), std::move(message), std::move(field)};
}

std::string_view TypeName(element_type type) {
  switch (type) {
    case element_type::ARRAY:
      return "an array";
    case element_type::OBJECT:
      return "an object";
    case element_type::INT64:
    case element_type::UINT64:
    case element_type::DOUBLE:
      return "a number";
    case element_type::STRING:
      return "a string";
    case element_type::BOOL:
      return "a boolean";
    case element_type::NULL_VALUE:
      return "null";
  }
  return "an unknown value";
}

std::string Lower(std::string_view text) {
  return absl::AsciiStrToLower(absl::StripAsciiWhitespace(ToAbsl(text)));
}

// Reads the members of one JSON object, naming each by its path. Null and absent are alike. The
// first unusable member sets the shared error; later reads then return empty values.
class Fields {
 public:
  Fields(object fields, std::string path, std::optional<FieldError>& error)
      : fields_(fields), path_(std::move(path)), error_(&error) {}

  std::string PathOf(std::string_view name) const {
    return path_.empty() ? std::string(name) : absl::StrCat(path_, ".", ToAbsl(name));
  }

  std::optional<element> Get(std::string_view name) const {
    element value;
    if (fields_[name].get(value) != simdjson::SUCCESS || value.is_null()) return std::nullopt;
    return value;
  }

  // A string, or an integer as its decimal text (helpdesks send ids and codes as either); empty
  // when absent.
  std::string Text(std::string_view name) const {
    const std::optional<element> value = Get(name);
    if (!value) return {};
    return TextOf(*value, PathOf(name));
  }

  // A member that must be an object when present.
  std::optional<Fields> Object(std::string_view name) const {
    const std::optional<element> value = Get(name);
    if (!value) return std::nullopt;
    object child;
    if (value->get(child) != simdjson::SUCCESS) {
      Fail(MakeError(ingest::error_code::kInvalidType,
                     absl::StrCat("expected an object, got ", ToAbsl(TypeName(value->type()))),
                     PathOf(name)));
      return std::nullopt;
    }
    return Fields(child, PathOf(name), *error_);
  }

  // Tags: an array of strings (or integers), or one string split at any of `separators`.
  std::vector<std::string> Tags(std::string_view name, std::string_view separators) const {
    std::vector<std::string> tags;
    const std::optional<element> value = Get(name);
    if (!value) return tags;
    if (value->is_string()) {
      for (absl::string_view tag :
           absl::StrSplit(ToAbsl(std::string_view(*value)), absl::ByAnyChar(ToAbsl(separators)),
                          absl::SkipWhitespace())) {
        tags.emplace_back(absl::StripAsciiWhitespace(tag));
      }
      return tags;
    }
    simdjson::dom::array items;
    if (value->get(items) != simdjson::SUCCESS) {
      Fail(MakeError(
          ingest::error_code::kInvalidType,
          absl::StrCat("expected an array of strings or a string, got ", ToAbsl(TypeName(value->type()))),
          PathOf(name)));
      return tags;
    }
    size_t index = 0;
    for (element item : items) {
      std::string tag = TextOf(item, absl::StrCat(PathOf(name), "[", index++, "]"));
      if (!tag.empty()) tags.push_back(std::move(tag));
    }
    return tags;
  }

  object raw() const { return fields_; }

 private:
  std::string TextOf(element value, const std::string& path) const {
    std::string_view text;
    int64_t signed_number = 0;
    uint64_t unsigned_number = 0;
    if (value.get(text) == simdjson::SUCCESS) return std::string(text);
    if (value.get(signed_number) == simdjson::SUCCESS) return absl::StrCat(signed_number);
    if (value.get(unsigned_number) == simdjson::SUCCESS) return absl::StrCat(unsigned_number);
    if (value.is_null()) return {};
    Fail(MakeError(ingest::error_code::kInvalidType,
                   absl::StrCat("expected a string or an integer, got ", ToAbsl(TypeName(value.type()))),
                   path));
    return {};
  }

  void Fail(FieldError error) const {
    if (!*error_) *error_ = std::move(error);
  }

  object fields_;
  std::string path_;
  std::optional<FieldError>* error_;
};

// What both helpdesks say about a ticket, before it becomes an event.
struct Ticket {
  std::string provider;
  std::string provider_event;  // Zendesk's event type, Freshdesk's triggered_event; may be empty.
  std::string id;
  std::string subject;
  std::string status;    // Lower-cased.
  std::string priority;  // Lower-cased.
  std::vector<std::string> tags;
  std::string via;
  std::string satisfaction_raw;
  // Free text (ingest/free_text.h): emitted when sent; the pipeline keeps it only for a service
  // source with keep_free_text.
  std::string description;
  std::string comment;
  std::string created_at;
  std::string updated_at;
  std::string email;
  std::string phone;
  std::string name;
  std::string requester_id;
  std::string requester_id_type;  // "zendesk_user_id" / "freshdesk_contact_id".
  bool created = false;           // The provider says the ticket was just created.
  bool is_ticket = true;          // False for Zendesk events about users, organizations, ...
};

bool IsSolvedStatus(std::string_view status) {
  return status == "solved" || status == "closed" || status == "resolved";
}

std::string_view TicketEventName(const Ticket& ticket) {
  if (IsSolvedStatus(ticket.status)) return "Ticket Solved";
  if (ticket.created || (!ticket.created_at.empty() && ticket.created_at == ticket.updated_at))
    return "Ticket Created";
  return "Ticket Updated";
}

// "good" / "bad" for a satisfaction rating as Zendesk (score "good"/"bad", "offered",
// "unoffered") or Freshdesk (codes 103..-103 or words) writes it; empty when neither.
std::string_view ClassifySatisfaction(std::string_view raw) {
  const std::string rating = Lower(raw);
  if (int code = 0; absl::SimpleAtoi(rating, &code)) {
    if (code > 100) return "good";
    if (code < -100) return "bad";
    return {};
  }
  return internal::SatisfactionFromWord(rating);
}

// A stable id for a delivery that names no version of the ticket: a hash of its JSON (minified).
// HMAC with an empty key serves as SHA-256 here.
std::string PayloadHash(element value) {
  const std::string digest = HexEncode(HmacSha256("", simdjson::minify(value)));
  return std::string(std::string_view(digest).substr(0, 32));
}

// The properties of a ticket event, after provider and provider_event; closes the object.
void WriteTicketProperties(const Ticket& ticket, JsonWriter& properties) {
  properties.Key("ticket_id").String(ticket.id);
  auto optional_string = [&properties](std::string_view key, const std::string& value) {
    properties.Key(key);
    if (value.empty()) {
      properties.Null();
    } else {
      properties.String(value);
    }
  };
  optional_string("subject", ticket.subject);
  optional_string("status", ticket.status);
  optional_string("priority", ticket.priority);
  properties.Key("tags").BeginArray();
  for (const std::string& tag : ticket.tags) properties.String(tag);
  properties.EndArray();
  optional_string("via", ticket.via);
  const std::string_view satisfaction = ClassifySatisfaction(ticket.satisfaction_raw);
  optional_string("satisfaction", std::string(satisfaction));
  properties.Key("csat");
  if (satisfaction.empty()) {
    properties.Null();
  } else {
    properties.Int(satisfaction == "good" ? 1 : 0);
  }
  // Absent rather than null when not sent: a null would say the ticket has none.
  if (!ticket.description.empty()) properties.Key("description").String(ticket.description);
  if (!ticket.comment.empty()) properties.Key("comment").String(ticket.comment);
  properties.EndObject();
}

// The requester as context.traits and context.externalIds.
void WriteRequesterContext(const Ticket& ticket, std::string& out) {
  JsonWriter context(out);
  context.BeginObject().Key("traits").BeginObject();
  if (!ticket.email.empty()) context.Key("email").String(ticket.email);
  if (!ticket.phone.empty()) context.Key("phone").String(ticket.phone);
  if (!ticket.name.empty()) context.Key("name").String(ticket.name);
  context.EndObject();
  if (!ticket.requester_id.empty()) {
    context.Key("externalIds").BeginArray().BeginObject();
    context.Key("id").String(ticket.requester_id).Key("type").String(ticket.requester_id_type);
    context.Key("collection").String("users").Key("encoding").String("none");
    context.EndObject().EndArray();
  }
  context.EndObject();
}

// The one event of a ticket delivery.
ingest::CanonicalEvent TicketEvent(const Ticket& ticket, std::string message_id, bool generated,
                                   std::optional<ingest::Timestamp> timestamp,
                                   ingest::Timestamp received_at) {
  ingest::CanonicalEvent event;
  event.message_id = std::move(message_id);
  event.message_id_generated = generated;
  event.type = ingest::EventType::kTrack;
  event.event = std::string(TicketEventName(ticket));
  event.timestamp = timestamp.value_or(received_at);
  event.original_timestamp = timestamp;
  event.received_at = received_at;

  JsonWriter properties(event.properties);
  properties.BeginObject().Key("provider").String(ticket.provider);
  if (!ticket.provider_event.empty()) properties.Key("provider_event").String(ticket.provider_event);
  if (!ticket.is_ticket) {
    // A generic event: what it is about, by Zendesk's id, and nothing that would pose as a ticket.
    properties.Key("object_id").String(ticket.id).EndObject();
  } else {
    WriteTicketProperties(ticket, properties);
  }
  WriteRequesterContext(ticket, event.context);
  return event;
}

bool HasIdentity(const Ticket& ticket) {
  return !ticket.email.empty() || !ticket.phone.empty() || !ticket.requester_id.empty();
}

// Parses `body` as one JSON object into `root`; otherwise the request error to answer with.
std::optional<FieldError> ParseObject(std::string_view body, element& root) {
  if (const auto error = ThreadParser().parse(body.data(), body.size()).get(root); error) {
    return MakeError(ingest::error_code::kInvalidJson,
                     absl::StrCat("the body is not valid JSON: ", simdjson::error_message(error)), "");
  }
  if (!root.is_object()) {
    return MakeError(ingest::error_code::kInvalidType,
                     absl::StrCat("expected a JSON object, got ", ToAbsl(TypeName(root.type()))), "");
  }
  return std::nullopt;
}

// Finishes a delivery: the event, or the first error met while reading it.
ingest::ParsedRequest Finish(std::optional<FieldError> error, ingest::CanonicalEvent event) {
  ingest::ParsedRequest out;
  out.event_count = 1;
  if (error) {
    out.request_error = std::move(error);
    return out;
  }
  out.events.push_back(std::move(event));
  out.index_of.push_back(0);
  return out;
}

ingest::ParsedRequest RequestError(FieldError error) {
  ingest::ParsedRequest out;
  out.event_count = 1;
  out.request_error = std::move(error);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Zendesk

absl::Status VerifyZendeskSignature(const WebhookRequest& request, const ZendeskOptions& options) {
  if (options.secret.empty()) return absl::UnauthenticatedError("no Zendesk signing secret configured");
  const std::string_view signature = request.header(kZendeskSignatureHeader);
  const std::string_view timestamp = request.header(kZendeskTimestampHeader);
  if (signature.empty() || timestamp.empty()) {
    return absl::UnauthenticatedError(absl::StrCat("missing ", ToAbsl(kZendeskSignatureHeader), " or ",
                                                   ToAbsl(kZendeskTimestampHeader), " header"));
  }
  std::string signed_data;
  signed_data.reserve(timestamp.size() + request.body.size());
  signed_data.append(timestamp).append(request.body);
  const std::string expected = Base64Encode(HmacSha256(options.secret, signed_data));
  const absl::string_view given = absl::StripAsciiWhitespace(ToAbsl(signature));
  if (!ConstantTimeEquals(expected, std::string_view(given.data(), given.size()))) {
    return absl::UnauthenticatedError(
        absl::StrCat(ToAbsl(kZendeskSignatureHeader), ": does not match the signing secret"));
  }
  if (options.max_age_seconds > 0) {
    const std::optional<ingest::Timestamp> signed_at = base::ParseIso8601(timestamp);
    if (!signed_at) {
      return absl::UnauthenticatedError(
          absl::StrCat(ToAbsl(kZendeskTimestampHeader), ": not an ISO-8601 date-time"));
    }
    const int64_t age =
        std::chrono::duration_cast<std::chrono::seconds>(request.received_at - *signed_at).count();
    if (age > options.max_age_seconds || -age > options.max_age_seconds) {
      return absl::UnauthenticatedError(absl::StrCat(ToAbsl(kZendeskTimestampHeader), ": more than ",
                                                     options.max_age_seconds, " seconds from now (replay?)"));
    }
  }
  return absl::OkStatus();
}

// The requester of a Zendesk ticket: {"requester": {id, email, phone, name}} and requester_id.
void ReadZendeskRequester(const Fields& ticket_fields, Ticket& ticket) {
  if (const std::optional<Fields> requester = ticket_fields.Object("requester")) {
    ticket.email = requester->Text("email");
    ticket.phone = requester->Text("phone");
    ticket.name = requester->Text("name");
    ticket.requester_id = requester->Text("id");
  }
  if (ticket.requester_id.empty()) ticket.requester_id = ticket_fields.Text("requester_id");
  ticket.requester_id_type = "zendesk_user_id";
}

// The ticket members both Zendesk shapes share.
void ReadZendeskTicket(const Fields& fields, Ticket& ticket) {
  ticket.provider = "zendesk";
  ticket.subject = fields.Text("subject");
  ticket.status = Lower(fields.Text("status"));
  ticket.priority = Lower(fields.Text("priority"));
  ticket.tags = fields.Tags("tags", " ");
  if (const std::optional<element> via = fields.Get("via"); via && via->is_object()) {
    ticket.via = fields.Object("via")->Text("channel");
  } else {
    ticket.via = fields.Text("via");
  }
  if (const std::optional<element> rating = fields.Get("satisfaction_rating");
      rating && rating->is_object()) {
    ticket.satisfaction_raw = fields.Object("satisfaction_rating")->Text("score");
  } else {
    ticket.satisfaction_raw = fields.Text("satisfaction_rating");
  }
  ticket.created_at = fields.Text("created_at");
  ticket.updated_at = fields.Text("updated_at");
  ticket.description = fields.Text("description");
  ReadZendeskRequester(fields, ticket);
}

// A trigger or automation webhook: {"ticket": {...}}.
ingest::ParsedRequest TranslateZendeskTrigger(const Fields& root, element root_value,
                                              ingest::Timestamp received_at,
                                              std::optional<FieldError>& error) {
  if (!root.Get("ticket")) {
    return RequestError(
        MakeError(ingest::error_code::kMissingField,
                  "expected the ticket as an object (a trigger's {\"ticket\": {...}}) or an event "
                  "subscription's {\"type\": \"zen:event-type:...\", \"detail\": {...}}",
                  "ticket"));
  }
  const std::optional<Fields> fields = root.Object("ticket");
  if (!fields) return RequestError(*std::move(error));
  Ticket ticket;
  ticket.id = fields->Text("id");
  ReadZendeskTicket(*fields, ticket);
  // {{ticket.latest_comment}}: a trigger's JSON only; event subscriptions send comments as events
  // of their own.
  ticket.comment = fields->Text("latest_comment");
  if (error) return RequestError(*std::move(error));
  if (ticket.id.empty()) {
    return RequestError(
        MakeError(ingest::error_code::kMissingField, "expected the ticket's id", "ticket.id"));
  }
  if (!HasIdentity(ticket)) {
    return RequestError(MakeError(ingest::error_code::kMissingIdentity,
                                  "a Zendesk ticket needs its requester's email, phone or id",
                                  "ticket.requester"));
  }
  const bool generated = ticket.updated_at.empty();
  std::string message_id =
      absl::StrCat("zendesk-", ticket.id, "-",
                   generated ? absl::StrCat("h-", PayloadHash(root_value)) : ticket.updated_at);
  // Zendesk's default placeholder writes "April 17, 2024 17:18": not a date-time to trust; the
  // event then takes its receive time (the text stays in the message id).
  const std::optional<ingest::Timestamp> timestamp = base::ParseIso8601(ticket.updated_at);
  return Finish(std::nullopt, TicketEvent(ticket, std::move(message_id), generated, timestamp, received_at));
}

// An event-subscription webhook: {"type": "zen:event-type:...", "id", "time", "detail", "event"}.
ingest::ParsedRequest TranslateZendeskEvent(const Fields& root, element root_value, std::string_view type,
                                            ingest::Timestamp received_at, std::optional<FieldError>& error) {
  if (!root.Get("detail")) {
    return RequestError(
        MakeError(ingest::error_code::kMissingField, "expected the event's detail as an object", "detail"));
  }
  const std::optional<Fields> detail = root.Object("detail");
  if (!detail) return RequestError(*std::move(error));
  const std::string event_id = root.Text("id");
  const std::string time_text = root.Text("time");
  if (error) return RequestError(*std::move(error));
  std::optional<ingest::Timestamp> timestamp;
  if (!time_text.empty()) {
    timestamp = base::ParseIso8601(time_text);
    if (!timestamp) {
      return RequestError(MakeError(ingest::error_code::kInvalidTimestamp,
                                    "expected an ISO-8601 date-time such as \"2024-04-17T17:18:10Z\", got " +
                                        internal::QuoteForError(time_text),
                                    "time"));
    }
  }
  const std::string_view kind = type.substr(kZendeskEventPrefix.size());
  Ticket ticket;
  ticket.provider_event = std::string(type);
  const bool about_ticket = absl::StartsWith(ToAbsl(kind), "ticket.");
  if (about_ticket) {
    ticket.id = detail->Text("id");
    ReadZendeskTicket(*detail, ticket);
    ticket.created = kind == "ticket.created";
    if (kind == "ticket.status_changed") {
      if (const std::optional<Fields> change = root.Object("event")) {
        if (std::string current = change->Text("current"); !current.empty()) ticket.status = Lower(current);
      }
    }
  } else {
    // Not about a ticket (user.*, organization.*, ...): kept as a generic event of whoever it names.
    ticket.provider = "zendesk";
    ticket.is_ticket = false;
    ticket.id = detail->Text("id");
    ticket.email = detail->Text("email");
    ticket.requester_id = absl::StartsWith(ToAbsl(kind), "user.") ? ticket.id : detail->Text("user_id");
    ticket.requester_id_type = "zendesk_user_id";
  }
  if (error) return RequestError(*std::move(error));
  if (ticket.id.empty()) {
    return RequestError(MakeError(ingest::error_code::kMissingField,
                                  "expected the id of what the event is about", "detail.id"));
  }
  if (!HasIdentity(ticket)) {
    return RequestError(MakeError(ingest::error_code::kMissingIdentity,
                                  "a Zendesk event needs the requester's id (or an email)",
                                  about_ticket ? "detail.requester_id" : "detail.email"));
  }
  const bool generated = event_id.empty();
  std::string message_id = absl::StrCat("zendesk-", ticket.id, "-",
                                        generated ? absl::StrCat("h-", PayloadHash(root_value)) : event_id);
  ingest::CanonicalEvent event =
      TicketEvent(ticket, std::move(message_id), generated, timestamp, received_at);
  if (!about_ticket) event.event = "Zendesk Event";
  return Finish(std::nullopt, std::move(event));
}

// ---------------------------------------------------------------------------------------------
// Freshdesk

std::string FreshdeskCode(std::string text, std::string_view kind) {
  int code = 0;
  if (!absl::SimpleAtoi(text, &code)) return Lower(text);
  static constexpr std::array<std::pair<std::string_view, std::string_view>, 6> kStatuses = {{
      {"2", "open"},
      {"3", "pending"},
      {"4", "resolved"},
      {"5", "closed"},
      {"6", "waiting on customer"},
      {"7", "waiting on third party"},
  }};
  static constexpr std::array<std::pair<std::string_view, std::string_view>, 4> kPriorities = {{
      {"1", "low"},
      {"2", "medium"},
      {"3", "high"},
      {"4", "urgent"},
  }};
  static constexpr std::array<std::pair<std::string_view, std::string_view>, 8> kSources = {{
      {"1", "email"},
      {"2", "portal"},
      {"3", "phone"},
      {"5", "twitter"},
      {"6", "facebook"},
      {"7", "chat"},
      {"9", "feedback_widget"},
      {"10", "outbound_email"},
  }};
  std::string_view name;
  if (kind == "status") name = internal::EventNameFor(kStatuses, text, "");
  if (kind == "priority") name = internal::EventNameFor(kPriorities, text, "");
  if (kind == "source") name = internal::EventNameFor(kSources, text, "");
  return name.empty() ? text : std::string(name);
}

}  // namespace

absl::StatusOr<ingest::ParsedRequest> TranslateZendeskWebhook(const WebhookRequest& request,
                                                              const ZendeskOptions& options) {
  if (absl::Status verified = VerifyZendeskSignature(request, options); !verified.ok()) return verified;
  element root_value;
  if (std::optional<FieldError> error = ParseObject(request.body, root_value))
    return RequestError(*std::move(error));
  std::optional<FieldError> error;
  const Fields root(object(root_value), "", error);
  const std::optional<element> type = root.Get("type");
  if (type && !type->is_string()) {
    return RequestError(MakeError(ingest::error_code::kInvalidType,
                                  absl::StrCat("expected a string, got ", ToAbsl(TypeName(type->type()))),
                                  "type"));
  }
  if (type && absl::StartsWith(ToAbsl(std::string_view(*type)), ToAbsl(kZendeskEventPrefix))) {
    return TranslateZendeskEvent(root, root_value, std::string_view(*type), request.received_at, error);
  }
  return TranslateZendeskTrigger(root, root_value, request.received_at, error);
}

absl::StatusOr<ingest::ParsedRequest> TranslateFreshdeskWebhook(const WebhookRequest& request,
                                                                const FreshdeskOptions& options) {
  if (!options.secret.empty()) {
    const std::string_view given = request.header(options.secret_header);
    if (given.empty()) {
      return absl::UnauthenticatedError(absl::StrCat("missing ", ToAbsl(options.secret_header), " header"));
    }
    if (!ConstantTimeEquals(given, options.secret)) {
      return absl::UnauthenticatedError(
          absl::StrCat(ToAbsl(options.secret_header), ": does not match the configured secret"));
    }
  }
  element root_value;
  if (std::optional<FieldError> error = ParseObject(request.body, root_value))
    return RequestError(*std::move(error));
  std::optional<FieldError> error;
  const Fields root(object(root_value), "", error);
  std::optional<Fields> fields = root;
  if (root.Get("freshdesk_webhook")) {
    fields = root.Object("freshdesk_webhook");
    if (!fields) return RequestError(*std::move(error));
  }
  Ticket ticket;
  ticket.provider = "freshdesk";
  ticket.provider_event = fields->Text("triggered_event");
  ticket.id = fields->Text("ticket_id");
  ticket.subject = fields->Text("ticket_subject");
  ticket.status = FreshdeskCode(fields->Text("ticket_status"), "status");
  ticket.priority = FreshdeskCode(fields->Text("ticket_priority"), "priority");
  ticket.via = FreshdeskCode(fields->Text("ticket_source"), "source");
  ticket.tags = fields->Tags("ticket_tags", ",");
  ticket.satisfaction_raw = fields->Text("ticket_satisfaction_rating");
  ticket.description = fields->Text("ticket_description");
  ticket.comment = fields->Text("ticket_latest_public_comment");
  ticket.created_at = fields->Text("ticket_created_at");
  ticket.updated_at = fields->Text("ticket_updated_at");
  ticket.email = fields->Text("ticket_contact_email");
  ticket.phone = fields->Text("ticket_contact_phone");
  if (ticket.phone.empty()) ticket.phone = fields->Text("ticket_contact_mobile");
  ticket.name = fields->Text("ticket_contact_name");
  ticket.requester_id = fields->Text("ticket_contact_id");
  ticket.requester_id_type = "freshdesk_contact_id";
  ticket.created = absl::StrContains(absl::AsciiStrToLower(ticket.provider_event), "created");
  if (error) return RequestError(*std::move(error));
  if (ticket.id.empty()) {
    return RequestError(MakeError(ingest::error_code::kMissingField,
                                  "expected the ticket's id ({{ticket.id}})", fields->PathOf("ticket_id")));
  }
  if (!HasIdentity(ticket)) {
    return RequestError(MakeError(ingest::error_code::kMissingIdentity,
                                  "a Freshdesk ticket needs its contact's email, phone, mobile or id",
                                  fields->PathOf("ticket_contact_email")));
  }
  const bool generated = ticket.updated_at.empty();
  std::string message_id =
      absl::StrCat("freshdesk-", ticket.id, "-",
                   generated ? absl::StrCat("h-", PayloadHash(root_value)) : ticket.updated_at);
  const std::optional<ingest::Timestamp> timestamp = base::ParseIso8601(ticket.updated_at);
  return Finish(std::nullopt,
                TicketEvent(ticket, std::move(message_id), generated, timestamp, request.received_at));
}

}  // namespace tessera::connectors
