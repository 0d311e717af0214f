#include "ingest/event_codec.h"

#include <optional>

#include "absl/status/status.h"
#include "base/json_reading.h"
#include "base/json_writer.h"
#include "base/time.h"
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

// The object's text exactly as stored, which EncodeEvent wrote minified.
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

}  // namespace

void EncodeEvent(const CanonicalEvent& event, std::string& out) {
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

absl::StatusOr<CanonicalEvent> DecodeEvent(std::string_view record) {
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

}  // namespace tessera::ingest
