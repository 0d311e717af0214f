// Fuzzes SegmentParser on the single-event endpoints (/v1/track, /identify, /page, /screen,
// /group, /alias): every input is parsed as each of them, since the endpoint changes which fields
// are required.

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz/fuzz_checks.h"
#include "ingest/segment_parser.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using tessera::ingest::Endpoint;
  static tessera::ingest::SegmentParser parser;
  constexpr std::array<Endpoint, 6> kEndpoints = {Endpoint::kTrack, Endpoint::kIdentify, Endpoint::kPage,
                                                  Endpoint::kScreen, Endpoint::kGroup, Endpoint::kAlias};
  // The body as the HTTP layer hands it over: with simdjson's padding in its capacity.
  std::string body(reinterpret_cast<const char*>(data), size);
  tessera::ingest::EnsurePadding(body);
  const tessera::ingest::Timestamp received_at(std::chrono::seconds(1'717'200'000));
  for (const Endpoint endpoint : kEndpoints) {
    const tessera::ingest::ParsedRequest parsed = parser.Parse(endpoint, body, received_at);
    tessera::fuzz::CheckParsedRequest(parsed);
    if (parsed.events.size() + parsed.rejected.size() > 1) tessera::fuzz::Fail("more than one event from a single-event endpoint");
  }
  return 0;
}
