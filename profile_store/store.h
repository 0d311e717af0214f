#pragma once

// Store owns Tessera's two RocksDB databases and their column families. It is the only place that
// opens RocksDB; every component reaches its data through the column family handles given here.
// Key layouts of each column family are documented in profile_store/KEYS.md. Every key starts
// with the space, so that spaces can later be split across machines.
//
// The two databases:
// - the intake (`<path>/intake`): the accepted-event log, the dedup window and the log's counter.
//   Only the group-commit writer writes it on the way in, so a synced log write never queues behind
//   a large derived-state write (RocksDB has one write queue per database; a resolver batch takes
//   ~20 ms of memtable inserts, and every acknowledgement used to wait for it).
// - the state (`<path>`): everything derived from the log, and privacy, definitions and audit.
// A WriteBatch goes to the database of its families: Write/WriteUnsynced for state families,
// WriteIntake/WriteIntakeUnsynced for intake families; no batch mixes the two. The intake's column
// families have ids the state database never uses, so a batch of one database's families sent to
// the other is refused (InvalidArgument) and RocksDB stops that database's writes until it is
// reopened: a programming error stops loudly instead of filling some other family. (RocksDB checks
// families entry by entry, so a batch mixing both would be partly applied: none is ever built.)
// Ordering across the two, where it matters, is the writer's job: what the log loses (erasure,
// retention, a suppressed event) is deleted from the intake, synced, before the state records that
// it happened; and derived state never reflects an event the intake does not hold.
//
// A store written before the split (log and dedup in the state database) is moved over at the
// first writable open (see Open); a read-only open reads it where it is. A new store's intake is
// created before its state; a state without its intake is refused (DataLoss), never given an
// empty log.
//
// Thread-safety: after Open, all methods are safe to call concurrently (RocksDB's DB is).
// Durability: writes made with `sync_writes` are on disk when Write returns.

#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "profile_store/key_ring.h"
#include "rocksdb/db.h"
#include "rocksdb/env.h"

namespace tessera::profile_store {

enum class ColumnFamily : int {
  kDefault = 0,  // unused; RocksDB requires it
  kMeta,         // store-wide counters and positions (next log sequence, resolver positions)
  kLog,          // (intake) the accepted-event log: space + sequence -> encoded event
  kDedup,        // (intake) space + XXH3-128(space, messageId) -> first receive time and log sequence
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
  kOutbox,       // space + destination + sequence -> an event or audience change still to deliver
  kDeliveryDeadLetters,  // space + destination + sequence -> a delivery given up on, with its reason
  kCandidates,   // space + blocking key + profile id -> empty: the duplicate index (resolve/duplicate_index.h)
  kIntakeMeta,   // the intake's own counters (next log sequence)
  kCount,
};

// The key of the log's counter (next sequence) in kIntakeMeta; ingest/accepted_log writes it.
inline constexpr std::string_view kLogNextSequenceKey = "log/next_sequence";

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
  // Set: every file of both databases is encrypted at rest with these master keys
  // (encrypted_file_system.h); an existing store must be encrypted with keys of the ring. Null: a
  // plain store, and an encrypted one is refused. Open checks every file's header before RocksDB
  // reads anything (store_encryption.h: CheckStoreEncryption).
  std::shared_ptr<const KeyRing> encryption_keys = nullptr;
};

class Store {
 public:
  // Opens (or creates) the database with every column family Tessera uses.
  static absl::StatusOr<std::unique_ptr<Store>> Open(const StoreOptions& options);

  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  // The state database.
  rocksdb::DB* db() const { return state_db_.get(); }
  // The database that holds `family`.
  rocksdb::DB* db(ColumnFamily family) const { return dbs_[static_cast<int>(family)]; }
  rocksdb::DB* intake_db() const { return db(ColumnFamily::kLog); }
  rocksdb::ColumnFamilyHandle* handle(ColumnFamily family) const {
    return handles_[static_cast<int>(family)];
  }
  // Whether `family` lives in the intake database.
  static bool InIntake(ColumnFamily family) {
    return family == ColumnFamily::kLog || family == ColumnFamily::kDedup || family == ColumnFamily::kIntakeMeta;
  }

  // Applies `batch` (state families only) atomically; synced to disk when the store was opened
  // with sync_writes.
  absl::Status Write(rocksdb::WriteBatch& batch);
  // Applies `batch` (state families only) atomically without waiting for the disk: for derived
  // state, which the log can rebuild (a crash loses a suffix of it, never a part of one batch).
  absl::Status WriteUnsynced(rocksdb::WriteBatch& batch);
  // Makes every earlier write to the state durable (syncs its write-ahead log). Deleting from the
  // log records whose effects are in unsynced state must wait for this: the two databases sync
  // separately, and a power loss must not take derived state back past events no longer logged.
  absl::Status SyncState();
  // Moves the dedup compaction's clock to `received_us` (µs since the epoch) if that is newer: the
  // log's writer calls it with the newest receive time of each batch it wrote.
  void AdvanceDedupClock(int64_t received_us) {
    int64_t seen = newest_received_us_.load(std::memory_order_relaxed);
    while (received_us > seen && !newest_received_us_.compare_exchange_weak(seen, received_us)) {
    }
  }

  // The same for a batch of intake families (log, dedup, intake meta).
  absl::Status WriteIntake(rocksdb::WriteBatch& batch);
  absl::Status WriteIntakeUnsynced(rocksdb::WriteBatch& batch);

  // Reads one value; NotFound when absent.
  absl::StatusOr<std::string> Get(ColumnFamily family, std::string_view key) const;

  // Calls `visit(key, value)` for every key of `family` that starts with `prefix`, in key order.
  absl::Status ScanPrefix(ColumnFamily family, std::string_view prefix,
                          const std::function<void(std::string_view key, std::string_view value)>& visit) const;

  // Flushes memtables and closes both databases. Called by the destructor if not before.
  absl::Status Close();

  const StoreOptions& options() const { return options_; }
  // The Env both databases use (encrypting when the store is encrypted): backups and checkpoints
  // of this store go through it.
  rocksdb::Env* env() const { return env_ != nullptr ? env_.get() : rocksdb::Env::Default(); }
  // Which master keys the store's files needed when it was opened, with file counts ("" when
  // plain), for the start-up line: until `keys rewrap`, an older key can still be needed.
  const std::string& encryption_summary() const { return encryption_summary_; }

 private:
  explicit Store(StoreOptions options) : options_(std::move(options)) {}

  static constexpr size_t kFamilies = static_cast<size_t>(ColumnFamily::kCount);
  // The intake's first column family id (see OpenIntake).
  static constexpr int kFirstIntakeFamilyId = 64;

  static absl::Status CreateIntake(const std::string& path, const rocksdb::DBOptions& db_options);
  absl::Status OpenIntake(const rocksdb::DBOptions& db_options,
                          const std::vector<rocksdb::ColumnFamilyDescriptor>& families);
  static absl::StatusOr<bool> IntakeIsEmpty(const std::string& path, const rocksdb::DBOptions& db_options,
                                            const std::vector<rocksdb::ColumnFamilyDescriptor>& families);
  absl::Status CopyLegacyLogToIntake();
  absl::Status FinishMoveToIntake();
  absl::Status CloseDatabase(std::unique_ptr<rocksdb::DB>& db, bool flush);

  StoreOptions options_;
  std::unique_ptr<rocksdb::Env> env_;  // Null: Env::Default(). Outlives both databases.
  std::string encryption_summary_;
  std::unique_ptr<rocksdb::DB> state_db_;
  std::unique_ptr<rocksdb::DB> intake_db_;
  std::array<rocksdb::DB*, kFamilies> dbs_{};
  std::array<rocksdb::ColumnFamilyHandle*, kFamilies> handles_{};
  // Log and dedup families of a store written before the split, while they are still in the state
  // database (until moved, or for as long as a read-only open reads them there).
  std::vector<std::pair<ColumnFamily, rocksdb::ColumnFamilyHandle*>> legacy_handles_;
  rocksdb::ColumnFamilyHandle* intake_default_ = nullptr;
  std::shared_ptr<rocksdb::CompactionFilter> dedup_filter_;
  std::atomic<int64_t> newest_received_us_{0};  // The dedup filter's clock (AdvanceDedupClock).
};

// Converts a RocksDB status into an absl::Status with the same meaning and message.
absl::Status ToAbslStatus(const rocksdb::Status& status, std::string_view context);

// The smallest key greater than every key that starts with `prefix`, as an exclusive upper bound
// (prefixes here always hold the space's 0x00 separator, so some byte can always be incremented).
std::string PrefixEnd(std::string prefix);

// Keys of the `candidates` family (KEYS.md): the row of `profile` in the block of `blocking_key`
// (which never holds 0x00), and the prefix of `profile`'s own rows (its fingerprint and its keys).
// Here rather than in resolve/ because erasure (privacy/) deletes them too.
std::string CandidateKey(std::string_view space, std::string_view blocking_key, uint64_t profile);
std::string CandidateBlockPrefix(std::string_view space, std::string_view blocking_key);
std::string CandidateProfilePrefix(std::string_view space, uint64_t profile);

// Big-endian fixed-width integers keep numeric order equal to byte order in keys.
void AppendBigEndian64(std::string& out, uint64_t value);
uint64_t ReadBigEndian64(std::string_view bytes);

}  // namespace tessera::profile_store
