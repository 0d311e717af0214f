#pragma once

// Commands in the accepted-event log. In cluster mode a space's stream carries, besides events,
// the commands every member must carry out at the same position of the stream, after every event
// before it and before any after it: today one, erasure (docs/cluster.md). A follower copies a
// command into its local log like an event; the resolver recognizes it by its version byte and
// carries it out instead of applying it.
//
// Record format (event records are versions 0 and 1, ingest/event_codec.h):
//   0x02
//   kind         1 byte: 1 erasure
//   erasure:     request id, identifier type, normalized identifier value, requested by (each a
//                varint length and bytes), requested at (signed varint, microseconds since the
//                Unix epoch); nothing after it.

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "ingest/event.h"

namespace tessera::ingest {

inline constexpr char kCommandRecordVersion = 0x02;

// Erase the person holding an identifier, and suppress all their identifiers
// (privacy/erasure.h). The value is normalized by the member that took the request.
struct ErasureCommand {
  std::string request_id = {};
  std::string identifier_type = {};
  std::string identifier_value = {};
  std::string requested_by = {};
  Timestamp requested_at{};
};

// Whether `record` is a command (of any kind, damaged or not) rather than an event.
inline bool IsCommandRecord(std::string_view record) {
  return !record.empty() && record.front() == kCommandRecordVersion;
}

// Appends the record of `command` to `out`.
void EncodeErasureCommand(const ErasureCommand& command, std::string& out);

// InvalidArgument when `record` is not a well-formed erasure command (naming what is wrong).
absl::StatusOr<ErasureCommand> DecodeErasureCommand(std::string_view record);

// The dedup key a command is logged under: unlike any event's (DedupWindow::Key of a message id).
std::string CommandDedupKey(std::string_view space, std::string_view request_id);

}  // namespace tessera::ingest
