#pragma once

// CorsPolicy decides what a web page of another origin may do with Tessera from a browser (CORS),
// and writes the Access-Control-* headers that tell the browser so.
//   - Browser-facing paths (the tracking calls and their short aliases, the SDK settings documents)
//     follow the allowed origins of the source whose key is used (`sources[i].allowed_origins`,
//     default "*"). A preflight carries no key, so it is answered for an origin some source
//     allows, or, with `?writeKey=`, the origins of that source.
//   - The read and admin API follows `cors.api_origins` (none by default), so a page on another
//     site cannot read profiles through a visitor's browser unless the operator listed it.
//   - Everything else (webhooks, metrics, the console, WebSockets) gets no CORS headers.
// An allowed origin is echoed, never answered with "*", so that requests made with credentials
// (navigator.sendBeacon, fetch with credentials: "include") also pass.
//
// Thread-safety: immutable after construction.

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "api/http_reply.h"
#include "api/key_registry.h"
#include "api/router.h"

namespace tessera::api {

// The request headers a preflight is about.
struct PreflightRequest {
  std::string_view origin = {};           // Origin
  std::string_view request_method = {};   // Access-Control-Request-Method
  std::string_view request_headers = {};  // Access-Control-Request-Headers
  bool private_network = false;           // Access-Control-Request-Private-Network: true
};

class CorsPolicy {
 public:
  // How long a browser may cache a preflight answer; Chromium caps it at two hours.
  static constexpr std::chrono::seconds kMaxAge{7200};

  CorsPolicy(const KeyRegistry& keys, std::vector<std::string> api_origins);

  // Whether a page from `origin` may send events with `source`'s key; with no source, whether
  // some source allows it.
  bool AllowsIngest(const ingest::SourceRef* source, std::string_view origin) const;
  // Whether a page from `origin` may call the read and admin API.
  bool AllowsApi(std::string_view origin) const;
  // Whether `origin` is this server's own (the console's): scheme and `host` (host[:port] as the
  // browser addressed it) match, case-insensitively.
  static bool IsSameOrigin(std::string_view origin, std::string_view host, bool tls);

  // The answer to OPTIONS on a known route: a preflight (with Origin and
  // Access-Control-Request-Method) is 204 with the Access-Control-* headers when the origin is
  // allowed for the route, 403 `origin_not_allowed` without them otherwise; a plain OPTIONS is 204
  // with Allow.
  HttpReply Options(const RouteMatch& route, const PreflightRequest& request) const;

  // Adds Access-Control-Allow-Origin and its companions to the answer of a request from `origin`
  // (the Origin header; empty for non-browser clients) when the route's policy allows it.
  void AddResponseHeaders(RouteId route, std::string_view origin, HttpReply& reply) const;

 private:
  enum class Audience { kNone, kIngest, kApi };
  static Audience AudienceOf(RouteId route);
  bool Allows(RouteId route, const ingest::SourceRef* source, std::string_view origin) const;

  const KeyRegistry& keys_;
  std::vector<std::string> api_origins_;
  std::vector<std::string> any_source_origins_;  // Every source's entries, for keyless preflights.
};

}  // namespace tessera::api
