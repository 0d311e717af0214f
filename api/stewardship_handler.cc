#include "api/stewardship_handler.h"

#include <algorithm>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/json_reading.h"
#include "base/json_writer.h"
#include "ingest/event_sink.h"

namespace tessera::api {
namespace {

namespace od = simdjson::ondemand;
using base::JsonWriter;
using ingest::StewardshipCommand;

// The reply for a decision the pipeline refused.
HttpReply RefusalReply(const absl::Status& status) {
  const std::string message(status.message());
  if (absl::IsInvalidArgument(status)) {
    return ErrorReply(400, "invalid_value", message,
                      message.starts_with("region:") ? "region" : message.starts_with("b:") ? "b" : "a");
  }
  if (absl::IsNotFound(status) || absl::IsUnimplemented(status)) return ErrorReply(404, "not_found", message);
  if (absl::IsUnavailable(status) || absl::IsResourceExhausted(status)) {
    const bool full = ingest::IsStoreNearlyFull(status);
    HttpReply reply = full ? ErrorReply(429, "stream_full", message) : ErrorReply(503, "unavailable", message);
    reply.headers.emplace_back("Retry-After", full ? "30" : "1");
    return reply;
  }
  return ErrorReply(500, "internal", message);
}

}  // namespace

StewardshipHandler::StewardshipHandler(const KeyRegistry& keys, pipeline::IngestPipeline& pipeline,
                                       const profile_store::ProfileReader& reader,
                                       std::vector<std::string> known_types, std::chrono::milliseconds apply_wait)
    : keys_(keys), pipeline_(pipeline), reader_(reader), known_types_(std::move(known_types)), apply_wait_(apply_wait) {
  std::sort(known_types_.begin(), known_types_.end());
}

HttpReply StewardshipHandler::Handle(const StewardshipRequest& request) const {
  std::optional<std::string_view> token = BearerToken(request.authorization);
  if (!token || token->empty()) return ErrorReply(401, "unauthorized", "send an admin key as Authorization: Bearer KEY");
  const KeyScope scope = keys_.Identify(*token).scope;
  if (scope == KeyScope::kUnknown) return ErrorReply(401, "unauthorized", "unknown key");
  if (scope != KeyScope::kAdmin) return ErrorReply(403, "forbidden", "identity decisions need an admin key");
  if (request.path != "merge" && request.path != "separate") {
    return ErrorReply(404, "not_found", "use POST /v1/identity/merge or POST /v1/identity/separate");
  }
  if (request.method != Method::kPost) {
    HttpReply reply = ErrorReply(405, "method_not_allowed", "decisions are made with POST");
    reply.headers.emplace_back("Allow", "POST");
    return reply;
  }
  std::optional<std::string> space = UrlDecode(QueryParam(request.query, "space"));
  if (!space) return ErrorReply(400, "invalid_value", "not validly percent-encoded", "space");
  if (space->empty()) *space = "default";

  thread_local base::ReusableJsonParser parser;
  od::document doc;
  od::object object;
  if (parser.Iterate(request.body).get(doc) || doc.get_object().get(object)) {
    return ErrorReply(400, "invalid_json", R"(expected a JSON object: {"a":"email:kim@example.com","b":"..."})");
  }
  pipeline::IngestPipeline::DecisionRequest decision;
  decision.kind = request.path == "merge" ? StewardshipCommand::Kind::kMerge : StewardshipCommand::Kind::kSeparate;
  std::string a;
  std::string b;
  for (auto field : object) {
    std::string_view name;
    std::string_view text;
    if (field.unescaped_key().get(name)) return ErrorReply(400, "invalid_json", "malformed member name");
    if (name != "a" && name != "b" && name != "note" && name != "region") {
      return ErrorReply(400, "invalid_value",
                        absl::StrCat("unknown member \"", std::string(name), "\"; expected a, b, note and region"),
                        std::string(name));
    }
    if (field.value().get_string().get(text)) {
      return ErrorReply(400, "invalid_type", absl::StrCat(std::string(name), ": expected a string"), std::string(name));
    }
    (name == "a" ? a : name == "b" ? b : name == "note" ? decision.note : decision.phone_region).assign(text);
  }
  if (decision.note.size() > 1000) return ErrorReply(400, "invalid_value", "note: at most 1000 bytes", "note");
  for (const auto& [name, text, identifier] : {std::tuple("a", &a, &decision.a), std::tuple("b", &b, &decision.b)}) {
    if (text->empty()) {
      return ErrorReply(400, "missing_field", absl::StrCat(name, ": \"type:value\" or \"id:<profile id>\" is required"),
                        name);
    }
    const size_t colon = text->find(':');
    if (colon == std::string::npos || colon == 0 || colon + 1 == text->size()) {
      return ErrorReply(400, "invalid_value", absl::StrCat(name, ": expected \"type:value\" or \"id:<profile id>\""),
                        name);
    }
    const std::string type = text->substr(0, colon);
    const std::string value = text->substr(colon + 1);
    if (type == "id") {
      std::optional<profile_store::ProfileId> id = profile_store::ParseProfileId(value);
      if (!id) return ErrorReply(400, "invalid_value", absl::StrCat(name, ": \"", value, "\" is not a profile id"), name);
      absl::StatusOr<std::optional<profile_store::ProfileId>> canonical = reader_.Canonical(*space, *id);
      absl::StatusOr<std::optional<profile_store::Profile>> profile =
          !canonical.ok() ? canonical.status()
          : canonical->has_value() ? reader_.Load(*space, **canonical)
                                   : absl::StatusOr<std::optional<profile_store::Profile>>(std::nullopt);
      if (!profile.ok()) return ErrorReply(500, "internal", std::string(profile.status().message()));
      if (!profile->has_value() || (*profile)->identities.empty()) {
        return ErrorReply(404, "not_found", absl::StrCat(name, ": no profile ", value, " in space ", *space), name);
      }
      // Stored normalized already: the normalizer leaves a normalized value as it is.
      const profile_store::IdentityRecord& first = (*profile)->identities.front();
      *identifier = identity::Identifier{first.type, first.value};
      continue;
    }
    if (!std::binary_search(known_types_.begin(), known_types_.end(), type)) {
      return ErrorReply(400, "unknown_identifier_type",
                        absl::StrCat(name, ": unknown identifier type \"", type,
                                     "\"; known types: id, ", absl::StrJoin(known_types_, ", ")),
                        name);
    }
    *identifier = identity::Identifier{type, value};
  }
  decision.requested_by = keys_.KeyLabel(*token);

  absl::StatusOr<pipeline::IngestPipeline::LoggedDecision> logged = pipeline_.LogDecision(*space, decision);
  if (!logged.ok()) return RefusalReply(logged.status());
  const StewardshipCommand& command = logged->command;

  // Carried out by the resolver at its place in the log: wait a little for it, to answer with the
  // outcome rather than only "pending".
  resolve::Resolver* resolver = logged->sequence != 0 ? pipeline_.resolver(*space) : nullptr;
  bool applied = false;
  if (resolver != nullptr) {
    const auto deadline = std::chrono::steady_clock::now() + apply_wait_;
    while (!(applied = resolver->metrics().position.load() >= logged->sequence) &&
           std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }
  std::string body;
  JsonWriter json(body);
  json.BeginObject();
  json.Key("id").String(command.request_id);
  json.Key("kind").String(request.path);
  json.Key("state").String(applied ? "applied" : "pending");
  if (logged->sequence != 0) {
    json.Key("sequence").Uint(logged->sequence);
  } else {
    json.Key("position").Uint(logged->position);
  }
  if (applied) {
    std::optional<profile_store::ProfileId> holders[2];
    for (int side = 0; side < 2; ++side) {
      const identity::Identifier& identifier = side == 0 ? command.a : command.b;
      absl::StatusOr<std::optional<profile_store::Profile>> holder =
          reader_.FindByIdentifier(*space, identifier.type, identifier.value);
      json.Key(side == 0 ? "a" : "b").BeginObject();
      json.Key("identifier").String(identity::ToString(identifier));
      if (holder.ok() && holder->has_value()) {
        holders[side] = (*holder)->id;
        json.Key("profile").String(profile_store::FormatProfileId((*holder)->id));
      }
      json.EndObject();
    }
    const bool together = holders[0] && holders[1] && *holders[0] == *holders[1];
    json.Key("together").Bool(together);
    if (!together && command.kind == StewardshipCommand::Kind::kMerge && holders[0]) {
      // The refused-merge record the resolver kept for this decision says why.
      absl::StatusOr<std::optional<profile_store::Profile>> profile = reader_.Load(*space, *holders[0]);
      absl::StatusOr<std::vector<std::string>> records =
          profile.ok() && profile->has_value() ? reader_.MergeRecords(*space, **profile)
                                               : absl::StatusOr<std::vector<std::string>>(std::vector<std::string>());
      for (const std::string& record : records.ok() ? *records : std::vector<std::string>()) {
        if (record.find(absl::StrCat("\"messageId\":\"", command.request_id, "\"")) == std::string::npos) continue;
        thread_local base::ReusableJsonParser record_parser;
        od::document record_doc;
        std::string_view reason;
        if (!record_parser.Iterate(record).get(record_doc) && !record_doc["reason"].get_string().get(reason)) {
          json.Key("reason").String(reason);
        }
        break;
      }
    }
  }
  json.EndObject();
  HttpReply reply{.status = applied ? 200 : 202, .body = std::move(body)};
  reply.audit_target = absl::StrCat(std::string(request.path), " ", command.request_id);
  return reply;
}

}  // namespace tessera::api
