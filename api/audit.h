#pragma once

// Auditor writes the audit log (privacy/audit_log.h) for the HTTP API and serves it:
//   - Record: called by the server for every request on an audited route (profile reads, audiences
//     and computed traits, privacy, the audit log itself, backups, the live tail's upgrade), whatever the answer,
//     so refused attempts are on record too. Changes (any method but GET/HEAD) are synced before
//     the reply is sent; reads are written without waiting for the disk.
//   - GET /v1/audit (admin key): entries oldest first, filtered by ?since= and ?until= (ISO-8601),
//     ?key= (a key label), ?action= (prefix, e.g. "POST"), with ?limit= (1-1000, default 100) and
//     ?cursor= (the previous page's `next`).
// Keys are recorded as labels (scope and the first 12 hex digits of the key's SHA-256), never as
// themselves.
//
// Thread-safety: all methods may be called concurrently.

#include <string>
#include <string_view>

#include "api/key_registry.h"
#include "api/router.h"
#include "api/tracking_handler.h"
#include "privacy/audit_log.h"

namespace tessera::api {

// Whether requests on `route` are written to the audit log.
bool IsAuditedRoute(RouteId route);

class Auditor {
 public:
  Auditor(const KeyRegistry& keys, privacy::AuditLog& log) : keys_(keys), log_(log) {}

  // Records one answered request. `path` is the route's rest (RouteMatch::rest), used as the
  // target when the handler set none (for profiles only the identifier type is kept).
  void Record(std::string_view authorization, Method method, RouteId route, std::string_view path,
              std::string_view query, const HttpReply& reply) const;

  // GET /v1/audit.
  HttpReply Handle(std::string_view authorization, std::string_view query) const;

  // "admin:<12 hex>", "read:<12 hex>", "write:<source name>", "unknown:<12 hex>" or "none".
  std::string Label(std::string_view authorization) const;

 private:
  const KeyRegistry& keys_;
  privacy::AuditLog& log_;
};

}  // namespace tessera::api
