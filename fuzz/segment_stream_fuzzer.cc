// Fuzzes SegmentParser on WebSocket text frames of GET /v1/stream (Endpoint::kStream): one
// message whose "type" names the call, or a batch envelope, either with an optional "frameId".

#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz/fuzz_checks.h"
#include "ingest/segment_parser.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static tessera::ingest::SegmentParser parser;
  // Tiny limits, so that small inputs reach the event_too_large and too-many-events paths too.
  static tessera::ingest::SegmentParser small_parser({.max_event_bytes = 64, .max_batch_events = 3});
  // The frame as the stream session hands it over: with simdjson's padding in its capacity.
  std::string frame(reinterpret_cast<const char*>(data), size);
  tessera::ingest::EnsurePadding(frame);
  const tessera::ingest::Timestamp received_at(std::chrono::seconds(1'717'200'000));
  const tessera::ingest::ParsedRequest parsed = parser.Parse(tessera::ingest::Endpoint::kStream, frame, received_at);
  tessera::fuzz::CheckParsedRequest(parsed);
  // The frame id is echoed into the ack as JSON text: a bounded string literal or integer.
  if (parsed.frame_id.size() > tessera::ingest::kMaxFrameIdBytes) tessera::fuzz::Fail("frame_id too long");
  if (!parsed.frame_id.empty() && !tessera::fuzz::IsJsonIntegerText(parsed.frame_id)) {
    simdjson::dom::parser json;
    std::string_view text;
    if (json.parse(parsed.frame_id).get(text) != simdjson::SUCCESS) tessera::fuzz::Fail("frame_id", parsed.frame_id);
  }
  tessera::fuzz::CheckParsedRequest(small_parser.Parse(tessera::ingest::Endpoint::kStream, frame, received_at));
  return 0;
}
