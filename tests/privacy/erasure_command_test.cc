// Erasure commands in the log (cluster mode, ingest/log_command.h): the resolver carries one out
// exactly at its log position, after the events before it and before those after it, as every
// member of a cluster must for their states to agree.

#include <gtest/gtest.h>

#include "ingest/dedup_window.h"
#include "ingest/log_command.h"
#include "privacy/privacy_store.h"
#include "privacy/shared_suppression.h"
#include "privacy/suppression.h"
#include "resolve/rebuild.h"
#include "tests/resolve/resolver_fixture.h"

namespace tessera::privacy {
namespace {

using namespace resolve::resolver_testing;  // NOLINT: the resolver fixture and its helpers

// Records what a resolver adds to the cluster's list.
class RecordingSharedSuppression : public SharedSuppression {
 public:
  const SuppressionList* list() const override { return nullptr; }
  absl::Status Suppress(std::string_view space, const std::vector<identity::Identifier>& identifiers,
                        std::string_view request_id) override {
    if (failures_left > 0) {
      --failures_left;
      return absl::UnavailableError("NATS is away");
    }
    for (const identity::Identifier& identifier : identifiers) {
      added.push_back(std::string(space) + "/" + std::string(request_id) + "/" + identifier.type + ":" +
                      identifier.value);
    }
    return absl::OkStatus();
  }
  std::vector<std::string> added;
  int failures_left = 0;
};

class ErasureCommandTest : public ResolverTest, public ::testing::WithParamInterface<bool> {
 protected:
  void SetUp() override {
    ResolverTest::SetUp();
    auto privacy = PrivacyStore::Open(*store_);
    ASSERT_TRUE(privacy.ok()) << privacy.status();
    privacy_ = *std::move(privacy);
    suppression_ = std::make_unique<SuppressionList>(*privacy_);
  }

  std::unique_ptr<resolve::Resolver> PrivacyResolver() {
    resolve::ResolverOptions options;
    options.prefetch = GetParam();
    std::unique_ptr<resolve::Resolver> resolver = NewResolver(identity::IdentityRules(), options);
    resolver->SetSuppressionList(suppression_.get());
    resolver->SetSharedSuppression(&shared_);
    return resolver;
  }

  static ingest::ErasureCommand EraseEmail(std::string id, std::string email) {
    return ingest::ErasureCommand{.request_id = std::move(id),
                                  .identifier_type = "email",
                                  .identifier_value = std::move(email),
                                  .requested_by = "admin:test",
                                  .requested_at = FixedTime(2'000'000)};
  }

  static ingest::LogEntry CommandEntry(const ingest::ErasureCommand& command) {
    ingest::LogEntry entry{.space = std::string(kSpace),
                           .dedup_key = ingest::CommandDedupKey(kSpace, command.request_id),
                           .record = {},
                           .received_at = command.requested_at};
    ingest::EncodeErasureCommand(command, entry.record);
    return entry;
  }

  ingest::CanonicalEvent Identify(std::string user_id, std::string email, int64_t seconds) {
    ingest::CanonicalEvent event = Event(ingest::EventType::kIdentify, "web", seconds);
    event.user_id = std::move(user_id);
    if (!email.empty()) event.traits = absl::StrCat(R"({"email":")", email, R"("})");
    return event;
  }

  // A visitor without a user id: an email joins them to whoever holds it.
  ingest::CanonicalEvent Visitor(std::string anonymous_id, std::string email, int64_t seconds) {
    ingest::CanonicalEvent event = Event(ingest::EventType::kIdentify, "web", seconds);
    event.anonymous_id = std::move(anonymous_id);
    if (!email.empty()) event.traits = absl::StrCat(R"({"email":")", email, R"("})");
    return event;
  }

  bool Suppressed(std::string_view identifier_type, std::string_view value) const {
    return suppression_->Contains(kSpace, identifier_type, value);
  }

  std::unique_ptr<PrivacyStore> privacy_;
  std::unique_ptr<SuppressionList> suppression_;
  RecordingSharedSuppression shared_;
};

TEST_P(ErasureCommandTest, ACommandIsCarriedOutExactlyAtItsLogPosition) {
  // Ada, Bob, the erasure of Ada's email, then an event joining that email to a new visitor: had
  // the erasure waited for the end of the batch, a-new would have joined Ada and been suppressed.
  Append({Identify("u-ada", "ada@example.com", 10), Identify("u-bob", "bob@example.com", 11)});
  const uint64_t command_sequence = AppendEntries({CommandEntry(EraseEmail("er_1", "ada@example.com"))});
  const uint64_t last = Append({Visitor("a-new", "ada@example.com", 12), Visitor("a-new", "", 13)});
  auto resolver = PrivacyResolver();
  CatchUp(*resolver);

  EXPECT_EQ(Lookup(*resolver, type::kUserId, "u-ada"), std::nullopt);
  EXPECT_EQ(Lookup(*resolver, type::kEmail, "ada@example.com"), std::nullopt);
  EXPECT_TRUE(Lookup(*resolver, type::kUserId, "u-bob").has_value());
  EXPECT_TRUE(Lookup(*resolver, type::kAnonymousId, "a-new").has_value()) << "carried out before the event after it";
  EXPECT_TRUE(Suppressed(type::kUserId, "u-ada"));
  EXPECT_TRUE(Suppressed(type::kEmail, "ada@example.com"));
  EXPECT_FALSE(Suppressed(type::kAnonymousId, "a-new"));

  absl::StatusOr<ErasureRequest> request = privacy_->GetRequest(kSpace, "er_1");
  ASSERT_TRUE(request.ok()) << request.status();
  EXPECT_EQ(request->state, ErasureRequest::State::kCompleted);
  EXPECT_EQ(request->events, 1u);
  EXPECT_EQ(request->requested_by, "admin:test");
  EXPECT_TRUE(request->identifier_value.empty());
  // Left in the log: Bob's event and a-new's second; Ada's went with her, the event carrying her
  // email was dropped, and the command (which held the email) is gone too.
  EXPECT_EQ(Count(ColumnFamily::kLog), 2u);
  EXPECT_FALSE(store_->Get(ColumnFamily::kLog, ingest::AcceptedLog::Key(kSpace, command_sequence)).ok());
  EXPECT_EQ(resolver->position(), last);
  EXPECT_EQ(StoredPosition(), last);
  EXPECT_EQ(shared_.added, (std::vector<std::string>{"default/er_1/email:ada@example.com",
                                                     "default/er_1/user_id:u-ada"}));
}

TEST_P(ErasureCommandTest, ARequestRecordedBeforeACrashIsCarriedOutBeforeTheEventsAfterIt) {
  Append({Identify("u-ada", "ada@example.com", 10)});
  {
    auto first = PrivacyResolver();
    CatchUp(*first);
  }
  const uint64_t command_sequence = AppendEntries({CommandEntry(EraseEmail("er_2", "ada@example.com"))});
  Append({Visitor("a-new", "ada@example.com", 12), Visitor("a-new", "", 13)});
  {
    // What a crash right after the command's first write leaves: the request pending, recorded with
    // the position.
    rocksdb::WriteBatch batch;
    ErasureRequest pending{.id = "er_2", .identifier_type = "email", .identifier_value = "ada@example.com"};
    privacy_->PutRequest(kSpace, pending, batch);
    std::string position;
    profile_store::AppendBigEndian64(position, command_sequence);
    batch.Put(store_->handle(ColumnFamily::kMeta), resolve::ResolverPositionKey(kSpace), position);
    ASSERT_TRUE(store_->Write(batch).ok());
  }
  auto resolver = PrivacyResolver();
  EXPECT_FALSE(store_->Get(ColumnFamily::kLog, ingest::AcceptedLog::Key(kSpace, command_sequence)).ok())
      << "the command's record, which holds the value, goes when the resolver recovers";
  CatchUp(*resolver);
  EXPECT_EQ(privacy_->GetRequest(kSpace, "er_2")->state, ErasureRequest::State::kCompleted);
  EXPECT_EQ(Lookup(*resolver, type::kUserId, "u-ada"), std::nullopt);
  EXPECT_TRUE(Lookup(*resolver, type::kAnonymousId, "a-new").has_value());
  EXPECT_FALSE(Suppressed(type::kAnonymousId, "a-new"));
}

TEST_P(ErasureCommandTest, ACommandLoggedTwiceIsCarriedOutOnceAndADamagedOneIsDeadLettered) {
  Append({Identify("u-ada", "ada@example.com", 10)});
  AppendEntries({CommandEntry(EraseEmail("er_3", "ada@example.com"))});
  auto resolver = PrivacyResolver();
  CatchUp(*resolver);
  const ErasureRequest first = *privacy_->GetRequest(kSpace, "er_3");
  ASSERT_EQ(first.state, ErasureRequest::State::kCompleted);
  ASSERT_EQ(first.profiles, 1u);

  // Copied again under another dedup key (as a stream redelivery past the window might be), and a
  // command cut short.
  ingest::LogEntry again = CommandEntry(EraseEmail("er_3", "ada@example.com"));
  again.dedup_key = ingest::DedupWindow::Key(kSpace, "another key");
  ingest::LogEntry damaged = CommandEntry(EraseEmail("er_4", "bob@example.com"));
  damaged.record.resize(damaged.record.size() - 3);
  const uint64_t last = AppendEntries({std::move(again), std::move(damaged)});
  CatchUp(*resolver);
  const ErasureRequest second = *privacy_->GetRequest(kSpace, "er_3");
  EXPECT_EQ(second.state, ErasureRequest::State::kCompleted);
  EXPECT_EQ(second.profiles, 1u) << "the record of the first carrying out stands";
  EXPECT_EQ(second.completed_at, first.completed_at);
  EXPECT_EQ(resolver->position(), last);
  absl::StatusOr<std::string> letter = store_->Get(ColumnFamily::kDeadLetter, resolve::DeadLetterKey(kSpace, last));
  ASSERT_TRUE(letter.ok()) << letter.status();
  EXPECT_NE(letter->find("erasure command: damaged"), std::string::npos) << *letter;
  EXPECT_EQ(letter->find("bob@example.com"), std::string::npos) << "a dead letter never keeps a command's value";
}

TEST_P(ErasureCommandTest, WithoutAPrivacyStoreACommandIsNeverPassedOverAndARebuildCarriesItOut) {
  Append({Identify("u-ada", "ada@example.com", 10)});
  const uint64_t command_sequence = AppendEntries({CommandEntry(EraseEmail("er_5", "ada@example.com"))});
  Append({Identify("u-bob", "bob@example.com", 11)});
  {
    resolve::ResolverOptions options;
    options.prefetch = GetParam();
    auto bare = NewResolver(identity::IdentityRules(), options);  // As rebuild and verify once made them.
    absl::StatusOr<uint64_t> applied = bare->CatchUp();
    EXPECT_TRUE(absl::IsFailedPrecondition(applied.status())) << applied.status();
    EXPECT_EQ(bare->position(), command_sequence - 1) << "stopped before the command";
    EXPECT_TRUE(store_->Get(ColumnFamily::kLog, ingest::AcceptedLog::Key(kSpace, command_sequence)).ok());
  }
  const resolve::DerivedStateOptions defaults;
  absl::StatusOr<resolve::RebuildReport> rebuilt = resolve::Rebuild(*store_, defaults);
  ASSERT_TRUE(rebuilt.ok()) << rebuilt.status();
  EXPECT_EQ(privacy_->GetRequest(kSpace, "er_5")->state, ErasureRequest::State::kCompleted);
  auto resolver = PrivacyResolver();
  EXPECT_EQ(Lookup(*resolver, type::kUserId, "u-ada"), std::nullopt);
  EXPECT_TRUE(Lookup(*resolver, type::kUserId, "u-bob").has_value());
  EXPECT_FALSE(store_->Get(ColumnFamily::kLog, ingest::AcceptedLog::Key(kSpace, command_sequence)).ok());
}

TEST_P(ErasureCommandTest, WhatTheSharedListCouldNotTakeIsAddedOnTheNextRound) {
  Append({Identify("u-ada", "ada@example.com", 10)});
  AppendEntries({CommandEntry(EraseEmail("er_6", "ada@example.com"))});
  shared_.failures_left = 1;
  auto resolver = PrivacyResolver();
  CatchUp(*resolver);
  ASSERT_EQ(privacy_->GetRequest(kSpace, "er_6")->state, ErasureRequest::State::kCompleted);
  EXPECT_TRUE(shared_.added.empty());
  Append({Identify("u-bob", "bob@example.com", 11)});
  CatchUp(*resolver);
  EXPECT_EQ(shared_.added, (std::vector<std::string>{"default/er_6/email:ada@example.com",
                                                     "default/er_6/user_id:u-ada"}));
}

INSTANTIATE_TEST_SUITE_P(PrefetchOffAndOn, ErasureCommandTest, ::testing::Bool());

}  // namespace
}  // namespace tessera::privacy
