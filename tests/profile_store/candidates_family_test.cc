// The `candidates` family (KEYS.md): a store written before it existed opens (writable: the family
// is added; read-only: it reads as empty), and its key helpers lay rows out as documented.

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "profile_store/store.h"
#include "rocksdb/db.h"
#include "tests/support/temp_dir.h"

namespace tessera::profile_store {
namespace {

// Drops the family from the state database, as a store from before it would be.
void DropCandidates(const std::string& path) {
  std::vector<std::string> names;
  ASSERT_TRUE(rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), path, &names).ok());
  std::vector<rocksdb::ColumnFamilyDescriptor> families;
  for (const std::string& name : names) families.emplace_back(name, rocksdb::ColumnFamilyOptions());
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  ASSERT_TRUE(rocksdb::DB::Open(rocksdb::DBOptions(), path, families, &handles, &raw).ok());
  std::unique_ptr<rocksdb::DB> db(raw);
  for (size_t i = 0; i < names.size(); ++i) {
    if (names[i] == "candidates") {
      ASSERT_TRUE(db->DropColumnFamily(handles[i]).ok());
    }
  }
  for (auto* handle : handles) ASSERT_TRUE(db->DestroyColumnFamilyHandle(handle).ok());
  ASSERT_TRUE(db->Close().ok());
}

TEST(CandidatesFamilyTest, AStoreFromBeforeTheFamilyOpens) {
  tessera::testing::ScopedTempDir dir;
  {
    auto store = Store::Open({.path = dir.path(), .sync_writes = false});
    ASSERT_TRUE(store.ok()) << store.status();
    rocksdb::WriteBatch batch;
    batch.Put((*store)->handle(ColumnFamily::kProfiles), "profile-row", "kept");
    ASSERT_TRUE((*store)->Write(batch).ok());
  }
  DropCandidates(dir.path());
  {
    auto read_only = Store::Open({.path = dir.path(), .read_only = true});
    ASSERT_TRUE(read_only.ok()) << read_only.status();
    size_t rows = 0;
    EXPECT_TRUE((*read_only)
                    ->ScanPrefix(ColumnFamily::kCandidates, std::string("default", 8),
                                 [&](std::string_view, std::string_view) { ++rows; })
                    .ok());
    EXPECT_EQ(rows, 0u) << "a read-only open reads the missing family as empty";
    EXPECT_TRUE(absl::IsNotFound((*read_only)->Get(ColumnFamily::kCandidates, "x").status()));
  }
  auto store = Store::Open({.path = dir.path(), .sync_writes = false});
  ASSERT_TRUE(store.ok()) << store.status();
  rocksdb::WriteBatch batch;
  batch.Put((*store)->handle(ColumnFamily::kCandidates), CandidateKey("default", "ny:ada\x1f", 7), "");
  ASSERT_TRUE((*store)->Write(batch).ok()) << "a writable open adds the family";
  EXPECT_TRUE((*store)->Get(ColumnFamily::kCandidates, CandidateKey("default", "ny:ada\x1f", 7)).ok());
  EXPECT_EQ(*(*store)->Get(ColumnFamily::kProfiles, "profile-row"), "kept");
}

TEST(CandidatesFamilyTest, KeysAreLaidOutAsDocumented) {
  const std::string block = CandidateKey("s", "ny:ada", 0x0102);
  EXPECT_EQ(block, std::string("s\0ny:ada\0\0\0\0\0\0\0\x01\x02", 17));
  EXPECT_TRUE(block.starts_with(CandidateBlockPrefix("s", "ny:ada")));
  EXPECT_FALSE(CandidateKey("s", "ny:adam", 1).starts_with(CandidateBlockPrefix("s", "ny:ada")))
      << "a block's prefix ends with 0x00, so a longer key is another block";
  EXPECT_EQ(CandidateProfilePrefix("s", 0x0102), std::string("s\0\x01\0\0\0\0\0\0\x01\x02", 11));
  EXPECT_LT(CandidateProfilePrefix("s", ~uint64_t{0}), CandidateKey("s", "a", 0)) << "profile rows sort first";
}

}  // namespace
}  // namespace tessera::profile_store
