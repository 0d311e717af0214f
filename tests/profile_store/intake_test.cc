// The store's two databases: the intake (log, dedup, the log's counter) and the state. A batch
// must go to the database of its families, and a store written before the split moves its log
// into the intake when first opened for writing.

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "profile_store/store.h"
#include "rocksdb/db.h"
#include "tests/profile_store/store_before_intake.h"
#include "tests/support/temp_dir.h"

namespace tessera::profile_store {
namespace {

TEST(IntakeTest, ABatchSentToTheWrongDatabaseIsRefusedNotStoredElsewhere) {
  testing::ScopedTempDir dir;
  rocksdb::WriteBatch log_batch;
  {
    auto store = Store::Open({.path = dir.path()});
    ASSERT_TRUE(store.ok()) << store.status();
    log_batch.Put((*store)->handle(ColumnFamily::kLog), "key", "event");
    absl::Status wrong = (*store)->Write(log_batch);
    EXPECT_TRUE(absl::IsInvalidArgument(wrong)) << wrong;
    rocksdb::WriteBatch meta_batch;
    meta_batch.Put((*store)->handle(ColumnFamily::kMeta), "key", "counter");
    wrong = (*store)->WriteIntakeUnsynced(meta_batch);
    EXPECT_TRUE(absl::IsInvalidArgument(wrong)) << wrong;
    for (int i = 0; i < static_cast<int>(ColumnFamily::kCount); ++i) {
      EXPECT_TRUE(absl::IsNotFound((*store)->Get(static_cast<ColumnFamily>(i), "key").status()))
          << "family " << i << " must hold nothing";
    }
    // RocksDB then stops writes to that database until it is reopened: it cannot know what else
    // is wrong. A programming error stops loudly rather than filling another family.
    EXPECT_FALSE((*store)->WriteIntake(log_batch).ok());
  }
  // The refused batches reached the write-ahead logs; reopening replays them into nothing.
  auto store = Store::Open({.path = dir.path()});
  ASSERT_TRUE(store.ok()) << store.status();
  for (int i = 0; i < static_cast<int>(ColumnFamily::kCount); ++i) {
    EXPECT_TRUE(absl::IsNotFound((*store)->Get(static_cast<ColumnFamily>(i), "key").status()))
        << "family " << i << " must hold nothing after a reopen";
  }
  absl::Status right = (*store)->WriteIntake(log_batch);
  ASSERT_TRUE(right.ok()) << right;
  EXPECT_EQ(*(*store)->Get(ColumnFamily::kLog, "key"), "event");
}

std::string LogKey(uint64_t sequence) {
  std::string key("default");
  key.push_back('\0');
  AppendBigEndian64(key, sequence);
  return key;
}

TEST(IntakeTest, AStoreFromBeforeTheIntakeIsReadInPlaceAndMovedAtTheFirstWritableOpen) {
  testing::ScopedTempDir dir;
  const std::string path = dir.path() + "/store";
  WriteStoreFromBeforeTheIntake(path);

  {
    // Read-only (an export next to an old server): reads the log where it is and moves nothing.
    auto reader = Store::Open({.path = path, .read_only = true});
    ASSERT_TRUE(reader.ok()) << reader.status();
    EXPECT_EQ(*(*reader)->Get(ColumnFamily::kLog, LogKey(7)), "event 7");
    EXPECT_EQ(ReadBigEndian64(*(*reader)->Get(ColumnFamily::kIntakeMeta, kLogNextSequenceKey)), 1001u);
  }
  EXPECT_FALSE(std::filesystem::exists(path + "/intake"));

  {
    auto store = Store::Open({.path = path});
    ASSERT_TRUE(store.ok()) << store.status();
    EXPECT_EQ(*(*store)->Get(ColumnFamily::kLog, LogKey(1)), "event 1");
    EXPECT_EQ(*(*store)->Get(ColumnFamily::kLog, LogKey(1000)), "event 1000");
    EXPECT_EQ(*(*store)->Get(ColumnFamily::kDedup, "dedup 500"), "seen");
    EXPECT_EQ(ReadBigEndian64(*(*store)->Get(ColumnFamily::kIntakeMeta, kLogNextSequenceKey)), 1001u);
    EXPECT_TRUE(absl::IsNotFound((*store)->Get(ColumnFamily::kMeta, kLogNextSequenceKey).status()))
        << "the state keeps no second copy of the counter";
    EXPECT_EQ(*(*store)->Get(ColumnFamily::kMeta, "resolver/position/default"), "position");
    EXPECT_EQ(*(*store)->Get(ColumnFamily::kProfiles, "default-profile"), "profile");
    ASSERT_TRUE((*store)->Close().ok());
  }
  std::vector<std::string> families;
  ASSERT_TRUE(rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), path, &families).ok());
  EXPECT_EQ(std::count(families.begin(), families.end(), "log"), 0) << "the old log family is dropped";
  EXPECT_EQ(std::count(families.begin(), families.end(), "dedup"), 0);

  auto reopened = Store::Open({.path = path});
  ASSERT_TRUE(reopened.ok()) << reopened.status();
  EXPECT_EQ(*(*reopened)->Get(ColumnFamily::kLog, LogKey(999)), "event 999");
}

// Creates a store at `path` holding one row in an intake family, and closes it.
void NewStoreWithIntakeRow(const std::string& path, ColumnFamily family, const std::string& key,
                           const std::string& value) {
  auto store = Store::Open({.path = path});
  ASSERT_TRUE(store.ok()) << store.status();
  rocksdb::WriteBatch batch;
  batch.Put((*store)->handle(family), key, value);
  ASSERT_TRUE((*store)->WriteIntake(batch).ok());
}

TEST(IntakeTest, AStoreThatLostItsIntakeIsRefusedNotGivenAnEmptyLog) {
  testing::ScopedTempDir dir;
  const std::string path = dir.path() + "/store";
  NewStoreWithIntakeRow(path, ColumnFamily::kIntakeMeta, std::string(kLogNextSequenceKey), std::string(8, '\x07'));
  std::filesystem::remove_all(path + "/intake");
  auto writable = Store::Open({.path = path});
  EXPECT_TRUE(absl::IsDataLoss(writable.status())) << writable.status();
  EXPECT_FALSE(std::filesystem::exists(path + "/intake")) << "no empty log may be made in its place";
  auto reader = Store::Open({.path = path, .read_only = true});
  EXPECT_TRUE(absl::IsDataLoss(reader.status())) << reader.status();
}

// A RocksDB database at `path` with the intake's family names at ids 1..3, where the state has
// families of its own: what an intake made without the id gap would be.
void WriteIntakeWithLowIds(const std::string& path) {
  rocksdb::DBOptions options;
  options.create_if_missing = true;
  options.create_missing_column_families = true;
  std::vector<rocksdb::ColumnFamilyDescriptor> families;
  for (const char* name : {"default", "log", "dedup", "meta"}) families.emplace_back(name, rocksdb::ColumnFamilyOptions());
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  ASSERT_TRUE(rocksdb::DB::Open(options, path, families, &handles, &raw).ok());
  std::unique_ptr<rocksdb::DB> db(raw);
  ASSERT_EQ(handles[1]->GetID(), 1u);
  for (auto* handle : handles) ASSERT_TRUE(db->DestroyColumnFamilyHandle(handle).ok());
}

TEST(IntakeTest, AnIntakeLeftHalfBuiltIsBuiltAgainWithItsOwnFamilyIds) {
  testing::ScopedTempDir dir;
  const std::string path = dir.path() + "/store";
  // What a crash while creating the intake leaves beside its place, here with the families made
  // before the gap: used as it is, the log would have id 1.
  std::filesystem::create_directories(path);
  WriteIntakeWithLowIds(path + "/intake.building");
  auto store = Store::Open({.path = path});
  ASSERT_TRUE(store.ok()) << store.status();
  EXPECT_FALSE(std::filesystem::exists(path + "/intake.building"));
  for (ColumnFamily family : {ColumnFamily::kLog, ColumnFamily::kDedup, ColumnFamily::kIntakeMeta}) {
    EXPECT_GE((*store)->handle(family)->GetID(), 64u) << (*store)->handle(family)->GetName();
  }
}

TEST(IntakeTest, AnIntakeWithoutTheIdGapIsRefusedWithoutHarm) {
  testing::ScopedTempDir dir;
  const std::string path = dir.path() + "/store";
  ASSERT_TRUE(Store::Open({.path = path}).ok());
  std::filesystem::remove_all(path + "/intake");
  WriteIntakeWithLowIds(path + "/intake");
  auto store = Store::Open({.path = path});
  EXPECT_TRUE(absl::IsDataLoss(store.status())) << store.status();
  auto reader = Store::Open({.path = path, .read_only = true});
  EXPECT_TRUE(absl::IsDataLoss(reader.status())) << reader.status();
}

TEST(IntakeTest, AnEventLogWithoutItsStateIsRefused) {
  testing::ScopedTempDir dir;
  const std::string path = dir.path() + "/store";
  NewStoreWithIntakeRow(path, ColumnFamily::kLog, LogKey(1), "event 1");
  for (const auto& entry : std::filesystem::directory_iterator(path)) {
    if (entry.path().filename() != "intake") std::filesystem::remove_all(entry.path());
  }
  auto store = Store::Open({.path = path});
  EXPECT_TRUE(absl::IsDataLoss(store.status())) << store.status();
  EXPECT_FALSE(std::filesystem::exists(path + "/CURRENT")) << "no empty state may be made beside the log";
}

TEST(IntakeTest, AMoveStoppedBetweenDroppingTheOldFamiliesIsFinished) {
  testing::ScopedTempDir dir;
  const std::string path = dir.path() + "/store";
  WriteStoreFromBeforeTheIntake(path);
  ASSERT_TRUE(Store::Open({.path = path}).ok());
  {
    // "log" dropped, "dedup" not yet: what a crash between the two drops leaves.
    rocksdb::DB* raw = nullptr;
    std::vector<std::string> names;
    ASSERT_TRUE(rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), path, &names).ok());
    std::vector<rocksdb::ColumnFamilyDescriptor> families;
    for (const std::string& name : names) families.emplace_back(name, rocksdb::ColumnFamilyOptions());
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    ASSERT_TRUE(rocksdb::DB::Open(rocksdb::DBOptions(), path, families, &handles, &raw).ok());
    std::unique_ptr<rocksdb::DB> db(raw);
    rocksdb::ColumnFamilyHandle* dedup = nullptr;
    ASSERT_TRUE(db->CreateColumnFamily(rocksdb::ColumnFamilyOptions(), "dedup", &dedup).ok());
    handles.push_back(dedup);
    for (auto* handle : handles) ASSERT_TRUE(db->DestroyColumnFamilyHandle(handle).ok());
  }
  auto store = Store::Open({.path = path});
  ASSERT_TRUE(store.ok()) << store.status();
  EXPECT_EQ(*(*store)->Get(ColumnFamily::kLog, LogKey(1000)), "event 1000");
  ASSERT_TRUE((*store)->Close().ok());
  std::vector<std::string> families;
  ASSERT_TRUE(rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), path, &families).ok());
  EXPECT_EQ(std::count(families.begin(), families.end(), "dedup"), 0);
}

TEST(IntakeTest, AReadOnlyOpenOfAStoreWhoseMoveBeganReadsTheOldFamilies) {
  testing::ScopedTempDir dir;
  const std::string path = dir.path() + "/store";
  WriteStoreFromBeforeTheIntake(path);
  {
    // A move that stopped after creating the intake and before copying anything into it.
    rocksdb::Options options;
    options.create_if_missing = true;
    rocksdb::DB* raw = nullptr;
    ASSERT_TRUE(rocksdb::DB::Open(options, path + "/intake", &raw).ok());
    delete raw;
  }
  auto reader = Store::Open({.path = path, .read_only = true});
  ASSERT_TRUE(reader.ok()) << reader.status();
  EXPECT_EQ(*(*reader)->Get(ColumnFamily::kLog, LogKey(7)), "event 7");
  EXPECT_EQ(ReadBigEndian64(*(*reader)->Get(ColumnFamily::kIntakeMeta, kLogNextSequenceKey)), 1001u);
}

}  // namespace
}  // namespace tessera::profile_store
