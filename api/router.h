#pragma once

// Routing of request targets to handlers, independent of the HTTP library so it can be tested
// alone. Unknown paths are 404; known paths with another method are 405 with an Allow header.

#include <optional>
#include <string>
#include <string_view>

#include "ingest/segment_parser.h"

namespace tessera::api {

enum class RouteId {
  kTrack,
  kIdentify,
  kPage,
  kScreen,
  kGroup,
  kAlias,
  kBatch,
  kHealthz,
  kReadyz,
  kMetrics,
  kStream,          // WebSocket upgrade for streamed events (docs/streaming.md)
  kProfiles,        // /v1/profiles/... (the rest is in RouteMatch::rest)
  kConnectors,      // /v1/connectors/{channel}/{format} (the rest is in RouteMatch::rest)
  kAudiences,       // /v1/audiences and /v1/audiences/... (the rest, without the leading '/', in rest)
  kComputedTraits,  // /v1/computed-traits and /v1/computed-traits/... (likewise)
  kPrivacy,         // /v1/privacy/... (the rest, e.g. "erase" or "erase/{id}", in rest)
  kAudit,           // /v1/audit
  kAdminBackup,     // POST /v1/admin/backup (api/admin_handler.h)
  kModels,          // GET /v1/models/{name} (api/model_handler.h; rest: the name)
  kKpis,            // GET /v1/kpis (api/kpi_handler.h)
  kStewardship,     // POST /v1/identity/merge | separate (api/stewardship_handler.h; rest: "merge" or "separate")
  kDestinations,    // /v1/destinations and /v1/destinations/... (api/destination_handler.h; rest as for audiences)
  kTail,            // GET /v1/tail: WebSocket live tail of accepted events (api/tail_handler.h)
  kConsole,         // /console and /console/... (rest: the path after "/console", e.g. "/" or "/assets/a.js")
  kRoot,            // GET /: redirects to the console
  kSdkSettings,     // GET /v1/projects/{writeKey}/settings: Segment's CDN settings (rest: the write key)
  kSourceConfig,    // GET /sourceConfig: RudderStack's source configuration (writeKey in the query)
  kNotFound,
  kCount,
};

// Stable label for metrics ("/v1/track", ..., "other").
std::string_view RouteLabel(RouteId route);

enum class Method { kGet, kHead, kPost, kPut, kDelete, kOptions, kOther };

struct RouteMatch {
  RouteId route = RouteId::kNotFound;
  bool method_allowed = false;
  std::string_view allow;  // Value for the Allow header when the method is not allowed.
  std::string_view query;  // What follows '?' in the target, if anything.
  std::string_view rest;   // For prefix routes: the path after the prefix.
};

RouteMatch MatchRoute(Method method, std::string_view target);

// The tracking endpoint a route stands for; only valid for kTrack..kBatch. Segment's short paths
// (/v1/t, /v1/p, /v1/i, /v1/s, /v1/g, /v1/a, /v1/b) and RudderStack's beacon path
// (/beacon/v1/batch) are the same routes as the long ones.
bool IsTrackingRoute(RouteId route);
ingest::Endpoint TrackingEndpoint(RouteId route);

// Value of a query parameter (not URL-decoded; enough for flags like strict=true).
std::string_view QueryParam(std::string_view query, std::string_view name);
// The same, telling an absent parameter (nullopt) from an empty one ("a=" or "a").
std::optional<std::string_view> FindQueryParam(std::string_view query, std::string_view name);

// Percent-decoding of one path segment or query value ('+' stays '+'); nullopt on a bad escape.
std::optional<std::string> UrlDecode(std::string_view text);

}  // namespace tessera::api
