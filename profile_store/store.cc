#include "profile_store/store.h"

#include <filesystem>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
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
                                        "definitions", "members", "audience_changes", "privacy", "audit"};
static_assert(std::size(kFamilyNames) == static_cast<size_t>(ColumnFamily::kCount));

// Drops dedup entries whose first-receive time is older than the retention, so the dedup column
// family holds about one window of message ids instead of growing forever. The value starts with
// the receive time in big-endian microseconds (see ingest/dedup_window.h).
class DedupCompactionFilter : public rocksdb::CompactionFilter {
 public:
  explicit DedupCompactionFilter(std::chrono::seconds retention) : retention_(retention) {}

  bool Filter(int /*level*/, const rocksdb::Slice& /*key*/, const rocksdb::Slice& value, std::string* /*new_value*/,
              bool* /*value_changed*/) const override {
    if (value.size() < 8) return false;  // Not ours to judge; keep it.
    const auto received_us = static_cast<int64_t>(ReadBigEndian64(std::string_view(value.data(), 8)));
    const auto now_us = std::chrono::duration_cast<std::chrono::microseconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count();
    // Keep one extra window of slack: lookups already ignore expired entries, so removing them late
    // is harmless, while removing one early would let a duplicate through.
    const int64_t keep_us = 2 * std::chrono::duration_cast<std::chrono::microseconds>(retention_).count();
    return now_us - received_us > keep_us;
  }
  const char* Name() const override { return "tessera.DedupCompactionFilter"; }

 private:
  std::chrono::seconds retention_;
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
  if (family == ColumnFamily::kDedup || family == ColumnFamily::kMeta || family == ColumnFamily::kIdentifiers ||
      family == ColumnFamily::kProfiles) {
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
  store->dedup_filter_ = std::make_shared<DedupCompactionFilter>(options.dedup_retention);

  rocksdb::DBOptions db_options;
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
  // Memtables of all column families together are charged to the block cache, so the store's
  // memory is bounded by block_cache_bytes + memtable_budget_bytes however many families are busy.
  db_options.write_buffer_manager =
      std::make_shared<rocksdb::WriteBufferManager>(options.memtable_budget_bytes, cache);
  std::vector<rocksdb::ColumnFamilyDescriptor> families;
  for (int i = 0; i < static_cast<int>(ColumnFamily::kCount); ++i) {
    families.emplace_back(kFamilyNames[i], FamilyOptions(static_cast<ColumnFamily>(i), options, cache,
                                                         store->dedup_filter_.get()));
  }
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw_db = nullptr;
  rocksdb::Status status =
      options.read_only
          ? rocksdb::DB::OpenForReadOnly(db_options, options.path, families, &handles, &raw_db)
          : rocksdb::DB::Open(db_options, options.path, families, &handles, &raw_db);
  if (!status.ok()) return ToAbslStatus(status, absl::StrCat("opening store at ", options.path));
  store->db_.reset(raw_db);
  for (size_t i = 0; i < handles.size(); ++i) store->handles_[i] = handles[i];
  return store;
}

Store::~Store() { Close().IgnoreError(); }

absl::Status Store::Write(rocksdb::WriteBatch& batch) {
  rocksdb::WriteOptions write_options;
  write_options.sync = options_.sync_writes;
  return ToAbslStatus(db_->Write(write_options, &batch), "writing to store");
}

absl::Status Store::WriteUnsynced(rocksdb::WriteBatch& batch) {
  return ToAbslStatus(db_->Write(rocksdb::WriteOptions(), &batch), "writing to store");
}

absl::StatusOr<std::string> Store::Get(ColumnFamily family, std::string_view key) const {
  std::string value;
  rocksdb::Status status =
      db_->Get(rocksdb::ReadOptions(), handle(family), rocksdb::Slice(key.data(), key.size()), &value);
  if (!status.ok()) return ToAbslStatus(status, "reading from store");
  return value;
}

absl::Status Store::ScanPrefix(ColumnFamily family, std::string_view prefix,
                               const std::function<void(std::string_view key, std::string_view value)>& visit) const {
  const std::string end = PrefixEnd(std::string(prefix));
  rocksdb::ReadOptions options;
  rocksdb::Slice upper(end);
  options.iterate_upper_bound = &upper;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(options, handle(family)));
  for (it->Seek(rocksdb::Slice(prefix.data(), prefix.size())); it->Valid(); it->Next()) {
    visit(std::string_view(it->key().data(), it->key().size()), std::string_view(it->value().data(), it->value().size()));
  }
  return ToAbslStatus(it->status(), "scanning the store");
}

std::string PrefixEnd(std::string prefix) {
  while (!prefix.empty() && static_cast<uint8_t>(prefix.back()) == 0xFF) prefix.pop_back();
  if (!prefix.empty()) prefix.back() = static_cast<char>(static_cast<uint8_t>(prefix.back()) + 1);
  return prefix;
}

absl::Status Store::Close() {
  if (!db_) return absl::OkStatus();
  // Unsynced writes (sync_writes off) reach the disk here rather than only the page cache.
  absl::Status result =
      options_.read_only ? absl::OkStatus() : ToAbslStatus(db_->FlushWAL(/*sync=*/true), "syncing the write-ahead log");
  if (!options_.read_only && result.ok()) {
    // Memtables into table files, so that the write-ahead log files become obsolete and are deleted:
    // the next open replays nothing, and the directory holds each byte of data once.
    std::vector<rocksdb::ColumnFamilyHandle*> families;
    for (auto* handle : handles_) {
      if (handle != nullptr) families.push_back(handle);
    }
    rocksdb::FlushOptions flush;
    flush.allow_write_stall = true;
    result = ToAbslStatus(db_->Flush(flush, families), "flushing memtables at close");
  }
  for (auto*& handle : handles_) {
    if (handle == nullptr) continue;
    rocksdb::Status status = db_->DestroyColumnFamilyHandle(handle);
    if (!status.ok() && result.ok()) result = ToAbslStatus(status, "closing column family");
    handle = nullptr;
  }
  rocksdb::Status status = db_->Close();
  if (!status.ok() && result.ok()) result = ToAbslStatus(status, "closing store");
  db_.reset();
  return result;
}

}  // namespace tessera::profile_store
