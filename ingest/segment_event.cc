// One Segment event (track, identify, page, screen, group, alias) into a CanonicalEvent: each member
// read by its kind, the identity and the fields each call type requires, top-level traits kept only
// where the spec has them, batch defaults merged in, client clock skew corrected, and a
// content-addressed messageId when the client sent none.

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "base/json_writer.h"
#include "ingest/internal/segment_fields.h"
#include "ingest/internal/segment_parser_impl.h"
#include "xxhash.h"

namespace tessera::ingest {
namespace {

using internal::MemberSpan;

// The event members the parser understands; anything else is validated and ignored.
enum class Member : uint8_t {
  kUnknown,
  kType,
  kUserId,
  kAnonymousId,
  kPreviousId,
  kGroupId,
  kMessageId,
  kEvent,
  kName,
  kCategory,
  kTraits,
  kProperties,
  kContext,
  kIntegrations,
  kTimestamp,
  kSentAt,
  kOriginalTimestamp,
  kWriteKey,
};

Member MemberFromKey(std::string_view key) {
  // Dispatch on length first: one or two comparisons per member instead of a scan of all names.
  switch (key.size()) {
    case 4:
      if (key == "type") return Member::kType;
      if (key == "name") return Member::kName;
      break;
    case 5:
      if (key == "event") return Member::kEvent;
      break;
    case 6:
      if (key == "userId") return Member::kUserId;
      if (key == "traits") return Member::kTraits;
      if (key == "sentAt") return Member::kSentAt;
      break;
    case 7:
      if (key == "groupId") return Member::kGroupId;
      if (key == "context") return Member::kContext;
      break;
    case 8:
      if (key == "category") return Member::kCategory;
      if (key == "writeKey") return Member::kWriteKey;
      break;
    case 9:
      if (key == "messageId") return Member::kMessageId;
      if (key == "timestamp") return Member::kTimestamp;
      break;
    case 10:
      if (key == "previousId") return Member::kPreviousId;
      if (key == "properties") return Member::kProperties;
      break;
    case 11:
      if (key == "anonymousId") return Member::kAnonymousId;
      break;
    case 12:
      if (key == "integrations") return Member::kIntegrations;
      break;
    case 17:
      if (key == "originalTimestamp") return Member::kOriginalTimestamp;
      break;
    default:
      break;
  }
  return Member::kUnknown;
}

// "tsr-" and the 128-bit XXH3 of the event's bytes in hex: the same event sent twice (a client
// retry) gets the same id, so deduplication still works for clients that send no messageId.
std::string GeneratedMessageId(std::string_view raw_event) {
  XXH128_canonical_t canonical;
  XXH128_canonicalFromHash(&canonical, XXH3_128bits(raw_event.data(), raw_event.size()));
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id = "tsr-";
  id.resize(4 + 2 * sizeof(canonical.digest));
  for (size_t i = 0; i < sizeof(canonical.digest); ++i) {
    id[4 + 2 * i] = kHex[canonical.digest[i] >> 4];
    id[5 + 2 * i] = kHex[canonical.digest[i] & 0xF];
  }
  return id;
}

// Shallow merge: members of `defaults` (a minified object described by `default_members`) whose key
// `json` (a minified object with top-level keys `own_members`) lacks are appended to `json`.
void MergeDefaults(std::string& json, const std::vector<MemberSpan>& own_members, const std::string& defaults,
                   const std::vector<MemberSpan>& default_members) {
  if (json.empty()) {
    json = defaults;
    return;
  }
  json.pop_back();  // The closing '}'.
  bool empty = json.size() == 1;
  for (const MemberSpan& member : default_members) {
    bool overridden = false;
    for (const MemberSpan& own : own_members) {
      if (own.key == member.key) {
        overridden = true;
        break;
      }
    }
    if (overridden) continue;
    if (!empty) json.push_back(',');
    base::AppendJsonString(json, member.key);
    json.push_back(':');
    json.append(defaults, member.value_begin, member.value_end - member.value_begin);
    empty = false;
  }
  json.push_back('}');
}

}  // namespace

using internal::DescribeType;
using internal::FindTopLevelString;
using internal::InvalidJsonDetail;
using internal::JoinPath;
using internal::KeyAndValue;
using internal::MakeError;
using internal::ReadEventType;
using internal::ReadId;
using internal::ReadString;
using internal::ReadTimestamp;

bool SegmentParser::Impl::ParseEvent(std::string_view raw, const Input& input,
                                     std::optional<EventType> endpoint_type, const BatchDefaults* batch,
                                     Timestamp received_at, CanonicalEvent& event, FieldError& error,
                                     std::string& client_message_id, std::string* write_key) {
  const std::string_view prefix = element_path_;
  const size_t capacity = static_cast<size_t>(input.end_of_capacity - raw.data());
  od::document doc;
  if (auto e = event_parser_.iterate(raw.data(), raw.size(), capacity).get(doc)) {
    error =
        MakeError(error_code::kInvalidJson, std::string(prefix),
                  e == simdjson::EMPTY ? "the body is empty; expected a JSON object" : InvalidJsonDetail(e));
    return false;
  }
  od::json_type doc_type;
  if (auto e = doc.type().get(doc_type)) {
    error = MakeError(error_code::kInvalidJson, std::string(prefix), InvalidJsonDetail(e));
    return false;
  }
  if (doc_type != od::json_type::object) {
    if (!RootIsValidJson(doc, doc_type)) {
      error = MakeError(error_code::kInvalidJson, std::string(prefix), "not valid JSON; expected an object");
      return false;
    }
    std::string detail = "expected an object, got ";
    detail.append(DescribeType(doc_type));
    error = MakeError(error_code::kInvalidType, std::string(prefix), detail);
    return false;
  }
  od::object object;
  if (auto e = doc.get_object().get(object)) {
    error = MakeError(error_code::kInvalidJson, std::string(prefix), InvalidJsonDetail(e));
    return false;
  }

  const bool in_batch = batch != nullptr;
  const bool merge_context = in_batch && batch->context != nullptr;
  const bool merge_integrations = in_batch && batch->integrations != nullptr;
  context_members_.clear();
  integrations_members_.clear();
  std::optional<EventType> type = endpoint_type;
  std::optional<Timestamp> timestamp;
  std::optional<Timestamp> original_timestamp;
  std::optional<Timestamp> sent_at;
  bool ok = true;
  for (auto field : object) {
    std::string_view key;
    od::value value;
    simdjson::error_code e = KeyAndValue(field, key, value);
    if (e != simdjson::SUCCESS) {
      error = MakeError(error_code::kInvalidJson, std::string(prefix), InvalidJsonDetail(e));
      ok = false;
      break;
    }
    switch (MemberFromKey(key)) {
      case Member::kType:
        // Single-event endpoints take the type from the URL, as Segment does.
        ok = in_batch ? ReadEventType(value, prefix, type, error) : SkipMember(value, prefix, key, error);
        break;
      case Member::kUserId:
        ok = ReadId(value, prefix, key, event.user_id, error);
        break;
      case Member::kAnonymousId:
        ok = ReadId(value, prefix, key, event.anonymous_id, error);
        break;
      case Member::kPreviousId:
        ok = ReadId(value, prefix, key, event.previous_id, error);
        break;
      case Member::kGroupId:
        ok = ReadId(value, prefix, key, event.group_id, error);
        break;
      case Member::kMessageId:
        ok = ReadString(value, prefix, key, event.message_id, error);
        if (ok) client_message_id = event.message_id;
        break;
      case Member::kEvent:
        ok = ReadString(value, prefix, key, event.event, error);
        break;
      case Member::kName:
        ok = ReadString(value, prefix, key, event.name, error);
        break;
      case Member::kCategory:
        ok = ReadString(value, prefix, key, event.category, error);
        break;
      case Member::kTraits:
        ok = ReadObjectMember(value, prefix, key, event.traits, nullptr, error);
        break;
      case Member::kProperties:
        ok = ReadObjectMember(value, prefix, key, event.properties, nullptr, error);
        break;
      case Member::kContext:
        ok = ReadObjectMember(value, prefix, key, event.context, merge_context ? &context_members_ : nullptr,
                              error);
        break;
      case Member::kIntegrations:
        ok = ReadObjectMember(value, prefix, key, event.integrations,
                              merge_integrations ? &integrations_members_ : nullptr, error);
        break;
      case Member::kTimestamp:
        ok = ReadTimestamp(value, prefix, key, timestamp, error);
        break;
      case Member::kOriginalTimestamp:
        ok = ReadTimestamp(value, prefix, key, original_timestamp, error);
        break;
      case Member::kSentAt:
        ok = ReadTimestamp(value, prefix, key, sent_at, error);
        break;
      case Member::kWriteKey:
        if (write_key != nullptr) {
          ok = ReadString(value, prefix, key, *write_key, error);
        } else {
          ok = SkipMember(value, prefix, key, error);  // Inside a batch the envelope's key counts.
        }
        break;
      case Member::kUnknown:
        ok = SkipMember(value, prefix, key, error);
        break;
    }
    if (!ok) break;
  }

  if (ok && !in_batch) {
    // The event is the whole body: anything after its closing brace is malformed input.
    const char* location = nullptr;
    if (doc.current_location().get(location) == simdjson::SUCCESS) {
      error = MakeError(error_code::kInvalidJson, "", "unexpected content after the JSON object");
      ok = false;
    }
  }

  if (!ok) {
    // Members after the bad one were not read. The batch report names the event by the client's
    // messageId; a single event's writeKey lets the HTTP layer answer 400 rather than 401.
    if (in_batch && client_message_id.empty()) {
      client_message_id.assign(FindTopLevelString(doc, "messageId"));
    } else if (write_key != nullptr && write_key->empty()) {
      write_key->assign(FindTopLevelString(doc, "writeKey"));
    }
    return false;
  }

  if (!type) {
    error = MakeError(error_code::kMissingField, JoinPath(prefix, "type"),
                      "required: one of track, identify, page, screen, group, alias");
    return false;
  }
  event.type = *type;
  if (event.user_id.empty() && event.anonymous_id.empty()) {
    error = MakeError(error_code::kMissingIdentity, JoinPath(prefix, "userId"),
                      "either userId or anonymousId is required");
    return false;
  }
  switch (event.type) {
    case EventType::kTrack:
      if (event.event.empty()) {
        error = MakeError(error_code::kMissingField, JoinPath(prefix, "event"),
                          "required for track: the name of the action, e.g. \"Order Completed\"");
        return false;
      }
      break;
    case EventType::kAlias:
      if (event.previous_id.empty()) {
        error = MakeError(error_code::kMissingField, JoinPath(prefix, "previousId"),
                          "required for alias: the identity being aliased");
        return false;
      }
      if (event.user_id.empty()) {
        error = MakeError(error_code::kMissingField, JoinPath(prefix, "userId"),
                          "required for alias: the new identity");
        return false;
      }
      break;
    case EventType::kGroup:
      if (event.group_id.empty()) {
        error = MakeError(error_code::kMissingField, JoinPath(prefix, "groupId"), "required for group");
        return false;
      }
      break;
    case EventType::kIdentify:
    case EventType::kPage:
    case EventType::kScreen:
      break;
  }
  // Only identify and group carry traits at the top level in the Segment spec; elsewhere user
  // traits travel in context.traits, which stays inside context.
  if (event.type != EventType::kIdentify && event.type != EventType::kGroup) event.traits.clear();

  if (merge_context) MergeDefaults(event.context, context_members_, *batch->context, batch_context_members_);
  if (merge_integrations) {
    MergeDefaults(event.integrations, integrations_members_, *batch->integrations,
                  batch_integrations_members_);
  }

  event.received_at = received_at;
  event.original_timestamp = timestamp ? timestamp : original_timestamp;
  event.sent_at = sent_at ? sent_at : (in_batch ? batch->sent_at : std::nullopt);
  if (event.original_timestamp && event.sent_at) {
    // Segment's clock-skew correction: the client's clock is off by (sent_at - received_at).
    event.timestamp = received_at - (*event.sent_at - *event.original_timestamp);
  } else if (event.original_timestamp) {
    event.timestamp = *event.original_timestamp;
  } else {
    event.timestamp = received_at;
  }

  if (event.message_id.empty()) {
    event.message_id = GeneratedMessageId(raw);
    event.message_id_generated = true;
  }
  return true;
}

}  // namespace tessera::ingest
