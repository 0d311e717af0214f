#include "profile_store/store.h"

#include <algorithm>
#include <filesystem>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "profile_store/encrypted_file_system.h"
#include "profile_store/internal/sync_directory.h"
#include "profile_store/store_encryption.h"
#include <cstring>

#include "rocksdb/compaction_filter.h"
#include "rocksdb/slice_transform.h"
#include "rocksdb/filter_policy.h"
#include "rocksdb/table.h"
#include "rocksdb/write_buffer_manager.h"
#include "rocksdb/cache.h"

namespace tessera::profile_store {
namespace {

constexpr const char* kFamilyNames[] = {"default",     "meta",     "log",    "dedup",
                                        "dead_letter", "identifiers", "profiles", "merges", "timeline",
                                        "definitions", "members", "audience_changes", "privacy", "audit",
                                        "outbox", "delivery_dead_letters", "candidates", "meta"};
static_assert(std::size(kFamilyNames) == static_cast<size_t>(ColumnFamily::kCount));


// Drops dedup entries whose first-receive time is older than the retention, so the dedup column
// family holds about one window of message ids instead of growing forever. The value starts with
// the receive time in big-endian microseconds (see ingest/dedup_window.h).
//
// "Older" is reckoned from the newest receive time written to the log (Store::AdvanceDedupClock),
// not from the wall clock: a cluster member catching up on month-old events must keep their ids as
// long as a member that wrote them in real time did, or a late retry would be dropped by one and
// stored by the other. Until the first write after opening, nothing is dropped.
class DedupCompactionFilter : public rocksdb::CompactionFilter {
 public:
  DedupCompactionFilter(std::chrono::seconds retention, const std::atomic<int64_t>& newest_received_us)
      : retention_(retention), newest_received_us_(newest_received_us) {}

  bool Filter(int /*level*/, const rocksdb::Slice& /*key*/, const rocksdb::Slice& value, std::string* /*new_value*/,
              bool* /*value_changed*/) const override {
    if (value.size() < 8) return false;  // Not ours to judge; keep it.
    const int64_t clock_us = newest_received_us_.load(std::memory_order_relaxed);
    if (clock_us == 0) return false;
    const auto received_us = static_cast<int64_t>(ReadBigEndian64(std::string_view(value.data(), 8)));
    // Keep one extra window of slack: lookups already ignore expired entries, so removing them late
    // is harmless, while removing one early would let a duplicate through.
    const int64_t keep_us = 2 * std::chrono::duration_cast<std::chrono::microseconds>(retention_).count();
    return clock_us - received_us > keep_us;
  }
  const char* Name() const override { return "tessera.DedupCompactionFilter"; }

 private:
  std::chrono::seconds retention_;
  const std::atomic<int64_t>& newest_received_us_;
};

// The space part of a key ("space\0"). Log keys within a space only grow, so inserting each one
// next to the previous one (a memtable "hint" per space) avoids a full skip-list search per event.
class SpacePrefix : public rocksdb::SliceTransform {
 public:
  const char* Name() const override { return "tessera.SpacePrefix"; }
  rocksdb::Slice Transform(const rocksdb::Slice& key) const override {
    const void* end = std::memchr(key.data(), '\0', key.size());
    return rocksdb::Slice(key.data(), static_cast<const char*>(end) - key.data() + 1);
  }
  bool InDomain(const rocksdb::Slice& key) const override {
    return std::memchr(key.data(), '\0', key.size()) != nullptr;
  }
};

rocksdb::ColumnFamilyOptions FamilyOptions(ColumnFamily family, const StoreOptions& options,
                                           const std::shared_ptr<rocksdb::Cache>& cache,
                                           const rocksdb::CompactionFilter* dedup_filter) {
  rocksdb::ColumnFamilyOptions cf;
  cf.write_buffer_size = options.write_buffer_bytes;
  cf.max_write_buffer_number = 4;
  // One codec on every level: the log's keys only grow, so its files can then move down the levels
  // without being rewritten (a different bottommost codec would force a rewrite of every byte).
  cf.compression = rocksdb::kLZ4Compression;
  cf.level_compaction_dynamic_level_bytes = true;

  rocksdb::BlockBasedTableOptions table;
  table.block_cache = cache;
  table.format_version = 5;
  // Index and filter blocks live in the block cache, so memory stays within its size however large
  // the store grows. They are partitioned into small blocks: a whole-file filter of a large file is
  // megabytes, larger than a cache shard, and would be evicted and re-read (and checksummed) on
  // every lookup; partitions are a few KB and stay hot. High priority keeps data blocks from
  // pushing them out.
  table.cache_index_and_filter_blocks = true;
  table.cache_index_and_filter_blocks_with_high_priority = true;
  table.pin_l0_filter_and_index_blocks_in_cache = true;
  table.pin_top_level_index_and_filter = true;
  table.index_type = rocksdb::BlockBasedTableOptions::IndexType::kTwoLevelIndexSearch;
  table.partition_filters = true;
  table.metadata_block_size = 4096;
  if (family == ColumnFamily::kDedup || family == ColumnFamily::kMeta || family == ColumnFamily::kIntakeMeta ||
      family == ColumnFamily::kIdentifiers || family == ColumnFamily::kProfiles || family == ColumnFamily::kCandidates) {
    // Point lookups, mostly for keys that do not exist: bloom filters answer those without a
    // block read, and the memtable's own filter without a skip-list search.
    table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
    table.whole_key_filtering = true;
    cf.memtable_whole_key_filtering = true;
    cf.memtable_prefix_bloom_size_ratio = 0.05;
  }
  cf.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  if (family == ColumnFamily::kDedup) cf.compaction_filter = dedup_filter;
  if (family == ColumnFamily::kLog) cf.memtable_insert_with_hint_prefix_extractor = std::make_shared<SpacePrefix>();
  return cf;
}

}  // namespace

absl::Status ToAbslStatus(const rocksdb::Status& status, std::string_view context) {
  if (status.ok()) return absl::OkStatus();
  std::string message = absl::StrCat(std::string(context), ": ", status.ToString());
  switch (status.code()) {
    case rocksdb::Status::kNotFound:
      return absl::NotFoundError(message);
    case rocksdb::Status::kCorruption:
      return absl::DataLossError(message);
    case rocksdb::Status::kInvalidArgument:
      return absl::InvalidArgumentError(message);
    case rocksdb::Status::kBusy:
    case rocksdb::Status::kTryAgain:
      return absl::UnavailableError(message);
    case rocksdb::Status::kTimedOut:
      return absl::DeadlineExceededError(message);
    case rocksdb::Status::kNotSupported:
      return absl::UnimplementedError(message);
    default:
      return absl::InternalError(message);
  }
}

void AppendBigEndian64(std::string& out, uint64_t value) {
  char bytes[8];
  for (int i = 7; i >= 0; --i) {
    bytes[i] = static_cast<char>(value & 0xff);
    value >>= 8;
  }
  out.append(bytes, 8);
}

uint64_t ReadBigEndian64(std::string_view bytes) {
  uint64_t value = 0;
  for (size_t i = 0; i < 8 && i < bytes.size(); ++i) value = (value << 8) | static_cast<uint8_t>(bytes[i]);
  return value;
}

absl::StatusOr<std::unique_ptr<Store>> Store::Open(const StoreOptions& options) {
  std::error_code ec;
  if (options.read_only) {
    if (!std::filesystem::exists(options.path + "/CURRENT", ec)) {
      return absl::NotFoundError(absl::StrCat("no store at ", options.path));
    }
  } else {
    std::filesystem::create_directories(options.path, ec);
  }
  if (ec) return absl::InternalError(absl::StrCat("cannot create store directory ", options.path, ": ", ec.message()));

  std::unique_ptr<Store> store(new Store(options));
  if (std::filesystem::exists(options.path + "/CURRENT", ec) ||
      std::filesystem::exists(options.path + "/intake/CURRENT", ec)) {
    // Before RocksDB reads a byte, and before anything is changed: a missing or wrong key, a plain
    // store opened with keys (or the reverse) and an altered header stop here, naming the file.
    if (absl::Status status = CheckStoreEncryption(options.path, options.encryption_keys.get(),
                                                   &store->encryption_summary_);
        !status.ok()) {
      return status;
    }
  }
  if (!options.read_only) {
    if (absl::Status status = RemoveInterruptedConversion(options.path); !status.ok()) return status;
  }
  if (options.encryption_keys != nullptr) {
    store->env_ = NewEncryptedEnv(options.encryption_keys);
  }
  store->dedup_filter_ = std::make_shared<DedupCompactionFilter>(options.dedup_retention, store->newest_received_us_);

  rocksdb::DBOptions db_options;
  db_options.env = store->env();
  db_options.create_if_missing = true;
  db_options.create_missing_column_families = true;
  db_options.max_background_jobs = 2;
  db_options.bytes_per_sync = 1 << 20;
  db_options.keep_log_file_num = 5;
  // The MANIFEST records each SST file's smallest and largest keys, and keys hold identifier
  // values. After an erasure compacts a person's keys away, their names can linger in old MANIFEST
  // records until it rolls over (a fresh one is written at this size, and at every open); 1 GiB,
  // the default, would keep them for months.
  db_options.max_manifest_file_size = 4 << 20;
  // Rarely written families (meta) would otherwise pin old WAL files until their memtable fills.
  db_options.max_total_wal_size = 4 * options.write_buffer_bytes;

  rocksdb::LRUCacheOptions cache_options;
  cache_options.capacity = options.block_cache_bytes;
  cache_options.high_pri_pool_ratio = 0.5;  // index and filter partitions
  auto cache = rocksdb::NewLRUCache(cache_options);
  // Memtables of all column families of both databases together are charged to the block cache,
  // so the store's memory is bounded by block_cache_bytes + memtable_budget_bytes however many
  // families are busy.
  db_options.write_buffer_manager =
      std::make_shared<rocksdb::WriteBufferManager>(options.memtable_budget_bytes, cache);
  auto descriptor = [&](ColumnFamily family) {
    return rocksdb::ColumnFamilyDescriptor(kFamilyNames[static_cast<int>(family)],
                                           FamilyOptions(family, options, cache, store->dedup_filter_.get()));
  };

  // The state database. A store from before the split has the log and dedup families here: while
  // "log" is there, log, dedup and counter are whole in the state (the move drops "log" first, and
  // only after the intake holds all of it, synced); "dedup" alone means the move is past its copy.
  const bool state_existed = std::filesystem::exists(options.path + "/CURRENT", ec);
  const std::string intake_path = options.path + "/intake";
  const bool intake_existed = std::filesystem::exists(intake_path + "/CURRENT", ec);
  std::vector<std::string> existing;
  if (state_existed) {
    rocksdb::Status listed = rocksdb::DB::ListColumnFamilies(db_options, options.path, &existing);
    if (!listed.ok()) return ToAbslStatus(listed, absl::StrCat("reading the families of the store at ", options.path));
  }
  auto has = [&](ColumnFamily family) {
    return std::find(existing.begin(), existing.end(), kFamilyNames[static_cast<int>(family)]) != existing.end();
  };
  const bool legacy_log = has(ColumnFamily::kLog);
  std::vector<rocksdb::ColumnFamilyDescriptor> intake_families = {
      rocksdb::ColumnFamilyDescriptor(rocksdb::kDefaultColumnFamilyName, rocksdb::ColumnFamilyOptions()),
      descriptor(ColumnFamily::kLog), descriptor(ColumnFamily::kDedup), descriptor(ColumnFamily::kIntakeMeta)};
  if (!options.read_only) {
    if (state_existed && !legacy_log && !intake_existed) {
      // Starting over with an empty log would hand out sequences the derived state already holds.
      return absl::DataLossError(absl::StrCat("the store at ", options.path, " has lost its event log (no database at ",
                                              intake_path, "); restore it from a backup"));
    }
    if (!state_existed && intake_existed) {
      // A new store's intake is made first, so an empty intake without a state is a creation that
      // stopped; a log without its state would lose suppressions, erasures and definitions.
      absl::StatusOr<bool> empty = IntakeIsEmpty(intake_path, db_options, intake_families);
      if (!empty.ok()) return empty.status();
      if (!*empty) {
        return absl::DataLossError(absl::StrCat("the store at ", options.path, " holds an event log (", intake_path,
                                                ") but not the state beside it; restore it from a backup"));
      }
    }
    if (legacy_log && intake_existed) {
      // A move that did not finish: the state still holds everything, so the copy starts over.
      std::filesystem::remove_all(intake_path, ec);
      if (ec) return absl::InternalError(absl::StrCat("cannot remove ", intake_path, ": ", ec.message()));
    }
    // A new store's intake exists before its state does, so that a crash part way through
    // creating the store never leaves a state without its log.
    if (!intake_existed || legacy_log) {
      if (absl::Status created = CreateIntake(intake_path, db_options); !created.ok()) return created;
    }
  }
  std::vector<rocksdb::ColumnFamilyDescriptor> families;
  std::vector<ColumnFamily> opened;
  for (int i = 0; i < static_cast<int>(ColumnFamily::kCount); ++i) {
    const auto family = static_cast<ColumnFamily>(i);
    if (InIntake(family) && (family == ColumnFamily::kIntakeMeta || !has(family))) continue;
    // A read-only open cannot add families a newer version brought (the outbox): they read as empty.
    if (options.read_only && state_existed && !InIntake(family) && !has(family)) continue;
    families.push_back(descriptor(family));
    opened.push_back(family);
  }
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw_db = nullptr;
  rocksdb::Status status =
      options.read_only
          ? rocksdb::DB::OpenForReadOnly(db_options, options.path, families, &handles, &raw_db)
          : rocksdb::DB::Open(db_options, options.path, families, &handles, &raw_db);
  if (!status.ok()) return ToAbslStatus(status, absl::StrCat("opening store at ", options.path));
  store->state_db_.reset(raw_db);
  for (size_t i = 0; i < handles.size(); ++i) {
    const int family = static_cast<int>(opened[i]);
    if (InIntake(opened[i])) {
      store->legacy_handles_.emplace_back(opened[i], handles[i]);
    } else {
      store->handles_[family] = handles[i];
      store->dbs_[family] = raw_db;
    }
  }

  if (options.read_only && legacy_log) {
    // Read where a store from before the split keeps them (the counter in the state's meta), even
    // if a move into an intake has begun: until "log" is dropped, the old families are whole.
    for (const auto& [family, handle] : store->legacy_handles_) {
      store->handles_[static_cast<int>(family)] = handle;
      store->dbs_[static_cast<int>(family)] = raw_db;
    }
    store->handles_[static_cast<int>(ColumnFamily::kIntakeMeta)] = store->handles_[static_cast<int>(ColumnFamily::kMeta)];
    store->dbs_[static_cast<int>(ColumnFamily::kIntakeMeta)] = raw_db;
    return store;
  }
  if (options.read_only && !intake_existed) {
    return absl::DataLossError(absl::StrCat("the store at ", options.path, " has no event log (no database at ",
                                            intake_path, ")"));
  }
  if (absl::Status status = store->OpenIntake(db_options, intake_families); !status.ok()) return status;
  if (!options.read_only) {
    if (legacy_log) {
      if (absl::Status copied = store->CopyLegacyLogToIntake(); !copied.ok()) return copied;
    }
    if (absl::Status finished = store->FinishMoveToIntake(); !finished.ok()) return finished;
  }
  return store;
}

absl::StatusOr<bool> Store::IntakeIsEmpty(const std::string& path, const rocksdb::DBOptions& db_options,
                                          const std::vector<rocksdb::ColumnFamilyDescriptor>& families) {
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw_db = nullptr;
  rocksdb::Status status = rocksdb::DB::OpenForReadOnly(db_options, path, families, &handles, &raw_db);
  if (!status.ok()) return ToAbslStatus(status, absl::StrCat("opening the intake database at ", path));
  std::unique_ptr<rocksdb::DB> db(raw_db);
  std::string counter;
  const bool has_counter = db->Get(rocksdb::ReadOptions(), handles[3], kLogNextSequenceKey, &counter).ok();
  std::unique_ptr<rocksdb::Iterator> log(db->NewIterator(rocksdb::ReadOptions(), handles[1]));
  log->SeekToFirst();
  const bool empty = !has_counter && !log->Valid();
  log.reset();
  for (auto* handle : handles) db->DestroyColumnFamilyHandle(handle).PermitUncheckedError();
  return empty;
}

absl::Status Store::CreateIntake(const std::string& path, const rocksdb::DBOptions& db_options) {
  // Built beside its place and renamed into it, so that an intake exists whole or not at all.
  const std::string building = path + ".building";
  std::error_code ec;
  std::filesystem::remove_all(building, ec);
  if (ec) return absl::InternalError(absl::StrCat("cannot remove ", building, ": ", ec.message()));
  rocksdb::DB* raw_db = nullptr;
  rocksdb::Status status =
      rocksdb::DB::Open(rocksdb::Options(db_options, rocksdb::ColumnFamilyOptions()), building, &raw_db);
  if (!status.ok()) return ToAbslStatus(status, absl::StrCat("creating the intake database at ", building));
  std::unique_ptr<rocksdb::DB> db(raw_db);
  // Column family ids of the intake start above every id the state database has or will soon
  // have: ids count up per database and are never reused, so burning a range here makes a batch
  // sent to the wrong database name families that do not exist there, and RocksDB refuses it.
  std::vector<std::string> unused;
  for (int i = 0; i < kFirstIntakeFamilyId - 1; ++i) unused.push_back(absl::StrCat("unused-", i));
  std::vector<rocksdb::ColumnFamilyHandle*> created;
  status = db->CreateColumnFamilies(rocksdb::ColumnFamilyOptions(), unused, &created);
  if (status.ok()) status = db->DropColumnFamilies(created);
  for (auto* handle : created) db->DestroyColumnFamilyHandle(handle).PermitUncheckedError();
  created.clear();
  if (status.ok()) {
    status = db->CreateColumnFamilies(rocksdb::ColumnFamilyOptions(), {kFamilyNames[static_cast<int>(ColumnFamily::kLog)],
                                      kFamilyNames[static_cast<int>(ColumnFamily::kDedup)],
                                      kFamilyNames[static_cast<int>(ColumnFamily::kIntakeMeta)]},
                                      &created);
  }
  for (auto* handle : created) db->DestroyColumnFamilyHandle(handle).PermitUncheckedError();
  if (status.ok()) status = db->Close();
  if (!status.ok()) return ToAbslStatus(status, absl::StrCat("creating the intake database at ", building));
  db.reset();
  std::filesystem::rename(building, path, ec);
  if (ec) return absl::InternalError(absl::StrCat("cannot move the new intake database into ", path, ": ", ec.message()));
  return internal::SyncDirectory(std::filesystem::path(path).parent_path().string());
}

absl::Status Store::OpenIntake(const rocksdb::DBOptions& db_options,
                               const std::vector<rocksdb::ColumnFamilyDescriptor>& families) {
  const std::string path = options_.path + "/intake";
  rocksdb::DB* raw_db = nullptr;
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  // An intake is made whole by CreateIntake; one that lacks a family is not to be completed here.
  rocksdb::DBOptions open_options = db_options;
  open_options.create_missing_column_families = false;
  rocksdb::Status status = options_.read_only
                               ? rocksdb::DB::OpenForReadOnly(open_options, path, families, &handles, &raw_db)
                               : rocksdb::DB::Open(open_options, path, families, &handles, &raw_db);
  if (!status.ok()) return ToAbslStatus(status, absl::StrCat("opening the intake database at ", path));
  intake_db_.reset(raw_db);
  intake_default_ = handles[0];
  const ColumnFamily order[] = {ColumnFamily::kLog, ColumnFamily::kDedup, ColumnFamily::kIntakeMeta};
  for (size_t i = 0; i < std::size(order); ++i) {
    handles_[static_cast<int>(order[i])] = handles[i + 1];
    dbs_[static_cast<int>(order[i])] = raw_db;
  }
  for (ColumnFamily family : order) {
    rocksdb::ColumnFamilyHandle* opened = handle(family);
    if (opened->GetID() < static_cast<uint32_t>(kFirstIntakeFamilyId)) {
      return absl::DataLossError(absl::StrCat("the intake database at ", path, " has family ", opened->GetName(),
                                              " at id ", opened->GetID(), ", where the state database could use it"));
    }
  }
  return absl::OkStatus();
}

absl::Status Store::CopyLegacyLogToIntake() {
  // Into a freshly made intake; should a crash stop it, the next open makes the intake again and
  // copies anew, the legacy families being whole until FinishMoveToIntake drops them.
  constexpr size_t kBatchBytes = 4 << 20;
  for (const auto& [family, legacy] : legacy_handles_) {
    std::unique_ptr<rocksdb::Iterator> it(state_db_->NewIterator(rocksdb::ReadOptions(), legacy));
    rocksdb::WriteBatch batch;
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      batch.Put(handle(family), it->key(), it->value());
      if (batch.GetDataSize() < kBatchBytes) continue;
      if (absl::Status written = WriteIntakeUnsynced(batch); !written.ok()) return written;
      batch.Clear();
    }
    if (!it->status().ok()) return ToAbslStatus(it->status(), "reading the log of a store from before the intake");
    if (absl::Status written = WriteIntakeUnsynced(batch); !written.ok()) return written;
  }
  rocksdb::WriteBatch counter;
  if (absl::StatusOr<std::string> value = Get(ColumnFamily::kMeta, kLogNextSequenceKey); value.ok()) {
    counter.Put(handle(ColumnFamily::kIntakeMeta), kLogNextSequenceKey, *value);
  } else if (!absl::IsNotFound(value.status())) {
    return value.status();
  }
  rocksdb::WriteOptions synced;
  synced.sync = true;
  rocksdb::Status status = intake_db_->Write(synced, &counter);
  if (status.ok()) status = intake_db_->FlushWAL(/*sync=*/true);
  return ToAbslStatus(status, "moving the log into the intake database");
}

absl::Status Store::FinishMoveToIntake() {
  // "log" first: once it is gone, the intake is what holds the log. The state's copy of the
  // counter goes last, so a read of the old families always finds it with them.
  std::sort(legacy_handles_.begin(), legacy_handles_.end());
  rocksdb::Status status;
  for (auto& [family, legacy] : legacy_handles_) {
    if (status.ok()) status = state_db_->DropColumnFamily(legacy);
    state_db_->DestroyColumnFamilyHandle(legacy).PermitUncheckedError();
  }
  legacy_handles_.clear();
  if (!status.ok()) return ToAbslStatus(status, "dropping the log families of the state database");
  if (absl::IsNotFound(Get(ColumnFamily::kMeta, kLogNextSequenceKey).status())) return absl::OkStatus();
  rocksdb::WriteBatch forget;
  forget.Delete(handle(ColumnFamily::kMeta), kLogNextSequenceKey);
  rocksdb::WriteOptions synced;
  synced.sync = true;
  return ToAbslStatus(state_db_->Write(synced, &forget), "forgetting the state's copy of the log counter");
}

Store::~Store() { Close().IgnoreError(); }

absl::Status Store::Write(rocksdb::WriteBatch& batch) {
  rocksdb::WriteOptions write_options;
  write_options.sync = options_.sync_writes;
  return ToAbslStatus(state_db_->Write(write_options, &batch), "writing to store");
}

absl::Status Store::WriteUnsynced(rocksdb::WriteBatch& batch) {
  return ToAbslStatus(state_db_->Write(rocksdb::WriteOptions(), &batch), "writing to store");
}

absl::Status Store::SyncState() {
  return ToAbslStatus(state_db_->SyncWAL(), "syncing the state's write-ahead log");
}

absl::Status Store::WriteIntake(rocksdb::WriteBatch& batch) {
  rocksdb::WriteOptions write_options;
  write_options.sync = options_.sync_writes;
  return ToAbslStatus(intake_db()->Write(write_options, &batch), "writing to the intake");
}

absl::Status Store::WriteIntakeUnsynced(rocksdb::WriteBatch& batch) {
  return ToAbslStatus(intake_db()->Write(rocksdb::WriteOptions(), &batch), "writing to the intake");
}

absl::StatusOr<std::string> Store::Get(ColumnFamily family, std::string_view key) const {
  if (handle(family) == nullptr) return absl::NotFoundError("reading from store: the family is not in this store");
  std::string value;
  rocksdb::Status status =
      db(family)->Get(rocksdb::ReadOptions(), handle(family), rocksdb::Slice(key.data(), key.size()), &value);
  if (!status.ok()) return ToAbslStatus(status, "reading from store");
  return value;
}

absl::Status Store::ScanPrefix(ColumnFamily family, std::string_view prefix,
                               const std::function<void(std::string_view key, std::string_view value)>& visit) const {
  if (handle(family) == nullptr) return absl::OkStatus();  // Not in a store opened read-only: empty.
  const std::string end = PrefixEnd(std::string(prefix));
  rocksdb::ReadOptions options;
  rocksdb::Slice upper(end);
  options.iterate_upper_bound = &upper;
  std::unique_ptr<rocksdb::Iterator> it(db(family)->NewIterator(options, handle(family)));
  for (it->Seek(rocksdb::Slice(prefix.data(), prefix.size())); it->Valid(); it->Next()) {
    visit(std::string_view(it->key().data(), it->key().size()), std::string_view(it->value().data(), it->value().size()));
  }
  return ToAbslStatus(it->status(), "scanning the store");
}

std::string CandidateBlockPrefix(std::string_view space, std::string_view blocking_key) {
  std::string key;
  key.reserve(space.size() + blocking_key.size() + 2);
  key.append(space).push_back('\0');
  key.append(blocking_key).push_back('\0');
  return key;
}

std::string CandidateKey(std::string_view space, std::string_view blocking_key, uint64_t profile) {
  std::string key = CandidateBlockPrefix(space, blocking_key);
  AppendBigEndian64(key, profile);
  return key;
}

std::string CandidateProfilePrefix(std::string_view space, uint64_t profile) {
  // 0x01 sorts before every blocking key (each starts with a lower-case rule name).
  std::string key;
  key.append(space).push_back('\0');
  key.push_back('\x01');
  AppendBigEndian64(key, profile);
  return key;
}

std::string PrefixEnd(std::string prefix) {
  while (!prefix.empty() && static_cast<uint8_t>(prefix.back()) == 0xFF) prefix.pop_back();
  if (!prefix.empty()) prefix.back() = static_cast<char>(static_cast<uint8_t>(prefix.back()) + 1);
  return prefix;
}

absl::Status Store::CloseDatabase(std::unique_ptr<rocksdb::DB>& db, bool flush) {
  if (!db) return absl::OkStatus();
  std::vector<rocksdb::ColumnFamilyHandle*> families;
  auto take = [&](rocksdb::ColumnFamilyHandle*& handle) {
    if (handle == nullptr) return;
    if (std::find(families.begin(), families.end(), handle) == families.end()) families.push_back(handle);
    handle = nullptr;
  };
  for (size_t i = 0; i < kFamilies; ++i) {
    if (dbs_[i] == db.get()) take(handles_[i]);
  }
  if (db == state_db_) {
    for (auto& [family, legacy] : legacy_handles_) take(legacy);
  } else {
    take(intake_default_);
  }
  // Unsynced writes (sync_writes off) reach the disk here rather than only the page cache.
  absl::Status result = flush ? ToAbslStatus(db->FlushWAL(/*sync=*/true), "syncing the write-ahead log")
                              : absl::OkStatus();
  if (flush && result.ok()) {
    // Memtables into table files, so that the write-ahead log files become obsolete and are deleted:
    // the next open replays nothing, and the directory holds each byte of data once.
    rocksdb::FlushOptions options;
    options.allow_write_stall = true;
    result = ToAbslStatus(db->Flush(options, families), "flushing memtables at close");
  }
  for (auto* handle : families) {
    rocksdb::Status status = db->DestroyColumnFamilyHandle(handle);
    if (!status.ok() && result.ok()) result = ToAbslStatus(status, "closing column family");
  }
  rocksdb::Status status = db->Close();
  if (!status.ok() && result.ok()) result = ToAbslStatus(status, "closing store");
  db.reset();
  return result;
}

absl::Status Store::Close() {
  // The log first: at every moment the files on disk hold the log at least as far as derived state.
  absl::Status intake = CloseDatabase(intake_db_, !options_.read_only);
  absl::Status result = CloseDatabase(state_db_, !options_.read_only);
  dbs_.fill(nullptr);
  return intake.ok() ? result : intake;
}

}  // namespace tessera::profile_store
