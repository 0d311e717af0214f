#pragma once

// Small helpers for reading stored JSON documents with simdjson's on-demand API, shared by the
// components that read what Tessera wrote (profiles, log records, traits).

#include <string_view>

#include "simdjson.h"

namespace tessera::profile_store {

// The raw JSON text of any value: objects and arrays whole, scalars as their token (trailing
// whitespace trimmed). Consumes the value.
simdjson::error_code RawJsonOf(simdjson::ondemand::value value, std::string_view& out);

}  // namespace tessera::profile_store
