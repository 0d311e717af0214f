#include "api/stream_handler.h"

#include <algorithm>
#include <memory>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "api/reply_json.h"
#include "base/json_writer.h"

namespace tessera::api {
namespace {

using base::JsonWriter;

void WriteFrameId(JsonWriter& json, std::string_view frame_id) {
  json.Key("frameId");
  if (frame_id.empty()) {
    json.Null();
  } else {
    json.Raw(frame_id);  // Validated JSON text (a string literal or an integer).
  }
}

void WriteIds(JsonWriter& json, std::string_view name, const std::vector<std::string>& ids) {
  json.Key(name).BeginArray();
  for (const std::string& id : ids) json.String(id);
  json.EndArray();
}

// An ack that stored nothing: the error, and the rejected events when there were any.
FrameOutcome ErrorAck(std::string_view frame_id, std::string_view code, std::string_view message,
                      std::string_view field, const std::vector<ingest::RejectedEvent>& rejected = {}) {
  FrameOutcome outcome{.retry = false, .error = true, .ack = {}};
  JsonWriter json(outcome.ack);
  json.BeginObject();
  WriteFrameId(json, frame_id);
  WriteErrorMember(json, code, message, field);
  WriteIds(json, "accepted", {});
  WriteIds(json, "duplicates", {});
  WriteRejectedMember(json, rejected);
  json.EndObject();
  return outcome;
}

FrameOutcome ResultAck(std::string_view frame_id, const pipeline::IngestResult& result) {
  const absl::Status& status = result.status;
  if (status.ok() || absl::IsInvalidArgument(status)) {
    // InvalidArgument: every event was rejected; the rejected list says why, as for any frame.
    FrameOutcome outcome;
    JsonWriter json(outcome.ack);
    json.BeginObject();
    WriteFrameId(json, frame_id);
    WriteIds(json, "accepted", result.accepted);
    WriteIds(json, "duplicates", result.duplicates);
    WriteRejectedMember(json, result.rejected);
    json.EndObject();
    return outcome;
  }
  switch (status.code()) {
    case absl::StatusCode::kResourceExhausted:
      // Near the stream's limits the frame would wait for as long as the stream stays full: the
      // client is told, as an HTTP client gets 429.
      if (ingest::IsStoreNearlyFull(status)) {
        return ErrorAck(frame_id, stream_error::kStreamFull,
                        absl::StrCat(std::string(status.message()), "; nothing of the frame was stored"), "");
      }
      return FrameOutcome{.retry = true, .error = false, .ack = {}};
    case absl::StatusCode::kFailedPrecondition:
      return ErrorAck(frame_id, stream_error::kInvalidEvents, std::string(status.message()), "", result.rejected);
    case absl::StatusCode::kUnavailable:
      return ErrorAck(frame_id,
                      ingest::IsStoreUnreachable(status) ? stream_error::kUnavailable : stream_error::kShuttingDown,
                      absl::StrCat(std::string(status.message()), "; nothing of the frame was stored, resend it"), "");
    case absl::StatusCode::kUnimplemented:
      return ErrorAck(frame_id, stream_error::kNotFound, std::string(status.message()), "");
    default:
      return ErrorAck(frame_id, stream_error::kInternal,
                      absl::StrCat("the events could not be stored: ", std::string(status.message())), "");
  }
}

}  // namespace

StreamHandler::StreamHandler(const KeyRegistry& keys, pipeline::IngestPipeline& pipeline,
                             ingest::SegmentParserOptions options)
    : keys_(keys), pipeline_(pipeline), options_(options) {}

absl::StatusOr<const ingest::SourceRef*> StreamHandler::Authenticate(std::string_view authorization,
                                                                     std::string_view query) const {
  return keys_.SourceFromHeaderOrQuery(authorization, query);
}

void StreamHandler::HandleFrame(const ingest::SourceRef& source, bool strict, const std::string& frame,
                                std::function<void(FrameOutcome)> done) {
  // One parser per I/O thread: it keeps its buffers from frame to frame.
  thread_local std::unique_ptr<ingest::SegmentParser> parser;
  if (!parser) parser = std::make_unique<ingest::SegmentParser>(options_);
  ingest::ParsedRequest parsed = parser->Parse(ingest::Endpoint::kStream, frame, ReceivedNow());

  if (parsed.request_error) {
    const ingest::FieldError& error = *parsed.request_error;
    pipeline_.metrics().events_rejected.fetch_add(std::max<size_t>(parsed.event_count, 1), std::memory_order_relaxed);
    done(ErrorAck(parsed.frame_id, error.code, error.message, error.field));
    return;
  }
  std::string frame_id = std::move(parsed.frame_id);
  pipeline_.Accept(source, std::move(parsed), strict,
                   [frame_id = std::move(frame_id), done = std::move(done)](pipeline::IngestResult result) {
                     done(ResultAck(frame_id, result));
                   });
}

FrameOutcome StreamHandler::TooLargeAck(std::string_view frame_id, size_t limit) {
  return ErrorAck(frame_id, stream_error::kFrameTooLarge,
                  absl::StrCat("the frame exceeds the limit of ", limit,
                               " bytes; it was discarded unread: split it into smaller frames"),
                  "");
}

std::string StreamHandler::FrameIdPrefix(std::string_view start) {
  auto skip_spaces = [&start] {
    while (!start.empty() && (start.front() == ' ' || start.front() == '\t' || start.front() == '\n' ||
                              start.front() == '\r')) {
      start.remove_prefix(1);
    }
  };
  auto take = [&start](std::string_view literal) {
    if (!start.starts_with(literal)) return false;
    start.remove_prefix(literal.size());
    return true;
  };
  skip_spaces();
  if (!take("{")) return {};
  skip_spaces();
  if (!take("\"frameId\"")) return {};
  skip_spaces();
  if (!take(":")) return {};
  skip_spaces();
  size_t end = 0;
  if (take("\"")) {
    // A plain string only: escapes would need a real parser, and this is a best effort.
    end = start.find('"');
    if (end == std::string_view::npos || end + 2 > ingest::kMaxFrameIdBytes) return {};
    for (size_t i = 0; i < end; ++i) {
      const unsigned char c = static_cast<unsigned char>(start[i]);
      if (c == '\\' || c < 0x20 || c >= 0x80) return {};
    }
    return absl::StrCat("\"", std::string(start.substr(0, end)), "\"");
  }
  if (!start.empty() && start.front() == '-') ++end;
  const size_t digits_begin = end;
  while (end < start.size() && start[end] >= '0' && start[end] <= '9') ++end;
  if (end == digits_begin || end > ingest::kMaxFrameIdBytes) return {};
  if (start[digits_begin] == '0' && end - digits_begin > 1) return {};  // Not JSON: leading zero.
  // The number must end here, or it was cut off (or is a fraction, which frameId may not be).
  if (end == start.size()) return {};
  const char next = start[end];
  if (next != ',' && next != '}' && next != ' ' && next != '\t' && next != '\n' && next != '\r') return {};
  return std::string(start.substr(0, end));
}

}  // namespace tessera::api
