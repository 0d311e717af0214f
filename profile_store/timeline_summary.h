#pragma once

// TimelineSummary: the value of a timeline entry (kTimeline). It keeps what the events query
// filters on (type, event name, channel) and what the resolver noticed (warnings), so that a page of
// a timeline is read without the log; the event itself stays in the accepted-event log under
// `sequence`.
//
// Stored as version 1 (binary: 0x01, sequence, type, event, channel, warning count, warnings;
// integers varints, strings length-prefixed). DecodeTimelineSummary also reads version 0, the JSON
// object {"sequence","type","event","channel","warnings"} that stores held before.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace tessera::profile_store {

struct TimelineSummary {
  uint64_t sequence = 0;              // Log sequence of the event.
  std::string type;                   // "track", "identify", ...
  std::string event;                  // Track event name; empty for other types.
  std::string channel;                // The source's channel.
  std::vector<std::string> warnings;  // What the resolver could not take from the event.
  friend bool operator==(const TimelineSummary&, const TimelineSummary&) = default;
};

void EncodeTimelineSummary(const TimelineSummary& summary, std::string& out);
// DataLoss naming what is damaged.
absl::StatusOr<TimelineSummary> DecodeTimelineSummary(std::string_view bytes);

// The JSON object the events API shows for an entry (the form version 0 stored):
// {"sequence","type","event" (when not empty),"channel","warnings" (when any)}.
void AppendTimelineSummaryJson(const TimelineSummary& summary, std::string& out);

}  // namespace tessera::profile_store
