#pragma once

// AudienceHandler serves the admin API of audiences and computed traits (docs/audiences.md),
// `Authorization: Bearer KEY`: reads take a read or admin key, changes an admin key.
//   GET    /v1/audiences                        {"audiences":[status, ...]}
//   GET    /v1/audiences/{name}                 the audience's status
//   PUT    /v1/audiences/{name}                 define or replace it: {"description"?, "condition"}
//   DELETE /v1/audiences/{name}                 {"deleted":name}
//   GET    /v1/audiences/{name}/members         the members, streamed: ?format=ndjson|csv (default
//                                               ndjson), ?fields=a,b (audiences/member_export.h),
//                                               ?consent=p1,p2 (only members who granted each)
//   GET    /v1/audiences/{name}/lift            the campaign's lift, treated members against the holdout
//                                               (api/audience_lift.cc); ?since=, ?until= (ISO-8601)
//   GET    /v1/computed-traits                  {"computedTraits":[{"name","definition","fromConfig"}]}
//   GET    /v1/computed-traits/{name}           {"name","definition","fromConfig"}
//   PUT    /v1/computed-traits/{name}           define or replace it: {"name","definition"}
//   DELETE /v1/computed-traits/{name}           {"deleted":name}
// `?space=NAME` picks the space (default "default"). An audience status is
//   {"name","description","condition","size","entered","left","lastEvaluated","lastChange",
//    "evaluated","timeDependent","fromConfig"}
// Errors: 400 invalid_name / invalid_definition (field = the JSON path of the bad node) /
// invalid_value; 401 unauthorized; 403 forbidden; 404 unknown_space / unknown_audience /
// unknown_computed_trait / not_found; 405 method_not_allowed; 409 defined_in_config / in_use;
// 413 payload_too_large.
//
// It works on the calling (I/O) thread: definition changes are one small store write, and a member
// download reads its rows a chunk at a time as the client takes them (HttpReply::stream).
// Thread-safety: Handle may be called from any number of threads at once.

#include <cstddef>
#include <functional>
#include <string_view>

#include "api/key_registry.h"
#include "api/router.h"
#include "api/tracking_handler.h"
#include "audiences/space_audiences.h"
#include "profile_store/store.h"

namespace tessera::api {

struct AudienceRequest {
  Method method = Method::kGet;
  RouteId route = RouteId::kAudiences;  // kAudiences or kComputedTraits
  std::string_view path = {};           // RouteMatch::rest: "", "{name}" or "{name}/members", URL-encoded
  std::string_view query = {};          // after '?'
  std::string_view authorization = {};  // the Authorization header
  std::string_view body = {};           // the definition, for PUT
};

class AudienceHandler {
 public:
  // The definitions of a space, or null when the space has none (IngestPipeline::audiences).
  using SpaceLookup = std::function<audiences::SpaceAudiences*(std::string_view space)>;

  // Largest definition a PUT may carry; the server applies it as the body limit of these routes.
  static constexpr size_t kMaxBodyBytes = 64 * 1024;

  // `store` is read by member downloads; it and the spaces must outlive the handler.
  AudienceHandler(const KeyRegistry& keys, profile_store::Store& store, SpaceLookup spaces);

  HttpReply Handle(const AudienceRequest& request) const;

 private:
  HttpReply HandleAudiences(const AudienceRequest& request, audiences::SpaceAudiences& space) const;
  HttpReply HandleComputedTraits(const AudienceRequest& request, audiences::SpaceAudiences& space) const;
  HttpReply Members(const AudienceRequest& request, audiences::SpaceAudiences& space,
                    const std::string& name) const;
  // audience_lift.cc
  HttpReply Lift(const AudienceRequest& request, audiences::SpaceAudiences& space, const std::string& name) const;

  const KeyRegistry& keys_;
  profile_store::Store& store_;
  SpaceLookup spaces_;
};

}  // namespace tessera::api
