#include "ingest/log_command.h"

#include <chrono>

#include "absl/strings/str_cat.h"
#include "base/coding.h"
#include "ingest/dedup_window.h"

namespace tessera::ingest {
namespace {

constexpr uint8_t kErasureKind = 1;

}  // namespace

void EncodeErasureCommand(const ErasureCommand& command, std::string& out) {
  out.push_back(kCommandRecordVersion);
  out.push_back(static_cast<char>(kErasureKind));
  base::PutLengthPrefixed(out, command.request_id);
  base::PutLengthPrefixed(out, command.identifier_type);
  base::PutLengthPrefixed(out, command.identifier_value);
  base::PutLengthPrefixed(out, command.requested_by);
  base::PutVarintSigned64(out, command.requested_at.time_since_epoch().count());
}

absl::StatusOr<ErasureCommand> DecodeErasureCommand(std::string_view record) {
  base::ByteReader reader(record);
  uint8_t version = 0;
  uint8_t kind = 0;
  if (!reader.ReadByte(version) || version != static_cast<uint8_t>(kCommandRecordVersion)) {
    return absl::InvalidArgumentError("not a command record");
  }
  if (!reader.ReadByte(kind)) return absl::InvalidArgumentError("command record: no kind");
  if (kind != kErasureKind) {
    return absl::InvalidArgumentError(
        absl::StrCat("command record: kind ", kind, " is none this build knows (a newer build wrote it?)"));
  }
  ErasureCommand command;
  int64_t requested_at = 0;
  if (!reader.ReadLengthPrefixed(command.request_id) || !reader.ReadLengthPrefixed(command.identifier_type) ||
      !reader.ReadLengthPrefixed(command.identifier_value) || !reader.ReadLengthPrefixed(command.requested_by) ||
      !reader.ReadVarintSigned64(requested_at)) {
    return absl::InvalidArgumentError("erasure command: damaged (short or malformed)");
  }
  if (!reader.empty()) return absl::InvalidArgumentError("erasure command: bytes after its end");
  if (command.request_id.empty() || command.identifier_type.empty() || command.identifier_value.empty()) {
    return absl::InvalidArgumentError("erasure command: without request id, identifier type or value");
  }
  command.requested_at = Timestamp(std::chrono::microseconds(requested_at));
  return command;
}

std::string CommandDedupKey(std::string_view space, std::string_view request_id) {
  return DedupWindow::Key(space, std::string("\x01" "command ").append(request_id));
}

}  // namespace tessera::ingest
