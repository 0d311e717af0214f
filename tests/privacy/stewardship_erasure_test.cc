// Erasure and stewardship: an admin's decisions name the person's identifiers, so erasing the
// person deletes those decisions' log records and the separations that hold the values.

#include <gtest/gtest.h>

#include "identity/separations.h"
#include "ingest/log_command.h"
#include "ingest/stewardship_command.h"
#include "privacy/privacy_store.h"
#include "privacy/suppression.h"
#include "tests/resolve/resolver_fixture.h"

namespace tessera::privacy {
namespace {

using namespace resolve::resolver_testing;  // NOLINT: the resolver fixture and its helpers

class StewardshipErasureTest : public ResolverTest {
 protected:
  void SetUp() override {
    ResolverTest::SetUp();
    auto privacy = PrivacyStore::Open(*store_);
    ASSERT_TRUE(privacy.ok()) << privacy.status();
    privacy_ = *std::move(privacy);
    suppression_ = std::make_unique<SuppressionList>(*privacy_);
  }

  ingest::LogEntry Decision(ingest::StewardshipCommand::Kind kind, std::string id, Identifier a, Identifier b) {
    ingest::StewardshipCommand command{.kind = kind, .request_id = id, .a = a, .b = b, .requested_by = "admin"};
    ingest::LogEntry entry{.space = std::string(kSpace), .dedup_key = ingest::CommandDedupKey(kSpace, id), .record = {}};
    ingest::EncodeStewardshipCommand(command, entry.record);
    return entry;
  }

  ingest::CanonicalEvent Visitor(std::string anonymous_id, std::string email, int64_t seconds) {
    ingest::CanonicalEvent event = Event(ingest::EventType::kIdentify, "web", seconds);
    event.anonymous_id = std::move(anonymous_id);
    event.traits = R"({"email":")" + email + R"("})";
    return event;
  }

  std::unique_ptr<PrivacyStore> privacy_;
  std::unique_ptr<SuppressionList> suppression_;
};

TEST_F(StewardshipErasureTest, ErasingAPersonDeletesTheDecisionsThatNameThem) {
  const Identifier ada = Id(type::kEmail, "ada@example.com");
  const Identifier ada_work = Id(type::kEmail, "ada@work.example");
  const Identifier bob = Id(type::kEmail, "bob@example.com");
  Append({Visitor("a-1", ada.value, 10), Visitor("a-2", ada_work.value, 11), Visitor("b-1", bob.value, 12)});
  const uint64_t merge = AppendEntries({Decision(ingest::StewardshipCommand::Kind::kMerge, "sd_1", ada, ada_work)});
  const uint64_t separate = AppendEntries({Decision(ingest::StewardshipCommand::Kind::kSeparate, "sd_2", bob, ada)});
  std::unique_ptr<resolve::Resolver> resolver = NewResolver();
  resolver->SetSuppressionList(suppression_.get());
  CatchUp(*resolver);
  ASSERT_EQ(Lookup(*resolver, type::kEmail, ada_work.value), Lookup(*resolver, type::kEmail, ada.value));
  ASSERT_FALSE(Rows(*store_, ColumnFamily::kMeta, identity::SeparationPrefix(kSpace)).empty());

  rocksdb::WriteBatch batch;
  privacy_->PutRequest(kSpace,
                       ErasureRequest{.id = "er_1", .identifier_type = "email", .identifier_value = ada.value,
                                      .requested_at = FixedTime(3'000'000), .requested_by = "admin"},
                       batch);
  ASSERT_TRUE(store_->Write(batch).ok());
  auto erased = resolver->ApplyErasures();
  ASSERT_TRUE(erased.ok()) << erased.status();
  EXPECT_EQ(*erased, 1u);

  for (uint64_t sequence : {merge, separate}) {
    EXPECT_TRUE(absl::IsNotFound(store_->Get(ColumnFamily::kLog, ingest::AcceptedLog::Key(kSpace, sequence)).status()))
        << "the decision at " << sequence << " names Ada and must go with her";
  }
  EXPECT_TRUE(Rows(*store_, ColumnFamily::kMeta, identity::SeparationPrefix(kSpace)).empty());
  auto partners = identity::SeparatedPartners(*store_, kSpace, bob);
  ASSERT_TRUE(partners.ok());
  EXPECT_TRUE(partners->empty());
  EXPECT_TRUE(Lookup(*resolver, type::kEmail, bob.value).has_value());
  for (const auto& [key, value] : Rows(*store_, ColumnFamily::kLog)) {
    EXPECT_EQ(value.find("ada@"), std::string::npos) << "a log record still holds Ada's email";
  }
}

}  // namespace
}  // namespace tessera::privacy
