// Erasure at the resolver level, on a real store: what is deleted, what is kept, what is
// suppressed afterwards, and that the deleted values leave the store's files.

#include "privacy/erasure.h"

#include <filesystem>
#include <fstream>
#include <iterator>

#include "absl/strings/str_cat.h"
#include "base/json_writer.h"
#include "ingest/event_codec.h"
#include "privacy/privacy_store.h"
#include "privacy/suppression.h"
#include "resolve/rebuild.h"
#include "tests/resolve/resolver_fixture.h"

namespace tessera::privacy {
namespace {

using namespace resolve::resolver_testing;  // NOLINT: the resolver fixture and its helpers

class ErasureTest : public ResolverTest {
 protected:
  void SetUp() override {
    ResolverTest::SetUp();
    auto privacy = privacy::PrivacyStore::Open(*store_);
    ASSERT_TRUE(privacy.ok()) << privacy.status();
    privacy_ = *std::move(privacy);
    suppression_ = std::make_unique<SuppressionList>(*privacy_);
  }

  std::unique_ptr<resolve::Resolver> PrivacyResolver() {
    std::unique_ptr<resolve::Resolver> resolver = NewResolver();
    resolver->SetSuppressionList(suppression_.get());
    return resolver;
  }

  // What IngestPipeline::RequestErasure records: a pending request and the named identifier's
  // suppression.
  std::string Request(std::string type, std::string normalized_value) {
    ErasureRequest request;
    request.id = privacy::PrivacyStore::NewRequestId();
    request.identifier_type = type;
    request.identifier_value = normalized_value;
    request.requested_at = FixedTime(5'000'000);
    request.requested_by = "admin:test";
    rocksdb::WriteBatch batch;
    privacy_->PutRequest(kSpace, request, batch);
    std::string hash = privacy_->SuppressionHash(type, normalized_value);
    privacy_->PutSuppression(kSpace, hash, request.id, type, request.requested_at, batch);
    EXPECT_TRUE(store_->Write(batch).ok());
    suppression_->Add(kSpace, std::move(hash));
    return request.id;
  }

  ErasureRequest Status(const std::string& id) {
    auto request = privacy_->GetRequest(kSpace, id);
    EXPECT_TRUE(request.ok()) << request.status();
    return request.ok() ? *request : ErasureRequest{};
  }

  // Ada: anonymous browsing, a login (merging her user profile into it), an order on the till
  // with her phone; she shares a blocked (all-zero) device id with Bob. Bob: his own events.
  void SeedAdaAndBob() {
    ingest::CanonicalEvent browse = Event(ingest::EventType::kPage, "web", 10);
    browse.anonymous_id = "a-ada";
    browse.context = R"({"device":{"id":"00000000-0000-0000-0000-000000000000"}})";
    ingest::CanonicalEvent app = Event(ingest::EventType::kTrack, "app", 15);
    app.user_id = "u-ada";
    ingest::CanonicalEvent login = Event(ingest::EventType::kIdentify, "web", 20);
    login.anonymous_id = "a-ada";
    login.user_id = "u-ada";
    login.traits = R"({"email":"Ada@Example.com","name":"Ada"})";
    ingest::CanonicalEvent till = Event(ingest::EventType::kTrack, "pos", 30);
    till.event = "Order Completed";
    till.context = R"({"traits":{"email":"ada@example.com","phone":"+1 415-555-2671"}})";
    ingest::CanonicalEvent bob = Event(ingest::EventType::kIdentify, "web", 40);
    bob.user_id = "u-bob";
    bob.traits = R"({"email":"bob@example.com"})";
    bob.context = R"({"device":{"id":"00000000-0000-0000-0000-000000000000"}})";
    ingest::CanonicalEvent bob_order = Event(ingest::EventType::kTrack, "pos", 50);
    bob_order.user_id = "u-bob";
    bob_order.event = "Order Completed";
    Append({browse, app, login, till, bob, bob_order});
  }

  std::unique_ptr<privacy::PrivacyStore> privacy_;
  std::unique_ptr<SuppressionList> suppression_;
};

TEST_F(ErasureTest, AnErasureStoppedAfterItsLogPartRunsAgainToTheEnd) {
  SeedAdaAndBob();
  auto resolver = PrivacyResolver();
  EXPECT_EQ(CatchUp(*resolver), 6u);
  const std::optional<ProfileId> ada = Lookup(*resolver, type::kEmail, "ada@example.com");
  ASSERT_TRUE(ada);
  const std::string id = Request("phone", "+14155552671");
  {
    // What a crash between the resolver's two writes leaves: the log records and dedup entries
    // deleted (the intake's part, written first), the profile and the pending request still there.
    rocksdb::WriteBatch state;
    rocksdb::WriteBatch intake;
    absl::StatusOr<ErasedPerson> collected =
        CollectErasure(*store_, kSpace, *StoredProfile(*ada), extractor_, *normalizer_, state, intake);
    ASSERT_TRUE(collected.ok()) << collected.status();
    ASSERT_GT(intake.Count(), 0u);
    ASSERT_TRUE(store_->WriteIntake(intake).ok());
  }
  EXPECT_EQ(Count(ColumnFamily::kLog), 2u);
  EXPECT_EQ(Status(id).state, ErasureRequest::State::kPending);

  absl::StatusOr<uint64_t> completed = resolver->ApplyErasures();
  ASSERT_TRUE(completed.ok()) << completed.status();
  EXPECT_EQ(*completed, 1u);
  const ErasureRequest status = Status(id);
  EXPECT_EQ(status.state, ErasureRequest::State::kCompleted);
  EXPECT_EQ(status.profiles, 2u);
  EXPECT_EQ(status.events, 4u) << "the person's events are counted though their records went first";
  EXPECT_FALSE(StoredProfile(*ada).has_value());
  EXPECT_EQ(Lookup(*resolver, type::kUserId, "u-ada"), std::nullopt);
  EXPECT_EQ(Count(ColumnFamily::kLog), 2u) << "Bob's two events";
  EXPECT_EQ(Count(ColumnFamily::kDedup), 2u);
}

// Every regular file below `dir` whose bytes contain `needle`.
std::vector<std::string> FilesContaining(const std::string& dir, std::string_view needle) {
  std::vector<std::string> found;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir)) {
    if (!entry.is_regular_file()) continue;
    std::ifstream in(entry.path(), std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (bytes.find(needle) != std::string::npos) found.push_back(entry.path().filename().string());
  }
  return found;
}

TEST_F(ErasureTest, ErasesThePersonAndEveryMergedProfileButNobodyElse) {
  SeedAdaAndBob();
  auto resolver = PrivacyResolver();
  EXPECT_EQ(CatchUp(*resolver), 6u);
  const std::optional<ProfileId> ada = Lookup(*resolver, type::kEmail, "ada@example.com");
  const std::optional<ProfileId> bob = Lookup(*resolver, type::kEmail, "bob@example.com");
  ASSERT_TRUE(ada && bob);
  ASSERT_FALSE(StoredProfile(*ada)->merged_from.empty()) << "the seed must merge two of Ada's profiles";
  const std::vector<std::string> bob_timeline = Timeline(*bob);
  const std::optional<Profile> bob_before = StoredProfile(*bob);

  const std::string id = Request("phone", "+14155552671");
  absl::StatusOr<uint64_t> completed = resolver->ApplyErasures();
  ASSERT_TRUE(completed.ok()) << completed.status();
  EXPECT_EQ(*completed, 1u);

  const ErasureRequest status = Status(id);
  EXPECT_EQ(status.state, ErasureRequest::State::kCompleted);
  EXPECT_EQ(status.identifier_value, "") << "a completed request keeps no identifier value";
  EXPECT_EQ(status.profiles, 2u) << "Ada's live profile and the one merged into it";
  EXPECT_EQ(status.events, 4u);
  EXPECT_EQ(status.identifiers, 4u) << "anonymous id, user id, email, phone";

  EXPECT_FALSE(StoredProfile(*ada).has_value());
  EXPECT_TRUE(Timeline(*ada).empty());
  EXPECT_EQ(Lookup(*resolver, type::kEmail, "ada@example.com"), std::nullopt);
  EXPECT_EQ(Lookup(*resolver, type::kUserId, "u-ada"), std::nullopt);
  EXPECT_EQ(Lookup(*resolver, type::kAnonymousId, "a-ada"), std::nullopt);
  EXPECT_EQ(Lookup(*resolver, type::kPhone, "+14155552671"), std::nullopt);
  EXPECT_EQ(Count(ColumnFamily::kLog), 2u) << "only Bob's two events are left in the log";
  EXPECT_EQ(Count(ColumnFamily::kDedup), 2u) << "and only their dedup entries";

  // Bob shared a blocked device id with Ada: he is untouched.
  EXPECT_EQ(Lookup(*resolver, type::kEmail, "bob@example.com"), bob);
  EXPECT_EQ(Timeline(*bob), bob_timeline);
  std::string before;
  std::string after;
  profile_store::EncodeProfile(*bob_before, before);
  profile_store::EncodeProfile(*StoredProfile(*bob), after);
  EXPECT_EQ(after, before);

  // Data files and the write-ahead log lose the values at once. The MANIFEST may still name them
  // as the key range of a file that no longer exists, until it rolls over or the store is opened
  // again (which writes a fresh one): KEYS.md says so.
  const std::vector<std::string_view> erased_values = {"ada@example.com", "+14155552671", "u-ada", "a-ada"};
  for (std::string_view value : erased_values) {
    std::vector<std::string> files = FilesContaining(dir_.path(), value);
    std::erase_if(files, [](const std::string& name) { return name.starts_with("MANIFEST-"); });
    EXPECT_THAT(files, ::testing::IsEmpty())
        << value << " must be compacted out of the store's files, not only tombstoned";
  }
  resolver.reset();
  ASSERT_TRUE(store_->Close().ok());
  auto reopened = profile_store::Store::Open({.path = dir_.path(), .sync_writes = false});
  ASSERT_TRUE(reopened.ok()) << reopened.status();
  store_ = *std::move(reopened);
  for (std::string_view value : erased_values) {
    EXPECT_THAT(FilesContaining(dir_.path(), value), ::testing::IsEmpty())
        << value << " is still in a file after a restart";
  }
  EXPECT_THAT(FilesContaining(dir_.path(), "bob@example.com"), ::testing::Not(::testing::IsEmpty()))
      << "the scan itself must be able to find a value that is still stored";
}

// Issue 26: free text a service source kept lives only in the logged event, so the erasure of the
// person takes it with the event: out of the log, off the profile's events, out of the files.
TEST_F(ErasureTest, AKeptTranscriptGoesWithTheErasedPersonsEvents) {
  constexpr std::string_view kTranscript = "my card number is 4111 1111 1111 1111";
  ingest::CanonicalEvent call = Event(ingest::EventType::kTrack, "service", 10);
  call.event = "Call Transcription Completed";
  call.properties = absl::StrCat(R"({"provider":"twilio","call_sid":"CA1","transcript":")", std::string(kTranscript), R"("})");
  call.context = R"({"traits":{"phone":"+1 415-555-2671"}})";
  ingest::CanonicalEvent bob = Event(ingest::EventType::kIdentify, "web", 20);
  bob.user_id = "u-bob";
  Append({call, bob});
  auto resolver = PrivacyResolver();
  EXPECT_EQ(CatchUp(*resolver), 2u);
  const std::optional<ProfileId> caller = Lookup(*resolver, type::kPhone, "+14155552671");
  ASSERT_TRUE(caller);
  ASSERT_EQ(Timeline(*caller).size(), 1u) << "the call is one of the caller's events";
  auto logged_transcripts = [&] {
    size_t found = 0;
    for (const std::string& record : Values(Rows(*store_, ColumnFamily::kLog))) {
      absl::StatusOr<std::string> json = ingest::RecordAsJson(record);
      if (json.ok() && json->find(kTranscript) != std::string::npos) ++found;
    }
    return found;
  };
  ASSERT_EQ(logged_transcripts(), 1u) << "the source kept the transcript: it must be in the log to begin with";

  Request("phone", "+14155552671");
  absl::StatusOr<uint64_t> completed = resolver->ApplyErasures();
  ASSERT_TRUE(completed.ok()) << completed.status();
  ASSERT_EQ(*completed, 1u);

  EXPECT_EQ(logged_transcripts(), 0u) << "the transcript left the log with its event";
  EXPECT_TRUE(Timeline(*caller).empty()) << "the profile lists no events any more";
  EXPECT_FALSE(StoredProfile(*caller).has_value());
  EXPECT_EQ(Count(ColumnFamily::kLog), 1u) << "Bob's event stays";
  std::vector<std::string> files = FilesContaining(dir_.path(), kTranscript);
  std::erase_if(files, [](const std::string& name) { return name.starts_with("MANIFEST-"); });
  EXPECT_THAT(files, ::testing::IsEmpty()) << "the text is compacted out of the store's files, not only tombstoned";
}

TEST_F(ErasureTest, EveryIdentifierOfTheErasedPersonIsSuppressedForLaterEvents) {
  SeedAdaAndBob();
  auto resolver = PrivacyResolver();
  CatchUp(*resolver);
  Request("email", "ada@example.com");
  ASSERT_TRUE(resolver->ApplyErasures().ok());

  EXPECT_TRUE(suppression_->Contains(kSpace, "phone", "+14155552671")) << "identifiers found on her profile";
  EXPECT_TRUE(suppression_->Contains(kSpace, "user_id", "u-ada"));
  EXPECT_FALSE(suppression_->Contains(kSpace, "email", "bob@example.com"));
  EXPECT_FALSE(suppression_->Contains(kSpace, "device_id", "00000000-0000-0000-0000-000000000000"));

  // An event accepted before ingestion knew (in the log, not yet applied) is deleted, not applied.
  ingest::CanonicalEvent late = Event(ingest::EventType::kTrack, "app", 60);
  late.user_id = "u-ada";
  ingest::CanonicalEvent other = Event(ingest::EventType::kTrack, "app", 61);
  other.user_id = "u-bob";
  Append({late, other});
  EXPECT_EQ(CatchUp(*resolver), 2u);
  EXPECT_EQ(Lookup(*resolver, type::kUserId, "u-ada"), std::nullopt)
      << "a suppressed event must not bring her back";
  EXPECT_EQ(resolver->metrics().events_suppressed.load(), 1u);
  EXPECT_EQ(Count(ColumnFamily::kLog), 3u) << "Bob's three events; Ada's late event was deleted";

  // A new store list loaded from disk has the same entries (the list survives a restart).
  SuppressionList reloaded(*privacy_);
  ASSERT_TRUE(reloaded.Load(kSpace).ok());
  EXPECT_TRUE(reloaded.Contains(kSpace, "user_id", "u-ada"));
}

TEST_F(ErasureTest, APendingRequestSurvivesARestartAndIsCarriedOutThen) {
  SeedAdaAndBob();
  {
    auto resolver = PrivacyResolver();
    CatchUp(*resolver);
  }
  const std::string id = Request("user_id", "u-ada");
  EXPECT_EQ(Status(id).state, ErasureRequest::State::kPending);
  EXPECT_EQ(Status(id).identifier_value, "u-ada");

  auto restarted = PrivacyResolver();
  absl::StatusOr<uint64_t> completed = restarted->ApplyErasures();
  ASSERT_TRUE(completed.ok()) << completed.status();
  EXPECT_EQ(*completed, 1u);
  EXPECT_EQ(Status(id).state, ErasureRequest::State::kCompleted);
  EXPECT_EQ(Lookup(*restarted, type::kEmail, "ada@example.com"), std::nullopt);
  absl::StatusOr<uint64_t> again = restarted->ApplyErasures();
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, 0u) << "a completed request is not carried out twice";
}

TEST_F(ErasureTest, ARebuildAfterErasuresGivesEveryoneElseTheProfileIdsTheyHad) {
  // Ada's two profiles come first (ids 1 and 2), then Bob (3), Carol (4) and Dave (5); Ada and
  // then Dave, the last to get an id, are erased. Rebuilt from what the log still holds, Bob and
  // Carol must keep their ids (CRM front ends hold them) and the next id must not go back.
  SeedAdaAndBob();
  auto resolver = PrivacyResolver();
  CatchUp(*resolver);
  const std::string ada = Request("email", "ada@example.com");
  ASSERT_TRUE(resolver->ApplyErasures().ok());
  ingest::CanonicalEvent carol = Event(ingest::EventType::kIdentify, "web", 60);
  carol.user_id = "u-carol";
  ingest::CanonicalEvent dave = Event(ingest::EventType::kIdentify, "web", 70);
  dave.user_id = "u-dave";
  Append({carol, dave});
  CatchUp(*resolver);
  const std::string dave_request = Request("user_id", "u-dave");
  ASSERT_TRUE(resolver->ApplyErasures().ok());
  ASSERT_EQ(Status(dave_request).profiles, 1u);
  ASSERT_EQ(Lookup(*resolver, type::kUserId, "u-bob"), ProfileId{3});
  ASSERT_EQ(Lookup(*resolver, type::kUserId, "u-carol"), ProfileId{4});
  const auto live = DerivedState();
  resolver.reset();

  const resolve::DerivedStateOptions defaults;

  absl::StatusOr<resolve::RebuildReport> rebuild = resolve::Rebuild(*store_, defaults);
  ASSERT_TRUE(rebuild.ok()) << rebuild.status();
  ExpectSameState(live, DerivedState());
  auto rebuilt = PrivacyResolver();
  ingest::CanonicalEvent erin = Event(ingest::EventType::kIdentify, "web", 80);
  erin.user_id = "u-erin";
  Append({erin});
  CatchUp(*rebuilt);
  EXPECT_EQ(Lookup(*rebuilt, type::kUserId, "u-erin"), ProfileId{6}) << "no id is given twice";
}

TEST_F(ErasureTest, ARebuildOfASpaceWhoseEveryPersonWasErasedKeepsItsCounters) {
  ingest::CanonicalEvent ada = Event(ingest::EventType::kIdentify, "web", 10);
  ada.user_id = "u-ada";
  Append({ada});
  auto resolver = PrivacyResolver();
  CatchUp(*resolver);
  Request("user_id", "u-ada");
  ASSERT_TRUE(resolver->ApplyErasures().ok());
  ASSERT_EQ(Count(ColumnFamily::kLog), 0u);
  const auto live = DerivedState();
  resolver.reset();
  const resolve::DerivedStateOptions defaults;
  absl::StatusOr<resolve::RebuildReport> rebuild = resolve::Rebuild(*store_, defaults);
  ASSERT_TRUE(rebuild.ok()) << rebuild.status();
  ExpectSameState(live, DerivedState());
}

TEST_F(ErasureTest, AnUnknownIdentifierCompletesWithNothingErasedButStaysSuppressed) {
  SeedAdaAndBob();
  auto resolver = PrivacyResolver();
  CatchUp(*resolver);
  const auto before = DerivedState();
  const std::string id = Request("email", "nobody@example.com");
  ASSERT_TRUE(resolver->ApplyErasures().ok());
  const ErasureRequest status = Status(id);
  EXPECT_EQ(status.state, ErasureRequest::State::kCompleted);
  EXPECT_EQ(status.profiles, 0u);
  EXPECT_EQ(status.events, 0u);
  ExpectSameState(before, DerivedState());
  EXPECT_TRUE(suppression_->Contains(kSpace, "email", "nobody@example.com"));
}

TEST_F(ErasureTest, AnotherPersonsRefusedMergeRecordsKeepTheirPlaceButLoseTheErasedValues) {
  // Ada and Bob both use the shared anonymous id; their two user ids refuse the merge, and the
  // decision is filed on both profiles.
  ingest::CanonicalEvent ada = Event(ingest::EventType::kIdentify, "web", 10);
  ada.user_id = "u-ada";
  ada.anonymous_id = "a-shared";
  ada.traits = R"({"email":"ada@example.com"})";
  ingest::CanonicalEvent bob = Event(ingest::EventType::kIdentify, "web", 20);
  bob.user_id = "u-bob";
  bob.anonymous_id = "a-shared";
  Append({ada, bob});
  auto resolver = PrivacyResolver();
  CatchUp(*resolver);
  const std::optional<ProfileId> bob_id = Lookup(*resolver, type::kUserId, "u-bob");
  const std::optional<ProfileId> ada_id = Lookup(*resolver, type::kUserId, "u-ada");
  ASSERT_TRUE(bob_id && ada_id);
  ASSERT_NE(*bob_id, *ada_id) << "the seed must refuse the merge";
  const auto mentions_ada = [&] {
    for (const std::string& record : Records(*bob_id)) {
      for (const char* value : {"u-ada", "ada@example.com", "a-shared"}) {
        if (record.find(value) != std::string::npos) return true;
      }
    }
    return false;
  };
  const size_t bob_records = Records(*bob_id).size();
  ASSERT_GT(bob_records, 0u);
  ASSERT_TRUE(mentions_ada()) << "the refused merge on Bob's profile names the anonymous id Ada holds";

  Request("user_id", "u-ada");
  ASSERT_TRUE(resolver->ApplyErasures().ok());
  EXPECT_EQ(Records(*bob_id).size(), bob_records) << "Bob's history keeps its records";
  EXPECT_FALSE(mentions_ada()) << "no value of Ada's is left in Bob's records";
  bool redacted = false;
  for (const std::string& record : Records(*bob_id))
    redacted |= record.find("anonymous_id:<erased>") != std::string::npos;
  EXPECT_TRUE(redacted) << "the values are replaced, not the records dropped";
  EXPECT_EQ(Lookup(*resolver, type::kUserId, "u-bob"), bob_id);
}

TEST_F(ErasureTest, DeadLettersCarryingTheErasedIdentifiersAreDeleted) {
  ingest::CanonicalEvent ada = Event(ingest::EventType::kIdentify, "web", 10);
  ada.user_id = "u-ada";
  ada.traits = R"({"email":"ada@example.com"})";
  Append({ada});
  auto resolver = PrivacyResolver();
  CatchUp(*resolver);
  // A dead letter as the resolver writes it, holding an event with her email.
  ingest::CanonicalEvent failed = Event(ingest::EventType::kTrack, "web", 11);
  failed.user_id = "u-other";
  failed.traits = R"({"email":"ada@example.com"})";
  failed.context = R"({"traits":{"email":"ada@example.com"}})";
  std::string record;
  {
    ingest::LogEntry entry = ingest::MakeLogEntry(failed);
    absl::StatusOr<std::string> json = ingest::RecordAsJson(entry.record);
    ASSERT_TRUE(json.ok()) << json.status();
    record = *json;
  }
  std::string dead_letter;
  base::JsonWriter json(dead_letter);
  json.BeginObject()
      .Key("sequence")
      .Uint(99)
      .Key("reason")
      .String("test")
      .Key("record")
      .String(record)
      .EndObject();
  rocksdb::WriteBatch batch;
  batch.Put(store_->handle(ColumnFamily::kDeadLetter), resolve::DeadLetterKey(kSpace, 99), dead_letter);
  ASSERT_TRUE(store_->Write(batch).ok());

  const std::string id = Request("email", "ada@example.com");
  ASSERT_TRUE(resolver->ApplyErasures().ok());
  EXPECT_EQ(Status(id).dead_letters, 1u);
  EXPECT_EQ(Count(ColumnFamily::kDeadLetter), 0u);
}

// Issue 18: a phone is suppressed as the number it is, however a later event writes it, as long as
// the event's region reads it the same way (here a Korean number in a range the metadata lacks).
TEST_F(ErasureTest, AnErasedPhoneIsSuppressedInEveryFormatItsRegionReads) {
  identity::NormalizerOptions options;  // Default region US, as configured by default.
  options.source_phone_regions = {{.space = std::string(kSpace), .source = "kr-pos", .region = "KR"}};
  auto normalizer = identity::Normalizer::Create(options);
  ASSERT_TRUE(normalizer.ok()) << normalizer.status();
  normalizer_ = *std::move(normalizer);

  ingest::CanonicalEvent signup = Event(ingest::EventType::kIdentify, "web", 10);
  signup.user_id = "u-min";
  signup.traits = R"({"email":"min@example.kr","phone":"+82 10-5971-9030"})";
  Append({signup});
  auto resolver = PrivacyResolver();
  CatchUp(*resolver);
  Request("email", "min@example.kr");
  ASSERT_TRUE(resolver->ApplyErasures().ok());
  ASSERT_TRUE(suppression_->Contains(kSpace, "phone", "+821059719030"))
      << "her phone, though invalid, was hers";

  // At the door (before the event is stamped with its source): ingestion's check.
  ingest::CanonicalEvent till = Event(ingest::EventType::kTrack, "pos", 20);
  till.context = R"({"traits":{"phone":"010-5971-9030"}})";
  EXPECT_EQ(suppression_->FirstSuppressed(kSpace, "kr-pos", extractor_.Extract(till), *normalizer_), "phone");
  EXPECT_EQ(suppression_->FirstSuppressed(kSpace, "web", extractor_.Extract(till), *normalizer_),
            std::nullopt)
      << "without a Korean region, 010-5971-9030 is no possible number, so no identifier of hers";

  // In the log (accepted before the erasure was known): the resolver's check.
  till.source = "kr-pos";
  ingest::CanonicalEvent visit = Event(ingest::EventType::kTrack, "web", 21);
  visit.anonymous_id = "a-new";
  visit.context = R"({"locale":"ko","traits":{"phone":"8210 5971 9030"}})";
  ingest::CanonicalEvent stranger = Event(ingest::EventType::kTrack, "web", 22);
  stranger.anonymous_id = "a-stranger";
  stranger.context = R"({"locale":"ko-KR","traits":{"phone":"010-5971-9031"}})";
  Append({till, visit, stranger});
  EXPECT_EQ(CatchUp(*resolver), 3u);
  EXPECT_EQ(resolver->metrics().events_suppressed.load(), 2u) << "the till's and the visit's events";
  EXPECT_EQ(Lookup(*resolver, type::kAnonymousId, "a-new"), std::nullopt)
      << "a suppressed event links nothing";
  EXPECT_NE(Lookup(*resolver, type::kPhone, "+821059719031"), std::nullopt)
      << "the neighbour's number is not hers";
}

}  // namespace
}  // namespace tessera::privacy
