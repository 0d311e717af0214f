#include "api/router.h"

#include <array>
#include <charconv>
#include <utility>

namespace tessera::api {
namespace {

struct RouteEntry {
  std::string_view path;
  RouteId route;
  Method method;
  std::string_view allow;
};

// The first entry of a route gives its metrics label, so aliases come after the long paths.
constexpr std::array<RouteEntry, 25> kRoutes = {{
    {"/v1/track", RouteId::kTrack, Method::kPost, "POST"},
    {"/v1/identify", RouteId::kIdentify, Method::kPost, "POST"},
    {"/v1/page", RouteId::kPage, Method::kPost, "POST"},
    {"/v1/screen", RouteId::kScreen, Method::kPost, "POST"},
    {"/v1/group", RouteId::kGroup, Method::kPost, "POST"},
    {"/v1/alias", RouteId::kAlias, Method::kPost, "POST"},
    {"/v1/batch", RouteId::kBatch, Method::kPost, "POST"},
    {"/healthz", RouteId::kHealthz, Method::kGet, "GET, HEAD"},
    {"/readyz", RouteId::kReadyz, Method::kGet, "GET, HEAD"},
    {"/metrics", RouteId::kMetrics, Method::kGet, "GET, HEAD"},
    {"/v1/stream", RouteId::kStream, Method::kGet, "GET"},
    {"/v1/audit", RouteId::kAudit, Method::kGet, "GET, HEAD"},
    {"/v1/kpis", RouteId::kKpis, Method::kGet, "GET, HEAD"},
    {"/v1/admin/backup", RouteId::kAdminBackup, Method::kPost, "POST"},
    {"/v1/tail", RouteId::kTail, Method::kGet, "GET"},
    {"/", RouteId::kRoot, Method::kGet, "GET, HEAD"},
    {"/sourceConfig", RouteId::kSourceConfig, Method::kGet, "GET, HEAD"},
    // Segment's browser and mobile libraries post to the first letter of the call type.
    {"/v1/t", RouteId::kTrack, Method::kPost, "POST"},
    {"/v1/i", RouteId::kIdentify, Method::kPost, "POST"},
    {"/v1/p", RouteId::kPage, Method::kPost, "POST"},
    {"/v1/s", RouteId::kScreen, Method::kPost, "POST"},
    {"/v1/g", RouteId::kGroup, Method::kPost, "POST"},
    {"/v1/a", RouteId::kAlias, Method::kPost, "POST"},
    {"/v1/b", RouteId::kBatch, Method::kPost, "POST"},
    // RudderStack's navigator.sendBeacon queue, with the write key in the query.
    {"/beacon/v1/batch", RouteId::kBatch, Method::kPost, "POST"},
}};

}  // namespace

constexpr std::string_view kProfilesPrefix = "/v1/profiles/";
constexpr std::string_view kConnectorsPrefix = "/v1/connectors/";
constexpr std::string_view kAudiencesPath = "/v1/audiences";
constexpr std::string_view kComputedTraitsPath = "/v1/computed-traits";
constexpr std::string_view kDestinationsPath = "/v1/destinations";
constexpr std::string_view kModelsPath = "/v1/models";
constexpr std::string_view kPrivacyPrefix = "/v1/privacy/";
constexpr std::string_view kIdentityPrefix = "/v1/identity/";
constexpr std::string_view kConsolePath = "/console";
constexpr std::string_view kProjectsPrefix = "/v1/projects/";
constexpr std::string_view kSettingsSuffix = "/settings";

namespace {

// `path` is `base` itself (rest empty) or `base` + '/' + rest.
bool MatchesCollection(std::string_view path, std::string_view base, std::string_view& rest) {
  if (!path.starts_with(base)) return false;
  if (path.size() == base.size()) {
    rest = {};
    return true;
  }
  if (path[base.size()] != '/') return false;
  rest = path.substr(base.size() + 1);
  return true;
}

}  // namespace

std::string_view RouteLabel(RouteId route) {
  if (route == RouteId::kProfiles) return "/v1/profiles";
  if (route == RouteId::kConnectors) return "/v1/connectors";
  if (route == RouteId::kAudiences) return kAudiencesPath;
  if (route == RouteId::kComputedTraits) return kComputedTraitsPath;
  if (route == RouteId::kDestinations) return kDestinationsPath;
  if (route == RouteId::kModels) return kModelsPath;
  if (route == RouteId::kPrivacy) return "/v1/privacy";
  if (route == RouteId::kStewardship) return "/v1/identity";
  if (route == RouteId::kConsole) return kConsolePath;
  if (route == RouteId::kSdkSettings) return "/v1/projects/settings";
  for (const RouteEntry& entry : kRoutes) {
    if (entry.route == route) return entry.path;
  }
  return "other";
}

RouteMatch MatchRoute(Method method, std::string_view target) {
  RouteMatch match;
  std::string_view path = target;
  if (size_t question = target.find('?'); question != std::string_view::npos) {
    path = target.substr(0, question);
    match.query = target.substr(question + 1);
  }
  // The console before the trailing slash goes: "/console" and "/console/" differ (a redirect and
  // the page), and its files are served as named.
  if (std::string_view rest; MatchesCollection(path, kConsolePath, rest)) {
    match.route = RouteId::kConsole;
    match.rest = path.substr(kConsolePath.size());
    match.allow = "GET, HEAD";
    match.method_allowed = method == Method::kGet || method == Method::kHead;
    return match;
  }
  // Segment's libraries post to "/v1/batch" but some configurations add a trailing slash.
  if (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
  for (const RouteEntry& entry : kRoutes) {
    if (entry.path != path) continue;
    match.route = entry.route;
    match.allow = entry.allow;
    match.method_allowed = method == entry.method || (entry.method == Method::kGet && method == Method::kHead);
    return match;
  }
  // /v1/projects/{writeKey}/settings: one path segment between prefix and suffix.
  if (path.starts_with(kProjectsPrefix) && path.ends_with(kSettingsSuffix) &&
      path.size() > kProjectsPrefix.size() + kSettingsSuffix.size()) {
    const std::string_view key =
        path.substr(kProjectsPrefix.size(), path.size() - kProjectsPrefix.size() - kSettingsSuffix.size());
    if (key.find('/') == std::string_view::npos) {
      match.route = RouteId::kSdkSettings;
      match.rest = key;
      match.allow = "GET, HEAD";
      match.method_allowed = method == Method::kGet || method == Method::kHead;
      return match;
    }
  }
  if (path.starts_with(kIdentityPrefix) && path.size() > kIdentityPrefix.size()) {
    match.route = RouteId::kStewardship;
    match.rest = path.substr(kIdentityPrefix.size());
    match.allow = "POST";
    match.method_allowed = method == Method::kPost;
    return match;
  }
  if (path.starts_with(kProfilesPrefix) && path.size() > kProfilesPrefix.size()) {
    match.route = RouteId::kProfiles;
    match.rest = path.substr(kProfilesPrefix.size());
    match.allow = "GET, HEAD";
    match.method_allowed = method == Method::kGet || method == Method::kHead;
  }
  if (path.starts_with(kConnectorsPrefix) && path.size() > kConnectorsPrefix.size()) {
    // GET serves the subscription handshakes some platforms make before sending webhooks.
    match.route = RouteId::kConnectors;
    match.rest = path.substr(kConnectorsPrefix.size());
    match.allow = "GET, POST";
    match.method_allowed = method == Method::kGet || method == Method::kPost;
  }
  if (path.starts_with(kPrivacyPrefix) && path.size() > kPrivacyPrefix.size()) {
    // The handler knows which method each privacy resource takes.
    match.route = RouteId::kPrivacy;
    match.rest = path.substr(kPrivacyPrefix.size());
    match.allow = "GET, POST";
    match.method_allowed = method == Method::kGet || method == Method::kHead || method == Method::kPost;
  }
  // The admin API of audiences and computed traits: the collection and its members.
  for (auto [base, route] : {std::pair{kAudiencesPath, RouteId::kAudiences},
                             std::pair{kComputedTraitsPath, RouteId::kComputedTraits}}) {
    std::string_view rest;
    if (!MatchesCollection(path, base, rest)) continue;
    match.route = route;
    match.rest = rest;
    match.allow = "GET, PUT, DELETE";
    match.method_allowed = method == Method::kGet || method == Method::kPut || method == Method::kDelete;
  }
  if (std::string_view rest; MatchesCollection(path, kModelsPath, rest)) {
    match.route = RouteId::kModels;
    match.rest = rest;
    match.allow = "GET, HEAD";
    match.method_allowed = method == Method::kGet || method == Method::kHead;
  }
  if (std::string_view rest; MatchesCollection(path, kDestinationsPath, rest)) {
    // The handler knows which resources take POST (the actions) and which GET.
    match.route = RouteId::kDestinations;
    match.rest = rest;
    match.allow = "GET, POST";
    match.method_allowed = method == Method::kGet || method == Method::kHead || method == Method::kPost;
  }
  return match;
}

bool IsTrackingRoute(RouteId route) {
  return static_cast<int>(route) >= static_cast<int>(RouteId::kTrack) &&
         static_cast<int>(route) <= static_cast<int>(RouteId::kBatch);
}

ingest::Endpoint TrackingEndpoint(RouteId route) {
  switch (route) {
    case RouteId::kTrack:
      return ingest::Endpoint::kTrack;
    case RouteId::kIdentify:
      return ingest::Endpoint::kIdentify;
    case RouteId::kPage:
      return ingest::Endpoint::kPage;
    case RouteId::kScreen:
      return ingest::Endpoint::kScreen;
    case RouteId::kGroup:
      return ingest::Endpoint::kGroup;
    case RouteId::kAlias:
      return ingest::Endpoint::kAlias;
    default:
      return ingest::Endpoint::kBatch;
  }
}

std::optional<std::string_view> FindQueryParam(std::string_view query, std::string_view name) {
  while (!query.empty()) {
    const size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    const size_t eq = pair.find('=');
    if (pair.substr(0, eq) == name) return eq == std::string_view::npos ? std::string_view("") : pair.substr(eq + 1);
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return std::nullopt;
}

std::string_view QueryParam(std::string_view query, std::string_view name) {
  return FindQueryParam(query, name).value_or(std::string_view());
}

std::optional<std::string> UrlDecode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out.push_back(text[i]);
      continue;
    }
    if (i + 2 >= text.size()) return std::nullopt;
    unsigned value = 0;
    auto [end, error] = std::from_chars(text.data() + i + 1, text.data() + i + 3, value, 16);
    if (error != std::errc() || end != text.data() + i + 3) return std::nullopt;
    out.push_back(static_cast<char>(value));
    i += 2;
  }
  return out;
}

}  // namespace tessera::api
