// Backups and restores of the store: a restore holds exactly what was backed up, refuses to
// replace a store unless forced, and damaged backups are reported rather than restored.

#include "profile_store/backup.h"

#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <string>

#include "gtest/gtest.h"
#include "profile_store/store.h"
#include "rocksdb/utilities/backup_engine.h"
#include "tests/profile_store/store_before_intake.h"
#include "tests/support/temp_dir.h"

namespace tessera::profile_store {
namespace {

namespace fs = std::filesystem;

// Every row of every column family, "family|key" -> value.
std::map<std::string, std::string> DumpAll(Store& store) {
  std::map<std::string, std::string> rows;
  for (int family = 0; family < static_cast<int>(ColumnFamily::kCount); ++family) {
    std::unique_ptr<rocksdb::Iterator> it(
        store.db(static_cast<ColumnFamily>(family))
            ->NewIterator(rocksdb::ReadOptions(), store.handle(static_cast<ColumnFamily>(family))));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      rows[std::to_string(family) + "|" + it->key().ToString()] = it->value().ToString();
    }
    EXPECT_TRUE(it->status().ok()) << it->status().ToString();
  }
  return rows;
}

void Put(Store& store, ColumnFamily family, const std::string& key, const std::string& value) {
  rocksdb::WriteBatch batch;
  batch.Put(store.handle(family), key, value);
  ASSERT_TRUE((Store::InIntake(family) ? store.WriteIntake(batch) : store.Write(batch)).ok());
}

class BackupTest : public ::testing::Test {
 protected:
  std::string Path(const std::string& name) const { return dir_.path() + "/" + name; }

  std::unique_ptr<Store> OpenStore(const std::string& path) {
    auto store = Store::Open({.path = path});
    EXPECT_TRUE(store.ok()) << store.status();
    return store.ok() ? std::move(*store) : nullptr;
  }

  // A store with rows in several families; some flushed to table files, the last ones only in
  // the memtable and write-ahead log, as in a store that is being written.
  std::unique_ptr<Store> StoreWithData(const std::string& path, int rows = 500) {
    std::unique_ptr<Store> store = OpenStore(path);
    if (store == nullptr) return nullptr;
    // A few synced batches rather than a sync per row: fsyncs are slow on a busy machine.
    rocksdb::WriteBatch log;
    rocksdb::WriteBatch state;
    for (int i = 0; i < rows; ++i) {
      const std::string key = "default" + std::string(1, '\0') + std::to_string(i);
      log.Put(store->handle(ColumnFamily::kLog), key, "{\"event\":" + std::to_string(i) + "}");
      state.Put(store->handle(ColumnFamily::kProfiles), key, "{\"id\":" + std::to_string(i) + "}");
      if (i % 100 == 99 || i + 1 == rows) {
        EXPECT_TRUE(store->WriteIntake(log).ok());
        EXPECT_TRUE(store->Write(state).ok());
        log.Clear();
        state.Clear();
      }
      if (i == rows / 2) {
        EXPECT_TRUE(store->intake_db()->Flush(rocksdb::FlushOptions(), store->handle(ColumnFamily::kLog)).ok());
        EXPECT_TRUE(store->db()->Flush(rocksdb::FlushOptions(), store->handle(ColumnFamily::kProfiles)).ok());
      }
    }
    Put(*store, ColumnFamily::kIntakeMeta, "log/next_sequence", std::string(8, '\x01'));
    return store;
  }

  tessera::testing::ScopedTempDir dir_;
};

TEST_F(BackupTest, ARestoredStoreHoldsWhatWasBackedUp) {
  std::unique_ptr<Store> store = StoreWithData(Path("store"));
  ASSERT_NE(store, nullptr);
  absl::StatusOr<BackupSummary> backup = CreateBackup(*store, Path("backups"));
  ASSERT_TRUE(backup.ok()) << backup.status();
  EXPECT_EQ(backup->backup_id, 1u);
  EXPECT_GT(backup->size_bytes, 0u);
  EXPECT_GT(backup->files, 0u);
  EXPECT_EQ(backup->backups_in_directory, 1u);

  // Written after the backup: must not be in the restore.
  Put(*store, ColumnFamily::kLog, "after-backup", "x");
  std::map<std::string, std::string> expected = DumpAll(*store);
  expected.erase(std::to_string(static_cast<int>(ColumnFamily::kLog)) + "|after-backup");

  absl::StatusOr<BackupSummary> restored = RestoreBackup(Path("backups"), Path("restored/store"));
  ASSERT_TRUE(restored.ok()) << restored.status();
  EXPECT_EQ(restored->backup_id, 1u);
  std::unique_ptr<Store> copy = OpenStore(Path("restored/store"));
  ASSERT_NE(copy, nullptr);
  EXPECT_EQ(DumpAll(*copy), expected) << "the restored store must hold exactly the rows backed up";
  EXPECT_FALSE(expected.empty());

  // Nothing is left next to the restored store.
  for (const auto& entry : fs::directory_iterator(Path("restored"))) {
    EXPECT_EQ(entry.path().filename(), "store") << "left behind: " << entry.path();
  }
}

TEST_F(BackupTest, ASecondBackupIsNumberedAndTheLatestIsRestored) {
  std::unique_ptr<Store> store = StoreWithData(Path("store"));
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(CreateBackup(*store, Path("backups")).ok());
  Put(*store, ColumnFamily::kLog, "second", "2");
  absl::StatusOr<BackupSummary> second = CreateBackup(*store, Path("backups"));
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(second->backup_id, 2u);
  EXPECT_EQ(second->backups_in_directory, 2u);

  ASSERT_TRUE(RestoreBackup(Path("backups"), Path("latest")).ok());
  ASSERT_TRUE(RestoreBackup(Path("backups"), Path("first"), {.backup_id = 1}).ok());
  std::unique_ptr<Store> latest = OpenStore(Path("latest"));
  std::unique_ptr<Store> first = OpenStore(Path("first"));
  ASSERT_NE(latest, nullptr);
  ASSERT_NE(first, nullptr);
  EXPECT_TRUE(latest->Get(ColumnFamily::kLog, "second").ok());
  EXPECT_TRUE(absl::IsNotFound(first->Get(ColumnFamily::kLog, "second").status()));
}

TEST_F(BackupTest, RestoreRefusesAStoreThatHoldsDataUnlessForced) {
  {
    std::unique_ptr<Store> store = StoreWithData(Path("store"));
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(CreateBackup(*store, Path("backups")).ok());
  }
  {
    std::unique_ptr<Store> other = OpenStore(Path("other"));
    ASSERT_NE(other, nullptr);
    Put(*other, ColumnFamily::kLog, "precious", "keep me");
    // While it is open (as under a running server) even force does not replace it.
    absl::StatusOr<BackupSummary> busy = RestoreBackup(Path("backups"), Path("other"), {.force = true});
    EXPECT_EQ(busy.status().code(), absl::StatusCode::kFailedPrecondition) << busy.status();
  }
  absl::StatusOr<BackupSummary> refused = RestoreBackup(Path("backups"), Path("other"));
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kAlreadyExists) << refused.status();
  {
    std::unique_ptr<Store> other = OpenStore(Path("other"));
    ASSERT_NE(other, nullptr);
    EXPECT_TRUE(other->Get(ColumnFamily::kLog, "precious").ok())
        << "a refused restore must not touch the store";
  }

  absl::StatusOr<BackupSummary> forced = RestoreBackup(Path("backups"), Path("other"), {.force = true});
  ASSERT_TRUE(forced.ok()) << forced.status();
  std::unique_ptr<Store> replaced = OpenStore(Path("other"));
  ASSERT_NE(replaced, nullptr);
  EXPECT_TRUE(absl::IsNotFound(replaced->Get(ColumnFamily::kLog, "precious").status()));
  EXPECT_TRUE(replaced->Get(ColumnFamily::kIntakeMeta, "log/next_sequence").ok());
  for (const auto& entry : fs::directory_iterator(dir_.path())) {
    EXPECT_EQ(entry.path().filename().string().find(".restore-"), std::string::npos)
        << "the replaced store must be deleted: " << entry.path();
  }
}

TEST_F(BackupTest, RestoreIntoAnEmptyDirectoryIsAllowed) {
  {
    std::unique_ptr<Store> store = StoreWithData(Path("store"), 10);
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(CreateBackup(*store, Path("backups")).ok());
  }
  fs::create_directories(Path("empty"));
  absl::StatusOr<BackupSummary> restored = RestoreBackup(Path("backups"), Path("empty"));
  EXPECT_TRUE(restored.ok()) << restored.status();
  EXPECT_TRUE(StoreExists(Path("empty")));
}

TEST_F(BackupTest, ADamagedBackupIsReportedAndNotRestored) {
  {
    std::unique_ptr<Store> store = StoreWithData(Path("store"));
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(CreateBackup(*store, Path("backups")).ok());
  }
  ASSERT_TRUE(VerifyBackup(Path("backups")).ok());
  // Flip bytes in the middle of the largest backed-up table file, keeping its size.
  fs::path largest;
  uintmax_t largest_size = 0;
  for (const auto& entry : fs::recursive_directory_iterator(Path("backups"))) {
    if (entry.is_regular_file() && entry.path().extension() == ".sst" && entry.file_size() > largest_size) {
      largest = entry.path();
      largest_size = entry.file_size();
    }
  }
  ASSERT_FALSE(largest.empty()) << "the backup has no table file";
  {
    std::fstream file(largest, std::ios::in | std::ios::out | std::ios::binary);
    file.seekp(static_cast<std::streamoff>(largest_size / 2));
    file.write("DAMAGED!", 8);
  }

  absl::StatusOr<BackupSummary> verified = VerifyBackup(Path("backups"));
  EXPECT_EQ(verified.status().code(), absl::StatusCode::kDataLoss) << verified.status();
  absl::StatusOr<BackupSummary> restored = RestoreBackup(Path("backups"), Path("restored"));
  EXPECT_EQ(restored.status().code(), absl::StatusCode::kDataLoss) << restored.status();
  EXPECT_FALSE(fs::exists(Path("restored"))) << "nothing may be restored from a damaged backup";
}

TEST_F(BackupTest, ABackupWhoseEventLogIsMissingIsReportedAndNotRestored) {
  {
    std::unique_ptr<Store> store = StoreWithData(Path("store"), 10);
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(CreateBackup(*store, Path("backups")).ok());
  }
  ASSERT_TRUE(fs::is_directory(Path("backups/intake"))) << "the log's backups sit beside the state's";
  fs::remove_all(Path("backups/intake"));
  absl::StatusOr<BackupSummary> verified = VerifyBackup(Path("backups"));
  EXPECT_EQ(verified.status().code(), absl::StatusCode::kDataLoss) << verified.status();
  absl::StatusOr<BackupSummary> restored = RestoreBackup(Path("backups"), Path("restored"));
  EXPECT_EQ(restored.status().code(), absl::StatusCode::kDataLoss) << restored.status();
  EXPECT_FALSE(fs::exists(Path("restored"))) << "a store without its log must not be restored";
}

// Adds a backup of `db` to the BackupEngine directory `dir` with `metadata`, as Tessera's own
// code would not: for leaving what an interrupted or foreign backup leaves. Returns its id.
rocksdb::BackupID AddRawBackup(const std::string& dir, rocksdb::DB* db, const std::string& metadata) {
  rocksdb::BackupEngine* raw_engine = nullptr;
  EXPECT_TRUE(rocksdb::BackupEngine::Open(rocksdb::BackupEngineOptions(dir), rocksdb::Env::Default(), &raw_engine).ok());
  std::unique_ptr<rocksdb::BackupEngine> engine(raw_engine);
  rocksdb::BackupID id = 0;
  EXPECT_TRUE(engine->CreateNewBackupWithMetadata(rocksdb::CreateBackupOptions(), db, metadata, &id).ok());
  return id;
}

TEST_F(BackupTest, ABackupWhoseLogCopyNeverFinishedIsSkippedThenDeleted) {
  std::unique_ptr<Store> store = StoreWithData(Path("store"), 20);
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(CreateBackup(*store, Path("backups")).ok());
  // What a crash during the intake's copy leaves: a state backup with no partner. Its id is 2, and
  // an old log copy that names backup 2 with another token (RocksDB gives deleted ids out again)
  // must not pass for its partner.
  ASSERT_EQ(AddRawBackup(Path("backups"), store->db(), "tessera store with intake 00000000000000aa"), 2u);
  AddRawBackup(Path("backups/intake"), store->intake_db(), "tessera intake of backup 2 00000000000000bb");

  absl::StatusOr<BackupSummary> latest = VerifyBackup(Path("backups"));
  ASSERT_TRUE(latest.ok()) << latest.status();
  EXPECT_EQ(latest->backup_id, 1u) << "the latest whole backup";
  EXPECT_EQ(VerifyBackup(Path("backups"), 2).status().code(), absl::StatusCode::kDataLoss);
  absl::StatusOr<BackupSummary> restored = RestoreBackup(Path("backups"), Path("restored"));
  ASSERT_TRUE(restored.ok()) << restored.status();
  EXPECT_EQ(restored->backup_id, 1u);

  Put(*store, ColumnFamily::kLog, "third", "3");
  absl::StatusOr<BackupSummary> next = CreateBackup(*store, Path("backups"));
  ASSERT_TRUE(next.ok()) << next.status();
  EXPECT_EQ(next->backups_in_directory, 2u) << "the unfinished backup is gone";
  EXPECT_TRUE(absl::IsNotFound(VerifyBackup(Path("backups"), 2).status()));
  absl::StatusOr<BackupSummary> third = RestoreBackup(Path("backups"), Path("third"));
  ASSERT_TRUE(third.ok()) << third.status();
  EXPECT_EQ(third->backup_id, next->backup_id);
  std::unique_ptr<Store> copy = OpenStore(Path("third"));
  ASSERT_NE(copy, nullptr);
  EXPECT_EQ(*copy->Get(ColumnFamily::kLog, "third"), "3") << "the new backup is whole, with its log";
  size_t log_backups = 0;
  for (const auto& entry : fs::directory_iterator(Path("backups/intake/meta"))) log_backups += entry.is_regular_file();
  EXPECT_EQ(log_backups, 2u) << "the unpaired log copy is deleted too";
}

TEST_F(BackupTest, BackupsThatAreNotTesserasAreLeftAlone) {
  std::unique_ptr<Store> store = StoreWithData(Path("store"), 10);
  ASSERT_NE(store, nullptr);
  ASSERT_EQ(AddRawBackup(Path("backups"), store->db(), "someone else's"), 1u);
  absl::StatusOr<BackupSummary> ours = CreateBackup(*store, Path("backups"));
  ASSERT_TRUE(ours.ok()) << ours.status();
  EXPECT_EQ(ours->backup_id, 2u);
  EXPECT_EQ(ours->backups_in_directory, 2u) << "the foreign backup is still there";
}

TEST_F(BackupTest, ABackupFromBeforeTheIntakeRestoresWithItsLogMovedOver) {
  WriteStoreFromBeforeTheIntake(Path("old"));
  {
    // Backed up as Tessera did then: one database, metadata "tessera store".
    rocksdb::BackupEngine* raw_engine = nullptr;
    ASSERT_TRUE(rocksdb::BackupEngine::Open(rocksdb::BackupEngineOptions(Path("backups")), rocksdb::Env::Default(),
                                            &raw_engine)
                    .ok());
    std::unique_ptr<rocksdb::BackupEngine> engine(raw_engine);
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    rocksdb::DB* raw_db = nullptr;
    ASSERT_TRUE(
        rocksdb::DB::Open(rocksdb::DBOptions(), Path("old"), FamiliesBeforeTheIntake(), &handles, &raw_db).ok());
    std::unique_ptr<rocksdb::DB> db(raw_db);
    rocksdb::BackupID id = 0;
    ASSERT_TRUE(engine->CreateNewBackupWithMetadata(rocksdb::CreateBackupOptions(), db.get(), "tessera store", &id).ok());
    for (auto* handle : handles) ASSERT_TRUE(db->DestroyColumnFamilyHandle(handle).ok());
  }
  ASSERT_TRUE(VerifyBackup(Path("backups")).ok());
  absl::StatusOr<BackupSummary> restored = RestoreBackup(Path("backups"), Path("restored"));
  ASSERT_TRUE(restored.ok()) << restored.status();
  std::unique_ptr<Store> store = OpenStore(Path("restored"));
  ASSERT_NE(store, nullptr);
  std::string key("default");
  key.push_back('\0');
  AppendBigEndian64(key, 7);
  EXPECT_EQ(*store->Get(ColumnFamily::kLog, key), "event 7");
  EXPECT_EQ(ReadBigEndian64(*store->Get(ColumnFamily::kIntakeMeta, kLogNextSequenceKey)), 1001u);
  EXPECT_TRUE(fs::exists(Path("restored/intake/CURRENT")));
}

TEST_F(BackupTest, UnusableBackupDirectoriesAreRefused) {
  std::unique_ptr<Store> store = StoreWithData(Path("store"), 10);
  ASSERT_NE(store, nullptr);

  std::ofstream(Path("a-file")) << "not a directory";
  EXPECT_EQ(CreateBackup(*store, Path("a-file")).status().code(), absl::StatusCode::kInvalidArgument);

  fs::create_directories(Path("documents"));
  std::ofstream(Path("documents/letter.txt")) << "someone's file";
  EXPECT_EQ(CreateBackup(*store, Path("documents")).status().code(), absl::StatusCode::kInvalidArgument)
      << "a non-empty directory without backups must not be filled with one";

  EXPECT_EQ(CreateBackup(*store, Path("store/backups")).status().code(), absl::StatusCode::kInvalidArgument)
      << "a backup inside the store it backs up";

  EXPECT_TRUE(absl::IsNotFound(VerifyBackup(Path("nowhere")).status()));
  EXPECT_TRUE(absl::IsNotFound(RestoreBackup(Path("nowhere"), Path("restored")).status()));
}

TEST_F(BackupTest, ACheckpointIsACopyOfTheStore) {
  std::unique_ptr<Store> store = StoreWithData(Path("store"), 50);
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(CreateCheckpoint(*store, Path("checkpoint")).ok());
  const std::map<std::string, std::string> expected = DumpAll(*store);
  std::unique_ptr<Store> copy = OpenStore(Path("checkpoint"));
  ASSERT_NE(copy, nullptr);
  EXPECT_EQ(DumpAll(*copy), expected);
  EXPECT_TRUE(*StoreIsLocked(Path("store")));
  store.reset();
  EXPECT_FALSE(*StoreIsLocked(Path("store")));
  EXPECT_FALSE(*StoreIsLocked(Path("no-store-here")));
}

}  // namespace
}  // namespace tessera::profile_store
