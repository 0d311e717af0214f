#include "api/audience_handler.h"

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "api/reply_json.h"
#include "audiences/member_export.h"
#include "base/json_reading.h"
#include "base/json_writer.h"
#include "base/time.h"

namespace tessera::api {
namespace {

using audiences::AudienceStatus;
using audiences::SpaceAudiences;
using base::JsonWriter;
using profile_store::DefinitionKind;

constexpr std::string_view kMembers = "members";
constexpr std::string_view kLift = "lift";

HttpReply BodyTooLarge(size_t bytes) {
  return ErrorReply(413, "payload_too_large",
                    absl::StrCat("request body of ", bytes, " bytes exceeds the limit of ",
                                 AudienceHandler::kMaxBodyBytes, " bytes"));
}

HttpReply JsonReply(std::string body) {
  HttpReply reply;
  reply.body = std::move(body);
  return reply;
}

HttpReply MethodNotAllowed(Method method, std::string_view what, std::string_view allow) {
  const std::string_view name = method == Method::kPut      ? "PUT"
                                : method == Method::kDelete ? "DELETE"
                                : method == Method::kGet    ? "GET"
                                                            : "this method";
  HttpReply reply = ErrorReply(405, "method_not_allowed",
                               absl::StrCat(std::string(name), " is not allowed on ", std::string(what),
                                            "; use ", std::string(allow)));
  reply.headers.emplace_back("Allow", std::string(allow));
  return reply;
}

// The definition parsers put the JSON path of the bad node before the first ": " of their message
// ("condition.all[1].op: ..."). Messages about the document as a whole have no path.
std::string_view NodePath(std::string_view message) {
  const size_t colon = message.find(": ");
  if (colon == std::string_view::npos || colon == 0) return {};
  const std::string_view path = message.substr(0, colon);
  if (path.front() == '"') return {};
  for (char c : path) {
    if (c == ' ' || c == '\t' || c == '\n') return {};
  }
  return path;
}

// The reply to a failed definition change. `kind` tells 409 defined_in_config from in_use.
HttpReply ChangeErrorReply(const absl::Status& status, const SpaceAudiences& space, std::string_view name,
                           DefinitionKind kind, std::string_view unknown_code) {
  const std::string message(status.message());
  switch (status.code()) {
    case absl::StatusCode::kInvalidArgument:
      return ErrorReply(400, "invalid_definition", message, NodePath(message));
    case absl::StatusCode::kFailedPrecondition:
      return ErrorReply(409, space.IsFromConfig(name, kind) ? "defined_in_config" : "in_use", message);
    case absl::StatusCode::kNotFound:
      return ErrorReply(404, unknown_code, message);
    default:
      return ErrorReply(500, "internal", message);
  }
}

// The "condition" member of an audience definition as given (the stored definition is the whole
// PUT body, minified).
std::string ConditionJson(std::string_view definition) {
  thread_local base::ReusableJsonParser parser;
  simdjson::ondemand::document doc;
  simdjson::ondemand::object object;
  simdjson::ondemand::value condition;
  std::string_view raw;
  if (parser.Iterate(definition).get(doc) || doc.get_object().get(object) ||
      object.find_field_unordered("condition").get(condition) || base::RawJsonOf(condition, raw)) {
    return "null";  // Not reachable for a definition that parsed; keeps the reply valid JSON.
  }
  return std::string(raw);
}

void WriteTimeOrNull(JsonWriter& json, std::string_view key, base::Timestamp time) {
  json.Key(key);
  if (time == base::Timestamp{}) {
    json.Null();
  } else {
    json.String(base::FormatIso8601(time));
  }
}

void WriteStatus(JsonWriter& json, const AudienceStatus& status) {
  const audiences::Audience& audience = *status.audience;
  json.BeginObject();
  json.Key("name").String(audience.name);
  json.Key("description").String(audience.description);
  json.Key("condition").Raw(ConditionJson(audience.source_json));
  json.Key("size").Int(status.counters.size);
  json.Key("entered").Uint(status.counters.entered);
  json.Key("left").Uint(status.counters.left);
  WriteTimeOrNull(json, "lastEvaluated", status.counters.last_evaluated);
  WriteTimeOrNull(json, "lastChange", status.counters.last_change);
  json.Key("evaluated").Bool(status.evaluated);
  json.Key("timeDependent").Bool(audience.time_dependent);
  json.Key("fromConfig").Bool(status.from_config);
  json.EndObject();
}

void WriteComputedTrait(JsonWriter& json, const audiences::ComputedTrait& trait, bool from_config) {
  json.BeginObject();
  json.Key("name").String(trait.name);
  json.Key("definition").Raw(trait.source_json);
  json.Key("fromConfig").Bool(from_config);
  if (trait.built_in) json.Key("builtIn").Bool(true);
  json.EndObject();
}

// An audience's members, a chunk of rows at a time. The first chunk was read before the reply
// was committed, so that a failure to start is an error status rather than a truncated body.
class MemberStream final : public BodyStream {
 public:
  MemberStream(std::unique_ptr<audiences::MemberExport> member_export, std::string first, bool more)
      : export_(std::move(member_export)), first_(std::move(first)), more_after_first_(more) {}

  absl::StatusOr<bool> Next(std::string& chunk) override {
    if (first_) {
      chunk = std::move(*first_);
      first_.reset();
      return more_after_first_;
    }
    return export_->Next(chunk);
  }

 private:
  std::unique_ptr<audiences::MemberExport> export_;
  std::optional<std::string> first_;
  bool more_after_first_;
};

}  // namespace

AudienceHandler::AudienceHandler(const KeyRegistry& keys, profile_store::Store& store,
                                 SpaceLookup spaces)
    : keys_(keys), store_(store), spaces_(std::move(spaces)) {}

HttpReply AudienceHandler::Handle(const AudienceRequest& request) const {
  // Reads take a read or admin key, changes an admin key. A write key is known but never allowed.
  const bool change = request.method == Method::kPut || request.method == Method::kDelete;
  const std::string_view what = request.route == RouteId::kAudiences ? "audiences" : "computed traits";
  std::optional<std::string_view> token = BearerToken(request.authorization);
  if (!token || token->empty()) {
    return ErrorReply(401, "unauthorized",
                      change ? "send an admin key as Authorization: Bearer KEY"
                             : "send a read or admin key as Authorization: Bearer KEY");
  }
  const KeyScope scope = keys_.Identify(*token).scope;
  const bool admin = scope == KeyScope::kAdmin;
  const bool reader = scope == KeyScope::kRead;
  if (scope == KeyScope::kUnknown) return ErrorReply(401, "unauthorized", "unknown key");
  if (!admin && change) {
    return ErrorReply(403, "forbidden",
                      absl::StrCat(reader ? "a read key" : "a write key", " cannot change ",
                                   std::string(what), "; use an admin key"));
  }
  if (!admin && !reader) {
    return ErrorReply(
        403, "forbidden",
        absl::StrCat("a write key cannot read ", std::string(what), "; use a read or admin key"));
  }

  std::optional<std::string> space_name = UrlDecode(QueryParam(request.query, "space"));
  if (!space_name) return ErrorReply(400, "invalid_value", "not validly percent-encoded", "space");
  if (space_name->empty()) *space_name = "default";
  SpaceAudiences* space = spaces_ ? spaces_(*space_name) : nullptr;
  if (space == nullptr) {
    return ErrorReply(404, "unknown_space", absl::StrCat("no space \"", *space_name, "\""), "space");
  }
  if (request.route == RouteId::kComputedTraits) return HandleComputedTraits(request, *space);
  return HandleAudiences(request, *space);
}

HttpReply AudienceHandler::HandleAudiences(const AudienceRequest& request, SpaceAudiences& space) const {
  std::string_view path = request.path;
  std::string_view subresource;
  bool has_subresource = false;
  if (const size_t slash = path.find('/'); slash != std::string_view::npos) {
    subresource = path.substr(slash + 1);
    path = path.substr(0, slash);
    has_subresource = true;
  }

  if (path.empty()) {
    if (has_subresource) return ErrorReply(404, "not_found", "expected /v1/audiences/{name}");
    if (request.method != Method::kGet) return MethodNotAllowed(request.method, "/v1/audiences", "GET");
    std::string body;
    JsonWriter json(body);
    json.BeginObject().Key("audiences").BeginArray();
    for (const AudienceStatus& status : space.AllStatuses()) WriteStatus(json, status);
    json.EndArray().EndObject();
    return JsonReply(std::move(body));
  }

  const std::optional<std::string> name = UrlDecode(path);
  if (!name || !audiences::IsValidAudienceName(*name)) {
    return ErrorReply(400, "invalid_name",
                      absl::StrCat("an audience name is 1 to 64 of A-Z, a-z, 0-9, _ and -; got \"",
                                   name ? *name : std::string(path), "\""),
                      "name");
  }
  if (has_subresource) {
    if (subresource != kMembers && subresource != kLift) {
      return ErrorReply(404, "not_found",
                        absl::StrCat("no such resource \"", std::string(subresource), "\"; use members or lift"));
    }
    if (request.method != Method::kGet) {
      return MethodNotAllowed(request.method, absl::StrCat("/v1/audiences/{name}/", std::string(subresource)), "GET");
    }
    if (subresource == kLift) return Lift(request, space, *name);
    return Members(request, space, *name);
  }

  switch (request.method) {
    case Method::kGet: {
      std::optional<AudienceStatus> status = space.Status(*name);
      if (!status) return ErrorReply(404, "unknown_audience", absl::StrCat("no audience ", *name));
      std::string body;
      JsonWriter json(body);
      WriteStatus(json, *status);
      return JsonReply(std::move(body));
    }
    case Method::kPut: {
      if (request.body.size() > kMaxBodyBytes) return BodyTooLarge(request.body.size());
      auto audience = space.PutAudience(*name, request.body);
      if (!audience.ok()) {
        return ChangeErrorReply(audience.status(), space, *name, DefinitionKind::kAudience,
                                "unknown_audience");
      }
      // The status as it now stands; were it deleted meanwhile, what was just defined.
      std::optional<AudienceStatus> status = space.Status(*name);
      if (!status || status->audience != *audience) {
        status =
            AudienceStatus{.audience = *audience, .from_config = false, .counters = {}, .evaluated = false};
      }
      std::string body;
      JsonWriter json(body);
      WriteStatus(json, *status);
      return JsonReply(std::move(body));
    }
    case Method::kDelete: {
      if (absl::Status deleted = space.DeleteAudience(*name); !deleted.ok()) {
        return ChangeErrorReply(deleted, space, *name, DefinitionKind::kAudience, "unknown_audience");
      }
      std::string body;
      JsonWriter(body).BeginObject().Key("deleted").String(*name).EndObject();
      return JsonReply(std::move(body));
    }
    default:
      return MethodNotAllowed(request.method, "/v1/audiences/{name}", "GET, PUT, DELETE");
  }
}

HttpReply AudienceHandler::Members(const AudienceRequest& request, SpaceAudiences& space,
                                   const std::string& name) const {
  std::shared_ptr<const audiences::DefinitionSet> definitions = space.definitions();
  if (definitions->FindAudience(name) == nullptr) {
    return ErrorReply(404, "unknown_audience", absl::StrCat("no audience ", name));
  }
  std::optional<audiences::ExportFormat> format = audiences::ExportFormat::kNdjson;
  if (std::string_view text = QueryParam(request.query, "format"); !text.empty())
    format = audiences::ParseExportFormat(text);
  if (!format) {
    return ErrorReply(400, "invalid_value",
                      absl::StrCat("format must be ndjson or csv, not \"",
                                   std::string(QueryParam(request.query, "format")), "\""),
                      "format");
  }
  std::optional<std::string> field_list = UrlDecode(QueryParam(request.query, "fields"));
  if (!field_list) return ErrorReply(400, "invalid_value", "not validly percent-encoded", "fields");
  if (field_list->empty()) *field_list = audiences::kDefaultFields;
  auto fields = audiences::ParseExportFields(*field_list, *definitions);
  if (!fields.ok()) return ErrorReply(400, "invalid_value", std::string(fields.status().message()), "fields");
  // Present but empty is a mistake (a template with a missing value), not "no restriction".
  std::vector<std::string> consent;
  if (const std::optional<std::string_view> consent_param = FindQueryParam(request.query, "consent")) {
    std::optional<std::string> consent_list = UrlDecode(*consent_param);
    if (!consent_list) return ErrorReply(400, "invalid_value", "not validly percent-encoded", "consent");
    auto purposes = audiences::ParseConsentPurposes(*consent_list);
    if (!purposes.ok()) {
      return ErrorReply(400, "invalid_value", std::string(purposes.status().message()), "consent");
    }
    consent = *std::move(purposes);
  }

  auto member_export =
      std::make_unique<audiences::MemberExport>(store_, space.space(), name, *std::move(fields), *format,
                                                definitions, space.figures(), ReceivedNow(), std::move(consent));
  std::string first;
  absl::StatusOr<bool> more = member_export->Next(first);
  if (!more.ok()) return ErrorReply(500, "internal", std::string(more.status().message()));

  const bool csv = *format == audiences::ExportFormat::kCsv;
  HttpReply reply;
  reply.headers.emplace_back("Content-Type", csv ? "text/csv; charset=utf-8" : "application/x-ndjson");
  reply.headers.emplace_back("Content-Disposition",
                             absl::StrCat("attachment; filename=\"", name, csv ? ".csv" : ".ndjson", "\""));
  reply.stream = std::make_shared<MemberStream>(std::move(member_export), std::move(first), *more);
  return reply;
}

HttpReply AudienceHandler::HandleComputedTraits(const AudienceRequest& request, SpaceAudiences& space) const {
  const std::string_view path = request.path;
  if (path.find('/') != std::string_view::npos) {
    return ErrorReply(404, "not_found", "expected /v1/computed-traits/{name}");
  }
  if (path.empty()) {
    if (request.method != Method::kGet) return MethodNotAllowed(request.method, "/v1/computed-traits", "GET");
    std::shared_ptr<const audiences::DefinitionSet> definitions = space.definitions();
    std::string body;
    JsonWriter json(body);
    json.BeginObject().Key("computedTraits").BeginArray();
    for (const auto& trait : definitions->computed) {
      WriteComputedTrait(json, *trait, space.IsFromConfig(trait->name, DefinitionKind::kComputedTrait));
    }
    json.EndArray().EndObject();
    return JsonReply(std::move(body));
  }

  const std::optional<std::string> name = UrlDecode(path);
  if (!name || !audiences::IsValidComputedTraitName(*name)) {
    return ErrorReply(400, "invalid_name",
                      absl::StrCat("a computed trait name is 1 to 64 of A-Z, a-z, 0-9 and _; got \"",
                                   name ? *name : std::string(path), "\""),
                      "name");
  }
  switch (request.method) {
    case Method::kGet: {
      std::shared_ptr<const audiences::DefinitionSet> definitions = space.definitions();
      const audiences::ComputedTrait* trait = definitions->FindComputed(*name);
      if (trait == nullptr)
        return ErrorReply(404, "unknown_computed_trait", absl::StrCat("no computed trait ", *name));
      std::string body;
      JsonWriter json(body);
      WriteComputedTrait(json, *trait, space.IsFromConfig(*name, DefinitionKind::kComputedTrait));
      return JsonReply(std::move(body));
    }
    case Method::kPut: {
      if (request.body.size() > kMaxBodyBytes) return BodyTooLarge(request.body.size());
      auto trait = space.PutComputedTrait(*name, request.body);
      if (!trait.ok()) {
        return ChangeErrorReply(trait.status(), space, *name, DefinitionKind::kComputedTrait,
                                "unknown_computed_trait");
      }
      std::string body;
      JsonWriter json(body);
      json.BeginObject();
      json.Key("name").String((*trait)->name);
      json.Key("definition").Raw((*trait)->source_json);
      json.EndObject();
      return JsonReply(std::move(body));
    }
    case Method::kDelete: {
      if (absl::Status deleted = space.DeleteComputedTrait(*name); !deleted.ok()) {
        return ChangeErrorReply(deleted, space, *name, DefinitionKind::kComputedTrait,
                                "unknown_computed_trait");
      }
      std::string body;
      JsonWriter(body).BeginObject().Key("deleted").String(*name).EndObject();
      return JsonReply(std::move(body));
    }
    default:
      return MethodNotAllowed(request.method, "/v1/computed-traits/{name}", "GET, PUT, DELETE");
  }
}

}  // namespace tessera::api
