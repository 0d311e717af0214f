#pragma once

// Time as every component keeps it: microseconds since the Unix epoch, UTC, and its one text form,
// ISO-8601 / RFC 3339.
//
// ParseIso8601 reads date-times as Segment clients send them, e.g. "2015-02-23T22:28:55.111Z",
// "2015-02-23T22:28:55+09:00", "2015-02-23T22:28:55.111111-0500", "2015-02-23 22:28:55Z" (space
// separator) and "2015-02-23T22:28:55" (no offset: UTC). Fractions beyond microseconds are
// truncated. Anything else, including impossible dates (Feb 30) and out-of-range fields, is an error.

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace tessera::base {

// Microseconds since the Unix epoch, UTC.
using Timestamp = std::chrono::sys_time<std::chrono::microseconds>;

std::optional<Timestamp> ParseIso8601(std::string_view text);

// "2015-02-23T22:28:55.111Z": milliseconds when the sub-millisecond part is zero, else
// microseconds ("2015-02-23T22:28:55.111111Z").
std::string FormatIso8601(Timestamp time);
void AppendIso8601(std::string& out, Timestamp time);

}  // namespace tessera::base
