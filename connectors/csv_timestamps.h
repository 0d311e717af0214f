#pragma once

// CsvTimestampFormat reads the time column of a CSV import (connectors/pos_csv.h,
// connectors/contact_log_csv.h): "iso8601" or a strftime-like pattern, in a default zone for
// timestamps written without an offset. Both importers share it, so a mapping's timestamp_format
// and timezone mean the same in every CSV connector.
//
// Patterns: %Y %m %d %H %I %M %S %f (fraction) %p (AM/PM) %b (Jan..Dec) %z (offset or Z)
// %F (= %Y-%m-%d) %T (= %H:%M:%S) %% and literal characters, e.g. "%Y-%m-%d %H:%M:%S" or
// "%m/%d/%Y %I:%M %p". A pattern needs a year, a month and a day; %I and %p go together.
//
// Zones: a fixed offset ("Z", "UTC", "+02:00", "-0530") or an IANA name such as "Europe/Berlin"
// (ICU's time zone data; daylight saving time applies).
//
// Thread-safety: immutable after Create; Parse may be called from any thread.

#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "base/time_zone.h"
#include "ingest/event.h"

namespace tessera::connectors {

class CsvTimestampFormat {
 public:
  // `format` is "iso8601" or a pattern, `timezone` the zone of timestamps without an offset.
  // InvalidArgument naming mapping.timestamp_format or mapping.timezone and the problem.
  static absl::StatusOr<CsvTimestampFormat> Create(std::string_view format, std::string_view timezone);

  // The instant `text` (already trimmed) names, or nullopt when it does not match the format or
  // names no valid date and time.
  std::optional<ingest::Timestamp> Parse(std::string_view text) const;

  // The format as configured ("iso8601" or the pattern), for error messages.
  const std::string& format() const { return format_; }

 private:
  CsvTimestampFormat() = default;

  std::string format_;
  bool iso8601_ = true;
  std::string pattern_;          // Expanded (%F, %T): only single-letter directives and literals remain.
  base::TimeZone default_zone_;  // Of timestamps written without an offset.
};

}  // namespace tessera::connectors
