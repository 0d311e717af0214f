#include "api/audit.h"

#include <charconv>
#include <cstdio>

#include "absl/strings/str_cat.h"
#include "base/json_writer.h"
#include "base/time.h"

namespace tessera::api {
namespace {

std::string_view MethodName(Method method) {
  switch (method) {
    case Method::kGet:
      return "GET";
    case Method::kHead:
      return "HEAD";
    case Method::kPost:
      return "POST";
    case Method::kPut:
      return "PUT";
    case Method::kDelete:
      return "DELETE";
    default:
      return "OTHER";
  }
}

}  // namespace

bool IsAuditedRoute(RouteId route) {
  return route == RouteId::kProfiles || route == RouteId::kAudiences || route == RouteId::kComputedTraits ||
         route == RouteId::kPrivacy || route == RouteId::kAudit || route == RouteId::kAdminBackup ||
         route == RouteId::kTail || route == RouteId::kDestinations || route == RouteId::kStewardship;
}

std::string Auditor::Label(std::string_view authorization) const {
  std::optional<std::string> key;
  if (std::optional<std::string_view> bearer = BearerToken(authorization)) {
    key = std::string(*bearer);
  } else {
    key = BasicAuthUser(authorization);
  }
  if (!key || key->empty()) return "none";
  return keys_.KeyLabel(*key);
}

void Auditor::Record(std::string_view authorization, Method method, RouteId route, std::string_view path,
                     std::string_view query, const HttpReply& reply) const {
  privacy::AuditEntry entry;
  entry.time = ingest::Timestamp(std::chrono::duration_cast<std::chrono::microseconds>(
      std::chrono::system_clock::now().time_since_epoch()));
  entry.key = Label(authorization);
  entry.action = absl::StrCat(std::string(MethodName(method)), " ", std::string(RouteLabel(route)));
  if (route == RouteId::kStewardship) absl::StrAppend(&entry.action, "/", std::string(path));
  if (route == RouteId::kPrivacy) {
    // The resource ("erase"), without the request id that may follow it.
    absl::StrAppend(&entry.action, "/", std::string(path.substr(0, path.find('/'))));
  }
  if (!reply.audit_target.empty()) {
    entry.target = reply.audit_target;
  } else if (route == RouteId::kProfiles) {
    // Only the identifier type: the value is personal data and must not outlive an erasure here.
    const std::string_view reference = path.substr(0, path.find('/'));
    entry.target = absl::StrCat("lookup by ", std::string(reference.substr(0, reference.find(':'))));
  } else {
    entry.target = std::string(path);
  }
  const std::optional<std::string> space = UrlDecode(QueryParam(query, "space"));
  entry.space = space && !space->empty() ? *space : "default";
  entry.status = reply.status;
  const bool change = method != Method::kGet && method != Method::kHead;
  if (absl::Status status = log_.Append(entry, /*durable=*/change); !status.ok()) {
    std::fprintf(stderr, "tessera: audit log: %s\n", std::string(status.message()).c_str());
  }
}

HttpReply Auditor::Handle(std::string_view authorization, std::string_view query) const {
  std::optional<std::string_view> token = BearerToken(authorization);
  if (!token || token->empty())
    return ErrorReply(401, "unauthorized", "send an admin key as Authorization: Bearer KEY");
  const KeyScope scope = keys_.Identify(*token).scope;
  if (scope == KeyScope::kUnknown) return ErrorReply(401, "unauthorized", "unknown key");
  if (scope != KeyScope::kAdmin) return ErrorReply(403, "forbidden", "the audit log needs an admin key");
  privacy::AuditQuery audit_query;
  for (auto [name, target] :
       {std::pair{"since", &audit_query.since}, std::pair{"until", &audit_query.until}}) {
    std::optional<std::string> text = UrlDecode(QueryParam(query, name));
    if (!text) return ErrorReply(400, "invalid_value", "not validly percent-encoded", name);
    if (text->empty()) continue;
    *target = base::ParseIso8601(*text);
    if (!*target)
      return ErrorReply(400, "invalid_timestamp", absl::StrCat(name, ": expected an ISO-8601 date-time"),
                        name);
  }
  for (auto [name, target] :
       {std::pair{"key", &audit_query.key}, std::pair{"action", &audit_query.action_prefix},
        std::pair{"cursor", &audit_query.cursor}}) {
    std::optional<std::string> text = UrlDecode(QueryParam(query, name));
    if (!text) return ErrorReply(400, "invalid_value", "not validly percent-encoded", name);
    *target = *std::move(text);
  }
  if (std::string_view text = QueryParam(query, "limit"); !text.empty()) {
    auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), audit_query.limit);
    if (error != std::errc() || end != text.data() + text.size() || audit_query.limit < 1 ||
        audit_query.limit > 1000) {
      return ErrorReply(400, "invalid_value", "limit must be an integer from 1 to 1000", "limit");
    }
  }
  absl::StatusOr<privacy::AuditPage> page = log_.Query(audit_query);
  if (absl::IsInvalidArgument(page.status())) {
    return ErrorReply(400, "invalid_cursor", std::string(page.status().message()), "cursor");
  }
  if (!page.ok()) return ErrorReply(500, "internal", std::string(page.status().message()));
  std::string body;
  base::JsonWriter json(body);
  json.BeginObject().Key("entries").BeginArray();
  for (const privacy::AuditEntry& entry : page->entries) {
    json.BeginObject();
    json.Key("time").String(base::FormatIso8601(entry.time));
    json.Key("key").String(entry.key);
    json.Key("action").String(entry.action);
    json.Key("target").String(entry.target);
    json.Key("space").String(entry.space);
    json.Key("status").Int(entry.status);
    json.EndObject();
  }
  json.EndArray().Key("next");
  if (page->next.empty()) {
    json.Null();
  } else {
    json.String(page->next);
  }
  json.EndObject();
  HttpReply reply{.status = 200, .body = std::move(body)};
  reply.headers.emplace_back("Cache-Control", "no-store");
  return reply;
}

}  // namespace tessera::api
