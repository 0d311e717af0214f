#include "api/cors.h"

#include <algorithm>
#include <cctype>
#include <utility>

#include "absl/strings/str_cat.h"
#include "config/allowed_origin.h"

namespace tessera::api {
namespace {

// What browsers' tracking libraries ask to send: analytics.js (Authorization, X-Retry-Count),
// RudderStack's (AnonymousId), compressed bodies. Used when a preflight does not list its headers.
constexpr std::string_view kDefaultAllowedHeaders =
    "Content-Type, Authorization, Content-Encoding, AnonymousId, X-Retry-Count";
// Longer Access-Control-Request-Headers values are not echoed (the defaults are answered instead).
constexpr size_t kMaxEchoedHeaderBytes = 1024;

bool IsTokenChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

// The preflight's list of header names, if it is one ("a, b,c"); the browser then gets exactly
// what it asked for. Anything else (a quote, a control character) is not echoed into a header.
bool IsHeaderNameList(std::string_view list) {
  if (list.empty() || list.size() > kMaxEchoedHeaderBytes) return false;
  return std::all_of(list.begin(), list.end(), [](char c) { return IsTokenChar(c) || c == ',' || c == ' '; });
}

// `credentials`: also for requests made with credentials. Only the browser-facing tracking paths
// need it (navigator.sendBeacon always sends credentials); the API authenticates by key alone, so
// it never lets a page send a visitor's cookies along.
void AddAllowedOrigin(std::string_view origin, bool credentials, HttpReply& reply) {
  reply.headers.emplace_back("Access-Control-Allow-Origin", std::string(origin));
  if (credentials) reply.headers.emplace_back("Access-Control-Allow-Credentials", "true");
}

}  // namespace

CorsPolicy::CorsPolicy(const KeyRegistry& keys, std::vector<std::string> api_origins)
    : keys_(keys), api_origins_(std::move(api_origins)) {
  for (const ingest::SourceRef& source : keys_.sources()) {
    for (const std::string& entry : keys_.AllowedOriginsOf(source)) {
      if (std::find(any_source_origins_.begin(), any_source_origins_.end(), entry) ==
          any_source_origins_.end()) {
        any_source_origins_.push_back(entry);
      }
    }
  }
}

CorsPolicy::Audience CorsPolicy::AudienceOf(RouteId route) {
  if (IsTrackingRoute(route) || route == RouteId::kSdkSettings || route == RouteId::kSourceConfig) {
    return Audience::kIngest;
  }
  switch (route) {
    case RouteId::kProfiles:
    case RouteId::kAudiences:
    case RouteId::kComputedTraits:
    case RouteId::kPrivacy:
    case RouteId::kAudit:
    case RouteId::kAdminBackup:
    case RouteId::kModels:
    case RouteId::kKpis:
    case RouteId::kStewardship:
      return Audience::kApi;
    default:
      return Audience::kNone;
  }
}

bool CorsPolicy::AllowsIngest(const ingest::SourceRef* source, std::string_view origin) const {
  if (source == nullptr) return config::OriginAllowed(any_source_origins_, origin);
  return config::OriginAllowed(keys_.AllowedOriginsOf(*source), origin);
}

bool CorsPolicy::AllowsApi(std::string_view origin) const {
  return config::OriginAllowed(api_origins_, origin);
}

bool CorsPolicy::IsSameOrigin(std::string_view origin, std::string_view host, bool tls) {
  const std::string_view scheme = tls ? "https://" : "http://";
  if (host.empty() || origin.size() != scheme.size() + host.size()) return false;
  auto equal = [](std::string_view a, std::string_view b) {
    return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
      return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
    });
  };
  return equal(origin.substr(0, scheme.size()), scheme) && equal(origin.substr(scheme.size()), host);
}

bool CorsPolicy::Allows(RouteId route, const ingest::SourceRef* source, std::string_view origin) const {
  switch (AudienceOf(route)) {
    case Audience::kIngest:
      return AllowsIngest(source, origin);
    case Audience::kApi:
      return AllowsApi(origin);
    case Audience::kNone:
      break;
  }
  return false;
}

HttpReply CorsPolicy::Options(const RouteMatch& route, const PreflightRequest& request) const {
  HttpReply reply{.status = 204};
  if (request.origin.empty() || request.request_method.empty()) {
    // Not a preflight: say what the path takes.
    reply.headers.emplace_back("Allow", absl::StrCat(std::string(route.allow), ", OPTIONS"));
    return reply;
  }
  reply.headers.emplace_back("Vary", "Origin, Access-Control-Request-Method, Access-Control-Request-Headers");
  // A preflight names no key; one in the query (as beacons and WebSockets send it) narrows the
  // answer to that source's origins.
  const ingest::SourceRef* source = nullptr;
  if (const std::optional<std::string_view> encoded = FindQueryParam(route.query, "writeKey")) {
    if (const std::optional<std::string> key = UrlDecode(*encoded)) source = keys_.FindSource(*key);
  }
  if (!Allows(route.route, source, request.origin)) {
    HttpReply refused = ErrorReply(
        403, "origin_not_allowed",
        AudienceOf(route.route) == Audience::kNone
            ? absl::StrCat(std::string(RouteLabel(route.route)), " is not served to pages of other origins")
            : absl::StrCat("pages from ", std::string(request.origin), " may not call ",
                           std::string(RouteLabel(route.route)),
                           AudienceOf(route.route) == Audience::kApi ? " (see cors.api_origins)"
                                                                     : " (see sources[].allowed_origins)"));
    refused.headers = std::move(reply.headers);
    return refused;
  }
  AddAllowedOrigin(request.origin, AudienceOf(route.route) == Audience::kIngest, reply);
  reply.headers.emplace_back("Access-Control-Allow-Methods", std::string(route.allow));
  reply.headers.emplace_back("Access-Control-Allow-Headers", IsHeaderNameList(request.request_headers)
                                                                 ? std::string(request.request_headers)
                                                                 : std::string(kDefaultAllowedHeaders));
  reply.headers.emplace_back("Access-Control-Max-Age", std::to_string(kMaxAge.count()));
  // Chromium asks before a public page may reach a private or loopback address (Private Network
  // Access); a Tessera on an internal host must be able to say yes.
  if (request.private_network) reply.headers.emplace_back("Access-Control-Allow-Private-Network", "true");
  return reply;
}

void CorsPolicy::AddResponseHeaders(RouteId route, std::string_view origin, HttpReply& reply) const {
  if (origin.empty() || AudienceOf(route) == Audience::kNone) return;
  reply.headers.emplace_back("Vary", "Origin");
  // The tracking handler has already refused an origin the key's own source does not allow; any
  // source's consent is enough here, so that such a refusal is readable by the page.
  if (!Allows(route, nullptr, origin)) return;
  AddAllowedOrigin(origin, AudienceOf(route) == Audience::kIngest, reply);
  // analytics.js reads Retry-After to back off on 429 and 503; a page reading its own writes on a
  // cluster member needs the position (docs/cluster.md).
  reply.headers.emplace_back("Access-Control-Expose-Headers", "Retry-After, Tessera-Position");
}

}  // namespace tessera::api
