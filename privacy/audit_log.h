#pragma once

// AuditLog is the append-only record of privileged and personal-data access: every admin action
// and every profile read, with who did it (a key label, never the key), what, on what, when, and
// the HTTP status it got. It lives in the `audit` column family, keyed by time and an ordinal, so
// a time range is one contiguous scan. It is store-wide (entries name their space) and is not
// derived state: rebuilds and erasures leave it alone. Targets never hold an identifier's value,
// only its type and the profile id, so that erasing a person does not have to rewrite history.
//
// Durability: Append with `durable` writes the entry (and every one appended before it) with a
// synced write before it returns (admin actions). Without it (profile reads, thousands per second)
// the entry joins a batch that a background thread writes, unsynced, within `kFlushInterval` or as
// soon as `kBatchEntries` are waiting: one RocksDB write per batch instead of one per read. Query
// first writes whatever is waiting, so it sees every entry appended before it; the destructor
// writes the rest. Thread-safety: all methods may be called concurrently.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "base/time.h"
#include "profile_store/store.h"

namespace tessera::privacy {

using Timestamp = base::Timestamp;

struct AuditEntry {
  Timestamp time{};
  std::string key = {};     // Who: a key label ("admin:3f9a1c0b2d4e", "read:...", "none").
  std::string action = {};  // What: method and route, e.g. "GET /v1/profiles", "POST /v1/privacy/erase".
  std::string target = {};  // On what, e.g. "profile p000000000000002a by email", "audience vip".
  std::string space = {};
  int status = 0;  // The HTTP status of the answer.
};

struct AuditQuery {
  std::optional<Timestamp> since = {};  // Inclusive.
  std::optional<Timestamp> until = {};  // Exclusive.
  std::string key = {};                 // Only entries of this key label when not empty.
  std::string action_prefix = {};       // Only actions starting with this when not empty.
  size_t limit = 100;
  std::string cursor = {};  // `next` of a previous page.
};

struct AuditPage {
  std::vector<AuditEntry> entries = {};  // Oldest first.
  std::string next = {};                 // Cursor of the next page; empty at the end.
};

class AuditLog {
 public:
  static constexpr size_t kBatchEntries = 256;
  static constexpr std::chrono::milliseconds kFlushInterval{50};

  // `before_write`, for tests: called by every write of waiting entries, after they were taken and
  // before the store write, with no lock that Append takes held.
  explicit AuditLog(profile_store::Store& store, std::function<void()> before_write = nullptr);
  ~AuditLog();
  AuditLog(const AuditLog&) = delete;
  AuditLog& operator=(const AuditLog&) = delete;

  absl::Status Append(const AuditEntry& entry, bool durable);
  // Entries matching `query`, oldest first. InvalidArgument for a malformed cursor.
  absl::StatusOr<AuditPage> Query(const AuditQuery& query);

  // Encoding of one entry (a JSON object), as stored and as the API shows it.
  static std::string Encode(const AuditEntry& entry);
  static absl::StatusOr<AuditEntry> Decode(std::string_view json);

 private:
  // Takes the waiting entries and writes them (with `sync`, even when there are none). Holds
  // write_mutex_ for the write and mutex_ only to take the entries: a store write waits behind
  // whatever else is writing (a resolver batch takes ~20 ms), and Append, which every profile
  // read calls, must never wait for that.
  absl::Status WritePending(bool sync);
  void RunFlusher();

  profile_store::Store& store_;
  const std::function<void()> before_write_;
  // Distinguishes entries appended within the same microsecond.
  std::atomic<uint32_t> ordinal_{0};

  // Serializes writes of taken entries, so that a Query that writes what waits has also seen
  // every write that took entries before it complete. Taken before mutex_, never after.
  std::mutex write_mutex_;
  std::mutex mutex_;
  std::condition_variable wake_;
  rocksdb::WriteBatch pending_;  // Guarded by mutex_.
  bool stopping_ = false;        // Guarded by mutex_.
  std::thread flusher_;
};

}  // namespace tessera::privacy
