// Fuzzes SegmentParser on /v1/batch bodies ({"batch":[...]}, one bad element rejected by index).

#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz/fuzz_checks.h"
#include "ingest/segment_parser.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static tessera::ingest::SegmentParser parser;
  // Tiny limits, so that small inputs reach the event_too_large and too-many-events paths too.
  static tessera::ingest::SegmentParser small_parser({.max_event_bytes = 64, .max_batch_events = 3});
  // The body as the HTTP layer hands it over: with simdjson's padding in its capacity.
  std::string body(reinterpret_cast<const char*>(data), size);
  tessera::ingest::EnsurePadding(body);
  const tessera::ingest::Timestamp received_at(std::chrono::seconds(1'717'200'000));
  const tessera::ingest::ParsedRequest parsed = parser.Parse(tessera::ingest::Endpoint::kBatch, body, received_at);
  tessera::fuzz::CheckParsedRequest(parsed);
  for (const size_t index : parsed.index_of) {
    if (index >= parsed.event_count) tessera::fuzz::Fail("index_of beyond event_count");
  }
  tessera::fuzz::CheckParsedRequest(small_parser.Parse(tessera::ingest::Endpoint::kBatch, body, received_at));
  return 0;
}
