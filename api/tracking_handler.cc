#include "api/tracking_handler.h"

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "api/reply_json.h"
#include "base/json_writer.h"

namespace tessera::api {
namespace {

using base::JsonWriter;

bool AllTooLarge(const std::vector<ingest::RejectedEvent>& rejected) {
  if (rejected.empty()) return false;
  for (const ingest::RejectedEvent& event : rejected) {
    if (event.error.code != ingest::error_code::kEventTooLarge) return false;
  }
  return true;
}

// A failed request that had per-event rejections: the first one is the headline error.
HttpReply RejectionReply(const pipeline::IngestResult& result, std::string_view summary) {
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

HttpReply IngestResultReply(const pipeline::IngestResult& result, bool with_counts) {
  const absl::Status& status = result.status;
  if (status.ok()) {
    HttpReply reply;
    // A cluster gateway's position: pass it as min_position to read these writes on a member.
    if (result.position > 0) reply.headers.emplace_back("Tessera-Position", std::to_string(result.position));
    if (result.rejected.empty() && !with_counts) {
      reply.body = result.position > 0 ? absl::StrCat(R"({"success":true,"position":)", result.position, "}")
                                       : R"({"success":true})";
      return reply;
    }
    JsonWriter json(reply.body);
    json.BeginObject();
    json.Key("success").Bool(true);
    json.Key("accepted").Uint(result.accepted.size());
    json.Key("duplicates").Uint(result.duplicates.size());
    WriteRejectedMember(json, result.rejected);
    if (result.position > 0) json.Key("position").Uint(result.position);
    json.EndObject();
    return reply;
  }
  switch (status.code()) {
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kInvalidArgument:
      return RejectionReply(result, std::string(status.message()));
    case absl::StatusCode::kResourceExhausted: {
      if (ingest::IsStoreNearlyFull(status)) {
        HttpReply reply = ErrorReply(429, "stream_full", std::string(status.message()));
        reply.headers.emplace_back("Retry-After", "30");
        return reply;
      }
      HttpReply reply = ErrorReply(503, "overloaded", std::string(status.message()));
      reply.headers.emplace_back("Retry-After", "1");
      return reply;
    }
    case absl::StatusCode::kUnavailable: {
      HttpReply reply = ErrorReply(503, ingest::IsStoreUnreachable(status) ? "unavailable" : "shutting_down",
                                   std::string(status.message()));
      reply.headers.emplace_back("Retry-After", "5");
      return reply;
    }
    case absl::StatusCode::kUnimplemented:
      return ErrorReply(404, "not_found", std::string(status.message()));
    default:
      return ErrorReply(500, "internal", absl::StrCat("the events could not be stored: ", std::string(status.message())));
  }
}

TrackingHandler::TrackingHandler(const KeyRegistry& keys, pipeline::IngestPipeline& pipeline,
                                 ingest::SegmentParserOptions options, const CorsPolicy* cors)
    : keys_(keys), pipeline_(pipeline), options_(options), cors_(cors) {}

void TrackingHandler::Handle(const TrackingRequest& request, std::function<void(HttpReply)> reply) {
  // A header that is present decides alone: a bad header is not rescued by a key in the body.
  const ingest::SourceRef* source = nullptr;
  if (!request.authorization.empty()) {
    absl::StatusOr<const ingest::SourceRef*> found = keys_.SourceFromBasicAuth(request.authorization);
    if (!found.ok()) {
      reply(ErrorReply(401, "unauthorized", std::string(found.status().message())));
      return;
    }
    source = *found;
  }

  // One parser per I/O thread: it keeps its buffers from request to request.
  thread_local std::unique_ptr<ingest::SegmentParser> parser;
  if (!parser) parser = std::make_unique<ingest::SegmentParser>(options_);
  ingest::ParsedRequest parsed = parser->Parse(TrackingEndpoint(request.route), *request.body, ReceivedNow());

  if (source == nullptr) {
    std::optional<std::string> query_key;
    std::string_view write_key = parsed.write_key;
    if (write_key.empty()) {
      if (const std::optional<std::string_view> encoded = FindQueryParam(request.query, "writeKey")) {
        query_key = UrlDecode(*encoded);
        if (!query_key) {
          reply(ErrorReply(401, "unauthorized", "the writeKey query parameter is not validly percent-encoded",
                           "writeKey"));
          return;
        }
        write_key = *query_key;
      }
    }
    if (write_key.empty()) {
      reply(ErrorReply(401, "unauthorized",
                       "missing write key: send it as the HTTP Basic username, as \"writeKey\" in the body or as "
                       "the writeKey query parameter",
                       "writeKey"));
      return;
    }
    source = keys_.FindSource(write_key);
    if (source == nullptr) {
      reply(ErrorReply(401, "unauthorized", "unknown write key", "writeKey"));
      return;
    }
  }

  if (cors_ != nullptr && !request.origin.empty() && !cors_->AllowsIngest(source, request.origin)) {
    reply(ErrorReply(403, "origin_not_allowed",
                     absl::StrCat("pages from ", std::string(request.origin), " may not send events with the key of source \"",
                                  source->name, "\" (see sources[].allowed_origins)")));
    return;
  }

  if (parsed.request_error) {
    const ingest::FieldError& error = *parsed.request_error;
    pipeline_.metrics().events_rejected.fetch_add(std::max<size_t>(parsed.event_count, 1), std::memory_order_relaxed);
    reply(ErrorReply(error.code == ingest::error_code::kEventTooLarge ? 413 : 400, error.code, error.message,
                     error.field));
    return;
  }

  const std::string_view strict = QueryParam(request.query, "strict");
  pipeline_.Accept(
      *source, std::move(parsed), strict == "true" || strict == "1",
      [reply = std::move(reply)](pipeline::IngestResult result) { reply(IngestResultReply(result)); });
}

}  // namespace tessera::api
