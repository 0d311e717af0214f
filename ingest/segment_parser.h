#pragma once

// SegmentParser turns the body of a Segment-compatible tracking request (/v1/track, /identify,
// /page, /screen, /group, /alias, /batch) into canonical events, validating every field the spec
// defines and naming the field of each error. One bad event in a batch is reported by its index
// and does not sink the others; a body that is not JSON at all fails the whole request.
//
// Thread-safety: one parser per thread (it owns reusable simdjson buffers). Parse is not reentrant.

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ingest/event.h"

namespace tessera::ingest {

// A precise, client-facing error: {"code","message","field"} on the wire.
struct FieldError {
  std::string code;     // Stable machine-readable code, e.g. "invalid_type", "missing_field".
  std::string message;  // What is wrong and what was expected, for a human.
  std::string field;    // JSON path of the offending field, e.g. "batch[3].traits"; may be empty.
};

// Error codes used by the parser (and by the HTTP layer for the same situations).
namespace error_code {
inline constexpr std::string_view kInvalidJson = "invalid_json";          // Not parseable JSON.
inline constexpr std::string_view kInvalidType = "invalid_type";          // Field has the wrong JSON type.
inline constexpr std::string_view kMissingField = "missing_field";        // A required field is absent.
inline constexpr std::string_view kMissingIdentity = "missing_identity";  // Neither userId nor anonymousId.
inline constexpr std::string_view kUnknownType = "unknown_type";          // "type" is not a Segment call.
inline constexpr std::string_view kInvalidTimestamp = "invalid_timestamp";
inline constexpr std::string_view kInvalidValue = "invalid_value";        // Right type, unusable value.
inline constexpr std::string_view kEventTooLarge = "event_too_large";     // One event over the limit (413).
}  // namespace error_code

// kStream is a WebSocket frame: one message (its "type" says which call) or a batch envelope,
// either of them with an optional "frameId".
enum class Endpoint { kTrack, kIdentify, kPage, kScreen, kGroup, kAlias, kBatch, kStream };

struct SegmentParserOptions {
  size_t max_event_bytes = 32 * 1024;  // An event's raw JSON beyond this is rejected (event_too_large).
  size_t max_batch_events = 10'000;    // A batch with more elements fails as a whole.
};

struct RejectedEvent {
  size_t index = 0;        // Position in the batch (0 for single-event endpoints).
  std::string message_id;  // The client's messageId when it could be read, else empty.
  FieldError error;
};

struct ParsedRequest {
  // Set when the request as a whole is unusable (malformed JSON, "batch" missing or not an array,
  // or for a single-event endpoint, the event itself is invalid). `events` is then empty.
  std::optional<FieldError> request_error;
  // `writeKey` from the body, when present (HTTP Basic auth takes precedence).
  std::string write_key;
  // Valid events, in request order, with `index_of[i]` their position in the request.
  std::vector<CanonicalEvent> events;
  std::vector<size_t> index_of;
  std::vector<RejectedEvent> rejected;
  size_t event_count = 0;  // Events in the request, valid or not.
  // kStream only: the frame's "frameId" as JSON text (a string literal or an integer), ready to be
  // echoed; empty when absent or invalid.
  std::string frame_id;
};

// Longest accepted "frameId", in bytes of JSON text.
inline constexpr size_t kMaxFrameIdBytes = 256;

// Bytes of readable memory simdjson needs after the end of the input.
size_t RequiredPadding();
// Grows `body`'s capacity (not its size) so that it can be parsed in place.
void EnsurePadding(std::string& body);

class SegmentParser {
 public:
  explicit SegmentParser(SegmentParserOptions options = {});
  ~SegmentParser();
  SegmentParser(const SegmentParser&) = delete;
  SegmentParser& operator=(const SegmentParser&) = delete;

  // Parses `body`, which must have RequiredPadding() bytes of capacity past its size (see
  // EnsurePadding). `received_at` is the request's arrival time: it becomes each event's
  // received_at and corrects its timestamp for client clock skew. space/source/channel are left
  // empty: the caller fills them from the authenticated source.
  ParsedRequest Parse(Endpoint endpoint, const std::string& body, Timestamp received_at);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tessera::ingest
