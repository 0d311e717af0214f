#pragma once

// Checks every fuzz target makes on a parser's result, beyond "did not crash": the promises of
// ingest/segment_parser.h and connectors/connector.h that the rest of Tessera relies on. A broken
// promise aborts, so libFuzzer keeps the input like any crash.

#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "ingest/segment_parser.h"
#include "simdjson.h"

namespace tessera::fuzz {

[[noreturn]] inline void Fail(const char* what, std::string_view detail = {}) {
  std::fprintf(stderr, "fuzz check failed: %s %.*s\n", what, static_cast<int>(detail.size()), detail.data());
  std::abort();
}

// traits / properties / context / integrations are stored and served as they are, without another
// parse: they must be one valid (UTF-8) JSON object each, or empty.
inline void CheckJsonObject(const char* what, const std::string& json) {
  if (json.empty()) return;
  thread_local simdjson::dom::parser parser;
  simdjson::dom::object object;
  if (parser.parse(json).get(object) != simdjson::SUCCESS) Fail(what, json);
}

inline void CheckParsedRequest(const ingest::ParsedRequest& parsed) {
  if (parsed.request_error && !parsed.events.empty()) Fail("request_error with events");
  if (parsed.request_error && parsed.request_error->code.empty()) Fail("request_error without a code");
  if (parsed.index_of.size() != parsed.events.size()) Fail("index_of and events differ in size");
  for (const ingest::RejectedEvent& rejected : parsed.rejected) {
    if (rejected.error.code.empty()) Fail("rejected event without a code");
  }
  for (const ingest::CanonicalEvent& event : parsed.events) {
    if (event.message_id.empty()) Fail("event without a message_id");
    CheckJsonObject("traits", event.traits);
    CheckJsonObject("properties", event.properties);
    CheckJsonObject("context", event.context);
    CheckJsonObject("integrations", event.integrations);
  }
}

}  // namespace tessera::fuzz
