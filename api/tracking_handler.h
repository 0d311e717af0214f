#pragma once

// TrackingHandler serves the Segment-compatible tracking endpoints: it authenticates the write key,
// parses the body, hands valid events to the ingest pipeline and turns the outcome into an HTTP
// reply. It knows nothing of sockets; the server calls it with a complete request.

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "api/api_metrics.h"
#include "api/body_stream.h"
#include "api/key_registry.h"
#include "api/router.h"
#include "ingest/ingest_pipeline.h"
#include "ingest/segment_parser.h"

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

// {"error":{"code":...,"message":...,"field":...}} with the given status.
HttpReply ErrorReply(int status, std::string_view code, std::string_view message, std::string_view field = {});

// The reply to a request the pipeline has decided: 200 {"success":true} (with accepted / duplicates /
// rejected when some events were invalid), 400 / 413 for rejections, 503 overloaded or shutting
// down, 500 for a store failure. Shared by every endpoint that feeds the pipeline.
HttpReply IngestResultReply(const ingest::IngestResult& result);

class TrackingHandler {
 public:
  TrackingHandler(const KeyRegistry& keys, ingest::IngestPipeline& pipeline, ingest::SegmentParserOptions options);

  // Handles one tracking request. `body` must have been padded with ingest::EnsurePadding.
  // `reply` is called exactly once, possibly on another thread, possibly before Handle returns.
  void Handle(RouteId route, std::string_view authorization, std::string_view query, const std::string& body,
              std::function<void(HttpReply)> reply);

 private:
  const KeyRegistry& keys_;
  ingest::IngestPipeline& pipeline_;
  ingest::SegmentParserOptions options_;
};

}  // namespace tessera::api
