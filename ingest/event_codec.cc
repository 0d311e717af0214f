#include "ingest/event_codec.h"

#include <algorithm>
#include <cstdint>
#include <iterator>
#include <optional>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "base/coding.h"
#include "base/json_reading.h"
#include "base/json_writer.h"
#include "base/time.h"
#include "base/utf8.h"
#include "simdjson.h"

namespace tessera::ingest {
namespace {

namespace od = simdjson::ondemand;
using base::JsonWriter;

absl::Status Damaged(std::string_view field, std::string_view detail) {
  std::string message = "event record: ";
  message.append(field).append(": ").append(detail);
  return absl::InvalidArgumentError(message);
}

absl::Status ReadString(od::value& value, std::string_view field, std::string& out) {
  std::string_view text;
  if (auto e = value.get_string().get(text)) return Damaged(field, simdjson::error_message(e));
  out.assign(text);
  return absl::OkStatus();
}

// The object's text exactly as stored, which the v0 encoder wrote minified.
absl::Status ReadRawObject(od::value& value, std::string_view field, std::string& out) {
  od::object object;
  std::string_view raw;
  if (auto e = value.get_object().get(object)) return Damaged(field, simdjson::error_message(e));
  if (auto e = object.raw_json().get(raw)) return Damaged(field, simdjson::error_message(e));
  while (!raw.empty() &&
         (raw.back() == ' ' || raw.back() == '\n' || raw.back() == '\r' || raw.back() == '\t')) {
    raw.remove_suffix(1);
  }
  out.assign(raw);
  return absl::OkStatus();
}

absl::Status ReadTimestamp(od::value& value, std::string_view field, std::optional<Timestamp>& out) {
  std::string_view text;
  if (auto e = value.get_string().get(text)) return Damaged(field, simdjson::error_message(e));
  out = base::ParseIso8601(text);
  if (!out) return Damaged(field, std::string("not an ISO-8601 time: ").append(text));
  return absl::OkStatus();
}

// Reads a v0 record: one JSON object.
absl::StatusOr<CanonicalEvent> DecodeJsonRecord(std::string_view record) {
  // Records are decoded on hot paths (replay, query): reuse one parser and one padded buffer per thread.
  thread_local base::ReusableJsonParser parser;
  od::document doc;
  if (auto e = parser.Iterate(record).get(doc)) {
    return Damaged("record", simdjson::error_message(e));
  }
  od::object object;
  if (auto e = doc.get_object().get(object)) return Damaged("record", simdjson::error_message(e));

  CanonicalEvent event;
  bool has_message_id = false;
  bool has_type = false;
  std::optional<Timestamp> timestamp;
  std::optional<Timestamp> received_at;
  for (auto field : object) {
    std::string_view key;
    od::value value;
    simdjson::error_code e = field.unescaped_key().get(key);
    if (e == simdjson::SUCCESS) e = field.value().get(value);
    if (e != simdjson::SUCCESS) return Damaged("record", simdjson::error_message(e));
    absl::Status status;
    if (key == "messageId") {
      status = ReadString(value, key, event.message_id);
      has_message_id = true;
    } else if (key == "type") {
      std::string_view name;
      if (auto type_error = value.get_string().get(name))
        return Damaged(key, simdjson::error_message(type_error));
      const std::optional<EventType> type = ParseEventType(name);
      if (!type) return Damaged(key, std::string("unknown event type \"").append(name).append("\""));
      event.type = *type;
      has_type = true;
    } else if (key == "messageIdGenerated") {
      if (auto bool_error = value.get_bool().get(event.message_id_generated)) {
        return Damaged(key, simdjson::error_message(bool_error));
      }
    } else if (key == "space") {
      status = ReadString(value, key, event.space);
    } else if (key == "source") {
      status = ReadString(value, key, event.source);
    } else if (key == "channel") {
      status = ReadString(value, key, event.channel);
    } else if (key == "userId") {
      status = ReadString(value, key, event.user_id);
    } else if (key == "anonymousId") {
      status = ReadString(value, key, event.anonymous_id);
    } else if (key == "previousId") {
      status = ReadString(value, key, event.previous_id);
    } else if (key == "groupId") {
      status = ReadString(value, key, event.group_id);
    } else if (key == "event") {
      status = ReadString(value, key, event.event);
    } else if (key == "name") {
      status = ReadString(value, key, event.name);
    } else if (key == "category") {
      status = ReadString(value, key, event.category);
    } else if (key == "traits") {
      status = ReadRawObject(value, key, event.traits);
    } else if (key == "properties") {
      status = ReadRawObject(value, key, event.properties);
    } else if (key == "context") {
      status = ReadRawObject(value, key, event.context);
    } else if (key == "integrations") {
      status = ReadRawObject(value, key, event.integrations);
    } else if (key == "timestamp") {
      status = ReadTimestamp(value, key, timestamp);
    } else if (key == "originalTimestamp") {
      status = ReadTimestamp(value, key, event.original_timestamp);
    } else if (key == "sentAt") {
      status = ReadTimestamp(value, key, event.sent_at);
    } else if (key == "receivedAt") {
      status = ReadTimestamp(value, key, received_at);
    }
    // Unknown members are skipped: a newer writer may add fields an older reader does not know.
    if (!status.ok()) return status;
  }
  const char* trailing = nullptr;
  if (doc.current_location().get(trailing) == simdjson::SUCCESS) {
    return Damaged("record", "unexpected content after the JSON object");
  }
  if (!has_message_id) return Damaged("messageId", "missing");
  if (!has_type) return Damaged("type", "missing");
  if (!timestamp) return Damaged("timestamp", "missing");
  if (!received_at) return Damaged("receivedAt", "missing");
  event.timestamp = *timestamp;
  event.received_at = *received_at;
  return event;
}

// v1: see event_codec.h for the layout.
constexpr char kJsonRecordStart = '{';
constexpr uint8_t kVersion1 = 0x01;

constexpr uint8_t kTypeBits = 0x07;
constexpr uint8_t kMessageIdGeneratedFlag = 0x08;
constexpr uint8_t kOriginalTimestampFlag = 0x10;
constexpr uint8_t kSentAtFlag = 0x20;
constexpr uint8_t kKnownFlags = 0x3F;

// The event type's number in the record, independent of the enum's order in event.h.
constexpr EventType kTypeByNumber[] = {EventType::kTrack,  EventType::kIdentify, EventType::kPage,
                                       EventType::kScreen, EventType::kGroup,    EventType::kAlias};

uint8_t TypeNumber(EventType type) {
  switch (type) {
    case EventType::kTrack:
      return 0;
    case EventType::kIdentify:
      return 1;
    case EventType::kPage:
      return 2;
    case EventType::kScreen:
      return 3;
    case EventType::kGroup:
      return 4;
    case EventType::kAlias:
      return 5;
  }
  return 0;
}

// The optional fields in record order: bit i of `present` stands for kOptionalFields[i].
struct OptionalField {
  std::string CanonicalEvent::*member;
  std::string_view name;  // As in the JSON form, for error messages.
  bool json;              // A JSON sub-document, stored as it is (no UTF-8 repair).
};
constexpr OptionalField kOptionalFields[] = {
    {&CanonicalEvent::space, "space", false},
    {&CanonicalEvent::source, "source", false},
    {&CanonicalEvent::channel, "channel", false},
    {&CanonicalEvent::user_id, "userId", false},
    {&CanonicalEvent::anonymous_id, "anonymousId", false},
    {&CanonicalEvent::previous_id, "previousId", false},
    {&CanonicalEvent::group_id, "groupId", false},
    {&CanonicalEvent::event, "event", false},
    {&CanonicalEvent::name, "name", false},
    {&CanonicalEvent::category, "category", false},
    {&CanonicalEvent::traits, "traits", true},
    {&CanonicalEvent::properties, "properties", true},
    {&CanonicalEvent::context, "context", true},
    {&CanonicalEvent::integrations, "integrations", true},
};
constexpr size_t kOptionalFieldCount = std::size(kOptionalFields);
static_assert(kOptionalFieldCount < 64);

// Text as the JSON record held it: ill-formed UTF-8 replaced by U+FFFD, as JsonWriter does.
void PutText(std::string& out, std::string_view text) {
  if (base::IsWellFormedUtf8(text)) {
    base::PutLengthPrefixed(out, text);
    return;
  }
  std::string repaired;
  base::AppendWellFormedUtf8(repaired, text);
  base::PutLengthPrefixed(out, repaired);
}

int64_t Micros(Timestamp time) { return time.time_since_epoch().count(); }

// `time` - `base` and its inverse, modulo 2^64: exact for every pair of times, never overflowing.
int64_t MicrosAfter(Timestamp time, Timestamp base) {
  return static_cast<int64_t>(static_cast<uint64_t>(Micros(time)) - static_cast<uint64_t>(Micros(base)));
}
Timestamp AddMicros(Timestamp base, int64_t micros) {
  return Timestamp(std::chrono::microseconds(
      static_cast<int64_t>(static_cast<uint64_t>(Micros(base)) + static_cast<uint64_t>(micros))));
}

absl::Status Truncated(std::string_view field) { return Damaged(field, "cut short or malformed"); }

absl::Status ReadTime(base::ByteReader& reader, std::string_view field, Timestamp base, Timestamp& out) {
  int64_t micros = 0;
  if (!reader.ReadVarintSigned64(micros)) return Truncated(field);
  out = AddMicros(base, micros);
  return absl::OkStatus();
}

std::string HexByte(uint8_t byte) {
  constexpr char kDigits[] = "0123456789abcdef";
  return {'0', 'x', kDigits[byte >> 4], kDigits[byte & 0xF]};
}

// Reads a v1 record, whose version byte the caller has checked.
absl::StatusOr<CanonicalEvent> DecodeBinaryRecord(std::string_view record) {
  base::ByteReader reader(record.substr(1));
  CanonicalEvent event;
  uint8_t flags = 0;
  if (!reader.ReadByte(flags)) return Truncated("flags");
  if ((flags & ~kKnownFlags) != 0) return Damaged("flags", absl::StrCat("unknown bits in ", HexByte(flags)));
  const uint8_t type = flags & kTypeBits;
  if (type >= std::size(kTypeByNumber)) {
    return Damaged("type", absl::StrCat("unknown event type number ", type));
  }
  event.type = kTypeByNumber[type];
  event.message_id_generated = (flags & kMessageIdGeneratedFlag) != 0;
  uint64_t present = 0;
  if (!reader.ReadVarint64(present)) return Truncated("present fields");
  if ((present >> kOptionalFieldCount) != 0) {
    return Damaged("present fields", absl::StrCat("unknown fields in mask ", present));
  }

  int64_t received_at = 0;
  if (!reader.ReadVarintSigned64(received_at)) return Truncated("receivedAt");
  event.received_at = Timestamp(std::chrono::microseconds(received_at));
  if (absl::Status status = ReadTime(reader, "timestamp", event.received_at, event.timestamp); !status.ok()) {
    return status;
  }
  if ((flags & kOriginalTimestampFlag) != 0) {
    Timestamp time{};
    if (absl::Status status = ReadTime(reader, "originalTimestamp", event.received_at, time); !status.ok()) {
      return status;
    }
    event.original_timestamp = time;
  }
  if ((flags & kSentAtFlag) != 0) {
    Timestamp time{};
    if (absl::Status status = ReadTime(reader, "sentAt", event.received_at, time); !status.ok()) {
      return status;
    }
    event.sent_at = time;
  }
  if (!reader.ReadLengthPrefixed(event.message_id)) return Truncated("messageId");
  for (size_t i = 0; i < kOptionalFieldCount; ++i) {
    if ((present & (uint64_t{1} << i)) == 0) continue;
    if (!reader.ReadLengthPrefixed(event.*kOptionalFields[i].member)) {
      return Truncated(kOptionalFields[i].name);
    }
  }
  if (!reader.empty()) {
    return Damaged("record", absl::StrCat(reader.rest().size(), " unexpected bytes after the last field"));
  }
  return event;
}

}  // namespace

void EncodeEvent(const CanonicalEvent& event, std::string& out) {
  // One allocation: version, flags, the mask (3 bytes), four times (10 bytes each at most), and
  // each string with its length (5 bytes up to 32 GiB).
  size_t size = 2 + 3 + 4 * 10 + 5 + event.message_id.size();
  uint64_t present = 0;
  for (size_t i = 0; i < kOptionalFieldCount; ++i) {
    const std::string& value = event.*kOptionalFields[i].member;
    if (value.empty()) continue;
    present |= uint64_t{1} << i;
    size += 5 + value.size();
  }
  if (out.capacity() - out.size() < size) out.reserve(std::max(out.size() + size, 2 * out.capacity()));

  uint8_t flags = TypeNumber(event.type);
  if (event.message_id_generated) flags |= kMessageIdGeneratedFlag;
  if (event.original_timestamp) flags |= kOriginalTimestampFlag;
  if (event.sent_at) flags |= kSentAtFlag;
  out.push_back(static_cast<char>(kVersion1));
  out.push_back(static_cast<char>(flags));
  base::PutVarint64(out, present);
  base::PutVarintSigned64(out, Micros(event.received_at));
  base::PutVarintSigned64(out, MicrosAfter(event.timestamp, event.received_at));
  if (event.original_timestamp) {
    base::PutVarintSigned64(out, MicrosAfter(*event.original_timestamp, event.received_at));
  }
  if (event.sent_at) base::PutVarintSigned64(out, MicrosAfter(*event.sent_at, event.received_at));
  PutText(out, event.message_id);
  for (size_t i = 0; i < kOptionalFieldCount; ++i) {
    if ((present & (uint64_t{1} << i)) == 0) continue;
    const std::string& value = event.*kOptionalFields[i].member;
    if (kOptionalFields[i].json) {
      base::PutLengthPrefixed(out, value);
    } else {
      PutText(out, value);
    }
  }
}

absl::StatusOr<CanonicalEvent> DecodeEvent(std::string_view record) {
  if (record.empty()) return Damaged("record", "empty");
  const auto version = static_cast<uint8_t>(record.front());
  if (version == kVersion1) return DecodeBinaryRecord(record);
  if (version == static_cast<uint8_t>(kJsonRecordStart)) return DecodeJsonRecord(record);
  return absl::InvalidArgumentError(absl::StrCat("event record: unknown version byte ", HexByte(version),
                                                 " (this build reads version 0x01, and JSON records, which "
                                                 "start with '{'); was it written by a newer Tessera?"));
}

absl::StatusOr<std::string> RecordAsJson(std::string_view record) {
  if (!record.empty() && record.front() == kJsonRecordStart) return std::string(record);
  absl::StatusOr<CanonicalEvent> event = DecodeEvent(record);
  if (!event.ok()) return event.status();
  std::string json;
  json.reserve(record.size() + 256);
  EncodeEventJson(*event, json);
  return json;
}

void EncodeEventJson(const CanonicalEvent& event, std::string& out) {
  JsonWriter writer(out);
  writer.BeginObject();
  writer.Key("messageId").String(event.message_id);
  writer.Key("type").String(EventTypeName(event.type));
  if (event.message_id_generated) writer.Key("messageIdGenerated").Bool(true);
  const auto string_member = [&writer](std::string_view key, const std::string& value) {
    if (!value.empty()) writer.Key(key).String(value);
  };
  string_member("space", event.space);
  string_member("source", event.source);
  string_member("channel", event.channel);
  string_member("userId", event.user_id);
  string_member("anonymousId", event.anonymous_id);
  string_member("previousId", event.previous_id);
  string_member("groupId", event.group_id);
  string_member("event", event.event);
  string_member("name", event.name);
  string_member("category", event.category);
  const auto raw_member = [&writer](std::string_view key, const std::string& json) {
    if (!json.empty()) writer.Key(key).Raw(json);
  };
  raw_member("traits", event.traits);
  raw_member("properties", event.properties);
  raw_member("context", event.context);
  raw_member("integrations", event.integrations);
  std::string time;  // Reused for the four timestamps: one allocation per record.
  const auto time_member = [&writer, &time](std::string_view key, Timestamp value) {
    time.assign("\"");
    base::AppendIso8601(time, value);
    time.push_back('"');
    writer.Key(key).Raw(time);
  };
  time_member("timestamp", event.timestamp);
  if (event.original_timestamp) time_member("originalTimestamp", *event.original_timestamp);
  if (event.sent_at) time_member("sentAt", *event.sent_at);
  time_member("receivedAt", event.received_at);
  writer.EndObject();
}

}  // namespace tessera::ingest
