#include "ingest/segment_parser.h"

#include <charconv>
#include <cstring>
#include <utility>

#include "base/json_writer.h"
#include "base/time.h"
#include "simdjson.h"
#include "xxhash.h"

namespace tessera::ingest {
namespace {

namespace od = simdjson::ondemand;
using base::JsonWriter;

// Deepest nesting accepted inside traits / properties / context / integrations (the object itself
// is level 1). Deeper documents are almost always abuse, and recursion must stay bounded.
constexpr int kMaxNestingDepth = 64;
// How much of a bad value an error message quotes.
constexpr size_t kMaxQuotedValue = 64;

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

std::string_view DescribeType(od::json_type type) {
  switch (type) {
    case od::json_type::object:
      return "an object";
    case od::json_type::array:
      return "an array";
    case od::json_type::string:
      return "a string";
    case od::json_type::number:
      return "a number";
    case od::json_type::boolean:
      return "a boolean";
    case od::json_type::null:
      return "null";
  }
  return "an unknown value";
}

constexpr bool IsJsonWhitespace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

std::string_view TrimJsonWhitespace(std::string_view text) {
  while (!text.empty() && IsJsonWhitespace(text.front())) text.remove_prefix(1);
  while (!text.empty() && IsJsonWhitespace(text.back())) text.remove_suffix(1);
  return text;
}

// -?(0|[1-9][0-9]*): an integer as JSON writes it, of any magnitude.
bool IsJsonInteger(std::string_view token) {
  if (!token.empty() && token.front() == '-') token.remove_prefix(1);
  if (token.empty()) return false;
  if (token.front() == '0') return token.size() == 1;
  for (char c : token) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

std::string JoinPath(std::string_view prefix, std::string_view field) {
  std::string path;
  path.reserve(prefix.size() + 1 + field.size());
  path.append(prefix);
  if (!prefix.empty() && !field.empty()) path.push_back('.');
  path.append(field);
  return path;
}

FieldError MakeError(std::string_view code, std::string field, std::string_view detail) {
  FieldError error;
  error.code = code;
  if (field.empty()) {
    error.message = detail;
  } else {
    error.message.reserve(field.size() + 2 + detail.size());
    error.message.append(field).append(": ").append(detail);
  }
  error.field = std::move(field);
  return error;
}

std::string InvalidJsonDetail(simdjson::error_code error) {
  std::string detail = "not valid JSON (";
  detail.append(simdjson::error_message(error));
  detail.push_back(')');
  return detail;
}

std::string QuoteForMessage(std::string_view value) {
  std::string quoted;
  if (value.size() > kMaxQuotedValue) {
    base::AppendJsonString(quoted, value.substr(0, kMaxQuotedValue));
    quoted.append("...");
  } else {
    base::AppendJsonString(quoted, value);
  }
  return quoted;
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

// Where Walk writes: the text and the writer appending to it (which tracks where commas go).
struct Output {
  explicit Output(std::string& text_in) : text(text_in), writer(text_in) {}
  std::string& text;
  JsonWriter writer;
};

// A member of a walked top-level object: its key and where its minified value sits in the output.
struct MemberSpan {
  std::string_view key;  // Unescaped; points into the parser's string buffer.
  size_t value_begin = 0;
  size_t value_end = 0;
};

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

std::optional<EventType> EndpointType(Endpoint endpoint) {
  switch (endpoint) {
    case Endpoint::kTrack:
      return EventType::kTrack;
    case Endpoint::kIdentify:
      return EventType::kIdentify;
    case Endpoint::kPage:
      return EventType::kPage;
    case Endpoint::kScreen:
      return EventType::kScreen;
    case Endpoint::kGroup:
      return EventType::kGroup;
    case Endpoint::kAlias:
      return EventType::kAlias;
    case Endpoint::kBatch:
    case Endpoint::kStream:
      return std::nullopt;
  }
  return std::nullopt;
}

}  // namespace

size_t RequiredPadding() { return simdjson::SIMDJSON_PADDING; }

void EnsurePadding(std::string& body) {
  // Growing then shrinking the size leaves the capacity in place and the padding bytes zeroed, so
  // simdjson never reads uninitialized memory past the end.
  const size_t size = body.size();
  body.resize(size + simdjson::SIMDJSON_PADDING);
  body.resize(size);
}

struct SegmentParser::Impl {
  explicit Impl(SegmentParserOptions options) : options_(options) {}

  // Where the body lives for this request and how far readable memory extends past it.
  struct Input {
    const char* data = nullptr;
    size_t size = 0;
    const char* end_of_capacity = nullptr;
  };

  // A batch element, as found by the request-level pass.
  struct Element {
    std::string_view raw;  // The object's JSON text; empty when the element is not an object.
    od::json_type type = od::json_type::object;
  };

  // Batch-level defaults that apply to every event of the batch.
  struct BatchDefaults {
    std::optional<Timestamp> sent_at;
    const std::string* context = nullptr;  // Minified object, when the batch has one.
    const std::string* integrations = nullptr;
  };

  ParsedRequest Parse(Endpoint endpoint, const std::string& body, Timestamp received_at);
  void ParseSingle(const Input& input, EventType type, Timestamp received_at, ParsedRequest& result);
  void ParseBatch(const Input& input, Timestamp received_at, ParsedRequest& result);
  // The batch envelope `object` (the root of `doc`, opened by OpenRootObject): locates the elements,
  // reads the batch-level members, then parses each element.
  void ParseBatchEnvelope(const Input& input, od::document& doc, od::object& object, Timestamp received_at,
                          ParsedRequest& result);
  void ParseStreamFrame(const Input& input, Timestamp received_at, ParsedRequest& result);

  // Parses the event object in `raw`; false with `error` (and `client_message_id` when it could be
  // read) when it is invalid. Error paths start with element_path_: "" for a single event, "batch[i]".
  bool ParseEvent(std::string_view raw, const Input& input, std::optional<EventType> endpoint_type,
                  const BatchDefaults* batch, Timestamp received_at, CanonicalEvent& event, FieldError& error,
                  std::string& client_message_id, std::string* write_key);

  // Validates `value` and writes it minified to `out`. On failure returns false and leaves the
  // code and detail in walk_code_ / walk_detail_ and the path below `value` in walk_path_ (innermost
  // first). Records top-level members in `members` when it is not null.
  bool Walk(od::value value, Output& out, int depth, std::vector<MemberSpan>* members);
  bool WalkFail(std::string_view code, std::string detail);
  // Walks an object-valued member (traits, context...) into `out`; "null" leaves `out` empty.
  bool ReadObjectMember(od::value value, std::string_view path_prefix, std::string_view name,
                        std::string& out, std::vector<MemberSpan>* members, FieldError& error);
  // Starts parsing the whole body with request_parser_ and opens its root object; false with
  // `error` when the body is not JSON or not an object (`expected` describes what should be).
  bool OpenRootObject(const Input& input, std::string_view expected, od::document& doc, od::object& object,
                      FieldError& error);
  // For a body that is not an object: whether it is at least valid JSON (then the error is
  // invalid_type, else invalid_json).
  bool RootIsValidJson(od::document& doc, od::json_type type);
  // Validates a member whose content is not used.
  bool SkipMember(od::value value, std::string_view path_prefix, std::string_view name, FieldError& error);

  SegmentParserOptions options_;
  od::parser request_parser_;  // The batch envelope.
  od::parser event_parser_;    // One event at a time.
  std::string padded_copy_;    // Only when the caller's body lacks padding.
  std::string scratch_;        // Output of members that are validated but not kept.
  std::vector<Element> elements_;
  std::vector<MemberSpan> context_members_;
  std::vector<MemberSpan> integrations_members_;
  std::vector<MemberSpan> batch_context_members_;
  std::vector<MemberSpan> batch_integrations_members_;
  std::string batch_context_;
  std::string batch_integrations_;
  std::string element_path_;
  std::string_view walk_code_;
  std::string walk_detail_;
  std::vector<std::string> walk_path_;
};

bool SegmentParser::Impl::WalkFail(std::string_view code, std::string detail) {
  walk_code_ = code;
  walk_detail_ = std::move(detail);
  return false;
}

bool SegmentParser::Impl::Walk(od::value value, Output& out, int depth, std::vector<MemberSpan>* members) {
  od::json_type type;
  if (auto e = value.type().get(type)) return WalkFail(error_code::kInvalidJson, InvalidJsonDetail(e));
  switch (type) {
    case od::json_type::object: {
      if (depth > kMaxNestingDepth) {
        return WalkFail(error_code::kInvalidValue,
                        "nesting too deep (at most " + std::to_string(kMaxNestingDepth) + " levels)");
      }
      od::object object;
      if (auto e = value.get_object().get(object))
        return WalkFail(error_code::kInvalidJson, InvalidJsonDetail(e));
      out.writer.BeginObject();
      for (auto field : object) {
        std::string_view key;
        if (auto e = field.unescaped_key().get(key))
          return WalkFail(error_code::kInvalidJson, InvalidJsonDetail(e));
        out.writer.Key(key);
        od::value child;
        if (auto e = field.value().get(child))
          return WalkFail(error_code::kInvalidJson, InvalidJsonDetail(e));
        const size_t value_begin = out.text.size();
        if (!Walk(child, out, depth + 1, nullptr)) {
          std::string segment = ".";
          segment.append(key);
          walk_path_.push_back(std::move(segment));
          return false;
        }
        if (members != nullptr) members->push_back({key, value_begin, out.text.size()});
      }
      out.writer.EndObject();
      return true;
    }
    case od::json_type::array: {
      if (depth > kMaxNestingDepth) {
        return WalkFail(error_code::kInvalidValue,
                        "nesting too deep (at most " + std::to_string(kMaxNestingDepth) + " levels)");
      }
      od::array array;
      if (auto e = value.get_array().get(array))
        return WalkFail(error_code::kInvalidJson, InvalidJsonDetail(e));
      out.writer.BeginArray();
      size_t index = 0;
      for (auto element : array) {
        od::value child;
        if (auto e = element.get(child)) return WalkFail(error_code::kInvalidJson, InvalidJsonDetail(e));
        if (!Walk(child, out, depth + 1, nullptr)) {
          walk_path_.push_back("[" + std::to_string(index) + "]");
          return false;
        }
        ++index;
      }
      out.writer.EndArray();
      return true;
    }
    case od::json_type::string: {
      std::string_view text;
      if (auto e = value.get_string().get(text))
        return WalkFail(error_code::kInvalidJson, InvalidJsonDetail(e));
      out.writer.String(text);
      return true;
    }
    case od::json_type::number: {
      // Emit the client's own digits (no float round trip), after checking they are a number.
      const std::string_view token = TrimJsonWhitespace(value.raw_json_token());
      od::number number;
      // simdjson 3.0 refuses integers beyond 64 bits; they are still valid JSON (long ids).
      if (value.get_number().get(number) != simdjson::SUCCESS && !IsJsonInteger(token)) {
        return WalkFail(error_code::kInvalidJson, "invalid number " + QuoteForMessage(token));
      }
      out.writer.Raw(token);
      return true;
    }
    case od::json_type::boolean: {
      bool flag;
      if (auto e = value.get_bool().get(flag))
        return WalkFail(error_code::kInvalidJson, InvalidJsonDetail(e));
      out.writer.Bool(flag);
      return true;
    }
    case od::json_type::null: {
      bool is_null = false;
      if (value.is_null().get(is_null) != simdjson::SUCCESS || !is_null) {
        return WalkFail(error_code::kInvalidJson,
                        "invalid literal " + QuoteForMessage(value.raw_json_token()));
      }
      out.writer.Null();
      return true;
    }
  }
  return WalkFail(error_code::kInvalidJson, "unrecognized value");
}

namespace {

// Reads a literal null, which simdjson only fully checks when asked ("nul" and "nullx" are not null).
bool IsValidNull(od::value& value) {
  bool is_null = false;
  return value.is_null().get(is_null) == simdjson::SUCCESS && is_null;
}

// Reads a string member; null leaves `out` empty.
bool ReadString(od::value value, std::string_view prefix, std::string_view name, std::string& out,
                FieldError& error) {
  od::json_type type;
  if (auto e = value.type().get(type)) {
    error = MakeError(error_code::kInvalidJson, JoinPath(prefix, name), InvalidJsonDetail(e));
    return false;
  }
  if (type == od::json_type::string) {
    std::string_view text;
    if (auto e = value.get_string().get(text)) {
      error = MakeError(error_code::kInvalidJson, JoinPath(prefix, name), InvalidJsonDetail(e));
      return false;
    }
    out.assign(text);
    return true;
  }
  if (type == od::json_type::null) {
    if (!IsValidNull(value)) {
      error = MakeError(error_code::kInvalidJson, JoinPath(prefix, name), "not valid JSON (expected null)");
      return false;
    }
    out.clear();
    return true;
  }
  std::string detail = "expected a string, got ";
  detail.append(DescribeType(type));
  error = MakeError(error_code::kInvalidType, JoinPath(prefix, name), detail);
  return false;
}

// Reads userId / anonymousId / previousId / groupId: Segment allows a string or an integer, which
// becomes its decimal text. Null leaves `out` empty.
bool ReadId(od::value value, std::string_view prefix, std::string_view name, std::string& out,
            FieldError& error) {
  od::json_type type;
  if (auto e = value.type().get(type)) {
    error = MakeError(error_code::kInvalidJson, JoinPath(prefix, name), InvalidJsonDetail(e));
    return false;
  }
  if (type == od::json_type::string || type == od::json_type::null)
    return ReadString(value, prefix, name, out, error);
  std::string detail = "expected a string or integer, got ";
  if (type == od::json_type::number) {
    const std::string_view token = TrimJsonWhitespace(value.raw_json_token());
    od::number number;
    if (value.get_number().get(number) == simdjson::SUCCESS) {
      char buffer[24];
      std::to_chars_result converted{};
      if (number.is_int64()) {
        converted = std::to_chars(buffer, buffer + sizeof(buffer), number.get_int64());
      } else if (number.is_uint64()) {
        converted = std::to_chars(buffer, buffer + sizeof(buffer), number.get_uint64());
      } else {
        detail.append("a non-integer number ");
        detail.append(QuoteForMessage(token));
        error = MakeError(error_code::kInvalidType, JoinPath(prefix, name), detail);
        return false;
      }
      out.assign(buffer, converted.ptr);
      return true;
    }
    if (IsJsonInteger(token)) {  // Beyond 64 bits: the digits are the id.
      out.assign(token);
      return true;
    }
    error = MakeError(error_code::kInvalidJson, JoinPath(prefix, name),
                      "invalid number " + QuoteForMessage(token));
    return false;
  }
  detail.append(DescribeType(type));
  error = MakeError(error_code::kInvalidType, JoinPath(prefix, name), detail);
  return false;
}

bool ReadTimestamp(od::value value, std::string_view prefix, std::string_view name,
                   std::optional<Timestamp>& out, FieldError& error) {
  od::json_type type;
  if (auto e = value.type().get(type)) {
    error = MakeError(error_code::kInvalidJson, JoinPath(prefix, name), InvalidJsonDetail(e));
    return false;
  }
  if (type != od::json_type::string) {
    std::string detail = "expected an ISO-8601 string such as \"2015-02-23T22:28:55.111Z\", got ";
    detail.append(DescribeType(type));
    error = MakeError(error_code::kInvalidTimestamp, JoinPath(prefix, name), detail);
    return false;
  }
  std::string_view text;
  if (auto e = value.get_string().get(text)) {
    error = MakeError(error_code::kInvalidJson, JoinPath(prefix, name), InvalidJsonDetail(e));
    return false;
  }
  out = base::ParseIso8601(text);
  if (!out) {
    std::string detail = "expected an ISO-8601 date-time such as \"2015-02-23T22:28:55.111Z\", got ";
    detail.append(QuoteForMessage(text));
    error = MakeError(error_code::kInvalidTimestamp, JoinPath(prefix, name), detail);
    return false;
  }
  return true;
}

// After a failed pass over `doc`: the string member `name` of its top-level object, or "" when it
// is absent, not a string, or cannot be reached.
std::string_view FindTopLevelString(od::document& doc, std::string_view name) {
  if (!doc.is_alive()) return {};  // simdjson abandons a document after a structural error.
  doc.rewind();
  od::object object;
  if (doc.get_object().get(object) != simdjson::SUCCESS) return {};
  for (auto field : object) {
    std::string_view key;
    if (field.unescaped_key().get(key) != simdjson::SUCCESS) return {};
    if (key != name) continue;
    std::string_view text;
    if (field.value().get_string().get(text) != simdjson::SUCCESS) return {};
    return text;
  }
  return {};
}

// Reads a member's key and value; anything but SUCCESS means the JSON is broken there.
// (`field` is what iterating an object yields: a field or the error found there.)
template <typename FieldResult>
simdjson::error_code KeyAndValue(FieldResult& field, std::string_view& key, od::value& value) {
  simdjson::error_code e = field.unescaped_key().get(key);
  if (e == simdjson::SUCCESS) e = field.value().get(value);
  return e;
}

bool ReadEventType(od::value value, std::string_view prefix, std::optional<EventType>& out,
                   FieldError& error) {
  constexpr std::string_view kExpected = "one of track, identify, page, screen, group, alias";
  od::json_type type;
  if (auto e = value.type().get(type)) {
    error = MakeError(error_code::kInvalidJson, JoinPath(prefix, "type"), InvalidJsonDetail(e));
    return false;
  }
  if (type != od::json_type::string) {
    std::string detail = "expected a string (";
    detail.append(kExpected).append("), got ").append(DescribeType(type));
    error = MakeError(error_code::kInvalidType, JoinPath(prefix, "type"), detail);
    return false;
  }
  std::string_view text;
  if (auto e = value.get_string().get(text)) {
    error = MakeError(error_code::kInvalidJson, JoinPath(prefix, "type"), InvalidJsonDetail(e));
    return false;
  }
  out = ParseEventType(text);
  if (!out) {
    std::string detail = "unknown event type ";
    detail.append(QuoteForMessage(text)).append("; expected ").append(kExpected);
    error = MakeError(error_code::kUnknownType, JoinPath(prefix, "type"), detail);
    return false;
  }
  return true;
}

}  // namespace

bool SegmentParser::Impl::ReadObjectMember(od::value value, std::string_view path_prefix,
                                           std::string_view name, std::string& out,
                                           std::vector<MemberSpan>* members, FieldError& error) {
  out.clear();
  if (members != nullptr) members->clear();
  od::json_type type;
  if (auto e = value.type().get(type)) {
    error = MakeError(error_code::kInvalidJson, JoinPath(path_prefix, name), InvalidJsonDetail(e));
    return false;
  }
  if (type == od::json_type::null) {
    if (IsValidNull(value)) return true;
    error =
        MakeError(error_code::kInvalidJson, JoinPath(path_prefix, name), "not valid JSON (expected null)");
    return false;
  }
  if (type != od::json_type::object) {
    std::string detail = "expected an object, got ";
    detail.append(DescribeType(type));
    error = MakeError(error_code::kInvalidType, JoinPath(path_prefix, name), detail);
    return false;
  }
  walk_path_.clear();
  Output output(out);
  if (Walk(value, output, 1, members)) return true;
  std::string path = JoinPath(path_prefix, name);
  for (auto it = walk_path_.rbegin(); it != walk_path_.rend(); ++it) path.append(*it);
  error = MakeError(walk_code_, std::move(path), walk_detail_);
  return false;
}

bool SegmentParser::Impl::RootIsValidJson(od::document& doc, od::json_type type) {
  bool valid = false;
  switch (type) {
    case od::json_type::null: {
      bool is_null = false;
      valid = doc.is_null().get(is_null) == simdjson::SUCCESS && is_null;
      break;
    }
    case od::json_type::boolean: {
      bool flag;
      valid = doc.get_bool().get(flag) == simdjson::SUCCESS;
      break;
    }
    case od::json_type::number: {
      std::string_view token;
      od::number number;
      valid =
          doc.get_number().get(number) == simdjson::SUCCESS ||
          (doc.raw_json_token().get(token) == simdjson::SUCCESS && IsJsonInteger(TrimJsonWhitespace(token)));
      break;
    }
    case od::json_type::string: {
      std::string_view text;
      valid = doc.get_string().get(text) == simdjson::SUCCESS;
      break;
    }
    case od::json_type::array: {
      od::array array;
      if (doc.get_array().get(array) != simdjson::SUCCESS) return false;
      valid = true;
      for (auto element : array) {
        od::value value;
        scratch_.clear();
        Output output(scratch_);
        if (element.get(value) != simdjson::SUCCESS || !Walk(value, output, 2, nullptr)) {
          valid = false;
          break;
        }
      }
      break;
    }
    case od::json_type::object:
      return true;
  }
  const char* trailing = nullptr;
  return valid && doc.current_location().get(trailing) != simdjson::SUCCESS;
}

bool SegmentParser::Impl::SkipMember(od::value value, std::string_view path_prefix, std::string_view name,
                                     FieldError& error) {
  scratch_.clear();
  walk_path_.clear();
  Output output(scratch_);
  if (Walk(value, output, 1, nullptr)) return true;
  std::string path = JoinPath(path_prefix, name);
  for (auto it = walk_path_.rbegin(); it != walk_path_.rend(); ++it) path.append(*it);
  error = MakeError(walk_code_, std::move(path), walk_detail_);
  return false;
}

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

void SegmentParser::Impl::ParseSingle(const Input& input, EventType type, Timestamp received_at,
                                      ParsedRequest& result) {
  result.event_count = 1;
  if (input.size > options_.max_event_bytes) {
    result.request_error = MakeError(error_code::kEventTooLarge, "",
                                     "the event is " + std::to_string(input.size) + " bytes; at most " +
                                         std::to_string(options_.max_event_bytes) + " are accepted");
    return;
  }
  element_path_.clear();
  const std::string_view raw = TrimJsonWhitespace(std::string_view(input.data, input.size));
  CanonicalEvent event;
  FieldError error;
  std::string client_message_id;
  if (!ParseEvent(raw, input, type, nullptr, received_at, event, error, client_message_id,
                  &result.write_key)) {
    result.request_error = std::move(error);
    return;
  }
  result.events.push_back(std::move(event));
  result.index_of.push_back(0);
}

bool SegmentParser::Impl::OpenRootObject(const Input& input, std::string_view expected, od::document& doc,
                                         od::object& object, FieldError& error) {
  if (auto e = request_parser_
                   .iterate(input.data, input.size, static_cast<size_t>(input.end_of_capacity - input.data))
                   .get(doc)) {
    error = MakeError(error_code::kInvalidJson, "",
                      e == simdjson::EMPTY ? "the body is empty; expected a JSON object" : InvalidJsonDetail(e));
    return false;
  }
  od::json_type doc_type;
  if (auto e = doc.type().get(doc_type)) {
    error = MakeError(error_code::kInvalidJson, "", InvalidJsonDetail(e));
    return false;
  }
  if (doc_type != od::json_type::object) {
    if (!RootIsValidJson(doc, doc_type)) {
      error = MakeError(error_code::kInvalidJson, "", "not valid JSON; expected an object");
      return false;
    }
    error = MakeError(error_code::kInvalidType, "",
                      "expected " + std::string(expected) + ", got " + std::string(DescribeType(doc_type)));
    return false;
  }
  if (auto e = doc.get_object().get(object)) {
    error = MakeError(error_code::kInvalidJson, "", InvalidJsonDetail(e));
    return false;
  }
  return true;
}

void SegmentParser::Impl::ParseBatch(const Input& input, Timestamp received_at, ParsedRequest& result) {
  od::document doc;
  od::object object;
  FieldError error;
  if (!OpenRootObject(input, "an object with a \"batch\" array", doc, object, error)) {
    result.request_error = std::move(error);
    return;
  }
  ParseBatchEnvelope(input, doc, object, received_at, result);
}

void SegmentParser::Impl::ParseBatchEnvelope(const Input& input, od::document& doc, od::object& object,
                                             Timestamp received_at, ParsedRequest& result) {
  auto fail = [&result, &doc](FieldError error) {
    result.request_error = std::move(error);
    result.events.clear();
    result.index_of.clear();
    result.rejected.clear();
    result.event_count = 0;
    // The writeKey may come after the bad member; with it the HTTP layer can answer 400, not 401.
    if (result.write_key.empty()) result.write_key.assign(FindTopLevelString(doc, "writeKey"));
  };
  FieldError error;

  elements_.clear();
  batch_context_.clear();
  batch_integrations_.clear();
  batch_context_members_.clear();
  batch_integrations_members_.clear();
  std::optional<Timestamp> batch_sent_at;
  bool saw_batch = false;
  for (auto field : object) {
    std::string_view key;
    od::value value;
    simdjson::error_code e = KeyAndValue(field, key, value);
    if (e != simdjson::SUCCESS) return fail(MakeError(error_code::kInvalidJson, "", InvalidJsonDetail(e)));
    if (key == "batch") {
      saw_batch = true;
      elements_.clear();
      od::json_type type;
      if ((e = value.type().get(type)))
        return fail(MakeError(error_code::kInvalidJson, "batch", InvalidJsonDetail(e)));
      if (type != od::json_type::array) {
        std::string detail = "expected an array of events, got ";
        detail.append(DescribeType(type));
        return fail(MakeError(error_code::kInvalidType, "batch", detail));
      }
      od::array array;
      if ((e = value.get_array().get(array))) {
        return fail(MakeError(error_code::kInvalidJson, "batch", InvalidJsonDetail(e)));
      }
      // Only locate each element here: events are parsed after the envelope, because the batch's
      // sentAt / context / integrations may come after "batch" and apply to every event.
      for (auto element_result : array) {
        const auto element_field = [this] { return "batch[" + std::to_string(elements_.size()) + "]"; };
        od::value element;
        if ((e = element_result.get(element))) {
          return fail(MakeError(error_code::kInvalidJson, element_field(), InvalidJsonDetail(e)));
        }
        if (elements_.size() == options_.max_batch_events) {
          return fail(MakeError(error_code::kInvalidValue, "batch",
                                "more than " + std::to_string(options_.max_batch_events) +
                                    " events; split the batch into smaller requests"));
        }
        od::json_type element_type;
        if ((e = element.type().get(element_type))) {
          return fail(MakeError(error_code::kInvalidJson, element_field(), InvalidJsonDetail(e)));
        }
        std::string_view raw;
        if (element_type == od::json_type::object) {
          od::object element_object;
          if ((e = element.get_object().get(element_object)) || (e = element_object.raw_json().get(raw))) {
            return fail(MakeError(error_code::kInvalidJson, element_field(), InvalidJsonDetail(e)));
          }
          raw = TrimJsonWhitespace(raw);
        }
        elements_.push_back({raw, element_type});
      }
    } else if (key == "writeKey") {
      if (!ReadString(value, "", key, result.write_key, error)) return fail(std::move(error));
    } else if (key == "sentAt") {
      if (!ReadTimestamp(value, "", key, batch_sent_at, error)) return fail(std::move(error));
    } else if (key == "context") {
      if (!ReadObjectMember(value, "", key, batch_context_, &batch_context_members_, error))
        return fail(std::move(error));
    } else if (key == "integrations") {
      if (!ReadObjectMember(value, "", key, batch_integrations_, &batch_integrations_members_, error)) {
        return fail(std::move(error));
      }
    } else if (!SkipMember(value, "", key, error)) {
      return fail(std::move(error));
    }
  }
  const char* location = nullptr;
  if (doc.current_location().get(location) == simdjson::SUCCESS) {
    return fail(MakeError(error_code::kInvalidJson, "", "unexpected content after the JSON object"));
  }
  if (!saw_batch)
    return fail(MakeError(error_code::kMissingField, "batch", "required: an array of event objects"));

  result.event_count = elements_.size();
  result.events.reserve(elements_.size());
  result.index_of.reserve(elements_.size());
  BatchDefaults defaults;
  defaults.sent_at = batch_sent_at;
  if (!batch_context_.empty()) defaults.context = &batch_context_;
  if (!batch_integrations_.empty()) defaults.integrations = &batch_integrations_;
  for (size_t i = 0; i < elements_.size(); ++i) {
    const Element& element = elements_[i];
    element_path_.assign("batch[").append(std::to_string(i)).append("]");
    if (element.type != od::json_type::object) {
      std::string detail = "expected an event object, got ";
      detail.append(DescribeType(element.type));
      result.rejected.push_back({i, "", MakeError(error_code::kInvalidType, element_path_, detail)});
      continue;
    }
    if (element.raw.size() > options_.max_event_bytes) {
      result.rejected.push_back(
          {i, "",
           MakeError(error_code::kEventTooLarge, element_path_,
                     "the event is " + std::to_string(element.raw.size()) + " bytes; at most " +
                         std::to_string(options_.max_event_bytes) + " are accepted")});
      continue;
    }
    CanonicalEvent& event = result.events.emplace_back();
    RejectedEvent rejected;
    rejected.index = i;
    if (ParseEvent(element.raw, input, std::nullopt, &defaults, received_at, event, rejected.error,
                   rejected.message_id, nullptr)) {
      result.index_of.push_back(i);
    } else {
      result.events.pop_back();
      result.rejected.push_back(std::move(rejected));
    }
  }
}

// Reads "frameId": a string or an integer, kept as its JSON text so that the ack echoes it as sent.
bool ReadFrameId(od::value value, std::string& out, FieldError& error) {
  constexpr std::string_view kField = "frameId";
  od::json_type type;
  if (auto e = value.type().get(type)) {
    error = MakeError(error_code::kInvalidJson, std::string(kField), InvalidJsonDetail(e));
    return false;
  }
  const std::string_view token = TrimJsonWhitespace(value.raw_json_token());
  bool valid = false;
  if (type == od::json_type::string) {
    std::string_view text;
    if (auto e = value.get_string().get(text)) {
      error = MakeError(error_code::kInvalidJson, std::string(kField), InvalidJsonDetail(e));
      return false;
    }
    valid = true;
  } else if (type == od::json_type::number) {
    valid = IsJsonInteger(token);
  }
  if (!valid) {
    std::string detail = "expected a string or integer, got ";
    detail.append(type == od::json_type::number ? "a non-integer number" : DescribeType(type));
    error = MakeError(error_code::kInvalidType, std::string(kField), detail);
    return false;
  }
  if (token.size() > kMaxFrameIdBytes) {
    error = MakeError(error_code::kInvalidValue, std::string(kField),
                      "longer than " + std::to_string(kMaxFrameIdBytes) + " bytes");
    return false;
  }
  out.assign(token);
  return true;
}

void SegmentParser::Impl::ParseStreamFrame(const Input& input, Timestamp received_at, ParsedRequest& result) {
  // A first pass over the top-level keys decides the form (batch envelope or one message) and
  // reads frameId, which the ack echoes even when the rest of the frame is unusable.
  od::document doc;
  od::object object;
  FieldError open_error;
  if (!OpenRootObject(input, "a message object or an object with a \"batch\" array", doc, object, open_error)) {
    result.request_error = std::move(open_error);
    return;
  }
  bool is_batch = false;
  std::optional<FieldError> frame_id_error;
  for (auto field : object) {
    std::string_view key;
    od::value value;
    simdjson::error_code e = KeyAndValue(field, key, value);
    if (e != simdjson::SUCCESS) {
      result.request_error = MakeError(error_code::kInvalidJson, "", InvalidJsonDetail(e));
      return;
    }
    if (key == "batch") {
      is_batch = true;
    } else if (key == "frameId") {
      FieldError error;
      if (!ReadFrameId(value, result.frame_id, error)) frame_id_error = std::move(error);
    }
  }
  const char* location = nullptr;
  if (doc.current_location().get(location) == simdjson::SUCCESS) {
    result.request_error = MakeError(error_code::kInvalidJson, "", "unexpected content after the JSON object");
    return;
  }
  if (frame_id_error) {
    result.frame_id.clear();
    result.request_error = std::move(frame_id_error);
    return;
  }

  if (is_batch) {
    // The same document again from its start: rewinding reuses the structural index of the first pass.
    doc.rewind();
    if (auto e = doc.get_object().get(object)) {
      result.request_error = MakeError(error_code::kInvalidJson, "", InvalidJsonDetail(e));
      return;
    }
    ParseBatchEnvelope(input, doc, object, received_at, result);
    return;
  }
  // One message, reported like a batch of one: an invalid message is rejected event 0.
  result.event_count = 1;
  element_path_.clear();
  const std::string_view raw = TrimJsonWhitespace(std::string_view(input.data, input.size));
  if (raw.size() > options_.max_event_bytes) {
    result.rejected.push_back({0, std::string(FindTopLevelString(doc, "messageId")),
                               MakeError(error_code::kEventTooLarge, "",
                                         "the event is " + std::to_string(raw.size()) + " bytes; at most " +
                                             std::to_string(options_.max_event_bytes) + " are accepted")});
    return;
  }
  const BatchDefaults no_defaults;
  CanonicalEvent event;
  RejectedEvent rejected;
  if (ParseEvent(raw, input, std::nullopt, &no_defaults, received_at, event, rejected.error, rejected.message_id,
                 nullptr)) {
    result.events.push_back(std::move(event));
    result.index_of.push_back(0);
  } else {
    result.rejected.push_back(std::move(rejected));
  }
}

ParsedRequest SegmentParser::Impl::Parse(Endpoint endpoint, const std::string& body, Timestamp received_at) {
  ParsedRequest result;
  Input input;
  if (body.capacity() - body.size() >= simdjson::SIMDJSON_PADDING) {
    input = {body.data(), body.size(), body.data() + body.capacity()};
  } else {
    // The caller skipped EnsurePadding: parse a padded copy rather than read past the allocation.
    padded_copy_.assign(body);
    EnsurePadding(padded_copy_);
    input = {padded_copy_.data(), padded_copy_.size(), padded_copy_.data() + padded_copy_.capacity()};
  }
  if (const std::optional<EventType> type = EndpointType(endpoint)) {
    ParseSingle(input, *type, received_at, result);
  } else if (endpoint == Endpoint::kStream) {
    ParseStreamFrame(input, received_at, result);
  } else {
    ParseBatch(input, received_at, result);
  }
  return result;
}

SegmentParser::SegmentParser(SegmentParserOptions options) : impl_(std::make_unique<Impl>(options)) {}

SegmentParser::~SegmentParser() = default;

ParsedRequest SegmentParser::Parse(Endpoint endpoint, const std::string& body, Timestamp received_at) {
  return impl_->Parse(endpoint, body, received_at);
}

}  // namespace tessera::ingest
