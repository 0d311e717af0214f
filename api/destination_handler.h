#pragma once

// DestinationHandler serves the operators' view of destinations (docs/activation.md),
// `Authorization: Bearer KEY`: reads take a read or admin key, actions an admin key.
//   GET  /v1/destinations                           {"destinations":[status, ...]}
//   GET  /v1/destinations/{name}                    the destination's status
//   GET  /v1/destinations/{name}/dead-letters       {"deadLetters":[{"sequence","reason","lastStatus",
//                                                   "lastResponse","attempts","firstAttempt","lastAttempt",
//                                                   "item":{kind, messageId, profileId, audience?, ...}}],
//                                                   "next"?}; ?limit=N (1..1000, default 100), ?after=SEQ
//   POST /v1/destinations/{name}/pause              stops sending (persisted); {"paused":true}
//   POST /v1/destinations/{name}/resume             {"paused":false}
//   POST /v1/destinations/{name}/replay             sends the dead letters again: {"deadLetters":N}
// A status is {"name","space","type","url","paused","delivered","requests","failures","retries",
// "deadLettered","replayed","skipped","lag","deadLetters","written","cursor","oldestPending"?,
// "errorRate","lastErrors":[{"time","message"}]} (errorRate: failures / requests).
// Errors: 401 unauthorized; 403 forbidden; 404 unknown_destination / not_found; 405
// method_not_allowed; 400 invalid_value (limit, after).
//
// Thread-safety: Handle may be called from any number of threads at once.

#include <string_view>

#include "activation/activation.h"
#include "api/http_reply.h"
#include "api/key_registry.h"
#include "api/router.h"
#include "profile_store/store.h"

namespace tessera::api {

struct DestinationRequest {
  Method method = Method::kGet;
  std::string_view path = {};           // RouteMatch::rest: "", "{name}" or "{name}/{action}"
  std::string_view query = {};          // after '?'
  std::string_view authorization = {};  // the Authorization header
};

class DestinationHandler {
 public:
  // `activation` may be null (no destinations configured: the list is empty); it and the store
  // must outlive the handler.
  DestinationHandler(const KeyRegistry& keys, const profile_store::Store& store, activation::Activation* activation);

  HttpReply Handle(const DestinationRequest& request) const;

 private:
  HttpReply DeadLetters(const DestinationRequest& request, const activation::Delivery& delivery) const;

  const KeyRegistry& keys_;
  const profile_store::Store& store_;
  activation::Activation* const activation_;
};

}  // namespace tessera::api
