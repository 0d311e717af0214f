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
#include "api/cors.h"
#include "api/http_reply.h"
#include "api/key_registry.h"
#include "api/router.h"
#include "ingest/segment_parser.h"
#include "pipeline/ingest_pipeline.h"

namespace tessera::api {

// The reply to a request the pipeline has decided: 200 {"success":true} (with accepted / duplicates /
// rejected when some events were invalid), 400 / 413 for rejections, 503 overloaded or shutting
// down, 500 for a store failure. Shared by every endpoint that feeds the pipeline.
// `with_counts` adds accepted and duplicates to every success (connectors: their senders and
// `tessera import` want the figures); the tracking API keeps Segment's bare {"success":true}.
HttpReply IngestResultReply(const pipeline::IngestResult& result, bool with_counts = false);

// One tracking request as the server read it.
struct TrackingRequest {
  RouteId route = RouteId::kTrack;
  std::string_view authorization = {};  // The Authorization header (Basic with the write key), if any.
  std::string_view query = {};          // May carry writeKey (beacons) and strict.
  std::string_view origin = {};         // The Origin header of a browser's request, if any.
  const std::string* body = nullptr;    // Decoded, and padded with ingest::EnsurePadding.
};

class TrackingHandler {
 public:
  // Without `cors`, every origin may send (tests of the tracking logic alone).
  TrackingHandler(const KeyRegistry& keys, pipeline::IngestPipeline& pipeline,
                  ingest::SegmentParserOptions options, const CorsPolicy* cors = nullptr);

  // Handles one tracking request. The write key is the Authorization header's when there is one
  // (it decides alone), else the body's `writeKey`, else the query's (navigator.sendBeacon cannot
  // set headers). A browser page whose origin the key's source does not allow is refused (403
  // origin_not_allowed) before anything is stored.
  // `reply` is called exactly once, possibly on another thread, possibly before Handle returns.
  void Handle(const TrackingRequest& request, std::function<void(HttpReply)> reply);

 private:
  const KeyRegistry& keys_;
  pipeline::IngestPipeline& pipeline_;
  ingest::SegmentParserOptions options_;
  const CorsPolicy* cors_;
};

}  // namespace tessera::api
