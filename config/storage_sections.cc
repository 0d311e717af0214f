// The sections on writing and keeping events: retention, dedup, group_commit and store.

#include <chrono>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "config/internal/json_reader.h"
#include "config/internal/sections.h"

namespace tessera::config::internal {

absl::Status ReadRetention(element value, const std::string& path, RetentionOptions& retention) {
  return ReadObject(value, path,
                    {{"events_seconds", DurationReader(retention.events, 0, 100 * kMaxSeconds)},
                     {"interval_seconds", DurationReader(retention.interval, 1, kMaxSeconds)}});
}

absl::Status ReadDedup(element value, const std::string& path, std::chrono::seconds& dedup_window) {
  return ReadObject(value, path, {{"window_seconds", DurationReader(dedup_window, 1, kMaxSeconds)}});
}

absl::Status ReadGroupCommit(element value, const std::string& path, GroupCommitOptions& group_commit) {
  return ReadObject(value, path,
                    {{"max_batch_events", SizeReader(group_commit.max_batch_events)},
                     {"max_batch_bytes", SizeReader(group_commit.max_batch_bytes)},
                     {"max_delay_us", DurationReader(group_commit.max_delay, 0, kMaxMicroseconds)},
                     {"queue_capacity_events", SizeReader(group_commit.queue_capacity_events)}});
}

absl::Status ReadStore(element value, const std::string& path, StoreOptions& store) {
  return ReadObject(
      value, path,
      {{"block_cache_mb", MegabytesReader(store.block_cache_bytes)},
       {"write_buffer_mb", MegabytesReader(store.write_buffer_bytes)},
       {"sync_writes", [&](element v, const std::string& p) { return ReadBool(v, p, store.sync_writes); }}});
}

absl::Status ReadEncryption(element value, const std::string& path, EncryptionOptions& encryption) {
  auto text = [](std::string& out) {
    return [&out](element v, const std::string& p) {
      if (absl::Status s = ReadString(v, p, out); !s.ok()) return s;
      if (out.empty()) return Invalid(p, "must not be empty");
      return absl::OkStatus();
    };
  };
  if (absl::Status s = ReadObject(value, path,
                                  {{"key_file", text(encryption.key_file)},
                                   {"key_env", text(encryption.key_env)},
                                   {"key_command", text(encryption.key_command)}});
      !s.ok()) {
    return s;
  }
  const int sources = !encryption.key_file.empty() + !encryption.key_env.empty() + !encryption.key_command.empty();
  if (sources != 1) {
    return Invalid(path, "needs exactly one of key_file, key_env, key_command (several keys go in that one source)");
  }
  const std::string& name = encryption.key_env;
  for (size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool letter = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
    if (!letter && !(i > 0 && c >= '0' && c <= '9')) {
      return Invalid(path + ".key_env", absl::StrCat(Quote(name), " is not an environment variable name"));
    }
  }
  return absl::OkStatus();
}

}  // namespace tessera::config::internal
