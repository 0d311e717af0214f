#include "profile_store/store.h"

#include <gtest/gtest.h>

#include "tests/support/temp_dir.h"

namespace tessera::profile_store {
namespace {

TEST(StoreTest, WritesSurviveCloseAndReopen) {
  testing::ScopedTempDir dir;
  {
    auto store = Store::Open({.path = dir.path() + "/db"});
    ASSERT_TRUE(store.ok()) << store.status();
    rocksdb::WriteBatch intake;
    intake.Put((*store)->handle(ColumnFamily::kLog), "default-key", "value");
    ASSERT_TRUE((*store)->WriteIntake(intake).ok());
    rocksdb::WriteBatch state;
    state.Put((*store)->handle(ColumnFamily::kMeta), "counter", "7");
    ASSERT_TRUE((*store)->Write(state).ok());
    ASSERT_TRUE((*store)->Close().ok());
  }
  auto reopened = Store::Open({.path = dir.path() + "/db"});
  ASSERT_TRUE(reopened.ok()) << reopened.status();
  auto value = (*reopened)->Get(ColumnFamily::kLog, "default-key");
  ASSERT_TRUE(value.ok()) << value.status();
  EXPECT_EQ(*value, "value");
  EXPECT_EQ(*(*reopened)->Get(ColumnFamily::kMeta, "counter"), "7");
}

TEST(StoreTest, ColumnFamiliesAreSeparateKeySpaces) {
  testing::ScopedTempDir dir;
  auto store = Store::Open({.path = dir.path()});
  ASSERT_TRUE(store.ok()) << store.status();
  rocksdb::WriteBatch batch;
  batch.Put((*store)->handle(ColumnFamily::kDedup), "same-key", "dedup");
  ASSERT_TRUE((*store)->WriteIntake(batch).ok());
  EXPECT_TRUE(absl::IsNotFound((*store)->Get(ColumnFamily::kLog, "same-key").status()))
      << "a key written to dedup must not be visible in the log family";
  EXPECT_EQ(*(*store)->Get(ColumnFamily::kDedup, "same-key"), "dedup");
}

TEST(StoreTest, SecondOpenOfTheSameDirectoryFailsClearly) {
  testing::ScopedTempDir dir;
  auto first = Store::Open({.path = dir.path()});
  ASSERT_TRUE(first.ok()) << first.status();
  auto second = Store::Open({.path = dir.path()});
  ASSERT_FALSE(second.ok()) << "RocksDB's lock must keep a second process (or instance) out";
  EXPECT_NE(std::string(second.status().message()).find(dir.path()), std::string::npos)
      << "the error should name the directory: " << second.status();
}

TEST(StoreTest, UnwritableDirectoryIsAnError) {
  auto store = Store::Open({.path = "/proc/tessera-cannot-create-this"});
  EXPECT_FALSE(store.ok());
}

TEST(StoreTest, BigEndianRoundTripAndOrder) {
  std::string a, b;
  AppendBigEndian64(a, 255);
  AppendBigEndian64(b, 256);
  ASSERT_EQ(a.size(), 8u);
  EXPECT_LT(a, b) << "byte order must follow numeric order for log keys";
  EXPECT_EQ(ReadBigEndian64(a), 255u);
  EXPECT_EQ(ReadBigEndian64(b), 256u);
  std::string max;
  AppendBigEndian64(max, UINT64_MAX);
  EXPECT_EQ(ReadBigEndian64(max), UINT64_MAX);
}

}  // namespace

// The dedup family's compaction drops ids a retention older than the newest event written, not
// than the wall clock: a store that writes old events (a cluster member catching up) keeps them.
TEST(StoreTest, DedupCompactionReckonsAgeFromTheNewestEventWritten) {
  testing::ScopedTempDir dir;
  auto store = Store::Open({.path = dir.path(), .sync_writes = false, .dedup_retention = std::chrono::hours(1)});
  ASSERT_TRUE(store.ok()) << store.status();
  const int64_t hour_us = 3'600'000'000;
  const int64_t long_ago_us = 1'000'000'000'000'000;  // 2001: years before the wall clock.
  auto put = [&](const std::string& key, int64_t received_us) {
    std::string value;
    AppendBigEndian64(value, static_cast<uint64_t>(received_us));
    AppendBigEndian64(value, 1);
    rocksdb::WriteBatch batch;
    batch.Put((*store)->handle(ColumnFamily::kDedup), key, value);
    ASSERT_TRUE((*store)->WriteIntake(batch).ok());
  };
  auto compact = [&] {
    rocksdb::CompactRangeOptions options;
    options.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForce;
    ASSERT_TRUE((*store)->db(ColumnFamily::kDedup)
                    ->CompactRange(options, (*store)->handle(ColumnFamily::kDedup), nullptr, nullptr)
                    .ok());
  };
  put("old", long_ago_us);
  put("newer", long_ago_us + 2 * hour_us);
  compact();
  EXPECT_TRUE((*store)->Get(ColumnFamily::kDedup, "old").ok()) << "no event written yet: nothing is dropped";
  (*store)->AdvanceDedupClock(long_ago_us + 2 * hour_us);
  compact();
  EXPECT_TRUE((*store)->Get(ColumnFamily::kDedup, "old").ok()) << "two retentions are kept";
  (*store)->AdvanceDedupClock(long_ago_us + 3 * hour_us);
  (*store)->AdvanceDedupClock(long_ago_us);  // The clock never goes back.
  compact();
  EXPECT_TRUE(absl::IsNotFound((*store)->Get(ColumnFamily::kDedup, "old").status()));
  EXPECT_TRUE((*store)->Get(ColumnFamily::kDedup, "newer").ok());
}

}  // namespace tessera::profile_store
