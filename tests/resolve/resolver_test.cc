#include "resolve/resolver.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <future>
#include <map>
#include <memory>
#include <numeric>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "identity/identifier.h"
#include "identity/identity_graph.h"
#include "identity/normalizer.h"
#include "ingest/accepted_log.h"
#include "ingest/group_commit_writer.h"
#include "ingest/identifier_extractor.h"
#include "pipeline/ingest_pipeline.h"
#include "profile_store/profile.h"
#include "profile_store/store.h"
#include "resolve/rebuild.h"
#include "rocksdb/db.h"
#include "tests/ingest/test_events.h"
#include "tests/resolve/resolver_fixture.h"
#include "tests/support/temp_dir.h"

namespace tessera::resolve {
namespace {

using namespace resolver_testing;  // NOLINT: the fixture and its helpers

TEST_F(ResolverTest, AnonymousBrowsingThenLoginIsOneProfile) {
  ingest::CanonicalEvent landing = Event(ingest::EventType::kPage, "web", 10);
  landing.anonymous_id = "a-browser";
  ingest::CanonicalEvent pricing = Event(ingest::EventType::kPage, "web", 20);
  pricing.anonymous_id = "a-browser";
  ingest::CanonicalEvent login = Event(ingest::EventType::kIdentify, "web", 30);
  login.anonymous_id = "a-browser";
  login.user_id = "u-jane";
  login.traits = R"({"email":"Jane@Example.com","name":"Jane"})";
  ingest::CanonicalEvent order = Event(ingest::EventType::kTrack, "app", 40);
  order.user_id = "u-jane";
  order.event = "Order Completed";
  Append({landing, pricing, login, order});

  auto resolver = NewResolver();
  EXPECT_EQ(CatchUp(*resolver), 4u);

  EXPECT_EQ(Lookup(*resolver, type::kAnonymousId, "a-browser"), P(1));
  EXPECT_EQ(Lookup(*resolver, type::kUserId, "u-jane"), P(1));
  EXPECT_EQ(Lookup(*resolver, type::kEmail, "jane@example.com"), P(1))
      << "the email is linked in normalized form";
  EXPECT_EQ(resolver->metrics().profiles_created.load(), 1u);
  EXPECT_EQ(resolver->metrics().merges.load(), 0u) << "the login attaches to the anonymous profile";

  std::optional<Profile> jane = StoredProfile(P(1));
  ASSERT_TRUE(jane.has_value());
  EXPECT_EQ(jane->event_count, 4u);
  EXPECT_EQ(jane->channels["web"].events, 3u);
  EXPECT_EQ(jane->channels["app"].events, 1u);
  EXPECT_EQ(TraitOf(*jane, "name"), R"("Jane")");
  EXPECT_EQ(jane->first_seen, FixedTime(10));
  EXPECT_EQ(jane->last_seen, FixedTime(40));
  std::vector<std::string> timeline = Timeline(P(1));
  ASSERT_EQ(timeline.size(), 4u);
  EXPECT_THAT(timeline[0], HasSubstr(R"("event":"Order Completed")")) << "the timeline is newest first";
  EXPECT_THAT(timeline[3], HasSubstr(R"("type":"page")"));
}

TEST_F(ResolverTest, LoginMergesTheUsersProfileIntoTheAnonymousOne) {
  ingest::CanonicalEvent browse = Event(ingest::EventType::kPage, "web", 10);
  browse.anonymous_id = "a-browser";
  ingest::CanonicalEvent server = Event(ingest::EventType::kTrack, "app", 20);
  server.user_id = "u-jane";
  ingest::CanonicalEvent login = Event(ingest::EventType::kIdentify, "web", 30);
  login.anonymous_id = "a-browser";
  login.user_id = "u-jane";
  Append({browse, server, login});

  auto resolver = NewResolver();
  CatchUp(*resolver);

  EXPECT_EQ(Lookup(*resolver, type::kUserId, "u-jane"), P(1)) << "merged into the oldest profile";
  EXPECT_EQ(Canonical(*resolver, P(2)), P(1)) << "the merged-away id resolves to the winner";
  EXPECT_EQ(resolver->metrics().merges.load(), 1u);
  std::vector<std::string> records = Records(P(1));
  ASSERT_EQ(records.size(), 1u);
  EXPECT_THAT(records[0],
              AllOf(HasSubstr(R"("kind":"merge")"), HasSubstr(R"("winner":")" + FormatProfileId(P(1))),
                    HasSubstr(R"("loser":")" + FormatProfileId(P(2))),
                    HasSubstr(R"("messageId":")" + login.message_id + "\""),
                    HasSubstr(std::to_string(login.received_at.time_since_epoch().count()))));
  std::optional<Profile> jane = StoredProfile(P(1));
  ASSERT_TRUE(jane.has_value());
  EXPECT_EQ(jane->event_count, 3u) << "the loser's events count for the winner";
  EXPECT_EQ(jane->channels["app"].events, 1u);
  EXPECT_EQ(Timeline(P(1)).size() + Timeline(P(2)).size(), 3u);
}

TEST_F(ResolverTest, SameEmailOnWebAndPosIsOneProfileWithThePosPhone) {
  ingest::CanonicalEvent web = Event(ingest::EventType::kIdentify, "web", 10);
  web.user_id = "u-jane";
  web.anonymous_id = "a-browser";
  web.traits = R"({"email":"Jane.Doe@Example.com"})";
  ingest::CanonicalEvent pos = Event(ingest::EventType::kTrack, "pos", 20);
  pos.event = "Purchase";
  pos.context = R"({"traits":{"email":"  jane.doe@example.COM ","phone":"+1 415-555-2671"}})";
  Append({web, pos});

  auto resolver = NewResolver();
  CatchUp(*resolver);

  EXPECT_EQ(Lookup(*resolver, type::kEmail, "jane.doe@example.com"), P(1));
  EXPECT_EQ(Lookup(*resolver, type::kPhone, "+14155552671"), P(1)) << "the POS phone joins the web profile";
  EXPECT_EQ(resolver->graph().next_profile_id(), 2u) << "only one profile was ever created";
  std::optional<Profile> jane = StoredProfile(P(1));
  ASSERT_TRUE(jane.has_value());
  EXPECT_EQ(jane->channels.size(), 2u);
  EXPECT_EQ(jane->channels["pos"].events, 1u);
  ASSERT_NE(jane->FindIdentity("phone", "+14155552671"), nullptr);
  EXPECT_THAT(jane->FindIdentity("phone", "+14155552671")->sources, ElementsAre("pos-source"));
}

TEST_F(ResolverTest, PosBeforeWebStillEndsInOneProfile) {
  ingest::CanonicalEvent pos = Event(ingest::EventType::kTrack, "pos", 10);
  pos.context = R"({"traits":{"email":"jane.doe@example.com","phone":"+1 415-555-2671"}})";
  ingest::CanonicalEvent browse = Event(ingest::EventType::kPage, "web", 15);
  browse.anonymous_id = "a-browser";
  ingest::CanonicalEvent web = Event(ingest::EventType::kIdentify, "web", 20);
  web.user_id = "u-jane";
  web.anonymous_id = "a-browser";
  web.traits = R"({"email":"JANE.DOE@example.com"})";
  Append({pos, browse, web});

  auto resolver = NewResolver();
  CatchUp(*resolver);

  const std::optional<ProfileId> jane = Lookup(*resolver, type::kUserId, "u-jane");
  ASSERT_TRUE(jane.has_value());
  EXPECT_EQ(*jane, P(1)) << "the POS profile is the oldest";
  EXPECT_EQ(Lookup(*resolver, type::kPhone, "+14155552671"), jane);
  EXPECT_EQ(Lookup(*resolver, type::kAnonymousId, "a-browser"), jane);
  EXPECT_EQ(StoredProfile(*jane)->event_count, 3u);
}

TEST_F(ResolverTest, SharedFamilyDeviceSeenWithTwoUsersIsNotMerged) {
  ingest::CanonicalEvent mom = Event(ingest::EventType::kTrack, "app", 10);
  mom.user_id = "u-mom";
  mom.context = R"({"device":{"id":"TABLET-1"}})";
  ingest::CanonicalEvent kid = Event(ingest::EventType::kTrack, "app", 20);
  kid.user_id = "u-kid";
  kid.context = R"({"device":{"id":"tablet-1"}})";
  ingest::CanonicalEvent anonymous = Event(ingest::EventType::kScreen, "app", 30);
  anonymous.anonymous_id = "a-app";
  anonymous.context = R"({"device":{"id":"tablet-1"}})";
  Append({mom, kid, anonymous});

  auto resolver = NewResolver();
  CatchUp(*resolver);

  const std::optional<ProfileId> mom_profile = Lookup(*resolver, type::kUserId, "u-mom");
  const std::optional<ProfileId> kid_profile = Lookup(*resolver, type::kUserId, "u-kid");
  ASSERT_TRUE(mom_profile.has_value() && kid_profile.has_value());
  EXPECT_NE(*mom_profile, *kid_profile) << "two user_ids must never end in one profile";
  EXPECT_EQ(Lookup(*resolver, type::kDeviceId, "tablet-1"), mom_profile)
      << "the device stays with its first user";
  EXPECT_EQ(Lookup(*resolver, type::kAnonymousId, "a-app"), mom_profile)
      << "an event with only the device goes to the device's profile";
  EXPECT_EQ(resolver->metrics().merges.load(), 0u);
  EXPECT_EQ(resolver->metrics().refused_merges.load(), 1u);
  EXPECT_EQ(StoredProfile(*kid_profile)->FindIdentity("device_id", "tablet-1"), nullptr);
  ASSERT_EQ(Timeline(*kid_profile).size(), 1u) << "the kid's event is on the kid's profile";

  for (ProfileId id : {*mom_profile, *kid_profile}) {
    std::vector<std::string> records = Records(id);
    ASSERT_EQ(records.size(), 1u) << "the decision must be queryable from " << FormatProfileId(id);
    EXPECT_THAT(records[0], AllOf(HasSubstr(R"("kind":"refused_merge")"), HasSubstr(kid.message_id),
                                  HasSubstr("2 user_id values (limit 1)"), HasSubstr("device_id:tablet-1")));
  }
}

TEST_F(ResolverTest, AliasChainLinksEveryStep) {
  ingest::CanonicalEvent first = Event(ingest::EventType::kPage, "web", 10);
  first.anonymous_id = "a-1";
  ingest::CanonicalEvent second = Event(ingest::EventType::kPage, "web", 20);
  second.anonymous_id = "a-2";
  ingest::CanonicalEvent anon_alias = Event(ingest::EventType::kAlias, "web", 30);
  anon_alias.previous_id = "a-1";
  anon_alias.anonymous_id = "a-2";
  ingest::CanonicalEvent user_alias = Event(ingest::EventType::kAlias, "web", 40);
  user_alias.previous_id = "a-2";
  user_alias.user_id = "u-1";
  ingest::CanonicalEvent known_user_alias = Event(ingest::EventType::kAlias, "app", 50);
  known_user_alias.previous_id = "u-1";
  known_user_alias.anonymous_id = "a-3";
  Append({first, second, anon_alias, user_alias, known_user_alias});

  auto resolver = NewResolver();
  EXPECT_EQ(CatchUp(*resolver), 5u);

  for (const char* anon : {"a-1", "a-2", "a-3"}) {
    EXPECT_EQ(Lookup(*resolver, type::kAnonymousId, anon), P(1)) << "anonymous_id:" << anon;
  }
  EXPECT_EQ(Lookup(*resolver, type::kUserId, "u-1"), P(1));
  EXPECT_EQ(Canonical(*resolver, P(2)), P(1));
  EXPECT_EQ(Lookup(*resolver, type::kAnonymousId, "u-1"), std::nullopt)
      << "a previousId that is a known user id must be linked as the user id, not as an anonymous id";
  EXPECT_EQ(Lookup(*resolver, type::kUserId, "a-2"), std::nullopt)
      << "a previousId that is no known user id is an anonymous id";
  EXPECT_EQ(resolver->metrics().merges.load(), 1u);
}

TEST_F(ResolverTest, BlockedEmailLinksNothingAndIsAWarning) {
  ingest::CanonicalEvent first = Event(ingest::EventType::kIdentify, "web", 10);
  first.user_id = "u-1";
  first.traits = R"({"email":"test@test.com"})";
  ingest::CanonicalEvent second = Event(ingest::EventType::kIdentify, "pos", 20);
  second.user_id = "u-2";
  second.traits = R"({"email":"TEST@test.com"})";
  Append({first, second});

  auto resolver = NewResolver();
  CatchUp(*resolver);

  EXPECT_EQ(Lookup(*resolver, type::kEmail, "test@test.com"), std::nullopt) << "a blocked value never links";
  EXPECT_EQ(Lookup(*resolver, type::kUserId, "u-1"), P(1));
  EXPECT_EQ(Lookup(*resolver, type::kUserId, "u-2"), P(2)) << "two users sharing a blocked email stay apart";
  EXPECT_EQ(resolver->metrics().refused_merges.load(), 0u) << "a blocked value is not even a refused merge";
  for (ProfileId id : {P(1), P(2)}) {
    std::vector<std::string> timeline = Timeline(id);
    ASSERT_EQ(timeline.size(), 1u);
    EXPECT_THAT(timeline[0], AllOf(HasSubstr(R"("warnings":[)"), HasSubstr("traits.email")))
        << "the blocked email must be reported in the event's timeline entry";
  }
}

TEST_F(ResolverTest, InvalidPhoneIsAWarningAndTheEventStillApplies) {
  ingest::CanonicalEvent event = Event(ingest::EventType::kTrack, "pos", 10);
  event.user_id = "u-1";
  event.context = R"({"traits":{"phone":"12"}})";
  Append({event});

  auto resolver = NewResolver();
  CatchUp(*resolver);

  std::optional<Profile> profile = StoredProfile(P(1));
  ASSERT_TRUE(profile.has_value());
  EXPECT_EQ(profile->CountIdentities("phone"), 0u) << "an invalid phone is not linked";
  std::vector<std::string> timeline = Timeline(P(1));
  ASSERT_EQ(timeline.size(), 1u);
  EXPECT_THAT(timeline[0], AllOf(HasSubstr(R"("warnings":[)"), HasSubstr("context.traits.phone")));
  EXPECT_EQ(Count(ColumnFamily::kDeadLetter), 0u);
}

TEST_F(ResolverTest, EventWithoutUsableIdentifierIsDeadLettered) {
  ingest::CanonicalEvent blocked = Event(ingest::EventType::kTrack, "web", 10);
  blocked.anonymous_id = "undefined";
  ingest::CanonicalEvent nothing = Event(ingest::EventType::kTrack, "server", 20);
  ingest::CanonicalEvent fine = Event(ingest::EventType::kTrack, "web", 30);
  fine.anonymous_id = "a-1";
  const uint64_t last = Append({blocked, nothing, fine});

  auto resolver = NewResolver();
  EXPECT_EQ(CatchUp(*resolver), 3u) << "dead-lettered events count as applied";

  std::map<std::string, std::string> dead = Rows(*store_, ColumnFamily::kDeadLetter);
  ASSERT_EQ(dead.size(), 2u);
  auto blocked_row = dead.find(DeadLetterKey(kSpace, last - 2));
  ASSERT_NE(blocked_row, dead.end()) << "the dead letter is keyed by the event's log sequence";
  EXPECT_THAT(blocked_row->second,
              AllOf(HasSubstr("no usable identifier"), HasSubstr(R"("warnings":["anonymousId)")))
      << "the reason and the blocked field's warning are kept";
  EXPECT_THAT(blocked_row->second, HasSubstr(blocked.message_id)) << "the record itself is kept";
  auto nothing_row = dead.find(DeadLetterKey(kSpace, last - 1));
  ASSERT_NE(nothing_row, dead.end());
  EXPECT_THAT(nothing_row->second, HasSubstr("no usable identifier"));

  EXPECT_EQ(resolver->metrics().events_dead_lettered.load(), 2u);
  EXPECT_EQ(resolver->graph().next_profile_id(), 2u) << "only the good event creates a profile";
  EXPECT_EQ(Count(ColumnFamily::kTimeline), 1u);
  EXPECT_EQ(StoredPosition(), last) << "the position moves past dead-lettered events";
}

TEST_F(ResolverTest, UndecodableLogRecordIsDeadLettered) {
  ingest::CanonicalEvent fine = Event(ingest::EventType::kTrack, "web", 10);
  fine.anonymous_id = "a-1";
  const uint64_t last = Append({fine});
  writer_->Stop();
  // A damaged record after the writer's last one.
  rocksdb::Status put = store_->intake_db()->Put(rocksdb::WriteOptions(), store_->handle(ColumnFamily::kLog),
                                          ingest::AcceptedLog::Key(kSpace, last + 1), "{not an event");
  ASSERT_TRUE(put.ok()) << put.ToString();

  auto resolver = NewResolver();
  EXPECT_EQ(CatchUp(*resolver), 2u);
  auto dead = store_->Get(ColumnFamily::kDeadLetter, DeadLetterKey(kSpace, last + 1));
  ASSERT_TRUE(dead.ok()) << dead.status();
  EXPECT_THAT(*dead, HasSubstr("undecodable log record"));
  EXPECT_EQ(StoredPosition(), last + 1);
}

TEST_F(ResolverTest, TraitsAreLastWriteByEventTimeWhateverTheLogOrder) {
  ingest::CanonicalEvent newer = Event(ingest::EventType::kIdentify, "web", 200);
  newer.user_id = "u-1";
  newer.traits = R"({"plan":"gold","city":"Seoul"})";
  ingest::CanonicalEvent older =
      Event(ingest::EventType::kIdentify, "pos", 100);  // logged later, happened earlier
  older.user_id = "u-1";
  older.traits = R"({"plan":"silver","age":30,"address":{"zip":"04524"}})";
  ingest::CanonicalEvent newest = Event(ingest::EventType::kIdentify, "app", 300);
  newest.user_id = "u-1";
  newest.traits = R"({"plan":"platinum"})";
  ingest::CanonicalEvent tracked = Event(ingest::EventType::kTrack, "web", 400);
  tracked.user_id = "u-1";
  tracked.context = R"({"traits":{"city":"Busan"}})";
  Append({newer, older});

  auto resolver = NewResolver();
  CatchUp(*resolver);
  std::optional<Profile> profile = StoredProfile(P(1));
  ASSERT_TRUE(profile.has_value());
  EXPECT_EQ(TraitOf(*profile, "plan"), R"("gold")") << "an older event logged later must not overwrite";
  EXPECT_EQ(TraitOf(*profile, "city"), R"("Seoul")");
  EXPECT_EQ(TraitOf(*profile, "age"), "30")
      << "keys the newer event did not set are taken from the older one";
  EXPECT_EQ(TraitOf(*profile, "address"), R"({"zip":"04524"})");
  EXPECT_EQ(profile->first_seen, FixedTime(100));
  EXPECT_EQ(profile->last_seen, FixedTime(200));

  Append({newest, tracked});
  CatchUp(*resolver);
  profile = StoredProfile(P(1));
  ASSERT_TRUE(profile.has_value());
  EXPECT_EQ(TraitOf(*profile, "plan"), R"("platinum")");
  EXPECT_EQ(TraitOf(*profile, "city"), R"("Busan")") << "context.traits of any event write traits too";
}

TEST_F(ResolverTest, TraitsSurviveAMergeByEventTimeNotByWhichProfileWins) {
  ingest::CanonicalEvent anonymous = Event(ingest::EventType::kIdentify, "web", 500);
  anonymous.anonymous_id = "a-1";
  anonymous.traits = R"({"plan":"trial","city":"Seoul"})";
  ingest::CanonicalEvent user = Event(ingest::EventType::kIdentify, "app", 400);
  user.user_id = "u-1";
  user.traits = R"({"plan":"paid","city":"Busan","name":"Kim"})";
  ingest::CanonicalEvent user_later = Event(ingest::EventType::kIdentify, "app", 600);
  user_later.user_id = "u-1";
  user_later.traits = R"({"city":"Incheon"})";
  ingest::CanonicalEvent login = Event(ingest::EventType::kTrack, "web", 450);
  login.anonymous_id = "a-1";
  login.user_id = "u-1";
  Append({anonymous, user, user_later, login});

  auto resolver = NewResolver();
  CatchUp(*resolver);
  ASSERT_EQ(Lookup(*resolver, type::kUserId, "u-1"), P(1));
  std::optional<Profile> profile = StoredProfile(P(1));
  ASSERT_TRUE(profile.has_value());
  EXPECT_EQ(TraitOf(*profile, "plan"), R"("trial")")
      << "the winner's write (t=500) is newer than the loser's (400)";
  EXPECT_EQ(TraitOf(*profile, "city"), R"("Incheon")")
      << "the loser's write (t=600) is newer than the winner's";
  EXPECT_EQ(TraitOf(*profile, "name"), R"("Kim")");
}

TEST_F(ResolverTest, SetOnceKeepsTheFirstValue) {
  ingest::CanonicalEvent first = Event(ingest::EventType::kIdentify, "web", 100);
  first.user_id = "u-1";
  first.context = R"({"$set_once":{"first_channel":"web","signup":"2024-01-01"}})";
  ingest::CanonicalEvent second = Event(ingest::EventType::kIdentify, "pos", 200);
  second.user_id = "u-1";
  second.context = R"({"$set_once":{"first_channel":"pos","coupon":"WELCOME"}})";
  ingest::CanonicalEvent traits_form = Event(ingest::EventType::kIdentify, "app", 300);
  traits_form.user_id = "u-1";
  traits_form.traits = R"({"$set_once":{"signup":"2024-05-05","referrer":"ad"},"plan":"gold"})";
  Append({first, second, traits_form});

  auto resolver = NewResolver();
  CatchUp(*resolver);
  std::optional<Profile> profile = StoredProfile(P(1));
  ASSERT_TRUE(profile.has_value());
  EXPECT_EQ(TraitOf(*profile, "first_channel"), R"("web")") << "a later $set_once must not overwrite";
  EXPECT_EQ(TraitOf(*profile, "signup"), R"("2024-01-01")") << "traits.$set_once must not overwrite either";
  EXPECT_EQ(TraitOf(*profile, "coupon"), R"("WELCOME")") << "a $set_once key not yet set is set";
  EXPECT_EQ(TraitOf(*profile, "referrer"), R"("ad")");
  EXPECT_EQ(TraitOf(*profile, "plan"), R"("gold")");
  EXPECT_EQ(TraitOf(*profile, "$set_once"), "<absent>") << "the $set_once object itself is not a trait";

  // Logged last but happened first: "first" is by event time, as for every other trait rule.
  ingest::CanonicalEvent earliest = Event(ingest::EventType::kIdentify, "email", 50);
  earliest.user_id = "u-1";
  earliest.context = R"({"$set_once":{"first_channel":"email"}})";
  Append({earliest});
  CatchUp(*resolver);
  profile = StoredProfile(P(1));
  ASSERT_TRUE(profile.has_value());
  EXPECT_EQ(TraitOf(*profile, "first_channel"), R"("email")");
}

TEST_F(ResolverTest, RestartContinuesWhereItStoppedWithoutRepeatsOrGaps) {
  auto make_events = [&](int from, int count) {
    std::vector<ingest::CanonicalEvent> events;
    for (int i = from; i < from + count; ++i) {
      ingest::CanonicalEvent event =
          Event(i % 3 == 0 ? ingest::EventType::kIdentify : ingest::EventType::kTrack, "web", 10 * i);
      event.anonymous_id = "a-" + std::to_string(i % 4);
      if (i % 3 == 0) event.user_id = "u-" + std::to_string(i % 4);
      if (i % 3 == 0) event.traits = R"({"seen":)" + std::to_string(i) + "}";
      events.push_back(std::move(event));
    }
    return events;
  };
  Append(make_events(0, 10));
  {
    auto resolver = NewResolver(identity::IdentityRules(), InBatchesOf(3));
    EXPECT_EQ(CatchUp(*resolver), 10u);
    EXPECT_EQ(resolver->position(), 10u);
  }  // the resolver goes away, as in a restart
  const uint64_t last = Append(make_events(10, 12));

  auto restarted = NewResolver(identity::IdentityRules(), InBatchesOf(5));
  EXPECT_EQ(restarted->position(), 10u) << "Recover must read the stored position";
  EXPECT_EQ(CatchUp(*restarted), 12u) << "exactly the events after the position";
  EXPECT_EQ(StoredPosition(), last);
  EXPECT_EQ(Count(ColumnFamily::kTimeline), 22u)
      << "one timeline entry per event: none applied twice, none skipped";

  uint64_t counted = 0;
  for (const auto& [key, record] : Rows(*store_, ColumnFamily::kProfiles)) {
    auto profile = profile_store::DecodeProfile(record);
    ASSERT_TRUE(profile.ok()) << profile.status();
    counted += profile->event_count;
  }
  EXPECT_EQ(counted, 22u) << "profiles' event counts must add up to the events applied";
  EXPECT_EQ(restarted->graph().next_profile_id(), 5u) << "four anonymous ids, four profiles, no id reused";

  auto third = NewResolver();
  EXPECT_EQ(CatchUp(*third), 0u) << "nothing is left once caught up";
}

TEST_F(ResolverTest, DeviceAdvertisingAndExternalIdsAreLinkedUnderTheirTypes) {
  ingest::CanonicalEvent event = Event(ingest::EventType::kIdentify, "app", 10);
  event.user_id = "u-1";
  event.context =
      R"({"device":{"id":"DEV-1","advertisingId":"6D92078A-8246-4BA4-AE5B-76104861E7DC","adTrackingEnabled":true},)"
      R"("os":{"name":"iOS"},"externalIds":[{"id":"C-77","type":"crm_id","collection":"users","encoding":"none"},)"
      R"({"id":"u-other","type":"user_id","collection":"users","encoding":"none"}]})";
  Append({event});

  auto resolver = NewResolver();
  CatchUp(*resolver);

  EXPECT_EQ(Lookup(*resolver, type::kDeviceId, "dev-1"), P(1));
  EXPECT_EQ(Lookup(*resolver, type::kIdfa, "6d92078a-8246-4ba4-ae5b-76104861e7dc"), P(1));
  EXPECT_EQ(Lookup(*resolver, "crm_id", "C-77"), P(1))
      << "an external id of a configured-free type is linked as is";
  EXPECT_EQ(Lookup(*resolver, type::kUserId, "u-other"), std::nullopt)
      << "a second user id in the same event breaks the user_id limit and is not attached";
  EXPECT_EQ(resolver->metrics().refused_merges.load(), 1u);
  std::vector<std::string> records = Records(P(1));
  ASSERT_EQ(records.size(), 1u);
  EXPECT_THAT(records[0], AllOf(HasSubstr(R"("kind":"refused_merge")"), HasSubstr("user_id:u-other")));
}

TEST_F(ResolverTest, EachSpaceHasItsOwnGraphAndRebuildReplaysThemAll) {
  ingest::CanonicalEvent in_default = Event(ingest::EventType::kIdentify, "web", 10);
  in_default.user_id = "u-1";
  ingest::CanonicalEvent in_acme = Event(ingest::EventType::kIdentify, "pos", 20);
  in_acme.space = "acme";
  in_acme.user_id = "u-1";
  in_acme.anonymous_id = "a-1";
  Append({in_default, in_acme});

  auto resolver = NewResolver();
  Resolver acme(*store_, "acme", *normalizer_, extractor_, identity::IdentityRules(), ResolverOptions{});
  ASSERT_TRUE(acme.Recover().ok());
  EXPECT_EQ(CatchUp(*resolver), 1u) << "a space's resolver reads only its space's log";
  EXPECT_EQ(CatchUp(acme), 1u);

  EXPECT_EQ(Lookup(*resolver, type::kUserId, "u-1"), P(1));
  EXPECT_EQ(Lookup(*resolver, type::kAnonymousId, "a-1"), std::nullopt) << "acme's identifiers stay in acme";
  EXPECT_EQ(Lookup(acme, type::kUserId, "u-1"), P(1)) << "profile ids are per space";
  EXPECT_EQ(Lookup(acme, type::kAnonymousId, "a-1"), P(1));
  EXPECT_EQ(Count(ColumnFamily::kIdentifiers), 3u);

  const std::map<std::string, std::string> live = DerivedState();
  absl::StatusOr<RebuildReport> report = Rebuild(*store_, pipeline::PipelineOptions{});
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_THAT(report->spaces, ElementsAre("acme", "default"));
  EXPECT_EQ(report->events, 2u);
  ExpectSameState(live, DerivedState());
}

TEST_F(ResolverTest, IdentitiesAndProfileTimesFollowEventTimeNotLogOrder) {
  ingest::CanonicalEvent late = Event(ingest::EventType::kTrack, "web", 300);
  late.user_id = "u-1";
  ingest::CanonicalEvent early = Event(ingest::EventType::kTrack, "pos", 100);
  early.user_id = "u-1";
  ingest::CanonicalEvent middle = Event(ingest::EventType::kTrack, "web", 200);
  middle.user_id = "u-1";
  Append({late, early, middle});

  auto resolver = NewResolver();
  CatchUp(*resolver);
  std::optional<Profile> profile = StoredProfile(P(1));
  ASSERT_TRUE(profile.has_value());
  EXPECT_EQ(profile->first_seen, FixedTime(100));
  EXPECT_EQ(profile->last_seen, FixedTime(300));
  const profile_store::IdentityRecord* user = profile->FindIdentity("user_id", "u-1");
  ASSERT_NE(user, nullptr);
  EXPECT_EQ(user->first_seen, FixedTime(100));
  EXPECT_EQ(user->last_seen, FixedTime(300));
  EXPECT_THAT(user->sources, ElementsAre("pos-source", "web-source"));
  EXPECT_EQ(profile->channels["web"].first_seen, FixedTime(200));
  EXPECT_EQ(profile->channels["web"].last_seen, FixedTime(300));
  std::vector<std::string> timeline = Timeline(P(1));
  ASSERT_EQ(timeline.size(), 3u);
  EXPECT_THAT(timeline[0], HasSubstr(R"("sequence":1,)"))
      << "newest event time first, whatever the log order";
  EXPECT_THAT(timeline[2], HasSubstr(R"("sequence":2,)"));
}

TEST_F(ResolverTest, PipelineResolvesInTheBackground) {
  pipeline::PipelineOptions options;
  options.spaces = {std::string(kSpace)};
  ingest::IngestMetrics metrics;
  auto pipeline = std::make_unique<pipeline::IngestPipeline>(*store_, options, metrics);
  ASSERT_TRUE(pipeline->Start().ok());

  ingest::CanonicalEvent browse = Event(ingest::EventType::kPage, "web", 10);
  browse.anonymous_id = "a-browser";
  ingest::CanonicalEvent login = Event(ingest::EventType::kIdentify, "web", 20);
  login.anonymous_id = "a-browser";
  login.user_id = "u-jane";
  ingest::ParsedRequest request;
  request.events = {browse, login};
  request.index_of = {0, 1};
  request.event_count = 2;
  std::promise<pipeline::IngestResult> accepted;
  pipeline->Accept(ingest::SourceRef{"website", std::string(kSpace), "web"}, std::move(request), false,
                   [&](pipeline::IngestResult result) { accepted.set_value(std::move(result)); });
  pipeline::IngestResult result = accepted.get_future().get();
  ASSERT_TRUE(result.status.ok()) << result.status;
  pipeline->Stop();  // drains the resolvers

  Resolver* resolver = pipeline->resolver(kSpace);
  ASSERT_NE(resolver, nullptr);
  EXPECT_EQ(resolver->metrics().events_applied.load(), 2u);
  EXPECT_EQ(Lookup(*resolver, type::kUserId, "u-jane"), P(1));
  EXPECT_EQ(Lookup(*resolver, type::kAnonymousId, "a-browser"), P(1));
}

}  // namespace
}  // namespace tessera::resolve
