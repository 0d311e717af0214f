#pragma once

// Store owns Tessera's one RocksDB database and its column families. It is the only place that
// opens RocksDB; every component reaches its data through the column family handles given here.
// Key layouts of each column family are documented in profile_store/KEYS.md. Every key starts
// with the space, so that spaces can later be split across machines.
//
// Thread-safety: after Open, all methods are safe to call concurrently (RocksDB's DB is).
// Durability: writes made with `sync_writes` are on disk when Write returns.

#include <array>
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "rocksdb/db.h"

namespace tessera::profile_store {

enum class ColumnFamily : int {
  kDefault = 0,  // unused; RocksDB requires it
  kMeta,         // store-wide counters and positions (next log sequence, resolver positions)
  kLog,          // the accepted-event log: space + sequence -> encoded event
  kDedup,        // space + XXH3-128(space, messageId) -> first receive time and log sequence
  kDeadLetter,   // space + sequence -> event and the reason it could not be applied
  kIdentifiers,  // space + type + value -> profile id (identity graph index)
  kProfiles,     // space + profile id -> profile record (or a redirect to the profile it merged into)
  kMerges,       // space + profile id + sequence -> merge and refused-merge records
  kTimeline,     // space + profile id + inverted event time + sequence -> event summary
  kDefinitions,  // space + kind + name -> computed-trait or audience definition (audience_store.h)
  kMembers,      // space + audience + profile id -> time the profile entered the audience
  kAudienceChanges,  // space + audience + time + profile id -> an entry into or exit from it
  kPrivacy,      // space + erasure requests and the suppression list (privacy_store.h)
  kAudit,        // time + ordinal -> one audited action (audit_log.h); store-wide, no space prefix
  kCount,
};

struct StoreOptions {
  std::string path;                        // Directory of the database; created if missing.
  size_t block_cache_bytes = 256 << 20;    // Shared LRU block cache for all column families.
  size_t write_buffer_bytes = 64 << 20;    // Memtable size per column family.
  size_t memtable_budget_bytes = 128 << 20;  // All memtables together (charged to the block cache).
  bool sync_writes = true;                 // fsync the WAL on every Write.
  // Opens without the write lock and refuses writes, so it can run next to a serving process
  // (`tessera export`). It sees the store as of the moment it was opened.
  bool read_only = false;
  // Dedup entries older than this are dropped by compaction (see DedupCompactionFilter).
  std::chrono::seconds dedup_retention{24 * 3600};
};

class Store {
 public:
  // Opens (or creates) the database with every column family Tessera uses.
  static absl::StatusOr<std::unique_ptr<Store>> Open(const StoreOptions& options);

  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  rocksdb::DB* db() const { return db_.get(); }
  rocksdb::ColumnFamilyHandle* handle(ColumnFamily family) const {
    return handles_[static_cast<int>(family)];
  }

  // Applies `batch` atomically; synced to disk when the store was opened with sync_writes.
  absl::Status Write(rocksdb::WriteBatch& batch);
  // Applies `batch` atomically without waiting for the disk: for derived state, which the log can
  // rebuild (a crash loses a suffix of it, never a part of one batch).
  absl::Status WriteUnsynced(rocksdb::WriteBatch& batch);

  // Reads one value; NotFound when absent.
  absl::StatusOr<std::string> Get(ColumnFamily family, std::string_view key) const;

  // Calls `visit(key, value)` for every key of `family` that starts with `prefix`, in key order.
  absl::Status ScanPrefix(ColumnFamily family, std::string_view prefix,
                          const std::function<void(std::string_view key, std::string_view value)>& visit) const;

  // Flushes memtables and closes the database. Called by the destructor if not before.
  absl::Status Close();

  const StoreOptions& options() const { return options_; }

 private:
  explicit Store(StoreOptions options) : options_(std::move(options)) {}

  StoreOptions options_;
  std::unique_ptr<rocksdb::DB> db_;
  std::array<rocksdb::ColumnFamilyHandle*, static_cast<int>(ColumnFamily::kCount)> handles_{};
  std::shared_ptr<rocksdb::CompactionFilter> dedup_filter_;
};

// Converts a RocksDB status into an absl::Status with the same meaning and message.
absl::Status ToAbslStatus(const rocksdb::Status& status, std::string_view context);

// The smallest key greater than every key that starts with `prefix`, as an exclusive upper bound
// (prefixes here always hold the space's 0x00 separator, so some byte can always be incremented).
std::string PrefixEnd(std::string prefix);

// Big-endian fixed-width integers keep numeric order equal to byte order in keys.
void AppendBigEndian64(std::string& out, uint64_t value);
uint64_t ReadBigEndian64(std::string_view bytes);

}  // namespace tessera::profile_store
