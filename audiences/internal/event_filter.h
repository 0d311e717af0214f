#pragma once

// Internal to audiences/: reading the event filter of a definition (members type, event, channel)
// into an EventFilter; computed traits and audience event conditions share it.

#include <string_view>

#include "absl/status/status.h"
#include "audiences/definitions.h"
#include "audiences/internal/parsing.h"

namespace tessera::audiences::internal {

// Reads the filter members type / event / channel of `members` into `filter`. An event name
// implies a track event, so that {"event":"X"} and {"event":"X","type":"track"} share an aggregate.
absl::Status ReadFilter(const Members& members, std::string_view path, EventFilter& filter);

}  // namespace tessera::audiences::internal
