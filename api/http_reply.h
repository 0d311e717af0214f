#pragma once

// HttpReply is what every handler answers: a status, a JSON body (or a body stream) and headers,
// independent of the HTTP library. The server writes it to the socket.

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "api/body_stream.h"

namespace tessera::api {

struct HttpReply {
  int status = 200;
  std::string body = {};  // JSON (ignored when `stream` is set)
  std::vector<std::pair<std::string, std::string>> headers = {};
  // When set, the body is this stream instead of `body`, sent with Transfer-Encoding: chunked.
  std::shared_ptr<BodyStream> stream = {};
  // For audited routes: what the request acted on, in words fit for the audit log (no personal
  // values). Empty: the audit log derives it from the path.
  std::string audit_target = {};
};

// 200 with `body`, marked Cache-Control: no-store: figures computed at the request (models,
// KPIs) that a cache in between must not keep.
HttpReply UncachedJsonReply(std::string body);

// {"error":{"code":...,"message":...,"field":...}} with the given status.
HttpReply ErrorReply(int status, std::string_view code, std::string_view message,
                     std::string_view field = {});

}  // namespace tessera::api
