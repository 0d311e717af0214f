#include "ingest/accepted_log.h"

#include <gtest/gtest.h>

#include "tests/support/temp_dir.h"

namespace tessera::ingest {
namespace {

class AcceptedLogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = profile_store::Store::Open({.path = dir_.path(), .sync_writes = false});
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = *std::move(store);
  }

  std::vector<std::pair<uint64_t, std::string>> ScanAll(AcceptedLog& log, std::string_view space, uint64_t from = 1) {
    std::vector<std::pair<uint64_t, std::string>> entries;
    absl::Status status = log.Scan(space, from, [&](uint64_t sequence, std::string_view record) {
      entries.emplace_back(sequence, std::string(record));
      return true;
    });
    EXPECT_TRUE(status.ok()) << status;
    return entries;
  }

  tessera::testing::ScopedTempDir dir_;
  std::unique_ptr<profile_store::Store> store_;
};

TEST_F(AcceptedLogTest, SpacesDoNotSeeEachOthersEntries) {
  AcceptedLog log(*store_);
  ASSERT_TRUE(log.Recover().ok());
  rocksdb::WriteBatch batch;
  log.AddToBatch("a", "one", batch);
  log.AddToBatch("ab", "two", batch);  // "a" is a prefix of "ab": the separator must keep them apart
  log.AddToBatch("a", "three", batch);
  log.FinishBatch(batch);
  ASSERT_TRUE(store_->WriteIntake(batch).ok());

  using Entries = std::vector<std::pair<uint64_t, std::string>>;
  EXPECT_EQ(ScanAll(log, "a"), (Entries{{1, "one"}, {3, "three"}}));
  EXPECT_EQ(ScanAll(log, "ab"), (Entries{{2, "two"}}));
  EXPECT_EQ(ScanAll(log, "a", 2), (Entries{{3, "three"}})) << "Scan must start at from_sequence";
  EXPECT_TRUE(ScanAll(log, "b").empty());
}

TEST_F(AcceptedLogTest, SequencesOrderNumericallyPast255) {
  AcceptedLog log(*store_);
  ASSERT_TRUE(log.Recover().ok());
  rocksdb::WriteBatch batch;
  for (int i = 0; i < 300; ++i) log.AddToBatch("s", std::to_string(i), batch);
  log.FinishBatch(batch);
  ASSERT_TRUE(store_->WriteIntake(batch).ok());
  auto entries = ScanAll(log, "s");
  ASSERT_EQ(entries.size(), 300u);
  for (size_t i = 0; i < entries.size(); ++i) {
    ASSERT_EQ(entries[i].first, i + 1);
    ASSERT_EQ(entries[i].second, std::to_string(i)) << "entries out of order at " << i;
  }
}

TEST_F(AcceptedLogTest, RecoverReadsTheNextSequenceWrittenWithTheBatch) {
  {
    AcceptedLog log(*store_);
    ASSERT_TRUE(log.Recover().ok());
    EXPECT_EQ(log.next_sequence(), 1u) << "an empty store starts at 1";
    rocksdb::WriteBatch batch;
    log.AddToBatch("s", "x", batch);
    log.AddToBatch("s", "y", batch);
    log.FinishBatch(batch);
    ASSERT_TRUE(store_->WriteIntake(batch).ok());
  }
  AcceptedLog recovered(*store_);
  ASSERT_TRUE(recovered.Recover().ok());
  EXPECT_EQ(recovered.next_sequence(), 3u);
}

TEST_F(AcceptedLogTest, ScanStopsWhenTheVisitorSaysSo) {
  AcceptedLog log(*store_);
  ASSERT_TRUE(log.Recover().ok());
  rocksdb::WriteBatch batch;
  for (int i = 0; i < 10; ++i) log.AddToBatch("s", "r", batch);
  log.FinishBatch(batch);
  ASSERT_TRUE(store_->WriteIntake(batch).ok());
  int visited = 0;
  ASSERT_TRUE(log.Scan("s", 1, [&](uint64_t, std::string_view) { return ++visited < 3; }).ok());
  EXPECT_EQ(visited, 3);
}

}  // namespace
}  // namespace tessera::ingest
