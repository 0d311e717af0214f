#pragma once

// PrivacyHandler serves erasure requests (admin key, `Authorization: Bearer KEY`; docs/privacy.md):
//   POST /v1/privacy/erase            {"type":"email","value":"ada@example.com"} (a phone may add
//                                     "region":"KR", the region a number without a country
//                                     code is read in before the default): 202 with
//                                     {"id","state":"pending","statusUrl"}. From this answer on,
//                                     events carrying the identifier are rejected ("suppressed");
//                                     the resolver then deletes the person and suppresses all
//                                     their identifiers.
//   GET  /v1/privacy/erase/{id}       {"id","state":"pending"|"completed","identifierType",
//                                     "requestedAt","requestedBy","completedAt","profiles",
//                                     "events","identifiers","deadLetters"}
// `?space=NAME` picks the space (default "default"). The identifier's value is never echoed.
// In cluster mode a gateway takes the request (the identifier is then suppressed at every
// gateway) and publishes it to the space's stream; the 202 adds "position" (and the
// Tessera-Position header), and each resolver and replica carries it out at that position, after
// which its GET answers for the request (404 before). 503 unavailable / 429 stream_full with
// Retry-After when the stream cannot take it now; 404 on a member that takes no events.
// Errors: 400 invalid_json / missing_field / unknown_identifier_type / invalid_value; 401; 403
// for read and write keys; 404 for an unknown space or request.

#include <string>
#include <string_view>
#include <vector>

#include "api/key_registry.h"
#include "api/router.h"
#include "api/tracking_handler.h"
#include "pipeline/ingest_pipeline.h"

namespace tessera::api {

struct PrivacyRequest {
  Method method = Method::kGet;
  std::string_view path = {};  // RouteMatch::rest: "erase" or "erase/{id}"
  std::string_view query = {};
  std::string_view authorization = {};
  std::string_view body = {};
};

class PrivacyHandler {
 public:
  // Largest request body.
  static constexpr size_t kMaxBodyBytes = 16 * 1024;

  // `known_types`: identifier types a request may name (sorted), as for profile lookups.
  PrivacyHandler(const KeyRegistry& keys, pipeline::IngestPipeline& pipeline,
                 std::vector<std::string> known_types);

  HttpReply Handle(const PrivacyRequest& request) const;

 private:
  HttpReply Erase(const PrivacyRequest& request, const std::string& space,
                  std::string_view requested_by) const;

  const KeyRegistry& keys_;
  pipeline::IngestPipeline& pipeline_;
  std::vector<std::string> known_types_;
};

}  // namespace tessera::api
