#pragma once

// Stewardship commands in the accepted-event log (ingest/log_command.h has the record family): an
// admin's decision about the identity graph, logged like an event so that the resolver carries it
// out at its place in the log and `tessera rebuild` carries it out again at the same place
// (docs/stewardship.md). Unlike an erasure command, the record stays in the log: it is part of
// what derived state is a function of.
//
// Record format:
//   0x02
//   kind         1 byte: 2 merge (the profiles of A and B are one person),
//                        3 separate (A and B are not the same person)
//   request id, A's type, A's normalized value, B's type, B's normalized value, requested by,
//   note (each a varint length and bytes), requested at (signed varint, µs since the Unix epoch);
//   nothing after it.

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "identity/identifier.h"
#include "ingest/event.h"

namespace tessera::ingest {

inline constexpr uint8_t kMergeCommandKind = 2;
inline constexpr uint8_t kSeparateCommandKind = 3;

struct StewardshipCommand {
  enum class Kind { kMerge, kSeparate };
  Kind kind = Kind::kMerge;
  std::string request_id = {};
  identity::Identifier a = {};
  identity::Identifier b = {};
  std::string requested_by = {};  // The key's label.
  std::string note = {};          // The admin's reason, as given (may be empty).
  Timestamp requested_at{};
};

// Whether a command record (IsCommandRecord) is a stewardship command, by its kind byte.
bool IsStewardshipCommand(std::string_view record);

void EncodeStewardshipCommand(const StewardshipCommand& command, std::string& out);
// InvalidArgument when `record` is not a well-formed stewardship command (naming what is wrong).
absl::StatusOr<StewardshipCommand> DecodeStewardshipCommand(std::string_view record);

}  // namespace tessera::ingest
