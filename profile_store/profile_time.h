#pragma once

#include <chrono>
#include <string>

namespace tessera::profile_store {

// Microseconds since the Unix epoch, UTC (the same type as ingest's and identity's Timestamp).
using Timestamp = std::chrono::sys_time<std::chrono::microseconds>;

// ISO-8601 UTC, e.g. "2015-02-23T22:28:55.111Z": milliseconds when the sub-millisecond part is
// zero, else microseconds ("2015-02-23T22:28:55.111111Z").
std::string FormatIsoTimestamp(Timestamp time);
void AppendIsoTimestamp(std::string& out, Timestamp time);

}  // namespace tessera::profile_store
