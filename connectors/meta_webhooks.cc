#include "connectors/meta_webhooks.h"

#include <chrono>
#include <cmath>
#include <cstdint>
#include <optional>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "base/json_writer.h"
#include "connectors/internal/text.h"
#include "connectors/signatures.h"
#include "simdjson.h"

namespace tessera::connectors {
namespace {

namespace dom = simdjson::dom;
using base::JsonWriter;
using ingest::FieldError;

constexpr std::string_view kSignatureHeader = "X-Hub-Signature-256";
constexpr std::string_view kSignaturePrefix = "sha256=";

// Concatenates text and unsigned numbers (Debian's absl::StrCat does not take std::string_view).
inline void AppendPart(std::string& out, std::string_view part) { out.append(part); }
inline void AppendPart(std::string& out, size_t number) { out.append(std::to_string(number)); }

template <typename... Parts>
std::string Cat(const Parts&... parts) {
  std::string out;
  (AppendPart(out, parts), ...);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Query strings.

// The first value of parameter `name` (compared after decoding), still encoded; nullopt if absent.
std::optional<std::string_view> FindQueryValue(std::string_view query, std::string_view name) {
  while (!query.empty()) {
    const size_t amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    const size_t eq = pair.find('=');
    const std::optional<std::string> key = internal::DecodeFormComponent(pair.substr(0, eq));
    if (key && *key == name) return eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1);
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return std::nullopt;
}

absl::StatusOr<std::string> RequiredQueryParam(std::string_view query, std::string_view name) {
  const std::optional<std::string_view> raw = FindQueryValue(query, name);
  if (!raw) return absl::InvalidArgumentError(Cat(name, ": missing query parameter"));
  std::optional<std::string> value = internal::DecodeFormComponent(*raw);
  if (!value) return absl::InvalidArgumentError(Cat(name, ": invalid percent-encoding"));
  if (value->empty()) return absl::InvalidArgumentError(Cat(name, ": empty query parameter"));
  return *std::move(value);
}

// ---------------------------------------------------------------------------------------------
// Signature.

absl::Status VerifySignature(const WebhookRequest& request, const MetaOptions& options) {
  if (options.app_secret.empty()) {
    return absl::UnauthenticatedError("no Meta app secret is configured for this source; cannot verify " +
                                      std::string(kSignatureHeader));
  }
  const std::string_view header = request.header(kSignatureHeader);
  if (header.empty()) return absl::UnauthenticatedError(Cat("missing ", kSignatureHeader, " header"));
  const absl::string_view trimmed =
      absl::StripAsciiWhitespace(absl::string_view(header.data(), header.size()));
  if (trimmed.size() <= kSignaturePrefix.size() ||
      absl::AsciiStrToLower(trimmed.substr(0, kSignaturePrefix.size())) != kSignaturePrefix) {
    return absl::UnauthenticatedError(
        Cat(kSignatureHeader, ": expected \"sha256=<hex HMAC-SHA256 of the body>\""));
  }
  const std::string given = absl::AsciiStrToLower(trimmed.substr(kSignaturePrefix.size()));
  const std::string expected = HexEncode(HmacSha256(options.app_secret, request.body));
  if (!ConstantTimeEquals(given, expected)) {
    return absl::UnauthenticatedError(
        Cat(kSignatureHeader, " does not match the body under the configured app secret"));
  }
  return absl::OkStatus();
}

// ---------------------------------------------------------------------------------------------
// JSON helpers.

dom::parser& ThreadParser() {
  thread_local dom::parser parser;
  return parser;
}

std::string_view TypeName(dom::element_type type) {
  switch (type) {
    case dom::element_type::ARRAY:
      return "an array";
    case dom::element_type::OBJECT:
      return "an object";
    case dom::element_type::INT64:
    case dom::element_type::UINT64:
    case dom::element_type::DOUBLE:
      return "a number";
    case dom::element_type::STRING:
      return "a string";
    case dom::element_type::BOOL:
      return "a boolean";
    case dom::element_type::NULL_VALUE:
      return "null";
  }
  return "a value";
}

FieldError MakeError(std::string_view code, std::string field, std::string message) {
  return FieldError{std::string(code), std::move(message), std::move(field)};
}

// A member of `object`, nullopt when absent or null.
std::optional<dom::element> Member(dom::object object, std::string_view key) {
  dom::element value;
  if (object.at_key(key).get(value) != simdjson::SUCCESS || value.is_null()) return std::nullopt;
  return value;
}

std::optional<dom::object> ObjectMember(dom::object object, std::string_view key) {
  std::optional<dom::element> value = Member(object, key);
  dom::object result;
  if (!value || value->get_object().get(result) != simdjson::SUCCESS) return std::nullopt;
  return result;
}

std::optional<std::string_view> StringMember(dom::object object, std::string_view key) {
  std::optional<dom::element> value = Member(object, key);
  std::string_view result;
  if (!value || value->get_string().get(result) != simdjson::SUCCESS) return std::nullopt;
  return result;
}

bool TrueMember(dom::object object, std::string_view key) {
  std::optional<dom::element> value = Member(object, key);
  bool result = false;
  return value && value->get_bool().get(result) == simdjson::SUCCESS && result;
}

// An id as Meta sends it (a string), or as test tools sometimes do (an integer): its text.
// An error names `path` when it is absent, empty or of another type.
std::optional<std::string> IdText(std::optional<dom::element> value, const std::string& path,
                                  std::string_view missing_code, FieldError& error) {
  if (!value) {
    error = MakeError(missing_code, path, "missing; expected the id as a string");
    return std::nullopt;
  }
  std::string_view text;
  if (value->get_string().get(text) == simdjson::SUCCESS) {
    if (text.empty()) {
      error = MakeError(missing_code, path, "empty; expected the id as a string");
      return std::nullopt;
    }
    return std::string(text);
  }
  int64_t signed_number = 0;
  uint64_t unsigned_number = 0;
  if (value->get_int64().get(signed_number) == simdjson::SUCCESS) return std::to_string(signed_number);
  if (value->get_uint64().get(unsigned_number) == simdjson::SUCCESS) return std::to_string(unsigned_number);
  error = MakeError(ingest::error_code::kInvalidType, path,
                    Cat("expected the id as a string, got ", TypeName(value->type())));
  return std::nullopt;
}

std::optional<std::string> IdAt(dom::object object, std::string_view key) {
  FieldError ignored;
  return IdText(Member(object, key), "", ingest::error_code::kMissingField, ignored);
}

// Unix time in milliseconds, or seconds when below 1e11 (see the header). nullopt when not a
// number or out of range.
std::optional<ingest::Timestamp> EpochTime(dom::element value) {
  double number = 0;
  if (value.get_double().get(number) != simdjson::SUCCESS || !std::isfinite(number)) return std::nullopt;
  if (number <= 0 || number >= 253402300800000.0) return std::nullopt;  // Year 10000, in ms.
  const double micros = number < 1e11 ? number * 1e6 : number * 1e3;
  return ingest::Timestamp(std::chrono::microseconds(std::llround(micros)));
}

// A JSON scalar or sub-document written back as it came (minified).
void WriteRaw(JsonWriter& writer, std::string_view key, std::optional<dom::element> value) {
  if (!value) return;
  writer.Key(key).Raw(simdjson::minify(*value));
}

void WriteString(JsonWriter& writer, std::string_view key, std::optional<std::string_view> value) {
  if (value) writer.Key(key).String(*value);
}

void WriteId(JsonWriter& writer, std::string_view key, std::optional<std::string> value) {
  if (value) writer.Key(key).String(*value);
}

std::string DigestId(std::string_view object_kind, std::string_view scope_id, dom::element item) {
  const std::string material = Cat(object_kind, "\n", scope_id, "\n", simdjson::minify(item));
  return "meta-" + HexEncode(HmacSha256("", material));
}

// ---------------------------------------------------------------------------------------------
// Translation.

class Translator {
 public:
  Translator(const WebhookRequest& request, ingest::ParsedRequest& out) : request_(request), out_(out) {}

  void Translate(std::string_view body) {
    dom::element root;
    if (simdjson::error_code e = ThreadParser().parse(body.data(), body.size()).get(root)) {
      out_.request_error = MakeError(ingest::error_code::kInvalidJson, "",
                                     Cat("the body is not valid JSON: ", simdjson::error_message(e)));
      return;
    }
    dom::object envelope;
    if (root.get_object().get(envelope) != simdjson::SUCCESS) {
      out_.request_error = MakeError(ingest::error_code::kInvalidType, "",
                                     Cat("expected a JSON object, got ", TypeName(root.type())));
      return;
    }
    std::optional<dom::element> object_value = Member(envelope, "object");
    std::string_view object_kind;
    if (!object_value) {
      out_.request_error = MakeError(ingest::error_code::kMissingField, "object",
                                     "missing; expected \"page\" or \"instagram\"");
      return;
    }
    if (object_value->get_string().get(object_kind) != simdjson::SUCCESS ||
        (object_kind != "page" && object_kind != "instagram")) {
      out_.request_error =
          MakeError(ingest::error_code::kInvalidValue, "object",
                    Cat("expected \"page\" or \"instagram\", got ", simdjson::minify(*object_value)));
      return;
    }
    object_kind_ = object_kind;
    instagram_ = object_kind == "instagram";

    std::optional<dom::element> entries_value = Member(envelope, "entry");
    dom::array entries;
    if (!entries_value) {
      out_.request_error =
          MakeError(ingest::error_code::kMissingField, "entry", "missing; expected an array");
      return;
    }
    if (entries_value->get_array().get(entries) != simdjson::SUCCESS) {
      out_.request_error = MakeError(ingest::error_code::kInvalidType, "entry",
                                     Cat("expected an array, got ", TypeName(entries_value->type())));
      return;
    }
    size_t entry_index = 0;
    for (dom::element entry : entries) TranslateEntry(entry, entry_index++);
  }

 private:
  struct Entry {
    std::string path;                       // "entry[3]"
    std::optional<std::string> id;          // page / Instagram account id
    std::optional<FieldError> id_error;     // why `id` is unusable
    std::optional<ingest::Timestamp> time;  // entry.time
  };

  void TranslateEntry(dom::element value, size_t entry_index) {
    Entry entry;
    entry.path = Cat("entry[", entry_index, "]");
    dom::object object;
    if (value.get_object().get(object) != simdjson::SUCCESS) {
      Reject({}, MakeError(ingest::error_code::kInvalidType, entry.path,
                           Cat("expected an object, got ", TypeName(value.type()))));
      return;
    }
    FieldError id_error;
    entry.id = IdText(Member(object, "id"), entry.path + ".id", ingest::error_code::kMissingField, id_error);
    if (!entry.id) entry.id_error = id_error;
    if (std::optional<dom::element> time = Member(object, "time")) entry.time = EpochTime(*time);

    // Members in document order, so that item numbers follow the document.
    for (dom::key_value_pair member : object) {
      const bool messaging = member.key == "messaging" || member.key == "standby";
      if (!messaging && member.key != "changes") continue;
      const std::string list_path = Cat(entry.path, ".", member.key);
      if (member.value.is_null()) continue;
      dom::array items;
      if (member.value.get_array().get(items) != simdjson::SUCCESS) {
        Reject({}, MakeError(ingest::error_code::kInvalidType, list_path,
                             Cat("expected an array, got ", TypeName(member.value.type()))));
        continue;
      }
      size_t item_index = 0;
      for (dom::element item : items) {
        const std::string path = Cat(list_path, "[", item_index++, "]");
        if (messaging) {
          TranslateMessaging(entry, item, path, member.key == "standby");
        } else {
          TranslateChange(entry, item, path);
        }
      }
    }
  }

  void TranslateMessaging(const Entry& entry, dom::element value, const std::string& path, bool standby) {
    dom::object item;
    if (value.get_object().get(item) != simdjson::SUCCESS) {
      Reject({}, MakeError(ingest::error_code::kInvalidType, path,
                           Cat("expected an object, got ", TypeName(value.type()))));
      return;
    }
    const std::optional<dom::object> message = ObjectMember(item, "message");
    const std::optional<dom::object> postback = ObjectMember(item, "postback");
    const bool echo = message && (TrueMember(*message, "is_echo") || TrueMember(*message, "isEcho"));

    std::string message_id;
    bool generated = false;
    std::optional<std::string_view> mid;
    if (message) {
      mid = StringMember(*message, "mid");
    } else if (postback) {
      mid = StringMember(*postback, "mid");
    }
    if (mid && !mid->empty()) {
      message_id = Cat("meta-", *mid);
    } else {
      message_id = DigestId(object_kind_, entry.id.value_or(""), value);
      generated = true;
    }

    if (!entry.id) {
      Reject(message_id, *entry.id_error);
      return;
    }
    // An echo is the page's own message: the person is its recipient.
    const std::string_view user_member = echo ? "recipient" : "sender";
    const std::string user_path = Cat(path, ".", user_member, ".id");
    std::optional<dom::element> user_value;
    if (std::optional<dom::object> user = ObjectMember(item, user_member)) user_value = Member(*user, "id");
    FieldError error;
    const std::optional<std::string> user_id =
        IdText(user_value, user_path, ingest::error_code::kMissingIdentity, error);
    if (!user_id) {
      Reject(message_id, error);
      return;
    }
    std::optional<ingest::Timestamp> timestamp = entry.time;
    if (std::optional<dom::element> time = Member(item, "timestamp")) {
      timestamp = EpochTime(*time);
      if (!timestamp) {
        Reject(message_id,
               MakeError(ingest::error_code::kInvalidTimestamp, path + ".timestamp",
                         Cat("expected Unix time in milliseconds, got ", simdjson::minify(*time))));
        return;
      }
    }

    ingest::CanonicalEvent event;
    event.message_id = std::move(message_id);
    event.message_id_generated = generated;
    std::string& properties = event.properties;
    JsonWriter writer(properties);
    writer.BeginObject();
    writer.Key("platform").String(instagram_ ? "instagram" : "messenger");
    writer.Key("page_id").String(*entry.id);
    if (standby) writer.Key("standby").Bool(true);
    if (message) {
      event.event = echo ? "Message Sent" : "Message Received";
      WriteString(writer, "mid", mid);
      WriteString(writer, "text", StringMember(*message, "text"));
      dom::array attachments;
      if (std::optional<dom::element> list = Member(*message, "attachments");
          list && list->get_array().get(attachments) == simdjson::SUCCESS) {
        writer.Key("attachment_types").BeginArray();
        for (dom::element attachment : attachments) {
          dom::object attachment_object;
          std::optional<std::string_view> type;
          if (attachment.get_object().get(attachment_object) == simdjson::SUCCESS) {
            type = StringMember(attachment_object, "type");
          }
          writer.String(type.value_or("unknown"));
        }
        writer.EndArray();
      }
      if (std::optional<dom::object> quick_reply = ObjectMember(*message, "quick_reply")) {
        WriteString(writer, "quick_reply_payload", StringMember(*quick_reply, "payload"));
      }
      if (std::optional<dom::object> reply_to = ObjectMember(*message, "reply_to")) {
        WriteString(writer, "reply_to_mid", StringMember(*reply_to, "mid"));
      }
      if (echo) {
        std::optional<dom::element> app_id = Member(*message, "app_id");
        if (!app_id) app_id = Member(*message, "appId");
        WriteRaw(writer, "app_id", app_id);
      }
    } else if (postback) {
      event.event = "Postback Received";
      WriteString(writer, "mid", mid);
      WriteString(writer, "title", StringMember(*postback, "title"));
      WriteString(writer, "payload", StringMember(*postback, "payload"));
    } else if (std::optional<dom::object> read = ObjectMember(item, "read")) {
      event.event = "Message Read";
      WriteRaw(writer, "watermark", Member(*read, "watermark"));
      WriteString(writer, "mid", StringMember(*read, "mid"));
    } else if (std::optional<dom::object> delivery = ObjectMember(item, "delivery")) {
      event.event = "Message Delivered";
      WriteRaw(writer, "watermark", Member(*delivery, "watermark"));
      WriteRaw(writer, "mids", Member(*delivery, "mids"));
    } else {
      event.event = "Social Event";
      // The kind of a messaging item is the member beside sender, recipient and timestamp.
      std::string_view kind = "unknown";
      std::optional<dom::element> payload;
      for (dom::key_value_pair member : item) {
        if (member.key == "sender" || member.key == "recipient" || member.key == "timestamp") continue;
        kind = member.key;
        payload = member.value;
        break;
      }
      writer.Key("provider_event").String(kind);
      WriteRaw(writer, "provider_payload", payload);
    }
    writer.EndObject();
    Accept(std::move(event), *entry.id, *user_id, timestamp);
  }

  void TranslateChange(const Entry& entry, dom::element value, const std::string& path) {
    dom::object change;
    if (value.get_object().get(change) != simdjson::SUCCESS) {
      Reject({}, MakeError(ingest::error_code::kInvalidType, path,
                           Cat("expected an object, got ", TypeName(value.type()))));
      return;
    }
    std::optional<dom::element> field_value = Member(change, "field");
    std::string_view field;
    if (!field_value) {
      Reject({}, MakeError(ingest::error_code::kMissingField, path + ".field", "missing; expected a string"));
      return;
    }
    if (field_value->get_string().get(field) != simdjson::SUCCESS) {
      Reject({}, MakeError(ingest::error_code::kInvalidType, path + ".field",
                           Cat("expected a string, got ", TypeName(field_value->type()))));
      return;
    }
    std::optional<dom::element> value_member = Member(change, "value");
    dom::object body;
    if (!value_member) {
      Reject({},
             MakeError(ingest::error_code::kMissingField, path + ".value", "missing; expected an object"));
      return;
    }
    if (value_member->get_object().get(body) != simdjson::SUCCESS) {
      Reject({}, MakeError(ingest::error_code::kInvalidType, path + ".value",
                           Cat("expected an object, got ", TypeName(value_member->type()))));
      return;
    }

    ingest::CanonicalEvent event;
    std::string& properties = event.properties;
    JsonWriter writer(properties);
    writer.BeginObject();
    writer.Key("platform").String(instagram_ ? "instagram" : "facebook");
    if (entry.id) writer.Key("page_id").String(*entry.id);

    const std::optional<std::string_view> feed_item = StringMember(body, "item");
    const std::optional<std::string_view> verb = StringMember(body, "verb");
    std::optional<std::string> provider_id;
    if (field == "comments") {
      event.event = "Comment Posted";
      provider_id = IdAt(body, "id");
      if (provider_id) event.message_id = "meta-comment-" + *provider_id;
      WriteId(writer, "comment_id", provider_id);
      WriteString(writer, "text", StringMember(body, "text"));
      if (std::optional<dom::object> media = ObjectMember(body, "media")) {
        WriteId(writer, "media_id", IdAt(*media, "id"));
        WriteString(writer, "media_product_type", StringMember(*media, "media_product_type"));
      }
      WriteId(writer, "parent_id", IdAt(body, "parent_id"));
    } else if (field == "mentions") {
      event.event = "Mentioned";
      const std::optional<std::string> comment_id = IdAt(body, "comment_id");
      const std::optional<std::string> media_id = IdAt(body, "media_id");
      provider_id = comment_id ? comment_id : media_id;
      if (provider_id) event.message_id = "meta-mention-" + *provider_id;
      WriteId(writer, "media_id", media_id);
      WriteId(writer, "comment_id", comment_id);
    } else if (field == "feed" && feed_item == "comment" && (!verb || *verb == "add")) {
      event.event = "Comment Posted";
      provider_id = IdAt(body, "comment_id");
      if (provider_id) event.message_id = "meta-comment-" + *provider_id;
      WriteId(writer, "comment_id", provider_id);
      WriteId(writer, "post_id", IdAt(body, "post_id"));
      WriteString(writer, "text", StringMember(body, "message"));
      WriteId(writer, "parent_id", IdAt(body, "parent_id"));
    } else {
      event.event = "Social Event";
      writer.Key("provider_event").String(field);
      WriteRaw(writer, "provider_payload", value_member);
    }
    writer.EndObject();
    if (event.message_id.empty()) {
      event.message_id = DigestId(object_kind_, entry.id.value_or(""), value);
      event.message_id_generated = true;
    }

    if (!entry.id) {
      Reject(event.message_id, *entry.id_error);
      return;
    }
    const std::string user_path = path + ".value.from.id";
    std::optional<dom::element> user_value;
    if (std::optional<dom::object> from = ObjectMember(body, "from")) user_value = Member(*from, "id");
    FieldError error;
    const std::optional<std::string> user_id =
        IdText(user_value, user_path, ingest::error_code::kMissingIdentity, error);
    if (!user_id) {
      if (!user_value)
        error.message = "missing; a change without the user's id cannot be attributed to a person";
      Reject(event.message_id, error);
      return;
    }
    std::optional<ingest::Timestamp> timestamp = entry.time;
    if (std::optional<dom::element> created = Member(body, "created_time")) {
      if (std::optional<ingest::Timestamp> created_time = EpochTime(*created)) timestamp = created_time;
    }
    Accept(std::move(event), *entry.id, *user_id, timestamp);
  }

  void Accept(ingest::CanonicalEvent event, std::string_view scope_id, std::string_view user_id,
              std::optional<ingest::Timestamp> timestamp) {
    event.type = ingest::EventType::kTrack;
    JsonWriter context(event.context);
    context.BeginObject().Key("externalIds").BeginArray().BeginObject();
    context.Key("id").String(MetaScopedUserId(scope_id, user_id));
    context.Key("type").String(instagram_ ? "ig_sid" : "fb_psid");
    context.Key("collection").String("users");
    context.Key("encoding").String("none");
    context.EndObject().EndArray().EndObject();
    event.received_at = request_.received_at;
    if (timestamp) {
      event.timestamp = *timestamp;
      event.original_timestamp = *timestamp;
    } else {
      event.timestamp = request_.received_at;
    }
    out_.events.push_back(std::move(event));
    out_.index_of.push_back(out_.event_count++);
  }

  void Reject(std::string message_id, FieldError error) {
    out_.rejected.push_back(
        ingest::RejectedEvent{out_.event_count++, std::move(message_id), std::move(error)});
  }

  const WebhookRequest& request_;
  ingest::ParsedRequest& out_;
  std::string_view object_kind_;
  bool instagram_ = false;
};

}  // namespace

std::string MetaScopedUserId(std::string_view scope_id, std::string_view user_id) {
  return Cat(scope_id, ":", user_id);
}

absl::StatusOr<std::string> MetaVerificationChallenge(std::string_view query, const MetaOptions& options) {
  absl::StatusOr<std::string> mode = RequiredQueryParam(query, "hub.mode");
  if (!mode.ok()) return mode.status();
  if (*mode != "subscribe") {
    return absl::InvalidArgumentError(Cat("hub.mode: expected \"subscribe\", got \"", *mode, "\""));
  }
  absl::StatusOr<std::string> token = RequiredQueryParam(query, "hub.verify_token");
  if (!token.ok()) return token.status();
  absl::StatusOr<std::string> challenge = RequiredQueryParam(query, "hub.challenge");
  if (!challenge.ok()) return challenge.status();
  if (options.verify_token.empty()) {
    return absl::PermissionDeniedError("hub.verify_token: no verify token is configured for this source");
  }
  if (!ConstantTimeEquals(*token, options.verify_token)) {
    return absl::PermissionDeniedError("hub.verify_token: does not match the source's verify token");
  }
  return challenge;
}

absl::StatusOr<ingest::ParsedRequest> TranslateMetaWebhook(const WebhookRequest& request,
                                                           const MetaOptions& options) {
  if (absl::Status verified = VerifySignature(request, options); !verified.ok()) return verified;
  ingest::ParsedRequest parsed;
  Translator(request, parsed).Translate(request.body);
  if (parsed.request_error) {
    parsed.events.clear();
    parsed.index_of.clear();
    parsed.rejected.clear();
    parsed.event_count = 0;
  }
  return parsed;
}

}  // namespace tessera::connectors
