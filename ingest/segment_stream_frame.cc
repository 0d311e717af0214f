// WebSocket frames (Endpoint::kStream): one message, whose "type" says which call it is, or a batch
// envelope, either of them with a "frameId" that the ack echoes as sent.

#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "ingest/internal/segment_fields.h"
#include "ingest/internal/segment_parser_impl.h"

namespace tessera::ingest {

using internal::DescribeType;
using internal::FindTopLevelString;
using internal::InvalidJsonDetail;
using internal::IsJsonInteger;
using internal::KeyAndValue;
using internal::MakeError;
using internal::TrimJsonWhitespace;

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
  if (!OpenRootObject(input, "a message object or an object with a \"batch\" array", doc, object,
                      open_error)) {
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
    result.request_error =
        MakeError(error_code::kInvalidJson, "", "unexpected content after the JSON object");
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
  if (ParseEvent(raw, input, std::nullopt, &no_defaults, received_at, event, rejected.error,
                 rejected.message_id, nullptr)) {
    result.events.push_back(std::move(event));
    result.index_of.push_back(0);
  } else {
    result.rejected.push_back(std::move(rejected));
  }
}

}  // namespace tessera::ingest
