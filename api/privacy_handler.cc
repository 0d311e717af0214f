#include "api/privacy_handler.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/json_reading.h"
#include "base/json_writer.h"
#include "ingest/event_sink.h"

namespace tessera::api {
namespace {

namespace od = simdjson::ondemand;
using base::JsonWriter;

void WriteRequest(JsonWriter& json, const privacy::ErasureRequest& request) {
  const bool completed = request.state == privacy::ErasureRequest::State::kCompleted;
  json.Key("id").String(request.id);
  json.Key("state").String(completed ? "completed" : "pending");
  json.Key("identifierType").String(request.identifier_type);
  json.Key("requestedAt").String(base::FormatIso8601(request.requested_at));
  json.Key("requestedBy").String(request.requested_by);
  if (!completed) return;
  json.Key("completedAt").String(base::FormatIso8601(request.completed_at));
  json.Key("profiles").Uint(request.profiles);
  json.Key("events").Uint(request.events);
  json.Key("identifiers").Uint(request.identifiers);
  json.Key("deadLetters").Uint(request.dead_letters);
}

}  // namespace

PrivacyHandler::PrivacyHandler(const KeyRegistry& keys, pipeline::IngestPipeline& pipeline,
                               std::vector<std::string> known_types)
    : keys_(keys), pipeline_(pipeline), known_types_(std::move(known_types)) {
  std::sort(known_types_.begin(), known_types_.end());
}

HttpReply PrivacyHandler::Handle(const PrivacyRequest& request) const {
  std::optional<std::string_view> token = BearerToken(request.authorization);
  if (!token || token->empty())
    return ErrorReply(401, "unauthorized", "send an admin key as Authorization: Bearer KEY");
  const KeyScope scope = keys_.Identify(*token).scope;
  if (scope == KeyScope::kUnknown) return ErrorReply(401, "unauthorized", "unknown key");
  if (scope != KeyScope::kAdmin) return ErrorReply(403, "forbidden", "privacy requests need an admin key");
  std::optional<std::string> space = UrlDecode(QueryParam(request.query, "space"));
  if (!space) return ErrorReply(400, "invalid_value", "not validly percent-encoded", "space");
  if (space->empty()) *space = "default";

  if (request.path == "erase") {
    if (request.method != Method::kPost) {
      HttpReply reply =
          ErrorReply(405, "method_not_allowed", "use POST /v1/privacy/erase to request an erasure");
      reply.headers.emplace_back("Allow", "POST");
      return reply;
    }
    return Erase(request, *space, keys_.KeyLabel(*token));
  }
  if (request.path.starts_with("erase/") && request.path.size() > 6) {
    if (request.method != Method::kGet && request.method != Method::kHead) {
      HttpReply reply = ErrorReply(405, "method_not_allowed", "use GET on an erasure request's status");
      reply.headers.emplace_back("Allow", "GET, HEAD");
      return reply;
    }
    const std::string_view id = request.path.substr(6);
    absl::StatusOr<privacy::ErasureRequest> found = pipeline_.ErasureStatus(*space, id);
    if (absl::IsNotFound(found.status())) {
      return ErrorReply(404, "not_found",
                        absl::StrCat("no erasure request \"", std::string(id), "\" in space ", *space));
    }
    if (!found.ok()) return ErrorReply(500, "internal", std::string(found.status().message()));
    std::string body;
    JsonWriter json(body);
    json.BeginObject();
    WriteRequest(json, *found);
    json.EndObject();
    HttpReply reply{.status = 200, .body = std::move(body)};
    reply.audit_target = absl::StrCat("erasure ", std::string(id));
    return reply;
  }
  return ErrorReply(404, "not_found", "use POST /v1/privacy/erase or GET /v1/privacy/erase/{id}");
}

HttpReply PrivacyHandler::Erase(const PrivacyRequest& request, const std::string& space,
                                std::string_view requested_by) const {
  thread_local base::ReusableJsonParser parser;
  od::document doc;
  od::object object;
  if (parser.Iterate(request.body).get(doc) || doc.get_object().get(object)) {
    return ErrorReply(400, "invalid_json",
                      R"(expected a JSON object: {"type":"email","value":"ada@example.com"})");
  }
  std::string type;
  std::string value;
  std::string region;
  for (auto field : object) {
    std::string_view name;
    std::string_view text;
    if (field.unescaped_key().get(name)) return ErrorReply(400, "invalid_json", "malformed member name");
    if (name != "type" && name != "value" && name != "region") {
      return ErrorReply(
          400, "invalid_value",
          absl::StrCat("unknown member \"", std::string(name), "\"; expected type, value and region"),
          std::string(name));
    }
    if (field.value().get_string().get(text)) {
      return ErrorReply(400, "invalid_type", absl::StrCat(std::string(name), ": expected a string"),
                        std::string(name));
    }
    (name == "type" ? type : name == "value" ? value : region).assign(text);
  }
  if (type.empty()) return ErrorReply(400, "missing_field", "type: the identifier type is required", "type");
  if (value.empty())
    return ErrorReply(400, "missing_field", "value: the identifier value is required", "value");
  if (!std::binary_search(known_types_.begin(), known_types_.end(), type)) {
    return ErrorReply(400, "unknown_identifier_type",
                      absl::StrCat("unknown identifier type \"", type,
                                   "\"; known types: ", absl::StrJoin(known_types_, ", ")),
                      "type");
  }
  uint64_t position = 0;
  absl::StatusOr<privacy::ErasureRequest> created =
      pipeline_.RequestErasure(space, type, value, requested_by, region, &position);
  if (absl::IsInvalidArgument(created.status())) {
    const std::string message(created.status().message());
    return ErrorReply(400, "invalid_value", message, message.starts_with("region:") ? "region" : "value");
  }
  if (absl::IsNotFound(created.status()))
    return ErrorReply(404, "not_found", std::string(created.status().message()), "space");
  if (absl::IsUnimplemented(created.status())) {
    return ErrorReply(404, "not_found", std::string(created.status().message()));
  }
  if (absl::IsUnavailable(created.status()) || absl::IsResourceExhausted(created.status())) {
    // A cluster gateway that cannot reach the stream now: nothing was requested; ask again.
    const bool full = ingest::IsStoreNearlyFull(created.status());
    HttpReply reply = full ? ErrorReply(429, "stream_full", std::string(created.status().message()))
                           : ErrorReply(503, "unavailable", std::string(created.status().message()));
    reply.headers.emplace_back("Retry-After", full ? "30" : "1");
    return reply;
  }
  if (!created.ok()) return ErrorReply(500, "internal", std::string(created.status().message()));
  std::string body;
  JsonWriter json(body);
  json.BeginObject();
  WriteRequest(json, *created);
  // Cluster mode: where the request is in the stream; a member has carried it out once it has
  // applied this position (min_position on reads).
  if (position > 0) json.Key("position").Uint(position);
  json.Key("statusUrl")
      .String(absl::StrCat("/v1/privacy/erase/", created->id,
                           space == "default" ? "" : "?space=", space == "default" ? "" : space));
  json.EndObject();
  HttpReply reply{.status = 202, .body = std::move(body)};
  if (position > 0) reply.headers.emplace_back("Tessera-Position", absl::StrCat(position));
  reply.audit_target = absl::StrCat("erasure ", created->id, " of a person by ", type);
  return reply;
}

}  // namespace tessera::api
