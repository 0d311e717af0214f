#pragma once

// The accepted-event log's record format: a canonical event as one JSON object with Segment's
// field names plus Tessera's own (channel, source, space, receivedAt, originalTimestamp). JSON keeps
// the log readable by operators (`tessera log`) and lets the query API serve stored events as
// they are.

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "ingest/event.h"

namespace tessera::ingest {

// Appends the record for `event` to `out`.
void EncodeEvent(const CanonicalEvent& event, std::string& out);

// Decodes a record written by EncodeEvent; InvalidArgument naming the field when it is damaged.
absl::StatusOr<CanonicalEvent> DecodeEvent(std::string_view record);

}  // namespace tessera::ingest
