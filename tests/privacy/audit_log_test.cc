#include "privacy/audit_log.h"

#include <gtest/gtest.h>

#include <chrono>
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
