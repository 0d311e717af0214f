#include "api/tracking_handler.h"

#include <chrono>
#include <memory>
#include <utility>

#include "absl/strings/str_cat.h"
#include "api/reply_json.h"
#include "profile_store/json_writer.h"

namespace tessera::api {
namespace {

using profile_store::JsonWriter;

bool AllTooLarge(const std::vector<ingest::RejectedEvent>& rejected) {
  if (rejected.empty()) return false;
  for (const ingest::RejectedEvent& event : rejected) {
    if (event.error.code != ingest::error_code::kEventTooLarge) return false;
  }
  return true;
}

// A failed request that had per-event rejections: the first one is the headline error.
HttpReply RejectionReply(const ingest::IngestResult& result, std::string_view summary) {
  HttpReply reply;
  reply.status = AllTooLarge(result.rejected) ? 413 : 400;
  JsonWriter json(reply.body);
  json.BeginObject();
  if (result.rejected.empty()) {
    WriteErrorMember(json, ingest::error_code::kInvalidValue, summary, "");
  } else {
    const ingest::FieldError& first = result.rejected.front().error;
    WriteErrorMember(json, first.code, absl::StrCat(first.message, " (", std::string(summary), ")"), first.field);
  }
  WriteRejectedMember(json, result.rejected);
  json.EndObject();
  return reply;
}


}  // namespace

HttpReply ErrorReply(int status, std::string_view code, std::string_view message, std::string_view field) {
  HttpReply reply;
  reply.status = status;
  JsonWriter json(reply.body);
  json.BeginObject();
  WriteErrorMember(json, code, message, field);
  json.EndObject();
  return reply;
}

HttpReply IngestResultReply(const ingest::IngestResult& result) {
  const absl::Status& status = result.status;
  if (status.ok()) {
    HttpReply reply;
    if (result.rejected.empty()) {
      reply.body = R"({"success":true})";
      return reply;
    }
    JsonWriter json(reply.body);
    json.BeginObject();
    json.Key("success").Bool(true);
    json.Key("accepted").Uint(result.accepted.size());
    json.Key("duplicates").Uint(result.duplicates.size());
    WriteRejectedMember(json, result.rejected);
    json.EndObject();
    return reply;
  }
  switch (status.code()) {
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kInvalidArgument:
      return RejectionReply(result, std::string(status.message()));
    case absl::StatusCode::kResourceExhausted: {
      HttpReply reply = ErrorReply(503, "overloaded", std::string(status.message()));
      reply.headers.emplace_back("Retry-After", "1");
      return reply;
    }
    case absl::StatusCode::kUnavailable: {
      HttpReply reply = ErrorReply(503, "shutting_down", std::string(status.message()));
      reply.headers.emplace_back("Retry-After", "5");
      return reply;
    }
    default:
      return ErrorReply(500, "internal", absl::StrCat("the events could not be stored: ", std::string(status.message())));
  }
}

TrackingHandler::TrackingHandler(const KeyRegistry& keys, ingest::IngestPipeline& pipeline,
                                 ingest::SegmentParserOptions options)
    : keys_(keys), pipeline_(pipeline), options_(options) {}

void TrackingHandler::Handle(RouteId route, std::string_view authorization, std::string_view query,
                             const std::string& body, std::function<void(HttpReply)> reply) {
  // A header that is present decides alone: a bad header is not rescued by a key in the body.
  const ingest::SourceRef* source = nullptr;
  if (!authorization.empty()) {
    absl::StatusOr<const ingest::SourceRef*> found = keys_.SourceFromBasicAuth(authorization);
    if (!found.ok()) {
      reply(ErrorReply(401, "unauthorized", std::string(found.status().message())));
      return;
    }
    source = *found;
  }

  // One parser per I/O thread: it keeps its buffers from request to request.
  thread_local std::unique_ptr<ingest::SegmentParser> parser;
  if (!parser) parser = std::make_unique<ingest::SegmentParser>(options_);
  ingest::ParsedRequest parsed = parser->Parse(TrackingEndpoint(route), body, ReceivedNow());

  if (source == nullptr) {
    if (parsed.write_key.empty()) {
      reply(ErrorReply(401, "unauthorized",
                       "missing write key: send it as the HTTP Basic username or as \"writeKey\" in the body",
                       "writeKey"));
      return;
    }
    source = keys_.FindSource(parsed.write_key);
    if (source == nullptr) {
      reply(ErrorReply(401, "unauthorized", "unknown write key", "writeKey"));
      return;
    }
  }

  if (parsed.request_error) {
    const ingest::FieldError& error = *parsed.request_error;
    pipeline_.metrics().events_rejected.fetch_add(std::max<size_t>(parsed.event_count, 1), std::memory_order_relaxed);
    reply(ErrorReply(error.code == ingest::error_code::kEventTooLarge ? 413 : 400, error.code, error.message,
                     error.field));
    return;
  }

  const std::string_view strict = QueryParam(query, "strict");
  pipeline_.Accept(*source, std::move(parsed), strict == "true" || strict == "1",
                   [reply = std::move(reply)](ingest::IngestResult result) { reply(IngestResultReply(result)); });
}

}  // namespace tessera::api
