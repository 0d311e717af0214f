#include "ingest/stewardship_command.h"

#include <chrono>

#include "absl/strings/str_cat.h"
#include "base/coding.h"
#include "ingest/log_command.h"

namespace tessera::ingest {

bool IsStewardshipCommand(std::string_view record) {
  if (record.size() < 2 || !IsCommandRecord(record)) return false;
  const auto kind = static_cast<uint8_t>(record[1]);
  return kind == kMergeCommandKind || kind == kSeparateCommandKind;
}

void EncodeStewardshipCommand(const StewardshipCommand& command, std::string& out) {
  out.push_back(kCommandRecordVersion);
  out.push_back(static_cast<char>(command.kind == StewardshipCommand::Kind::kMerge ? kMergeCommandKind
                                                                                  : kSeparateCommandKind));
  base::PutLengthPrefixed(out, command.request_id);
  base::PutLengthPrefixed(out, command.a.type);
  base::PutLengthPrefixed(out, command.a.value);
  base::PutLengthPrefixed(out, command.b.type);
  base::PutLengthPrefixed(out, command.b.value);
  base::PutLengthPrefixed(out, command.requested_by);
  base::PutLengthPrefixed(out, command.note);
  base::PutVarintSigned64(out, command.requested_at.time_since_epoch().count());
}

absl::StatusOr<StewardshipCommand> DecodeStewardshipCommand(std::string_view record) {
  base::ByteReader reader(record);
  uint8_t version = 0;
  uint8_t kind = 0;
  if (!reader.ReadByte(version) || version != static_cast<uint8_t>(kCommandRecordVersion)) {
    return absl::InvalidArgumentError("not a command record");
  }
  if (!reader.ReadByte(kind)) return absl::InvalidArgumentError("command record: no kind");
  if (kind != kMergeCommandKind && kind != kSeparateCommandKind) {
    return absl::InvalidArgumentError(absl::StrCat("command record: kind ", kind, " is not a stewardship command"));
  }
  StewardshipCommand command;
  command.kind = kind == kMergeCommandKind ? StewardshipCommand::Kind::kMerge : StewardshipCommand::Kind::kSeparate;
  int64_t requested_at = 0;
  if (!reader.ReadLengthPrefixed(command.request_id) || !reader.ReadLengthPrefixed(command.a.type) ||
      !reader.ReadLengthPrefixed(command.a.value) || !reader.ReadLengthPrefixed(command.b.type) ||
      !reader.ReadLengthPrefixed(command.b.value) || !reader.ReadLengthPrefixed(command.requested_by) ||
      !reader.ReadLengthPrefixed(command.note) || !reader.ReadVarintSigned64(requested_at)) {
    return absl::InvalidArgumentError("stewardship command: damaged (short or malformed)");
  }
  if (!reader.empty()) return absl::InvalidArgumentError("stewardship command: bytes after its end");
  if (command.request_id.empty() || command.a.type.empty() || command.a.value.empty() || command.b.type.empty() ||
      command.b.value.empty()) {
    return absl::InvalidArgumentError("stewardship command: without request id or one of its two identifiers");
  }
  if (command.a == command.b) return absl::InvalidArgumentError("stewardship command: names one identifier twice");
  command.requested_at = Timestamp(std::chrono::microseconds(requested_at));
  return command;
}

}  // namespace tessera::ingest
