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
}  // namespace tessera::profile_store
