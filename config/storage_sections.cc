// The sections on writing and keeping events: retention, dedup, group_commit and store.

#include <chrono>
#include <string>

#include "absl/status/status.h"
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

}  // namespace tessera::config::internal
