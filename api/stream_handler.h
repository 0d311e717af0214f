#pragma once

// StreamHandler serves the WebSocket event stream (GET /v1/stream, docs/streaming.md) apart from
// its sockets: it authenticates the upgrade request and turns each text frame into one ack frame.
// The server's stream session owns ordering, flow control and the WebSocket itself.

#include <functional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "api/key_registry.h"
#include "ingest/segment_parser.h"
#include "pipeline/ingest_pipeline.h"

namespace tessera::api {

// How one frame ended.
struct FrameOutcome {
  // The pipeline's queue was full: nothing was stored and no ack is due yet. Hand the same frame
  // to HandleFrame again later; meanwhile the session stops reading.
  bool retry = false;
  bool error = false;  // The ack carries an "error" member.
  std::string ack;     // The ack frame's JSON, unless retry.
};

// Ack error codes of whole frames (the others are the parser's, see ingest::error_code).
namespace stream_error {
inline constexpr std::string_view kFrameTooLarge = "frame_too_large";
inline constexpr std::string_view kInvalidEvents = "invalid_events";  // Strict mode, some event invalid.
inline constexpr std::string_view kShuttingDown = "shutting_down";
inline constexpr std::string_view kUnavailable = "unavailable";  // A cluster gateway cannot reach its stream.
inline constexpr std::string_view kNotFound = "not_found";
inline constexpr std::string_view kStreamFull = "stream_full";  // A cluster gateway's stream near its limits.  // A cluster member without the gateway role.
inline constexpr std::string_view kInternal = "internal";
}  // namespace stream_error

class StreamHandler {
 public:
  StreamHandler(const KeyRegistry& keys, pipeline::IngestPipeline& pipeline,
                ingest::SegmentParserOptions options);

  // The source of an upgrade request: the Basic `authorization` header when present (it decides
  // alone), else the URL-decoded `writeKey` query parameter. Unauthenticated with a message for
  // the client otherwise.
  absl::StatusOr<const ingest::SourceRef*> Authenticate(std::string_view authorization,
                                                        std::string_view query) const;

  // Parses one text frame (padded with ingest::EnsurePadding) and hands its valid events to the
  // pipeline. `done` is called exactly once, possibly on another thread, possibly before
  // HandleFrame returns.
  void HandleFrame(const ingest::SourceRef& source, bool strict, const std::string& frame,
                   std::function<void(FrameOutcome)> done);

  // The ack of a frame over the size limit, which was discarded unread. `frame_id` is its JSON
  // text when known (see FrameIdPrefix), else empty.
  static FrameOutcome TooLargeAck(std::string_view frame_id, size_t limit);

  // The frameId of a frame from its first bytes, when it is the frame's first member: enough to
  // name a frame too large to parse. Empty when not found there.
  static std::string FrameIdPrefix(std::string_view start);

 private:
  const KeyRegistry& keys_;
  pipeline::IngestPipeline& pipeline_;
  ingest::SegmentParserOptions options_;
};

}  // namespace tessera::api
