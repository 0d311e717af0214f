#pragma once

// SdkSettingsHandler serves the configuration documents that browser SDKs fetch before they send
// anything, so that they can be pointed at Tessera instead of their vendor's CDN:
//   GET /v1/projects/{writeKey}/settings   analytics.js (@segment/analytics-next, with `cdnURL`
//                                          set to Tessera): the "CDN settings", whose Segment.io
//                                          integration sends to this server's /v1 paths
//   GET /sourceConfig/?writeKey=KEY        RudderStack's JavaScript SDK (with `configUrl` set to
//                                          Tessera): the source configuration, no destinations
// Neither lists device-mode destinations, remote plugins or metrics, so the SDK loads nothing else
// from anywhere. A key that is not a source's write key is 404, the same as for a key nobody
// configured: the documents name no other source and no other key.
//
// Thread-safety: immutable after construction.

#include <string_view>

#include "api/cors.h"
#include "api/http_reply.h"
#include "api/key_registry.h"
#include "api/router.h"

namespace tessera::api {

struct SdkSettingsRequest {
  RouteId route = RouteId::kSdkSettings;    // kSdkSettings or kSourceConfig
  std::string_view write_key_segment = {};  // kSdkSettings: the path segment (percent-encoded)
  std::string_view query = {};
  std::string_view host = {};    // The Host header (else the listener's host:port): where the SDK reached us.
  std::string_view origin = {};  // The Origin header, if any.
  bool tls = false;              // Reached over HTTPS.
};

class SdkSettingsHandler {
 public:
  SdkSettingsHandler(const KeyRegistry& keys, const CorsPolicy& cors) : keys_(keys), cors_(cors) {}

  HttpReply Handle(const SdkSettingsRequest& request) const;

 private:
  const KeyRegistry& keys_;
  const CorsPolicy& cors_;
};

}  // namespace tessera::api
