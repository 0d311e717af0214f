#pragma once

// Small helpers for reading stored JSON documents with simdjson's on-demand API, shared by the
// components that read what Tessera wrote (profiles, log records, traits).

#include <string>
#include <string_view>

#include "simdjson.h"

namespace tessera::base {

// An on-demand parser with its own padded buffer, for documents stored without simdjson's padding
// (log records, profiles, traits). Keep one per thread per call site (thread_local): Iterate
// invalidates the document, and every view into it, from the previous call.
class ReusableJsonParser {
 public:
  simdjson::simdjson_result<simdjson::ondemand::document> Iterate(std::string_view json);

 private:
  simdjson::ondemand::parser parser_;
  std::string buffer_;
};

// The raw JSON text of any value: objects and arrays whole, scalars as their token (trailing
// whitespace trimmed). Consumes the value.
simdjson::error_code RawJsonOf(simdjson::ondemand::value value, std::string_view& out);

}  // namespace tessera::base
