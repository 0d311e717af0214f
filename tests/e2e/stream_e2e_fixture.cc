// The helpers of stream_e2e_fixture.h: server config, acks parsed and checked member by member,
// frames of track events, and sending frames while reading their acks.

#include "tests/e2e/stream_e2e_fixture.h"

#include <algorithm>
#include <thread>

#include "absl/status/status.h"

namespace tessera::e2e {

using namespace std::chrono_literals;

std::string UnsyncedConfig(std::string_view more) {
  std::string json(kUnsyncedStore);
  if (!more.empty()) json += "," + std::string(more);
  return json;
}

std::string BasicAuth(std::string_view key) { return "Basic " + Base64(std::string(key) + ":"); }

std::string Quoted(std::string_view text) { return "\"" + std::string(text) + "\""; }

std::ostream& operator<<(std::ostream& out, const Rejection& r) {
  return out << "{index " << r.index << ", messageId " << r.message_id << ", code " << r.code << ", field "
             << r.field << ", message " << r.message << "}";
}

namespace {

std::string StringOr(simdjson::dom::element element, std::string_view fallback) {
  std::string_view text;
  if (element.get_string().get(text) == simdjson::SUCCESS) return std::string(text);
  if (element.is_null()) return "null";
  return std::string(fallback);
}

absl::StatusOr<std::vector<std::string>> StringArray(simdjson::dom::element element, std::string_view name) {
  simdjson::dom::array array;
  if (element.get_array().get(array) != simdjson::SUCCESS) {
    return absl::InvalidArgumentError("\"" + std::string(name) + "\" is not an array");
  }
  std::vector<std::string> out;
  for (simdjson::dom::element item : array) {
    std::string_view text;
    if (item.get_string().get(text) != simdjson::SUCCESS) {
      return absl::InvalidArgumentError("\"" + std::string(name) + "\" holds a non-string");
    }
    out.emplace_back(text);
  }
  return out;
}

}  // namespace

absl::StatusOr<std::vector<Rejection>> Rejections(simdjson::dom::element element) {
  simdjson::dom::array array;
  if (element.get_array().get(array) != simdjson::SUCCESS)
    return absl::InvalidArgumentError("\"rejected\" is not an array");
  std::vector<Rejection> out;
  for (simdjson::dom::element item : array) {
    simdjson::dom::object object;
    if (item.get_object().get(object) != simdjson::SUCCESS) {
      return absl::InvalidArgumentError("\"rejected\" holds a non-object");
    }
    Rejection rejection;
    for (auto [key, value] : object) {
      if (key == "index") {
        if (value.get_int64().get(rejection.index) != simdjson::SUCCESS) {
          return absl::InvalidArgumentError("rejected[].index is not an integer");
        }
      } else if (key == "messageId") {
        rejection.message_id = StringOr(value, "<not a string>");
      } else if (key == "code") {
        rejection.code = StringOr(value, "<not a string>");
      } else if (key == "message") {
        rejection.message = StringOr(value, "<not a string>");
      } else if (key == "field") {
        rejection.field = StringOr(value, "<not a string>");
      }
    }
    out.push_back(std::move(rejection));
  }
  return out;
}

namespace {

absl::StatusOr<Ack> ParseAck(std::string_view json) {
  simdjson::dom::parser parser;
  const simdjson::padded_string padded(json);
  simdjson::dom::element root;
  simdjson::dom::object object;
  if (parser.parse(padded).get(root) != simdjson::SUCCESS ||
      root.get_object().get(object) != simdjson::SUCCESS) {
    return absl::InvalidArgumentError("the ack is not a JSON object: " + std::string(json));
  }
  Ack ack;
  ack.raw = std::string(json);
  bool has_accepted = false;
  bool has_duplicates = false;
  bool has_rejected = false;
  for (auto [key, value] : object) {
    absl::Status status;
    if (key == "frameId") {
      ack.frame_id = simdjson::minify(value);
    } else if (key == "accepted") {
      auto ids = StringArray(value, key);
      if (!ids.ok()) return absl::InvalidArgumentError(ids.status().ToString() + " in " + ack.raw);
      ack.accepted = std::move(*ids);
      has_accepted = true;
    } else if (key == "duplicates") {
      auto ids = StringArray(value, key);
      if (!ids.ok()) return absl::InvalidArgumentError(ids.status().ToString() + " in " + ack.raw);
      ack.duplicates = std::move(*ids);
      has_duplicates = true;
    } else if (key == "rejected") {
      auto rejected = Rejections(value);
      if (!rejected.ok()) return absl::InvalidArgumentError(rejected.status().ToString() + " in " + ack.raw);
      ack.rejected = std::move(*rejected);
      has_rejected = true;
    } else if (key == "error") {
      simdjson::dom::element code;
      simdjson::dom::element message;
      ack.error_code =
          value["code"].get(code) == simdjson::SUCCESS ? StringOr(code, "<not a string>") : "<no code>";
      ack.error_message = value["message"].get(message) == simdjson::SUCCESS ? StringOr(message, "") : "";
    }
  }
  if (!has_accepted || !has_duplicates || !has_rejected) {
    return absl::InvalidArgumentError("an ack must have \"accepted\", \"duplicates\" and \"rejected\": " +
                                      ack.raw);
  }
  return ack;
}

}  // namespace

absl::StatusOr<Ack> ReadAck(WebSocketClient& client, std::chrono::milliseconds timeout) {
  absl::StatusOr<std::string> text = client.ReadText(timeout);
  if (!text.ok()) return text.status();
  return ParseAck(*text);
}

std::string HttpErrorCode(std::string_view body) {
  simdjson::dom::parser parser;
  const simdjson::padded_string padded(body);
  simdjson::dom::element code;
  if (parser.parse(padded)["error"]["code"].get(code) != simdjson::SUCCESS) return std::string(kAbsent);
  return StringOr(code, kAbsent);
}

std::vector<std::string> Sorted(std::vector<std::string> ids) {
  std::sort(ids.begin(), ids.end());
  return ids;
}

namespace {

std::string TrackEvent(std::string_view message_id, int n) {
  return R"({"type":"track","userId":"user-)" + std::to_string(n % 97) +
         R"(","event":"Order Completed",)"
         R"("properties":{"order":)" +
         std::to_string(n) + R"(,"total":19.99,"currency":"EUR"},"messageId":")" + std::string(message_id) +
         R"("})";
}

}  // namespace

std::string BatchFrame(std::string_view frame_id, const std::vector<std::string>& message_ids) {
  std::string frame = R"({"frameId":")" + std::string(frame_id) + R"(","batch":[)";
  for (size_t i = 0; i < message_ids.size(); ++i) {
    if (i > 0) frame += ',';
    frame += TrackEvent(message_ids[i], static_cast<int>(i));
  }
  return frame + "]}";
}

std::vector<std::string> MessageIds(std::string_view prefix, int frame, int count) {
  std::vector<std::string> ids;
  ids.reserve(static_cast<size_t>(count));
  for (int i = 0; i < count; ++i) {
    ids.push_back(std::string(prefix) + "-f" + std::to_string(frame) + "-e" + std::to_string(i));
  }
  return ids;
}

std::map<std::string, int> CountByMessageId(const std::vector<ingest::CanonicalEvent>& events) {
  std::map<std::string, int> counts;
  for (const auto& event : events) ++counts[event.message_id];
  return counts;
}

const ingest::CanonicalEvent* FindEvent(const std::vector<ingest::CanonicalEvent>& events,
                                        std::string_view id) {
  for (const auto& event : events) {
    if (event.message_id == id) return &event;
  }
  return nullptr;
}

std::vector<Ack> SendAndReadAcks(WebSocketClient& client, const std::vector<std::string>& frames) {
  absl::Status send_status;
  std::thread sender([&] {
    for (const std::string& frame : frames) {
      send_status = client.SendText(frame, 30s);
      if (!send_status.ok()) return;
    }
  });
  std::vector<Ack> acks;
  for (size_t i = 0; i < frames.size(); ++i) {
    absl::StatusOr<Ack> ack = ReadAck(client);
    if (!ack.ok()) {
      ADD_FAILURE() << "ack " << i << " of " << frames.size() << ": " << ack.status();
      break;
    }
    acks.push_back(std::move(*ack));
  }
  sender.join();
  EXPECT_TRUE(send_status.ok()) << send_status;
  return acks;
}

}  // namespace tessera::e2e
