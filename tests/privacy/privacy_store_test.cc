#include "privacy/privacy_store.h"

#include <gtest/gtest.h>

#include "tests/support/temp_dir.h"

namespace tessera::privacy {
namespace {

std::unique_ptr<profile_store::Store> OpenStore(const std::string& path) {
  auto store = profile_store::Store::Open({.path = path, .sync_writes = false});
  EXPECT_TRUE(store.ok()) << store.status();
  return store.ok() ? *std::move(store) : nullptr;
}

TEST(PrivacyStoreTest, HashesAreSaltedPerStoreAndStableAcrossRestarts) {
  tessera::testing::ScopedTempDir first_dir;
  tessera::testing::ScopedTempDir second_dir;
  std::string first_hash;
  {
    auto store = OpenStore(first_dir.path());
    auto privacy = PrivacyStore::Open(*store);
    ASSERT_TRUE(privacy.ok()) << privacy.status();
    first_hash = (*privacy)->SuppressionHash("email", "ada@example.com");
    EXPECT_EQ(first_hash.size(), 32u);
    EXPECT_NE((*privacy)->SuppressionHash("phone", "ada@example.com"), first_hash)
        << "the type is part of the hash";
    EXPECT_EQ(first_hash.find("ada@example.com"), std::string::npos);
  }
  {
    auto store = OpenStore(first_dir.path());
    auto privacy = PrivacyStore::Open(*store);
    ASSERT_TRUE(privacy.ok());
    EXPECT_EQ((*privacy)->SuppressionHash("email", "ada@example.com"), first_hash)
        << "the salt is kept in the store";
  }
  auto other_store = OpenStore(second_dir.path());
  auto other = PrivacyStore::Open(*other_store);
  ASSERT_TRUE(other.ok());
  EXPECT_NE((*other)->SuppressionHash("email", "ada@example.com"), first_hash)
      << "another store has another salt";
}

TEST(PrivacyStoreTest, RequestsRoundTripAndOnlyPendingOnesAreListed) {
  tessera::testing::ScopedTempDir dir;
  auto store = OpenStore(dir.path());
  auto privacy = PrivacyStore::Open(*store);
  ASSERT_TRUE(privacy.ok());
  ErasureRequest pending{.id = "er_1",
                         .identifier_type = "email",
                         .identifier_value = "ada@example.com",
                         .requested_at = Timestamp(std::chrono::microseconds(2)),
                         .requested_by = "admin:x"};
  ErasureRequest done{.id = "er_2",
                      .identifier_type = "phone",
                      .identifier_value = "",
                      .requested_at = Timestamp(std::chrono::microseconds(1)),
                      .requested_by = "admin:y",
                      .state = ErasureRequest::State::kCompleted,
                      .completed_at = Timestamp(std::chrono::microseconds(3)),
                      .profiles = 2,
                      .events = 7,
                      .identifiers = 4,
                      .dead_letters = 1};
  rocksdb::WriteBatch batch;
  (*privacy)->PutRequest("default", pending, batch);
  (*privacy)->PutRequest("default", done, batch);
  (*privacy)->PutRequest(
      "other", ErasureRequest{.id = "er_3", .identifier_type = "user_id", .identifier_value = "u"}, batch);
  ASSERT_TRUE(store->Write(batch).ok());

  auto read = (*privacy)->GetRequest("default", "er_2");
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(read->state, ErasureRequest::State::kCompleted);
  EXPECT_EQ(read->identifier_type, "phone");
  EXPECT_EQ(read->requested_by, "admin:y");
  EXPECT_EQ(read->completed_at, Timestamp(std::chrono::microseconds(3)));
  EXPECT_EQ(read->profiles, 2u);
  EXPECT_EQ(read->events, 7u);
  EXPECT_EQ(read->identifiers, 4u);
  EXPECT_EQ(read->dead_letters, 1u);
  EXPECT_TRUE(absl::IsNotFound((*privacy)->GetRequest("default", "er_9").status()));

  auto listed = (*privacy)->PendingRequests("default");
  ASSERT_TRUE(listed.ok()) << listed.status();
  ASSERT_EQ(listed->size(), 1u) << "completed requests and other spaces' are not pending here";
  EXPECT_EQ((*listed)[0].id, "er_1");
  EXPECT_EQ((*listed)[0].identifier_value, "ada@example.com");
}

TEST(PrivacyStoreTest, SuppressionsAreListedPerSpace) {
  tessera::testing::ScopedTempDir dir;
  auto store = OpenStore(dir.path());
  auto privacy = PrivacyStore::Open(*store);
  ASSERT_TRUE(privacy.ok());
  rocksdb::WriteBatch batch;
  const std::string a = (*privacy)->SuppressionHash("email", "a@example.com");
  const std::string b = (*privacy)->SuppressionHash("email", "b@example.com");
  (*privacy)->PutSuppression("default", a, "er_1", "email", Timestamp{}, batch);
  (*privacy)->PutSuppression("other", b, "er_2", "email", Timestamp{}, batch);
  ASSERT_TRUE(store->Write(batch).ok());
  std::vector<std::string> seen;
  ASSERT_TRUE((*privacy)
                  ->ForEachSuppression("default", [&](std::string_view hash) { seen.emplace_back(hash); })
                  .ok());
  EXPECT_EQ(seen, std::vector<std::string>{a});
}

}  // namespace
}  // namespace tessera::privacy
