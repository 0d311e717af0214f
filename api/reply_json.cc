#include "api/reply_json.h"

#include <chrono>

namespace tessera::api {

void WriteErrorMember(base::JsonWriter& json, std::string_view code, std::string_view message,
                      std::string_view field) {
  json.Key("error").BeginObject();
  json.Key("code").String(code);
  json.Key("message").String(message);
  json.Key("field").String(field);
  json.EndObject();
}

void WriteRejectedMember(base::JsonWriter& json, const std::vector<ingest::RejectedEvent>& rejected) {
  json.Key("rejected").BeginArray();
  for (const ingest::RejectedEvent& event : rejected) {
    json.BeginObject();
    json.Key("index").Uint(event.index);
    json.Key("messageId").String(event.message_id);
    json.Key("code").String(event.error.code);
    json.Key("message").String(event.error.message);
    json.Key("field").String(event.error.field);
    json.EndObject();
  }
  json.EndArray();
}

ingest::Timestamp ReceivedNow() {
  return std::chrono::time_point_cast<std::chrono::microseconds>(std::chrono::system_clock::now());
}

}  // namespace tessera::api
