// Computed traits and audience memberships as the resolver keeps them: incrementally with each
// event, by the sweep as time passes, after definition changes (backfilled from the timeline),
// across merges, and equal after a rebuild.

#include "resolve/audience_maintenance.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

#include "audiences/evaluation.h"
#include "audiences/space_audiences.h"
#include "profile_store/audience_store.h"
#include "tests/resolve/resolver_fixture.h"

namespace tessera::resolve {
namespace {

using namespace resolver_testing;  // NOLINT: the fixture and its helpers
using base::Timestamp;

constexpr auto kDay = std::chrono::hours(24);

class AudienceMaintenanceTest : public ResolverTest {
 protected:
  void SetUp() override {
    ResolverTest::SetUp();
    audiences_ = std::make_unique<audiences::SpaceAudiences>(*store_, std::string(kSpace));
  }

  // Loads config definitions and makes a resolver whose clock is `now_`.
  std::unique_ptr<Resolver> ResolverWith(const std::vector<audiences::ConfiguredDefinition>& computed,
                                         const std::vector<audiences::ConfiguredDefinition>& audience_list) {
    absl::Status loaded = audiences_->Load(computed, audience_list);
    EXPECT_TRUE(loaded.ok()) << loaded;
    return NewResolver(identity::IdentityRules(), Options(), audiences_.get());
  }

  ResolverOptions Options() {
    ResolverOptions options;
    options.audiences.clock = [this] { return now_; };
    return options;
  }

  ingest::CanonicalEvent Order(std::string user, Timestamp time, double total) {
    ingest::CanonicalEvent event = Event(ingest::EventType::kTrack, "web", 0);
    event.user_id = std::move(user);
    event.event = "Order Completed";
    event.timestamp = time;
    event.properties = R"({"total":)" + std::to_string(total) + "}";
    return event;
  }

  ingest::CanonicalEvent Visit(std::string user, Timestamp time) {
    ingest::CanonicalEvent event = Event(ingest::EventType::kPage, "web", 0);
    event.user_id = std::move(user);
    event.timestamp = time;
    return event;
  }

  Profile ProfileOf(Resolver& resolver, const std::string& user) {
    std::optional<ProfileId> id = Lookup(resolver, type::kUserId, user);
    EXPECT_TRUE(id.has_value()) << user;
    std::optional<Profile> profile = id ? StoredProfile(*id) : std::nullopt;
    EXPECT_TRUE(profile.has_value()) << user;
    return profile.value_or(Profile{});
  }

  // Profile ids with a member row in `audience`.
  std::vector<ProfileId> Members(const std::string& audience) {
    std::vector<ProfileId> members;
    for (const auto& [key, value] :
         Rows(*store_, ColumnFamily::kMembers, profile_store::MemberPrefix(kSpace, audience))) {
      members.push_back(
          ProfileId{profile_store::ReadBigEndian64(std::string_view(key).substr(key.size() - 8))});
    }
    return members;
  }

  std::vector<std::string> Changes(const std::string& audience) {
    return Values(
        Rows(*store_, ColumnFamily::kAudienceChanges, profile_store::AudienceChangePrefix(kSpace, audience)));
  }

  profile_store::AudienceCounters StoredCounters(const std::string& audience) {
    auto value = store_->Get(ColumnFamily::kMeta, profile_store::AudienceCountersKey(kSpace, audience));
    if (!value.ok()) return {};
    return profile_store::DecodeAudienceCounters(*value).value_or(profile_store::AudienceCounters{});
  }

  std::string Computed(const Profile& profile, std::string_view name) {
    auto definitions = audiences_->definitions();
    const audiences::ComputedTrait* trait = definitions->FindComputed(name);
    if (trait == nullptr) return "<undefined>";
    return audiences::ComputedValue(*trait, profile, now_, audiences_->figures()).value_or("<absent>");
  }

  Timestamp now_ = FixedTime(400 * 24 * 3600);  // 2025-02-04
  std::unique_ptr<audiences::SpaceAudiences> audiences_;
};

TEST_F(AudienceMaintenanceTest, AnEventMovesItsProfileIntoAnAudienceInTheSameBatch) {
  auto resolver = ResolverWith({{"orders", R"({"name":"orders","kind":"count","event":"Order Completed"})"}},
                               {{"buyers", R"({"condition":{"computed":"orders","op":"gte","value":1}})"}});
  Append({Order("u-ann", now_ - 3 * kDay, 20), Visit("u-bob", now_ - kDay)});
  CatchUp(*resolver);

  const Profile ann = ProfileOf(*resolver, "u-ann");
  const Profile bob = ProfileOf(*resolver, "u-bob");
  EXPECT_EQ(Computed(ann, "orders"), "1");
  EXPECT_EQ(Computed(bob, "orders"), "0");
  EXPECT_THAT(Members("buyers"), ElementsAre(ann.id));
  ASSERT_TRUE(ann.audiences.contains("buyers"));
  EXPECT_EQ(ann.audiences.at("buyers"), now_);
  EXPECT_FALSE(bob.audiences.contains("buyers"));
  EXPECT_THAT(Changes("buyers"),
              ElementsAre(AllOf(HasSubstr(FormatProfileId(ann.id)), HasSubstr(R"("change":"enter")"))));
  const profile_store::AudienceCounters counters = StoredCounters("buyers");
  EXPECT_EQ(counters.size, 1);
  EXPECT_EQ(counters.entered, 1u);
  EXPECT_EQ(audiences_->Counters("buyers"), counters);

  // Bob's first order moves him in; a second one for Ann changes nothing.
  Append({Order("u-bob", now_, 5), Order("u-ann", now_, 7)});
  CatchUp(*resolver);
  EXPECT_THAT(Members("buyers"), ElementsAre(ann.id, bob.id));
  EXPECT_EQ(Computed(ProfileOf(*resolver, "u-ann"), "orders"), "2");
  EXPECT_EQ(StoredCounters("buyers").size, 2);
  EXPECT_EQ(Changes("buyers").size(), 2u);
}

TEST_F(AudienceMaintenanceTest, TheSweepMovesPeopleOutAsTheirEventsLeaveTheWindow) {
  auto resolver =
      ResolverWith({}, {{"recent", R"({"condition":{"event":"Order Completed","window":"30d"}})"}});
  Append({Order("u-ann", now_ - 29 * kDay, 20), Order("u-bob", now_ - 31 * kDay, 20)});
  CatchUp(*resolver);
  const ProfileId ann = ProfileOf(*resolver, "u-ann").id;
  EXPECT_THAT(Members("recent"), ElementsAre(ann));

  // Time passes without events: only the sweep sees it.
  now_ += 2 * kDay;
  CatchUp(*resolver);
  EXPECT_THAT(Members("recent"), ElementsAre(ann));
  ASSERT_TRUE(resolver->EvaluateAudiences().ok());
  EXPECT_THAT(Members("recent"), ElementsAre());
  EXPECT_FALSE(ProfileOf(*resolver, "u-ann").audiences.contains("recent"));
  EXPECT_THAT(Changes("recent"),
              ElementsAre(HasSubstr(R"("change":"enter")"), HasSubstr(R"("change":"leave")")));
  const profile_store::AudienceCounters counters = StoredCounters("recent");
  EXPECT_EQ(counters.size, 0);
  EXPECT_EQ(counters.entered, 1u);
  EXPECT_EQ(counters.left, 1u);
  EXPECT_EQ(counters.last_evaluated, now_);
  EXPECT_EQ(resolver->audience_maintenance()->metrics().sweeps.load(), 1u);
}

TEST_F(AudienceMaintenanceTest, DefinitionsAddedLaterApplyToPastEvents) {
  auto resolver = ResolverWith({}, {});
  Append({Order("u-ann", now_ - 100 * kDay, 60), Order("u-ann", now_ - 10 * kDay, 50),
          Order("u-bob", now_ - kDay, 30), Visit("u-cy", now_)});
  CatchUp(*resolver);
  EXPECT_TRUE(ProfileOf(*resolver, "u-ann").aggregates.empty());

  auto trait = audiences_->PutComputedTrait(
      "revenue", R"({"kind":"sum","event":"Order Completed","property":"properties.total"})");
  ASSERT_TRUE(trait.ok()) << trait.status();
  auto audience =
      audiences_->PutAudience("big", R"({"condition":{"computed":"revenue","op":"gte","value":100}})");
  ASSERT_TRUE(audience.ok()) << audience.status();
  ASSERT_TRUE(resolver->EvaluateAudiences().ok());

  const Profile ann = ProfileOf(*resolver, "u-ann");
  EXPECT_EQ(Computed(ann, "revenue"), "110");
  EXPECT_EQ(Computed(ProfileOf(*resolver, "u-bob"), "revenue"), "30");
  EXPECT_EQ(Computed(ProfileOf(*resolver, "u-cy"), "revenue"), "<absent>");
  EXPECT_THAT(Members("big"), ElementsAre(ann.id));
  EXPECT_GE(resolver->audience_maintenance()->metrics().backfilled_profiles.load(), 2u);
  EXPECT_TRUE(audiences_->Status("big")->evaluated);

  // New events add to the backfilled state rather than starting over.
  Append({Order("u-bob", now_, 80)});
  CatchUp(*resolver);
  EXPECT_EQ(Computed(ProfileOf(*resolver, "u-bob"), "revenue"), "110");
  EXPECT_EQ(Members("big").size(), 2u);
}

TEST_F(AudienceMaintenanceTest, AMergedAwayProfileLeavesAndTheWinnerKeepsItsEntryTime) {
  auto resolver = ResolverWith({{"orders", R"({"name":"orders","kind":"count","event":"Order Completed"})"}},
                               {{"buyers", R"({"condition":{"event":"Order Completed"}})"},
                                {"loyal", R"({"condition":{"computed":"orders","op":"gte","value":2}})"}});
  ingest::CanonicalEvent web_order = Order("", now_ - 5 * kDay, 10);
  web_order.anonymous_id = "a-web";
  Append({Order("u-ann", now_ - 6 * kDay, 10), web_order});
  CatchUp(*resolver);
  const ProfileId ann = ProfileOf(*resolver, "u-ann").id;
  ASSERT_EQ(Members("buyers").size(), 2u);
  EXPECT_THAT(Members("loyal"), ElementsAre());
  const Timestamp entered = now_;

  now_ += kDay;
  ingest::CanonicalEvent login = Event(ingest::EventType::kIdentify, "web", 0);
  login.user_id = "u-ann";
  login.anonymous_id = "a-web";
  login.timestamp = now_;
  Append({login});
  CatchUp(*resolver);

  const Profile merged = ProfileOf(*resolver, "u-ann");
  ASSERT_EQ(merged.id, ann);
  ASSERT_EQ(merged.merged_from.size(), 1u);
  const ProfileId loser = merged.merged_from[0];
  EXPECT_EQ(Computed(merged, "orders"), "2");  // both profiles' aggregates, merged
  EXPECT_THAT(Members("buyers"), ElementsAre(ann));
  EXPECT_THAT(Members("loyal"), ElementsAre(ann));
  EXPECT_EQ(merged.audiences.at("buyers"), entered);  // unchanged: it never left
  EXPECT_EQ(merged.audiences.at("loyal"), now_);
  EXPECT_THAT(Changes("buyers"),
              ::testing::Contains(AllOf(HasSubstr(FormatProfileId(loser)), HasSubstr(R"("change":"leave")"),
                                        HasSubstr("merged into " + FormatProfileId(ann)))));
  EXPECT_EQ(StoredCounters("buyers").size, 1);
  EXPECT_EQ(StoredCounters("loyal").size, 1);
}

TEST_F(AudienceMaintenanceTest, ADeletedAudienceTakesItsRowsWithIt) {
  auto resolver = ResolverWith({}, {});
  ASSERT_TRUE(audiences_->PutAudience("visitors", R"({"condition":{"channel":"web"}})").ok());
  Append({Visit("u-ann", now_), Visit("u-bob", now_)});
  CatchUp(*resolver);
  ASSERT_EQ(Members("visitors").size(), 2u);
  ASSERT_TRUE(store_->Get(ColumnFamily::kMeta, profile_store::AudienceCountersKey(kSpace, "visitors")).ok());

  ASSERT_TRUE(audiences_->DeleteAudience("visitors").ok());
  CatchUp(*resolver);
  EXPECT_THAT(Members("visitors"), ElementsAre());
  EXPECT_THAT(Changes("visitors"), ElementsAre());
  EXPECT_TRUE(absl::IsNotFound(
      store_->Get(ColumnFamily::kMeta, profile_store::AudienceCountersKey(kSpace, "visitors")).status()));
  // The profiles forget it when they are next written.
  Append({Visit("u-ann", now_)});
  CatchUp(*resolver);
  EXPECT_TRUE(ProfileOf(*resolver, "u-ann").audiences.empty());
}

TEST_F(AudienceMaintenanceTest, ARebuildGivesTheSameProfilesAndMembers) {
  const std::vector<audiences::ConfiguredDefinition> computed = {
      {"orders_90d", R"({"name":"orders_90d","kind":"count","event":"Order Completed","window":"90d"})"},
      {"revenue",
       R"({"name":"revenue","kind":"sum","event":"Order Completed","property":"properties.total"})"}};
  const std::vector<audiences::ConfiguredDefinition> audience_list = {
      {"active", R"({"condition":{"computed":"orders_90d","op":"gte","value":2}})"},
      {"lapsed",
       R"({"condition":{"all":[{"event":"Order Completed"},{"not":{"event":"Order Completed","window":"90d"}}]}})"}};
  auto resolver = ResolverWith(computed, audience_list);
  std::vector<ingest::CanonicalEvent> events;
  for (int person = 0; person < 40; ++person) {
    for (int order = 0; order <= person % 4; ++order) {
      events.push_back(
          Order("u-" + std::to_string(person), now_ - (person * 7 + order * 30) * kDay, person + order));
    }
  }
  Append(events);
  CatchUp(*resolver);
  ASSERT_TRUE(resolver->EvaluateAudiences().ok());
  const std::map<std::string, std::string> live_profiles = Rows(*store_, ColumnFamily::kProfiles);
  const std::map<std::string, std::string> live_members = Rows(*store_, ColumnFamily::kMembers);
  ASSERT_FALSE(live_members.empty());
  resolver.reset();

  pipeline::PipelineOptions options;
  options.resolver = Options();
  options.definitions[std::string(kSpace)] = {computed, audience_list};
  ASSERT_TRUE(Rebuild(*store_, options).ok());
  ExpectSameState(live_profiles, Rows(*store_, ColumnFamily::kProfiles));
  ExpectSameState(live_members, Rows(*store_, ColumnFamily::kMembers));
}

}  // namespace
}  // namespace tessera::resolve
