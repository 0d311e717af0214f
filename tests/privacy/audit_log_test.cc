#include "privacy/audit_log.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <memory>
#include <thread>

#include "tests/support/temp_dir.h"

namespace tessera::privacy {
namespace {

Timestamp At(int64_t seconds) { return Timestamp(std::chrono::seconds(1'700'000'000 + seconds)); }

class AuditLogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = profile_store::Store::Open({.path = dir_.path(), .sync_writes = false});
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = *std::move(store);
    log_ = std::make_unique<AuditLog>(*store_);
  }

  void Append(int64_t seconds, std::string key, std::string action, int status = 200) {
    AuditEntry entry{.time = At(seconds),
                     .key = std::move(key),
                     .action = std::move(action),
                     .target = "profile p0000000000000001 by email",
                     .space = "default",
                     .status = status};
    ASSERT_TRUE(log_->Append(entry, /*durable=*/false).ok());
  }

  std::vector<std::string> Actions(const AuditQuery& query) {
    auto page = log_->Query(query);
    EXPECT_TRUE(page.ok()) << page.status();
    std::vector<std::string> actions;
    if (page.ok()) {
      for (const AuditEntry& entry : page->entries) actions.push_back(entry.action);
    }
    return actions;
  }

  tessera::testing::ScopedTempDir dir_;
  std::unique_ptr<profile_store::Store> store_;
  std::unique_ptr<AuditLog> log_;
};

TEST_F(AuditLogTest, EntriesComeBackOldestFirstWithEveryField) {
  Append(20, "admin:aaaaaaaaaaaa", "PUT /v1/audiences");
  Append(10, "read:bbbbbbbbbbbb", "GET /v1/profiles", 404);
  auto page = log_->Query({});
  ASSERT_TRUE(page.ok()) << page.status();
  ASSERT_EQ(page->entries.size(), 2u);
  const AuditEntry& first = page->entries[0];
  EXPECT_EQ(first.time, At(10)) << "ordered by time, not by append order";
  EXPECT_EQ(first.key, "read:bbbbbbbbbbbb");
  EXPECT_EQ(first.action, "GET /v1/profiles");
  EXPECT_EQ(first.target, "profile p0000000000000001 by email");
  EXPECT_EQ(first.space, "default");
  EXPECT_EQ(first.status, 404);
  EXPECT_EQ(page->next, "");
}

TEST_F(AuditLogTest, EntriesInTheSameMicrosecondAreAllKept) {
  for (int i = 0; i < 5; ++i) Append(1, "admin:a", "POST /v1/privacy/erase");
  EXPECT_EQ(Actions({}).size(), 5u);
}

TEST_F(AuditLogTest, FiltersByTimeRangeKeyAndActionPrefix) {
  Append(10, "admin:a", "PUT /v1/audiences");
  Append(20, "read:b", "GET /v1/profiles");
  Append(30, "admin:a", "POST /v1/privacy/erase");
  Append(40, "read:b", "GET /v1/audiences");
  EXPECT_EQ(Actions({.since = At(20), .until = At(40)}),
            (std::vector<std::string>{"GET /v1/profiles", "POST /v1/privacy/erase"}))
      << "since is inclusive, until exclusive";
  EXPECT_EQ(Actions({.key = "admin:a"}),
            (std::vector<std::string>{"PUT /v1/audiences", "POST /v1/privacy/erase"}));
  EXPECT_EQ(Actions({.action_prefix = "GET"}),
            (std::vector<std::string>{"GET /v1/profiles", "GET /v1/audiences"}));
  EXPECT_TRUE(Actions({.key = "nobody"}).empty());
}

TEST_F(AuditLogTest, PagesFollowTheCursorWithoutGapsOrRepeats) {
  for (int i = 0; i < 7; ++i) Append(i, "admin:a", "GET /v1/audit " + std::to_string(i));
  std::vector<std::string> seen;
  AuditQuery query{.limit = 3};
  for (int pages = 0; pages < 10; ++pages) {
    auto page = log_->Query(query);
    ASSERT_TRUE(page.ok()) << page.status();
    for (const AuditEntry& entry : page->entries) seen.push_back(entry.action);
    if (page->next.empty()) break;
    query.cursor = page->next;
  }
  ASSERT_EQ(seen.size(), 7u);
  for (int i = 0; i < 7; ++i) EXPECT_EQ(seen[i], "GET /v1/audit " + std::to_string(i));
}

// Rows of the audit column family as stored, without going through Query (which writes first).
size_t StoredRows(profile_store::Store& store) {
  std::unique_ptr<rocksdb::Iterator> it(
      store.db()->NewIterator(rocksdb::ReadOptions(), store.handle(profile_store::ColumnFamily::kAudit)));
  size_t rows = 0;
  for (it->SeekToFirst(); it->Valid(); it->Next()) ++rows;
  return rows;
}

TEST_F(AuditLogTest, DurableEntriesAreWrittenBeforeAppendReturnsAndReadsSoonAfter) {
  Append(1, "read:b", "GET /v1/profiles");
  AuditEntry change{.time = At(2),
                    .key = "admin:a",
                    .action = "PUT /v1/audiences",
                    .target = "vip",
                    .space = "default",
                    .status = 200};
  ASSERT_TRUE(log_->Append(change, /*durable=*/true).ok());
  EXPECT_EQ(StoredRows(*store_), 2u) << "a durable append writes the entries waiting before it too";

  Append(3, "read:b", "GET /v1/profiles");
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (StoredRows(*store_) < 3 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(AuditLog::kFlushInterval / 5);
  }
  EXPECT_EQ(StoredRows(*store_), 3u) << "the background writer stores a read's entry within its interval";
}

// Every profile read appends an entry. A store write can wait behind other writers (a resolver
// batch holds RocksDB's write queue for ~20 ms), so appending must not wait for a write in
// progress; the write here is held open until the appends are done.
TEST_F(AuditLogTest, AppendsGoOnWhileAWriteOfEarlierEntriesIsInProgress) {
  std::promise<void> writing;
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::atomic<bool> first{true};
  log_.reset();
  log_ = std::make_unique<AuditLog>(*store_, [&] {
    if (first.exchange(false)) {
      writing.set_value();
      released.wait();
    }
  });
  for (size_t i = 0; i < AuditLog::kBatchEntries; ++i) Append(1, "read:b", "GET /v1/profiles");
  ASSERT_EQ(writing.get_future().wait_for(std::chrono::seconds(30)), std::future_status::ready)
      << "a full batch wakes the background writer";

  // The background writer is now inside its write. An append that waited for it would never return.
  auto appended = std::async(std::launch::async, [&] {
    for (int i = 0; i < 10; ++i) Append(2, "read:c", "GET /v1/profiles");
  });
  const std::future_status status = appended.wait_for(std::chrono::seconds(30));
  release.set_value();
  ASSERT_EQ(status, std::future_status::ready) << "Append waited for the store write in progress";
  appended.get();

  // Nothing is lost or reordered: a query sees all entries, the held batch's first.
  auto page = log_->Query({.limit = 1000});
  ASSERT_TRUE(page.ok()) << page.status();
  ASSERT_EQ(page->entries.size(), AuditLog::kBatchEntries + 10);
  EXPECT_EQ(page->entries.front().key, "read:b");
  EXPECT_EQ(page->entries.back().key, "read:c");
}

TEST_F(AuditLogTest, AMalformedCursorIsAnInvalidArgument) {
  auto page = log_->Query({.cursor = "not-a-cursor"});
  EXPECT_TRUE(absl::IsInvalidArgument(page.status())) << page.status();
}

TEST_F(AuditLogTest, EntriesSurviveReopeningTheStore) {
  Append(5, "admin:a", "DELETE /v1/audiences");
  log_.reset();  // Writes what is still waiting.
  ASSERT_TRUE(store_->Close().ok());
  auto store = profile_store::Store::Open({.path = dir_.path(), .sync_writes = false});
  ASSERT_TRUE(store.ok()) << store.status();
  store_ = *std::move(store);
  log_ = std::make_unique<AuditLog>(*store_);
  EXPECT_EQ(Actions({}), (std::vector<std::string>{"DELETE /v1/audiences"}));
}

}  // namespace
}  // namespace tessera::privacy
