#include "identity/identity_graph.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "identity/identifier.h"
#include "identity/identity_rules.h"
#include "profile_store/profile.h"
#include "profile_store/store.h"
#include "rocksdb/db.h"
#include "rocksdb/write_batch.h"
#include "tests/support/temp_dir.h"

namespace tessera::identity {
namespace {

using profile_store::ColumnFamily;
using profile_store::FormatProfileId;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAre;

constexpr std::string_view kSpace = "default";

Identifier User(std::string value) { return {std::string(identifier_type::kUserId), std::move(value)}; }
Identifier Anon(std::string value) { return {std::string(identifier_type::kAnonymousId), std::move(value)}; }
Identifier Email(std::string value) { return {std::string(identifier_type::kEmail), std::move(value)}; }
Identifier Device(std::string value) { return {std::string(identifier_type::kDeviceId), std::move(value)}; }

ProfileId P(uint64_t value) { return ProfileId{value}; }

Timestamp At(int64_t seconds) { return Timestamp(std::chrono::seconds(1'704'067'200 + seconds)); }

std::vector<std::string> Shown(const std::vector<Identifier>& identifiers) {
  std::vector<std::string> shown;
  for (const Identifier& identifier : identifiers) shown.push_back(ToString(identifier));
  return shown;
}

std::vector<std::string> Shown(const std::vector<ProfileId>& ids) {
  std::vector<std::string> shown;
  for (ProfileId id : ids) shown.push_back(FormatProfileId(id));
  return shown;
}

// Every key/value of one column family, in key order.
std::map<std::string, std::string> Dump(profile_store::Store& store, ColumnFamily family) {
  std::map<std::string, std::string> rows;
  std::unique_ptr<rocksdb::Iterator> it(store.db(family)->NewIterator(rocksdb::ReadOptions(), store.handle(family)));
  for (it->SeekToFirst(); it->Valid(); it->Next()) rows.emplace(it->key().ToString(), it->value().ToString());
  EXPECT_TRUE(it->status().ok()) << it->status().ToString();
  return rows;
}

class IdentityGraphTest : public ::testing::Test {
 protected:
  void SetUp() override { store_ = OpenStore(dir_); }

  static std::unique_ptr<profile_store::Store> OpenStore(const tessera::testing::ScopedTempDir& dir) {
    auto store = profile_store::Store::Open({.path = dir.path(), .sync_writes = false});
    EXPECT_TRUE(store.ok()) << store.status();
    return store.ok() ? *std::move(store) : nullptr;
  }

  static std::unique_ptr<IdentityGraph> NewGraph(profile_store::Store& store, IdentityRules rules = IdentityRules(),
                                                 GraphOptions options = {}) {
    auto graph = std::make_unique<IdentityGraph>(store, std::string(kSpace), std::move(rules), options);
    absl::Status recovered = graph->Recover();
    EXPECT_TRUE(recovered.ok()) << recovered;
    return graph;
  }
  std::unique_ptr<IdentityGraph> NewGraph(IdentityRules rules = IdentityRules(), GraphOptions options = {}) {
    return NewGraph(*store_, std::move(rules), options);
  }

  // Applies one event into the current unit, without writing it.
  Resolution ApplyOnly(IdentityGraph& graph, std::vector<Identifier> identifiers, int64_t seconds = 0) {
    const uint64_t sequence = ++sequence_;
    message_ids_.push_back("m-" + std::to_string(sequence));
    GraphEvent event;
    event.message_id = message_ids_.back();
    event.sequence = sequence;
    event.event_time = At(seconds == 0 ? static_cast<int64_t>(sequence) : seconds);
    event.received_at = At(1000 + static_cast<int64_t>(sequence));
    event.source = "website";
    event.identifiers = std::move(identifiers);
    absl::StatusOr<Resolution> resolution = graph.Apply(event);
    EXPECT_TRUE(resolution.ok()) << "Apply of event " << sequence << ": " << resolution.status();
    return resolution.ok() ? *std::move(resolution) : Resolution{};
  }

  // Writes the current unit and commits it.
  void WriteUnit(IdentityGraph& graph, profile_store::Store& store) {
    rocksdb::WriteBatch batch;
    graph.Flush(batch);
    absl::Status written = store.Write(batch);
    ASSERT_TRUE(written.ok()) << written;
    graph.Commit();
  }
  void WriteUnit(IdentityGraph& graph) { WriteUnit(graph, *store_); }

  // One event, one unit: applied, written and committed.
  Resolution Apply(IdentityGraph& graph, std::vector<Identifier> identifiers, int64_t seconds = 0) {
    Resolution resolution = ApplyOnly(graph, std::move(identifiers), seconds);
    WriteUnit(graph);
    return resolution;
  }

  static std::optional<ProfileId> LookupIn(IdentityGraph& graph, const Identifier& identifier) {
    auto found = graph.Lookup(identifier);
    EXPECT_TRUE(found.ok()) << ToString(identifier) << ": " << found.status();
    return found.ok() ? *found : std::nullopt;
  }

  static std::optional<ProfileId> CanonicalIn(IdentityGraph& graph, ProfileId id) {
    auto found = graph.Canonical(id);
    EXPECT_TRUE(found.ok()) << FormatProfileId(id) << ": " << found.status();
    return found.ok() ? *found : std::nullopt;
  }

  // The stored profile record (as written, not as cached).
  std::optional<Profile> StoredProfile(ProfileId id) {
    auto record = store_->Get(ColumnFamily::kProfiles, profile_store::ProfileKey(kSpace, id));
    if (absl::IsNotFound(record.status())) return std::nullopt;
    EXPECT_TRUE(record.ok()) << record.status();
    if (!record.ok()) return std::nullopt;
    auto profile = profile_store::DecodeProfile(*record);
    EXPECT_TRUE(profile.ok()) << FormatProfileId(id) << ": " << profile.status();
    return profile.ok() ? std::optional<Profile>(*std::move(profile)) : std::nullopt;
  }

  // The raw kIdentifiers row of an identifier (the profile id it points to, before redirects).
  std::optional<ProfileId> StoredLink(const Identifier& identifier) {
    auto value =
        store_->Get(ColumnFamily::kIdentifiers, profile_store::IdentifierKey(kSpace, identifier.type, identifier.value));
    if (absl::IsNotFound(value.status())) return std::nullopt;
    EXPECT_TRUE(value.ok()) << value.status();
    if (!value.ok() || value->size() != 8) return std::nullopt;
    return ProfileId{profile_store::ReadBigEndian64(*value)};
  }

  // The kMerges records (JSON) filed under a profile, in key order.
  std::vector<std::string> Records(ProfileId id) {
    std::vector<std::string> records;
    const std::string prefix = profile_store::MergePrefix(kSpace, id);
    std::unique_ptr<rocksdb::Iterator> it(
        store_->db()->NewIterator(rocksdb::ReadOptions(), store_->handle(ColumnFamily::kMerges)));
    for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
      records.push_back(it->value().ToString());
    }
    return records;
  }

  std::optional<uint64_t> StoredNextId() {
    auto value = store_->Get(ColumnFamily::kMeta, NextProfileIdKey(kSpace));
    if (!value.ok() || value->size() != 8) return std::nullopt;
    return profile_store::ReadBigEndian64(*value);
  }

  tessera::testing::ScopedTempDir dir_;
  std::unique_ptr<profile_store::Store> store_;
  uint64_t sequence_ = 0;
  std::vector<std::string> message_ids_;
};

TEST_F(IdentityGraphTest, NewIdentifiersCreateOneProfileHoldingThemAll) {
  auto graph = NewGraph();
  Resolution first = Apply(*graph, {User("u-jane"), Anon("a-browser")});

  EXPECT_EQ(first.profile, P(1)) << "profile ids start at 1";
  EXPECT_TRUE(first.created);
  EXPECT_THAT(first.merged, IsEmpty());
  EXPECT_THAT(Shown(first.attached), ElementsAre("user_id:u-jane", "anonymous_id:a-browser"));
  EXPECT_THAT(first.refused, IsEmpty());
  EXPECT_EQ(first.decision, "");

  EXPECT_EQ(LookupIn(*graph, User("u-jane")), P(1));
  EXPECT_EQ(LookupIn(*graph, Anon("a-browser")), P(1));
  EXPECT_EQ(LookupIn(*graph, User("u-someone-else")), std::nullopt);
  EXPECT_EQ(StoredLink(User("u-jane")), P(1)) << "the index row must be written by Flush";
  EXPECT_EQ(graph->next_profile_id(), 2u);
  EXPECT_EQ(StoredNextId(), 2u) << "the profile counter must be written with the unit";

  std::optional<Profile> stored = StoredProfile(P(1));
  ASSERT_TRUE(stored.has_value()) << "the new profile must be written by Flush";
  EXPECT_EQ(stored->merged_into, std::nullopt);
  ASSERT_NE(stored->FindIdentity("user_id", "u-jane"), nullptr);
  EXPECT_THAT(stored->FindIdentity("user_id", "u-jane")->sources, ElementsAre("website"));
  EXPECT_NE(stored->FindIdentity("anonymous_id", "a-browser"), nullptr);
  EXPECT_THAT(Records(P(1)), IsEmpty()) << "creating a profile is not a merge";
}

TEST_F(IdentityGraphTest, KnownIdentifierTakesNewOnesIntoItsProfile) {
  auto graph = NewGraph();
  Apply(*graph, {Anon("a-browser")});
  Resolution login = Apply(*graph, {User("u-jane"), Anon("a-browser")});

  EXPECT_EQ(login.profile, P(1));
  EXPECT_FALSE(login.created);
  EXPECT_THAT(login.merged, IsEmpty()) << "one profile involved: nothing to merge";
  EXPECT_THAT(Shown(login.attached), ElementsAre("user_id:u-jane")) << "only the new identifier is attached";
  EXPECT_EQ(LookupIn(*graph, User("u-jane")), P(1));
  EXPECT_EQ(graph->next_profile_id(), 2u) << "no profile may be created for a known identifier";
  EXPECT_THAT(Records(P(1)), IsEmpty());
}

TEST_F(IdentityGraphTest, IdentifiersOfTwoProfilesMergeIntoTheOldestWithARecord) {
  auto graph = NewGraph();
  Apply(*graph, {Anon("a-browser")});  // p1: anonymous browsing
  Apply(*graph, {User("u-jane")});     // p2: a server-side event for the user
  Resolution login = Apply(*graph, {User("u-jane"), Anon("a-browser")});

  EXPECT_EQ(login.profile, P(1)) << "merges go into the oldest profile (smallest id), even if the newer one "
                                    "holds the higher-priority identifier";
  EXPECT_THAT(Shown(login.merged), ElementsAre(FormatProfileId(P(2))));
  EXPECT_THAT(login.attached, IsEmpty()) << "both identifiers were already linked";
  EXPECT_EQ(login.decision, "");

  EXPECT_EQ(LookupIn(*graph, User("u-jane")), P(1));
  EXPECT_EQ(CanonicalIn(*graph, P(2)), P(1)) << "the merged-away id must still resolve, to the winner";
  EXPECT_EQ(StoredLink(User("u-jane")), P(1)) << "the loser's identifiers must be re-pointed in the index";

  std::optional<Profile> loser = StoredProfile(P(2));
  ASSERT_TRUE(loser.has_value());
  EXPECT_EQ(loser->merged_into, P(1)) << "the loser must be stored as a redirect";
  EXPECT_THAT(loser->identities, IsEmpty()) << "a redirect keeps nothing else";
  std::optional<Profile> winner = StoredProfile(P(1));
  ASSERT_TRUE(winner.has_value());
  EXPECT_THAT(Shown(winner->merged_from), ElementsAre(FormatProfileId(P(2))));
  EXPECT_NE(winner->FindIdentity("user_id", "u-jane"), nullptr) << "the winner takes the loser's identities";

  std::vector<std::string> records = Records(P(1));
  ASSERT_EQ(records.size(), 1u) << "one merge, one record under the winner";
  EXPECT_THAT(records[0], HasSubstr(R"("kind":"merge")"));
  EXPECT_THAT(records[0], HasSubstr(R"("winner":")" + FormatProfileId(P(1)) + "\""));
  EXPECT_THAT(records[0], HasSubstr(R"("loser":")" + FormatProfileId(P(2)) + "\""));
  EXPECT_THAT(records[0], HasSubstr(R"("messageId":"m-3")")) << "the record names the event that caused it";
  EXPECT_THAT(records[0], HasSubstr(R"("sequence":3)"));
  EXPECT_THAT(records[0], HasSubstr(R"("time":)" + std::to_string(At(1003).time_since_epoch().count())))
      << "the merge time is the event's receive time";
  EXPECT_THAT(records[0], HasSubstr("user_id:u-jane")) << "the reason names the linking identifiers";
  EXPECT_THAT(records[0], HasSubstr("anonymous_id:a-browser"));
}

TEST_F(IdentityGraphTest, SharedDeviceWithTwoUserIdsIsNotMerged) {
  auto graph = NewGraph();
  Apply(*graph, {User("u-mom"), Device("tablet")});  // p1
  Resolution kid = Apply(*graph, {User("u-kid"), Device("tablet"), Anon("a-kid")});

  EXPECT_EQ(kid.profile, P(2)) << "the event goes to the profile of its highest-priority identifier (a new user)";
  EXPECT_TRUE(kid.created);
  EXPECT_THAT(kid.merged, IsEmpty()) << "a merge would give one profile two user_ids";
  EXPECT_THAT(Shown(kid.attached), UnorderedElementsAre("user_id:u-kid", "anonymous_id:a-kid"))
      << "new identifiers that break no limit still go with the event";
  ASSERT_EQ(kid.refused.size(), 1u);
  EXPECT_EQ(ToString(kid.refused[0].identifier), "device_id:tablet");
  EXPECT_EQ(kid.refused[0].linked_to, P(1));
  EXPECT_THAT(kid.decision, HasSubstr("2 user_id values (limit 1)"));
  EXPECT_THAT(kid.decision, HasSubstr("user_id:u-kid"));

  EXPECT_EQ(LookupIn(*graph, Device("tablet")), P(1)) << "the device stays with its first user";
  EXPECT_EQ(LookupIn(*graph, User("u-kid")), P(2));
  EXPECT_EQ(LookupIn(*graph, Anon("a-kid")), P(2));
  std::optional<Profile> kid_profile = StoredProfile(P(2));
  ASSERT_TRUE(kid_profile.has_value());
  EXPECT_EQ(kid_profile->FindIdentity("device_id", "tablet"), nullptr)
      << "the refused identifier must not be attached to the event's profile";

  // The decision is queryable from both profiles.
  for (ProfileId id : {P(1), P(2)}) {
    std::vector<std::string> records = Records(id);
    ASSERT_EQ(records.size(), 1u) << "refused-merge record under " << FormatProfileId(id);
    EXPECT_THAT(records[0], HasSubstr(R"("kind":"refused_merge")"));
    EXPECT_THAT(records[0], HasSubstr(R"("messageId":"m-2")"));
    EXPECT_THAT(records[0], HasSubstr("limit 1"));
    EXPECT_THAT(records[0], HasSubstr("device_id:tablet"));
  }

  // The device alone still finds its first user.
  Resolution later = Apply(*graph, {Device("tablet")});
  EXPECT_EQ(later.profile, P(1));
  EXPECT_EQ(later.decision, "");
}

TEST_F(IdentityGraphTest, HighestPriorityIdentifierDecidesWhereARefusedEventGoes) {
  auto graph = NewGraph();
  Apply(*graph, {User("u-1"), Anon("a-1")});               // p1
  Apply(*graph, {User("u-2"), Email("two@example.com")});  // p2
  Resolution mixed = Apply(*graph, {Anon("a-1"), Email("two@example.com")});

  EXPECT_EQ(mixed.profile, P(2)) << "email (priority 80) outranks anonymous_id (10)";
  EXPECT_THAT(mixed.merged, IsEmpty());
  ASSERT_EQ(mixed.refused.size(), 1u);
  EXPECT_EQ(ToString(mixed.refused[0].identifier), "anonymous_id:a-1");
  EXPECT_EQ(mixed.refused[0].linked_to, P(1));
  EXPECT_EQ(LookupIn(*graph, Anon("a-1")), P(1));
}

TEST_F(IdentityGraphTest, ConfiguredPriorityChangesTheLead) {
  auto graph = NewGraph(IdentityRules({{"anonymous_id", 90, 0}}));
  Apply(*graph, {User("u-1"), Anon("a-1")});               // p1
  Apply(*graph, {User("u-2"), Email("two@example.com")});  // p2
  Resolution mixed = Apply(*graph, {Email("two@example.com"), Anon("a-1")});

  EXPECT_EQ(mixed.profile, P(1)) << "anonymous_id configured at 90 outranks email (80)";
  ASSERT_EQ(mixed.refused.size(), 1u);
  EXPECT_EQ(ToString(mixed.refused[0].identifier), "email:two@example.com");
}

TEST_F(IdentityGraphTest, SixthEmailIsRefusedByTheDefaultLimitOfFive) {
  auto graph = NewGraph();
  Apply(*graph, {User("u-1"), Email("e1@x.com"), Email("e2@x.com"), Email("e3@x.com"), Email("e4@x.com"),
                 Email("e5@x.com")});
  Resolution sixth = Apply(*graph, {User("u-1"), Email("e6@x.com"), Anon("a-1")});

  EXPECT_EQ(sixth.profile, P(1));
  EXPECT_FALSE(sixth.created);
  EXPECT_THAT(sixth.decision, HasSubstr("6 email values (limit 5)"));
  ASSERT_EQ(sixth.refused.size(), 1u);
  EXPECT_EQ(ToString(sixth.refused[0].identifier), "email:e6@x.com");
  EXPECT_EQ(sixth.refused[0].linked_to, std::nullopt) << "refused for the limit, not for belonging elsewhere";
  EXPECT_THAT(sixth.refused[0].reason, HasSubstr("already holds 5 email values"));
  EXPECT_THAT(Shown(sixth.attached), ElementsAre("anonymous_id:a-1"));
  EXPECT_EQ(LookupIn(*graph, Email("e6@x.com")), std::nullopt) << "a refused identifier must not be linked";
  EXPECT_EQ(StoredProfile(P(1))->CountIdentities("email"), 5u);
}

TEST_F(IdentityGraphTest, MergeThatWouldExceedALimitIsRefusedAndTiesGoToTheFirstIdentifier) {
  auto graph = NewGraph();
  Apply(*graph, {Anon("a-x"), Email("x1@x.com"), Email("x2@x.com"), Email("x3@x.com")});  // p1
  Apply(*graph, {Anon("a-y"), Email("y1@x.com"), Email("y2@x.com"), Email("y3@x.com")});  // p2
  Resolution both = Apply(*graph, {Anon("a-y"), Anon("a-x")});

  EXPECT_THAT(both.merged, IsEmpty()) << "one profile would hold 6 emails";
  EXPECT_THAT(both.decision, HasSubstr("6 email values (limit 5)"));
  EXPECT_EQ(both.profile, P(2)) << "equal priorities: the identifier first in the event leads";
  EXPECT_EQ(LookupIn(*graph, Anon("a-x")), P(1));
  EXPECT_EQ(LookupIn(*graph, Anon("a-y")), P(2));
}

TEST_F(IdentityGraphTest, ConfiguredLimitIsEnforced) {
  auto graph = NewGraph(IdentityRules({{"email", 80, 1}}));
  Apply(*graph, {User("u-1"), Email("first@x.com")});
  Resolution second = Apply(*graph, {User("u-1"), Email("second@x.com")});

  ASSERT_EQ(second.refused.size(), 1u);
  EXPECT_EQ(ToString(second.refused[0].identifier), "email:second@x.com");
  EXPECT_EQ(LookupIn(*graph, Email("second@x.com")), std::nullopt);
}

TEST_F(IdentityGraphTest, MergesOfMergesFollowRedirectsToTheLastWinner) {
  auto graph = NewGraph();
  Apply(*graph, {Anon("a")});  // p1
  Apply(*graph, {Anon("b")});  // p2
  Apply(*graph, {Anon("c")});  // p3
  Apply(*graph, {Anon("d")});  // p4
  EXPECT_EQ(Apply(*graph, {Anon("a"), Anon("b")}).profile, P(1));  // A+B
  EXPECT_EQ(Apply(*graph, {Anon("c"), Anon("d")}).profile, P(3));  // C+D
  Resolution bc = Apply(*graph, {Anon("b"), Anon("c")});           // B+C: two merged profiles meet

  EXPECT_EQ(bc.profile, P(1));
  EXPECT_THAT(Shown(bc.merged), ElementsAre(FormatProfileId(P(3))));
  for (const char* value : {"a", "b", "c", "d"}) {
    EXPECT_EQ(LookupIn(*graph, Anon(value)), P(1)) << "anonymous_id:" << value;
    EXPECT_EQ(StoredLink(Anon(value)), P(1)) << "index row of anonymous_id:" << value << " must be re-pointed";
  }
  for (uint64_t id : {2, 3, 4}) EXPECT_EQ(CanonicalIn(*graph, P(id)), P(1)) << FormatProfileId(P(id));
  EXPECT_EQ(StoredProfile(P(4))->merged_into, P(3)) << "p4 redirects to p3, which redirects to p1";
  EXPECT_THAT(Shown(StoredProfile(P(1))->merged_from),
              ElementsAre(FormatProfileId(P(2)), FormatProfileId(P(3)), FormatProfileId(P(4))));
  EXPECT_EQ(Records(P(1)).size(), 2u) << "p1 won two merges (p2, then p3)";
  EXPECT_EQ(Records(P(3)).size(), 1u) << "p3 won one merge (p4) before it lost";

  // A graph with cold caches reads the same answers from the store.
  auto cold = NewGraph();
  for (const char* value : {"a", "b", "c", "d"}) EXPECT_EQ(LookupIn(*cold, Anon(value)), P(1)) << value;
  EXPECT_EQ(CanonicalIn(*cold, P(4)), P(1));
  EXPECT_EQ(CanonicalIn(*cold, P(99)), std::nullopt) << "an id never allocated resolves to nothing";
}

TEST_F(IdentityGraphTest, OneEventCanMergeSeveralProfilesAtOnce) {
  auto graph = NewGraph();
  Apply(*graph, {Anon("a")});
  Apply(*graph, {Email("e@x.com")});
  Apply(*graph, {User("u")});
  Resolution all = Apply(*graph, {User("u"), Email("e@x.com"), Anon("a")});

  EXPECT_EQ(all.profile, P(1));
  EXPECT_THAT(Shown(all.merged), ElementsAre(FormatProfileId(P(2)), FormatProfileId(P(3))));
  EXPECT_EQ(Records(P(1)).size(), 2u) << "one record per loser";
}

TEST_F(IdentityGraphTest, EventsInOneUnitSeeEachOthersEffects) {
  auto graph = NewGraph();
  Resolution first = ApplyOnly(*graph, {Anon("a")});
  Resolution second = ApplyOnly(*graph, {Anon("a"), User("u")});
  Resolution third = ApplyOnly(*graph, {Email("e@x.com")});
  Resolution fourth = ApplyOnly(*graph, {User("u"), Email("e@x.com")});
  WriteUnit(*graph);

  EXPECT_EQ(first.profile, P(1));
  EXPECT_EQ(second.profile, P(1)) << "the second event must see the first one's (unflushed) profile";
  EXPECT_FALSE(second.created);
  EXPECT_EQ(third.profile, P(2));
  EXPECT_THAT(Shown(fourth.merged), ElementsAre(FormatProfileId(P(2))));
  auto cold = NewGraph();
  EXPECT_EQ(LookupIn(*cold, Email("e@x.com")), P(1));
  EXPECT_EQ(CanonicalIn(*cold, P(2)), P(1));
  EXPECT_EQ(cold->next_profile_id(), 3u);
}

TEST_F(IdentityGraphTest, AbortDropsTheUnit) {
  auto graph = NewGraph();
  Apply(*graph, {User("u-1"), Anon("a-1")});  // p1, committed
  Apply(*graph, {Anon("a-2")});               // p2, committed

  ApplyOnly(*graph, {Anon("a-1"), Email("e@x.com")});  // attaches to p1 in the unit
  ApplyOnly(*graph, {User("u-9")});                    // creates p3 in the unit
  ApplyOnly(*graph, {Anon("a-1"), Anon("a-2")});       // merges p2 into p1 in the unit
  graph->Abort();

  EXPECT_EQ(graph->next_profile_id(), 3u) << "ids handed out in the aborted unit are handed out again";
  EXPECT_EQ(LookupIn(*graph, Email("e@x.com")), std::nullopt);
  EXPECT_EQ(LookupIn(*graph, User("u-9")), std::nullopt);
  EXPECT_EQ(LookupIn(*graph, Anon("a-2")), P(2)) << "the aborted merge must be forgotten";
  EXPECT_EQ(CanonicalIn(*graph, P(2)), P(2));
  absl::StatusOr<Profile*> p1 = graph->MutableProfile(P(1));
  ASSERT_TRUE(p1.ok()) << p1.status();
  EXPECT_EQ((*p1)->FindIdentity("email", "e@x.com"), nullptr)
      << "the profile changed in place by the aborted unit must not survive (in a cache or otherwise)";
  EXPECT_THAT((*p1)->merged_from, IsEmpty());
  graph->Abort();

  Resolution again = Apply(*graph, {User("u-9")});
  EXPECT_EQ(again.profile, P(3));
  EXPECT_TRUE(again.created);
  EXPECT_EQ(StoredNextId(), 4u);
}

TEST_F(IdentityGraphTest, EventWithoutIdentifiersIsAFailedPrecondition) {
  auto graph = NewGraph();
  GraphEvent event;
  event.message_id = "m-empty";
  event.sequence = 1;
  absl::StatusOr<Resolution> resolution = graph->Apply(event);
  EXPECT_TRUE(absl::IsFailedPrecondition(resolution.status())) << resolution.status();
  EXPECT_EQ(graph->next_profile_id(), 1u);
}

TEST_F(IdentityGraphTest, RecoverContinuesProfileIds) {
  {
    auto graph = NewGraph();
    Apply(*graph, {User("u-1")});
    Apply(*graph, {User("u-2")});
    Apply(*graph, {User("u-3")});
  }
  auto restarted = NewGraph();
  EXPECT_EQ(restarted->next_profile_id(), 4u) << "Recover must read the stored counter";
  EXPECT_EQ(Apply(*restarted, {User("u-4")}).profile, P(4)) << "ids must never be reused after a restart";
  Resolution known = Apply(*restarted, {User("u-1"), Anon("a-1")});
  EXPECT_EQ(known.profile, P(1));
  EXPECT_FALSE(known.created);
}

TEST_F(IdentityGraphTest, TinyCachesGiveTheSameGraphAsLargeOnes) {
  // The same events through a graph with 4-entry caches and one with default caches, on two
  // stores: the answers and the stored bytes must agree.
  tessera::testing::ScopedTempDir other_dir;
  std::unique_ptr<profile_store::Store> other_store = OpenStore(other_dir);
  ASSERT_NE(other_store, nullptr);
  auto tiny = NewGraph(IdentityRules(), {.identifier_cache_entries = 4, .profile_cache_entries = 4});
  auto large = NewGraph(*other_store);

  // 300 people, each seen as an anonymous visitor, an email and a user, linked pairwise later,
  // interleaved across people; every fourth person's user id also shares a device with the next
  // person's, which the limit refuses.
  constexpr int kPeople = 300;
  std::mt19937_64 random(20240501);
  std::vector<std::vector<Identifier>> events;
  for (int i = 0; i < kPeople; ++i) {
    const std::string n = std::to_string(i);
    events.push_back({Anon("a-" + n)});
    events.push_back({Email("p" + n + "@x.com")});
    events.push_back({User("u-" + n), Anon("a-" + n)});
    events.push_back({Email("p" + n + "@x.com"), Anon("a-" + n)});
    if (i % 4 == 0 && i + 1 < kPeople) {
      events.push_back({User("u-" + n), Device("shared-" + n)});
      events.push_back({User("u-" + std::to_string(i + 1)), Device("shared-" + n)});
    }
  }
  std::shuffle(events.begin(), events.end(), random);

  std::vector<std::vector<ProfileId>> answers(2);
  size_t in_unit = 0;
  for (const std::vector<Identifier>& event : events) {
    const uint64_t sequence = sequence_;  // both graphs see the same sequence numbers
    answers[0].push_back(ApplyOnly(*tiny, event).profile);
    sequence_ = sequence;
    message_ids_.pop_back();
    answers[1].push_back(ApplyOnly(*large, event).profile);
    // Units of 1 to 7 events.
    if (++in_unit >= 1 + random() % 7) {
      WriteUnit(*tiny, *store_);
      WriteUnit(*large, *other_store);
      in_unit = 0;
    }
  }
  WriteUnit(*tiny, *store_);
  WriteUnit(*large, *other_store);
  EXPECT_EQ(answers[0], answers[1]) << "resolutions differ between a tiny and a large cache";
  EXPECT_GT(tiny->identifier_cache_misses(), 0u) << "the tiny cache was expected to miss";

  // Every person's identifiers resolve to one profile, different for each person.
  std::map<ProfileId, int> owner;
  for (int i = 0; i < kPeople; ++i) {
    const std::string n = std::to_string(i);
    const std::optional<ProfileId> profile = LookupIn(*tiny, User("u-" + n));
    ASSERT_TRUE(profile.has_value()) << "u-" << n;
    EXPECT_EQ(LookupIn(*tiny, Anon("a-" + n)), profile) << "person " << n;
    EXPECT_EQ(LookupIn(*tiny, Email("p" + n + "@x.com")), profile) << "person " << n;
    auto [it, inserted] = owner.emplace(*profile, i);
    EXPECT_TRUE(inserted) << "people " << it->second << " and " << n << " share profile " << FormatProfileId(*profile);
  }

  for (ColumnFamily family : {ColumnFamily::kIdentifiers, ColumnFamily::kProfiles, ColumnFamily::kMerges}) {
    const auto tiny_rows = Dump(*store_, family);
    const auto large_rows = Dump(*other_store, family);
    EXPECT_EQ(tiny_rows.size(), large_rows.size()) << "column family " << static_cast<int>(family);
    EXPECT_TRUE(tiny_rows == large_rows) << "column family " << static_cast<int>(family)
                                         << " differs between the tiny-cache and the large-cache graph";
  }
}

}  // namespace
}  // namespace tessera::identity
