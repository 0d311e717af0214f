#include "connectors/email_webhooks.h"

#include <array>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <optional>
#include <string_view>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "base/json_writer.h"
#include "connectors/internal/text.h"
#include "connectors/signatures.h"
#include "simdjson.h"

namespace tessera::connectors {
namespace {

using base::JsonWriter;
using simdjson::dom::element;
using simdjson::dom::element_type;
using simdjson::dom::object;

// Latest accepted event time, 9999-12-31T23:59:59Z: beyond it the value is garbage, not a date.
constexpr int64_t kMaxUnixSeconds = 253'402'300'799;
// SendGrid sends seconds, but some of its payloads (Single Sends) send milliseconds; no real
// seconds value reaches this (year 5138).
constexpr int64_t kMillisecondsThreshold = 100'000'000'000;

constexpr std::string_view kSendGridSignatureHeader = "X-Twilio-Email-Event-Webhook-Signature";
constexpr std::string_view kSendGridTimestampHeader = "X-Twilio-Email-Event-Webhook-Timestamp";

// One parser per thread, reused: connectors are called from the api's worker threads.
simdjson::dom::parser& ThreadParser() {
  thread_local simdjson::dom::parser parser;
  return parser;
}

absl::string_view ToAbsl(std::string_view text) { return absl::string_view(text.data(), text.size()); }

ingest::FieldError MakeError(std::string_view code, std::string message, std::string field) {
  return ingest::FieldError{std::string(code), std::move(message), std::move(field)};
}

std::string_view TypeName(element_type type) {
  switch (type) {
    case element_type::ARRAY: return "an array";
    case element_type::OBJECT: return "an object";
    case element_type::INT64:
    case element_type::UINT64:
    case element_type::DOUBLE: return "a number";
    case element_type::STRING: return "a string";
    case element_type::BOOL: return "a boolean";
    case element_type::NULL_VALUE: return "null";
  }
  return "an unknown value";
}

bool IsScalar(element value) {
  const element_type type = value.type();
  return type != element_type::ARRAY && type != element_type::OBJECT && type != element_type::NULL_VALUE;
}

// Copies any JSON value through the one writer, so the output is escaped the Tessera way.
void WriteValue(JsonWriter& writer, element value) {
  switch (value.type()) {
    case element_type::ARRAY:
      writer.BeginArray();
      for (element item : simdjson::dom::array(value)) WriteValue(writer, item);
      writer.EndArray();
      return;
    case element_type::OBJECT:
      writer.BeginObject();
      for (auto field : object(value)) {
        writer.Key(field.key);
        WriteValue(writer, field.value);
      }
      writer.EndObject();
      return;
    case element_type::INT64: writer.Int(int64_t(value)); return;
    case element_type::UINT64: writer.Uint(uint64_t(value)); return;
    case element_type::DOUBLE: writer.Double(double(value)); return;
    case element_type::STRING: writer.String(std::string_view(value)); return;
    case element_type::BOOL: writer.Bool(bool(value)); return;
    case element_type::NULL_VALUE: writer.Null(); return;
  }
}

// The member `key` of `parent`, when present.
std::optional<element> Member(object parent, std::string_view key) {
  element value;
  if (parent[key].get(value) != simdjson::SUCCESS) return std::nullopt;
  return value;
}

// The member `key` as a string, empty when absent or not a string.
std::string_view StringMember(object parent, std::string_view key) {
  std::string_view value;
  if (parent[key].get(value) != simdjson::SUCCESS) return {};
  return value;
}

// Writes `"property": value` when `key` is present (and not null) in `source`.
void CopyMember(JsonWriter& writer, object source, std::string_view key, std::string_view property) {
  const std::optional<element> value = Member(source, key);
  if (!value || value->is_null()) return;
  writer.Key(property);
  WriteValue(writer, *value);
}

// A stable id for an event the provider gave none: a hash of its JSON (minified, so identical
// deliveries of the same event hash alike). HMAC with an empty key serves as SHA-256 here.
std::string DerivedId(std::string_view prefix, element value) {
  const std::string digest = HexEncode(HmacSha256("", simdjson::minify(value)));
  return absl::StrCat(ToAbsl(prefix), "h-", ToAbsl(std::string_view(digest).substr(0, 32)));
}

ingest::Timestamp FromMicros(int64_t micros) { return ingest::Timestamp(std::chrono::microseconds(micros)); }

// Whether `timestamp_text` (Unix seconds) lies within `max_age_seconds` of `received_at`.
bool IsFresh(std::string_view timestamp_text, int64_t max_age_seconds, ingest::Timestamp received_at) {
  if (max_age_seconds <= 0) return true;
  int64_t seconds = 0;
  if (!absl::SimpleAtoi(ToAbsl(timestamp_text), &seconds)) return false;
  const int64_t now = std::chrono::duration_cast<std::chrono::seconds>(received_at.time_since_epoch()).count();
  const int64_t age = now - seconds;
  return age <= max_age_seconds && -age <= max_age_seconds;
}

// The context every email event carries: the recipient as context.traits.email, where the
// identifier extractor finds it.
void BeginContext(JsonWriter& writer, std::string_view email) {
  writer.BeginObject().Key("traits").BeginObject().Key("email").String(email).EndObject();
}

ingest::CanonicalEvent NewTrackEvent(std::string message_id, bool generated, std::string name,
                                     ingest::Timestamp timestamp, ingest::Timestamp received_at) {
  ingest::CanonicalEvent event;
  event.message_id = std::move(message_id);
  event.message_id_generated = generated;
  event.type = ingest::EventType::kTrack;
  event.event = std::move(name);
  event.timestamp = timestamp;
  event.original_timestamp = timestamp;
  event.received_at = received_at;
  return event;
}

// ---------------------------------------------------------------------------------------------
// SendGrid

std::string_view SendGridEventName(std::string_view kind) {
  static constexpr std::array<std::pair<std::string_view, std::string_view>, 11> kNames = {{
      {"processed", "Email Processed"},
      {"delivered", "Email Delivered"},
      {"open", "Email Opened"},
      {"click", "Email Link Clicked"},
      {"bounce", "Email Bounced"},
      {"dropped", "Email Dropped"},
      {"deferred", "Email Deferred"},
      {"spamreport", "Email Marked as Spam"},
      {"unsubscribe", "Unsubscribed"},
      {"group_unsubscribe", "Unsubscribed from Group"},
      {"group_resubscribe", "Resubscribed to Group"},
  }};
  return internal::EventNameFor(kNames, kind, "Email Event");
}

// SendGrid members copied into properties: (member, property).
constexpr std::array<std::pair<std::string_view, std::string_view>, 25> kSendGridProperties = {{
    {"sg_event_id", "sg_event_id"},
    {"sg_message_id", "sg_message_id"},
    {"smtp-id", "smtp_id"},
    {"category", "category"},
    {"ip", "ip"},
    {"useragent", "useragent"},
    {"url", "url"},
    {"url_offset", "url_offset"},
    {"reason", "reason"},
    {"status", "status"},
    {"response", "response"},
    {"attempt", "attempt"},
    {"type", "type"},
    {"bounce_classification", "bounce_classification"},
    {"tls", "tls"},
    {"cert_err", "cert_err"},
    {"pool", "pool"},
    {"asm_group_id", "asm_group_id"},
    {"marketing_campaign_id", "marketing_campaign_id"},
    {"marketing_campaign_name", "marketing_campaign_name"},
    {"marketing_campaign_version", "marketing_campaign_version"},
    {"marketing_campaign_split_id", "marketing_campaign_split_id"},
    {"email", ""},      // context.traits.email
    {"event", ""},      // the event name and provider_event
    {"timestamp", ""},  // the event's timestamp
}};

bool IsKnownSendGridMember(std::string_view key) {
  for (const auto& [member, property] : kSendGridProperties) {
    if (member == key) return true;
  }
  return false;
}

// The event time of a SendGrid "timestamp" value, nullopt when unusable.
std::optional<ingest::Timestamp> SendGridTimestamp(element value) {
  int64_t number = 0;
  if (value.type() == element_type::DOUBLE) {
    const double seconds = double(value);
    if (!std::isfinite(seconds) || seconds < 0 || seconds >= double(kMillisecondsThreshold)) return std::nullopt;
    return FromMicros(std::llround(seconds * 1e6));
  }
  if (value.get_int64().get(number) != simdjson::SUCCESS || number < 0) return std::nullopt;
  if (number >= kMillisecondsThreshold) {
    if (number / 1000 > kMaxUnixSeconds) return std::nullopt;
    return FromMicros(number * 1000);
  }
  return FromMicros(number * 1'000'000);
}

// Translates element `index` of the array into `out`.
void TranslateSendGridElement(size_t index, element item, ingest::Timestamp received_at, ingest::ParsedRequest& out) {
  const std::string path = absl::StrCat("[", index, "]");
  auto reject = [&](std::string message_id, std::string_view code, std::string message, std::string field) {
    out.rejected.push_back(ingest::RejectedEvent{index, std::move(message_id), MakeError(code, std::move(message), std::move(field))});
  };
  if (item.type() != element_type::OBJECT) {
    reject("", ingest::error_code::kInvalidType, absl::StrCat("expected an event object, got ", ToAbsl(TypeName(item.type()))), path);
    return;
  }
  const object fields(item);

  std::string message_id;
  bool generated = false;
  const std::string_view sg_event_id = StringMember(fields, "sg_event_id");
  if (!sg_event_id.empty()) {
    message_id = absl::StrCat("sendgrid-", ToAbsl(sg_event_id));
  } else {
    message_id = DerivedId("sendgrid-", item);
    generated = true;
  }

  const std::optional<element> email = Member(fields, "email");
  if (!email || email->is_null() || (email->is_string() && std::string_view(*email).empty())) {
    reject(std::move(message_id), ingest::error_code::kMissingIdentity,
           "a SendGrid event needs the recipient's \"email\"", path + ".email");
    return;
  }
  if (!email->is_string()) {
    reject(std::move(message_id), ingest::error_code::kInvalidType,
           absl::StrCat("expected a string, got ", ToAbsl(TypeName(email->type()))), path + ".email");
    return;
  }
  const std::string_view kind = StringMember(fields, "event");
  if (kind.empty()) {
    reject(std::move(message_id), ingest::error_code::kMissingField,
           "a SendGrid event needs its kind in \"event\" (a non-empty string)", path + ".event");
    return;
  }
  ingest::Timestamp timestamp = received_at;
  const std::optional<element> time = Member(fields, "timestamp");
  if (time && !time->is_null()) {
    const std::optional<ingest::Timestamp> parsed = SendGridTimestamp(*time);
    if (!parsed) {
      reject(std::move(message_id), ingest::error_code::kInvalidTimestamp,
             "expected Unix seconds as a non-negative number", path + ".timestamp");
      return;
    }
    timestamp = *parsed;
  }

  ingest::CanonicalEvent event =
      NewTrackEvent(std::move(message_id), generated, std::string(SendGridEventName(kind)), timestamp, received_at);
  if (!time || time->is_null()) event.original_timestamp.reset();

  JsonWriter properties(event.properties);
  properties.BeginObject().Key("provider").String("sendgrid").Key("provider_event").String(kind);
  for (const auto& [member, property] : kSendGridProperties) {
    if (!property.empty()) CopyMember(properties, fields, member, property);
  }
  bool has_custom_args = false;
  for (auto field : fields) {
    if (IsKnownSendGridMember(field.key) || !IsScalar(field.value)) continue;
    if (!has_custom_args) {
      properties.Key("custom_args").BeginObject();
      has_custom_args = true;
    }
    properties.Key(field.key);
    WriteValue(properties, field.value);
  }
  if (has_custom_args) properties.EndObject();
  properties.EndObject();

  JsonWriter context(event.context);
  BeginContext(context, std::string_view(*email));
  if (const std::string_view ip = StringMember(fields, "ip"); !ip.empty()) context.Key("ip").String(ip);
  if (const std::string_view agent = StringMember(fields, "useragent"); !agent.empty()) {
    context.Key("userAgent").String(agent);
  }
  context.EndObject();

  out.events.push_back(std::move(event));
  out.index_of.push_back(index);
}

// ---------------------------------------------------------------------------------------------
// Mailgun

std::string_view MailgunEventName(std::string_view kind, std::string_view severity) {
  if (kind == "failed") return severity == "temporary" ? "Email Deferred" : "Email Bounced";
  static constexpr std::array<std::pair<std::string_view, std::string_view>, 7> kNames = {{
      {"accepted", "Email Accepted"},
      {"delivered", "Email Delivered"},
      {"opened", "Email Opened"},
      {"clicked", "Email Link Clicked"},
      {"unsubscribed", "Unsubscribed"},
      {"complained", "Email Marked as Spam"},
      {"stored", "Email Stored"},
  }};
  return internal::EventNameFor(kNames, kind, "Email Event");
}

// The person a Mailgun event is about: its recipient, else (stored messages) the first recipient
// of the message.
std::string_view MailgunRecipient(object data) {
  if (const std::string_view recipient = StringMember(data, "recipient"); !recipient.empty()) return recipient;
  std::string_view first;
  if (data["message"]["recipients"].at(0).get(first) == simdjson::SUCCESS) return first;
  return {};
}

absl::Status VerifyMailgunSignature(object body, const MailgunOptions& options, ingest::Timestamp received_at) {
  if (options.signing_key.empty()) return absl::UnauthenticatedError("no Mailgun signing key configured");
  object signature;
  if (body["signature"].get(signature) != simdjson::SUCCESS) {
    return absl::UnauthenticatedError("signature: missing (expected {\"timestamp\",\"token\",\"signature\"})");
  }
  std::string timestamp;
  if (std::string_view text; signature["timestamp"].get(text) == simdjson::SUCCESS) {
    timestamp = std::string(text);
  } else if (int64_t number = 0; signature["timestamp"].get(number) == simdjson::SUCCESS) {
    timestamp = absl::StrCat(number);
  }
  const std::string_view token = StringMember(signature, "token");
  const std::string_view given = StringMember(signature, "signature");
  if (timestamp.empty() || token.empty() || given.empty()) {
    return absl::UnauthenticatedError("signature: timestamp, token and signature are all required");
  }
  const std::string expected = HexEncode(HmacSha256(options.signing_key, timestamp + std::string(token)));
  if (!ConstantTimeEquals(expected, absl::AsciiStrToLower(ToAbsl(given)))) {
    return absl::UnauthenticatedError("signature.signature: does not match the signing key");
  }
  if (!IsFresh(timestamp, options.max_age_seconds, received_at)) {
    return absl::UnauthenticatedError(
        absl::StrCat("signature.timestamp: more than ", options.max_age_seconds, " seconds from now (replay?)"));
  }
  return absl::OkStatus();
}

// Translates a verified Mailgun event-data object; a FieldError when it cannot be.
std::optional<ingest::FieldError> TranslateMailgunData(element value, ingest::Timestamp received_at,
                                                       ingest::ParsedRequest& out) {
  if (value.type() != element_type::OBJECT) {
    return MakeError(ingest::error_code::kInvalidType,
                     absl::StrCat("expected an object, got ", ToAbsl(TypeName(value.type()))), "event-data");
  }
  const object data(value);
  const std::string_view kind = StringMember(data, "event");
  if (kind.empty()) {
    return MakeError(ingest::error_code::kMissingField, "expected the event's kind as a non-empty string",
                     "event-data.event");
  }
  const std::string_view email = MailgunRecipient(data);
  if (email.empty()) {
    return MakeError(ingest::error_code::kMissingIdentity, "a Mailgun event needs the recipient's email address",
                     "event-data.recipient");
  }
  ingest::Timestamp timestamp = received_at;
  const std::optional<element> time = Member(data, "timestamp");
  if (time) {
    double seconds = 0;
    if (time->get_double().get(seconds) != simdjson::SUCCESS || !std::isfinite(seconds) || seconds < 0 ||
        seconds > double(kMaxUnixSeconds)) {
      return MakeError(ingest::error_code::kInvalidTimestamp, "expected Unix seconds as a non-negative number",
                       "event-data.timestamp");
    }
    timestamp = FromMicros(std::llround(seconds * 1e6));
  }

  const std::string_view id = StringMember(data, "id");
  const bool generated = id.empty();
  std::string message_id = generated ? DerivedId("mailgun-", value) : absl::StrCat("mailgun-", ToAbsl(id));
  const std::string_view severity = StringMember(data, "severity");
  ingest::CanonicalEvent event = NewTrackEvent(std::move(message_id), generated,
                                               std::string(MailgunEventName(kind, severity)), timestamp, received_at);
  if (!time) event.original_timestamp.reset();

  JsonWriter properties(event.properties);
  properties.BeginObject().Key("provider").String("mailgun").Key("provider_event").String(kind);
  CopyMember(properties, data, "id", "mailgun_event_id");
  object headers;
  if (data["message"]["headers"].get(headers) == simdjson::SUCCESS) {
    CopyMember(properties, headers, "message-id", "email_message_id");
    CopyMember(properties, headers, "subject", "subject");
    CopyMember(properties, headers, "from", "from");
  }
  properties.Key("recipient").String(email);
  CopyMember(properties, data, "recipient-domain", "recipient_domain");
  CopyMember(properties, data, "severity", "severity");
  CopyMember(properties, data, "reason", "reason");
  CopyMember(properties, data, "url", "url");
  CopyMember(properties, data, "ip", "ip");
  CopyMember(properties, data, "log-level", "log_level");
  CopyMember(properties, data, "method", "method");
  CopyMember(properties, data, "tags", "tags");
  CopyMember(properties, data, "campaigns", "campaigns");
  CopyMember(properties, data, "user-variables", "user_variables");
  object status;
  if (data["delivery-status"].get(status) == simdjson::SUCCESS) {
    properties.Key("delivery_status").BeginObject();
    CopyMember(properties, status, "code", "code");
    CopyMember(properties, status, "message", "message");
    CopyMember(properties, status, "description", "description");
    CopyMember(properties, status, "attempt-no", "attempt_no");
    properties.EndObject();
  }
  object client;
  const bool has_client = data["client-info"].get(client) == simdjson::SUCCESS;
  if (has_client) CopyMember(properties, data, "client-info", "client_info");
  properties.EndObject();

  JsonWriter context(event.context);
  BeginContext(context, email);
  if (const std::string_view ip = StringMember(data, "ip"); !ip.empty()) context.Key("ip").String(ip);
  if (has_client) {
    if (const std::string_view agent = StringMember(client, "user-agent"); !agent.empty()) {
      context.Key("userAgent").String(agent);
    }
  }
  object geolocation;
  if (data["geolocation"].get(geolocation) == simdjson::SUCCESS) {
    context.Key("location").BeginObject();
    CopyMember(context, geolocation, "city", "city");
    CopyMember(context, geolocation, "country", "country");
    CopyMember(context, geolocation, "region", "region");
    context.EndObject();
  }
  context.EndObject();

  out.events.push_back(std::move(event));
  out.index_of.push_back(0);
  return std::nullopt;
}

}  // namespace

absl::StatusOr<ingest::ParsedRequest> TranslateSendGridEvents(const WebhookRequest& request,
                                                              const SendGridOptions& options) {
  if (options.public_key.empty()) return absl::UnauthenticatedError("no verification key configured");
  const std::string_view signature = request.header(kSendGridSignatureHeader);
  const std::string_view timestamp = request.header(kSendGridTimestampHeader);
  if (signature.empty() || timestamp.empty()) {
    return absl::UnauthenticatedError(absl::StrCat("missing ", ToAbsl(kSendGridSignatureHeader), " or ",
                                                   ToAbsl(kSendGridTimestampHeader), " header"));
  }
  std::string signed_data;
  signed_data.reserve(timestamp.size() + request.body.size());
  signed_data.append(timestamp).append(request.body);
  if (const absl::Status verified = VerifyEcdsaP256Sha256(options.public_key, signed_data, signature); !verified.ok()) {
    if (absl::IsInvalidArgument(verified)) {
      return absl::FailedPreconditionError(
          absl::StrCat("the SendGrid verification key cannot be read: ", verified.message()));
    }
    return absl::UnauthenticatedError(absl::StrCat(ToAbsl(kSendGridSignatureHeader), ": does not verify"));
  }
  if (!IsFresh(timestamp, options.max_age_seconds, request.received_at)) {
    return absl::UnauthenticatedError(absl::StrCat(ToAbsl(kSendGridTimestampHeader), ": more than ",
                                                   options.max_age_seconds, " seconds from now (replay?)"));
  }

  ingest::ParsedRequest out;
  element root;
  if (const auto error = ThreadParser().parse(request.body.data(), request.body.size()).get(root); error) {
    out.request_error = MakeError(ingest::error_code::kInvalidJson,
                                  absl::StrCat("the body is not valid JSON: ", simdjson::error_message(error)), "");
    return out;
  }
  simdjson::dom::array items;
  if (root.get(items) != simdjson::SUCCESS) {
    out.request_error = MakeError(ingest::error_code::kInvalidType,
                                  absl::StrCat("expected a JSON array of events, got ", ToAbsl(TypeName(root.type()))), "");
    return out;
  }
  size_t index = 0;
  for (element item : items) {
    TranslateSendGridElement(index, item, request.received_at, out);
    ++index;
  }
  out.event_count = index;
  return out;
}

absl::StatusOr<ingest::ParsedRequest> TranslateMailgunEvent(const WebhookRequest& request,
                                                            const MailgunOptions& options) {
  ingest::ParsedRequest out;
  element root;
  if (const auto error = ThreadParser().parse(request.body.data(), request.body.size()).get(root); error) {
    out.request_error = MakeError(ingest::error_code::kInvalidJson,
                                  absl::StrCat("the body is not valid JSON: ", simdjson::error_message(error)), "");
    return out;
  }
  object body;
  if (root.get(body) != simdjson::SUCCESS) {
    // Without an object there is no signature to check: refuse as unauthenticated.
    return absl::UnauthenticatedError("expected a JSON object with \"signature\" and \"event-data\"");
  }
  if (absl::Status verified = VerifyMailgunSignature(body, options, request.received_at); !verified.ok()) {
    return verified;
  }
  out.event_count = 1;
  const std::optional<element> data = Member(body, "event-data");
  if (!data) {
    out.request_error = MakeError(ingest::error_code::kMissingField, "expected the event as an object", "event-data");
    return out;
  }
  if (std::optional<ingest::FieldError> error = TranslateMailgunData(*data, request.received_at, out)) {
    out.request_error = std::move(error);
  }
  return out;
}

}  // namespace tessera::connectors
