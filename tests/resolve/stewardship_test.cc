// Stewardship decisions carried out by the resolver (resolve/stewardship.cc): a manual merge, a
// refused one, a separation that recomputes a merged profile's component, and the promise that a
// rebuild from the log gives the same derived state after each.

#include "identity/separations.h"
#include "ingest/log_command.h"
#include "ingest/stewardship_command.h"
#include "resolve/verify.h"
#include "tests/resolve/resolver_fixture.h"

namespace tessera::resolve {
namespace resolver_testing {
namespace {

using ingest::StewardshipCommand;

class StewardshipTest : public ResolverTest {
 protected:
  // One decision as the pipeline logs it; returns its log sequence.
  uint64_t Decide(StewardshipCommand::Kind kind, Identifier a, Identifier b, std::string note = "") {
    StewardshipCommand command{.kind = kind,
                               .request_id = "sd_" + std::to_string(++decisions_),
                               .a = std::move(a),
                               .b = std::move(b),
                               .requested_by = "admin",
                               .note = std::move(note),
                               .requested_at = FixedTime(2'000'000 + decisions_)};
    ingest::LogEntry entry{.space = std::string(kSpace),
                           .dedup_key = ingest::CommandDedupKey(kSpace, command.request_id),
                           .record = {},
                           .received_at = command.requested_at};
    ingest::EncodeStewardshipCommand(command, entry.record);
    std::vector<ingest::LogEntry> entries;
    entries.push_back(std::move(entry));
    return AppendEntries(std::move(entries));
  }
  uint64_t Merge(Identifier a, Identifier b) { return Decide(StewardshipCommand::Kind::kMerge, a, b, "same customer"); }
  uint64_t Separate(Identifier a, Identifier b) { return Decide(StewardshipCommand::Kind::kSeparate, a, b); }

  // Kim Min-jun with one email at the store and another online; traits and an order each.
  void TwoProfilesOfOnePerson() {
    ingest::CanonicalEvent store = Event(ingest::EventType::kIdentify, "pos", 10);
    store.anonymous_id = "pos-1";
    store.traits = R"({"email":"minjun.kim@example.com","name":"Kim Min-jun","birthday":"1988-03-02"})";
    ingest::CanonicalEvent online = Event(ingest::EventType::kIdentify, "web", 20);
    online.anonymous_id = "web-1";
    online.traits = R"({"email":"mj.kim@example.net","name":"Kim Minjun","city":"Seoul"})";
    ingest::CanonicalEvent order = Event(ingest::EventType::kTrack, "web", 30);
    order.anonymous_id = "web-1";
    order.event = "Order Completed";
    order.properties = R"({"revenue":42})";
    Append({store, online, order});
  }

  std::map<std::string, std::string> Graph() {
    std::map<std::string, std::string> state;
    for (ColumnFamily family : {ColumnFamily::kIdentifiers, ColumnFamily::kProfiles, ColumnFamily::kTimeline}) {
      for (auto& [key, value] : Rows(*store_, family)) state.emplace(std::to_string(static_cast<int>(family)) + "|" + key, value);
    }
    return state;
  }

  void ExpectRebuildAgrees() {
    absl::StatusOr<VerifyReport> report = VerifyDerivedState(*store_, pipeline::PipelineOptions{});
    ASSERT_TRUE(report.ok()) << report.status();
    EXPECT_TRUE(report->identical()) << report->differences.size() << " differences, the first in "
                                     << (report->differences.empty() ? "" : report->differences[0].family) << " "
                                     << (report->differences.empty() ? "" : Printable(report->differences[0].key));
  }

  const Identifier store_email_ = Id(type::kEmail, "minjun.kim@example.com");
  const Identifier web_email_ = Id(type::kEmail, "mj.kim@example.net");
  int decisions_ = 0;
};

TEST_F(StewardshipTest, AManualMergeJoinsTheTwoProfilesWithItsReason) {
  TwoProfilesOfOnePerson();
  std::unique_ptr<Resolver> resolver = NewResolver();
  CatchUp(*resolver);
  ASSERT_EQ(Lookup(*resolver, type::kEmail, store_email_.value), P(1));
  ASSERT_EQ(Lookup(*resolver, type::kEmail, web_email_.value), P(2));

  const uint64_t sequence = Merge(store_email_, web_email_);
  CatchUp(*resolver);
  EXPECT_EQ(resolver->position(), sequence);
  EXPECT_EQ(Lookup(*resolver, type::kEmail, web_email_.value), P(1));
  EXPECT_EQ(Lookup(*resolver, "anonymous_id", "web-1"), P(1));
  std::optional<Profile> merged = StoredProfile(P(1));
  ASSERT_TRUE(merged);
  EXPECT_EQ(merged->merged_from, std::vector<ProfileId>{P(2)});
  EXPECT_EQ(TraitOf(*merged, "city"), R"("Seoul")");
  EXPECT_THAT(Records(P(1)), ElementsAre(AllOf(HasSubstr(R"("kind":"merge")"), HasSubstr(R"("messageId":"sd_1")"),
                                               HasSubstr("manual merge by admin: same customer"))));
  ExpectRebuildAgrees();
}

TEST_F(StewardshipTest, AManualMergeObeysTheLimits) {
  ingest::CanonicalEvent first = Event(ingest::EventType::kIdentify, "web", 10);
  first.user_id = "u-1";
  ingest::CanonicalEvent second = Event(ingest::EventType::kIdentify, "web", 20);
  second.user_id = "u-2";
  Append({first, second});
  std::unique_ptr<Resolver> resolver = NewResolver();
  CatchUp(*resolver);
  Merge(Id(type::kUserId, "u-1"), Id(type::kUserId, "u-2"));
  CatchUp(*resolver);
  EXPECT_EQ(Lookup(*resolver, type::kUserId, "u-2"), P(2));
  EXPECT_THAT(Records(P(1)), ElementsAre(AllOf(HasSubstr(R"("kind":"refused_merge")"),
                                               HasSubstr("2 user_id values (limit 1)"))));
  EXPECT_EQ(Records(P(1)), Records(P(2)));
  ExpectRebuildAgrees();
}

TEST_F(StewardshipTest, ASeparationAfterAManualMergeRestoresTheTwoProfilesExactly) {
  TwoProfilesOfOnePerson();
  std::unique_ptr<Resolver> resolver = NewResolver();
  CatchUp(*resolver);
  const std::map<std::string, std::string> before = Graph();
  Merge(store_email_, web_email_);
  CatchUp(*resolver);
  ASSERT_NE(Graph(), before);

  Separate(web_email_, store_email_);
  CatchUp(*resolver);
  EXPECT_EQ(Lookup(*resolver, type::kEmail, store_email_.value), P(1));
  EXPECT_EQ(Lookup(*resolver, type::kEmail, web_email_.value), P(2));
  // Profiles, identifiers and timelines are byte for byte what they were before the merge.
  const std::map<std::string, std::string> after = Graph();
  EXPECT_EQ(after.size(), before.size());
  for (const auto& [key, value] : before) {
    auto it = after.find(key);
    if (it == after.end()) {
      ADD_FAILURE() << "gone: " << Printable(key);
    } else {
      EXPECT_EQ(Printable(it->second), Printable(value)) << Printable(key);
    }
  }
  // The decision is on both profiles' records; the merge it undid is not.
  for (ProfileId id : {P(1), P(2)}) {
    EXPECT_THAT(Records(id), ElementsAre(AllOf(HasSubstr(R"("kind":"separated")"),
                                               HasSubstr("not the same person, by admin"))));
  }
  ExpectRebuildAgrees();
}

TEST_F(StewardshipTest, ASeparationSplitsAProfileThatEventsMergedAndKeepsItSplit) {
  // Two people shared a tablet at a store: one event carries both anonymous ids and merges them.
  ingest::CanonicalEvent first = Event(ingest::EventType::kIdentify, "web", 10);
  first.anonymous_id = "a-1";
  first.traits = R"({"email":"first@example.com"})";
  ingest::CanonicalEvent second = Event(ingest::EventType::kIdentify, "web", 20);
  second.anonymous_id = "a-2";
  second.traits = R"({"email":"second@example.com"})";
  ingest::CanonicalEvent shared = Event(ingest::EventType::kAlias, "web", 30);
  shared.anonymous_id = "a-2";
  shared.previous_id = "a-1";
  Append({first, second, shared});
  std::unique_ptr<Resolver> resolver = NewResolver();
  CatchUp(*resolver);
  ASSERT_EQ(Lookup(*resolver, type::kEmail, "second@example.com"), P(1));

  Separate(Id(type::kEmail, "first@example.com"), Id(type::kEmail, "second@example.com"));
  CatchUp(*resolver);
  const std::optional<ProfileId> first_profile = Lookup(*resolver, type::kEmail, "first@example.com");
  const std::optional<ProfileId> second_profile = Lookup(*resolver, type::kEmail, "second@example.com");
  ASSERT_TRUE(first_profile && second_profile);
  EXPECT_NE(*first_profile, *second_profile);
  EXPECT_EQ(*first_profile, P(1));
  EXPECT_EQ(*second_profile, P(2));
  // The shared event went to one of them (its first identifier's), and says why it merged nothing.
  EXPECT_EQ(Timeline(P(1)).size() + Timeline(P(2)).size(), 3u);
  std::string refused;
  for (const std::string& record : Records(P(1))) {
    if (record.find("refused_merge") != std::string::npos) refused = record;
  }
  EXPECT_THAT(refused, HasSubstr("which an admin decided are not the same person"));

  // A later event carrying both again merges nothing either.
  ingest::CanonicalEvent again = Event(ingest::EventType::kIdentify, "web", 40);
  again.anonymous_id = "a-1";
  again.traits = R"({"email":"second@example.com"})";
  Append({again});
  CatchUp(*resolver);
  EXPECT_EQ(Lookup(*resolver, type::kEmail, "second@example.com"), P(2));
  EXPECT_EQ(Lookup(*resolver, "anonymous_id", "a-1"), P(1));
  ExpectRebuildAgrees();

  // And a manual merge lifts the separation: the later decision holds.
  Merge(Id(type::kEmail, "first@example.com"), Id(type::kEmail, "second@example.com"));
  CatchUp(*resolver);
  EXPECT_EQ(Lookup(*resolver, type::kEmail, "second@example.com"), P(1));
  auto partners = identity::SeparatedPartners(*store_, kSpace, Id(type::kEmail, "first@example.com"));
  ASSERT_TRUE(partners.ok()) << partners.status();
  EXPECT_TRUE(partners->empty());
  ExpectRebuildAgrees();
}

TEST_F(StewardshipTest, ASeparationOfTwoProfilesIsKeptAndReadable) {
  TwoProfilesOfOnePerson();
  std::unique_ptr<Resolver> resolver = NewResolver();
  CatchUp(*resolver);
  Separate(store_email_, web_email_);
  CatchUp(*resolver);
  auto partners = identity::SeparatedPartners(*store_, kSpace, web_email_);
  ASSERT_TRUE(partners.ok()) << partners.status();
  EXPECT_THAT(*partners, ElementsAre(store_email_));
  auto separated = resolver->graph().Separated(P(1), P(2));
  ASSERT_TRUE(separated.ok());
  EXPECT_TRUE(*separated);
  // An event carrying both identifiers does not merge them; a restarted resolver still knows.
  resolver.reset();
  resolver = NewResolver();
  ingest::CanonicalEvent both = Event(ingest::EventType::kIdentify, "web", 40);
  both.user_id = "u-9";
  both.traits = R"({"email":"minjun.kim@example.com"})";
  ingest::CanonicalEvent also = Event(ingest::EventType::kIdentify, "web", 50);
  also.user_id = "u-9";
  also.traits = R"({"email":"mj.kim@example.net"})";
  Append({both, also});
  CatchUp(*resolver);
  EXPECT_EQ(Lookup(*resolver, type::kEmail, web_email_.value), P(2));
  ExpectRebuildAgrees();
}

TEST_F(StewardshipTest, ADamagedDecisionIsDeadLetteredWithoutItsBytes) {
  TwoProfilesOfOnePerson();
  std::string record;
  ingest::EncodeStewardshipCommand(StewardshipCommand{.request_id = "sd_x", .a = store_email_, .b = web_email_},
                                   record);
  record.pop_back();
  ingest::LogEntry entry{.space = std::string(kSpace), .dedup_key = "damaged", .record = record, .received_at = FixedTime(0)};
  std::vector<ingest::LogEntry> entries;
  entries.push_back(std::move(entry));
  const uint64_t sequence = AppendEntries(std::move(entries));
  std::unique_ptr<Resolver> resolver = NewResolver();
  CatchUp(*resolver);
  EXPECT_EQ(resolver->position(), sequence);
  auto dead = store_->Get(ColumnFamily::kDeadLetter, DeadLetterKey(kSpace, sequence));
  ASSERT_TRUE(dead.ok()) << dead.status();
  EXPECT_THAT(*dead, HasSubstr("stewardship command"));
  EXPECT_THAT(*dead, Not(HasSubstr("minjun")));
}

}  // namespace
}  // namespace resolver_testing
}  // namespace tessera::resolve
