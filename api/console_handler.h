#pragma once

// ConsoleHandler serves the web console (docs/console.md) from files embedded in the binary
// (api/console_assets.h); no separate server, nothing read from disk at run time.
//   GET /console             308 to /console/ (relative asset URLs need the slash)
//   GET /console/            index.html
//   GET /console/{file}      an embedded file; 404 for an unknown one that looks like a file
//                            (has an extension); any other path is a client-side route and gets
//                            index.html, so deep links and reloads work
// Caching: files under assets/ carry a content hash in their names (Vite), so they are
// `immutable` for a year; everything else, index.html above all, is `no-cache` so a new build is
// picked up at once. Every answer carries a strict Content-Security-Policy: the page may load and
// connect to this host only (its HTTP API and its WebSocket), nothing else, no inline script.
// No key is needed for the files: they hold no data; the console asks for a key to call the API.
//
// Thread-safety: immutable after construction.

#include <span>
#include <string_view>

#include "api/console_assets.h"
#include "api/router.h"
#include "api/tracking_handler.h"

namespace tessera::api {

// The policy on every console answer, but for connect-src (ConsoleContentSecurityPolicy adds it).
inline constexpr std::string_view kConsoleContentSecurityPolicy =
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'";

class ConsoleHandler {
 public:
  explicit ConsoleHandler(std::span<const StaticAsset> assets = ConsoleAssets()) : assets_(assets) {}

  // `rest` is the path after "/console" (RouteMatch::rest for RouteId::kConsole): "" for
  // "/console", "/" for "/console/", "/assets/x.js"; `query` is kept on the redirect.
  HttpReply Handle(Method method, std::string_view rest, std::string_view query, std::string_view host) const;

  // "text/javascript; charset=utf-8" for "x.js", ...; application/octet-stream when unknown.
  static std::string_view ContentType(std::string_view path);

 private:
  const StaticAsset* Find(std::string_view path) const;
  HttpReply Serve(Method method, const StaticAsset& asset) const;

  std::span<const StaticAsset> assets_;
};

// The Content-Security-Policy for a page served to `host` (the Host header): the base policy and
// `connect-src 'self' ws://HOST wss://HOST`. The WebSocket URLs are spelled out because older
// browsers do not count ws: as 'self'. A Host that is not a plain host[:port] gets 'self' alone.
std::string ConsoleContentSecurityPolicy(std::string_view host);

}  // namespace tessera::api
