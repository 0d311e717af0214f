// Consent per purpose through the resolver: from Segment's categoryPreferences, from a plain
// context.consent map and from identify traits; newest event time wins whatever the log order;
// malformed values are warnings; merges and rebuilds keep it.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

#include "privacy/consent_extractor.h"
#include "tests/resolve/resolver_fixture.h"

namespace tessera::resolve {
namespace {

using namespace resolver_testing;  // NOLINT: the fixture and its helpers
using profile_store::ConsentRecord;

// "granted@seconds source/channel", or "<absent>": one string shows everything a failure needs.
std::string ConsentOf(const Profile& profile, const std::string& purpose) {
  auto it = profile.consent.find(purpose);
  if (it == profile.consent.end()) return "<absent>";
  const ConsentRecord& record = it->second;
  const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(record.time - FixedTime(0)).count();
  return std::string(record.granted ? "granted" : "denied") + "@" + std::to_string(seconds) + " " +
         record.source + "/" + record.channel;
}

using ResolverConsentTest = ResolverTest;

TEST_F(ResolverConsentTest, SegmentCategoryPreferencesAreNormalizedPurposes) {
  ingest::CanonicalEvent page = Event(ingest::EventType::kPage, "web", 10);
  page.anonymous_id = "a-1";
  page.context =
      R"({"consent":{"categoryPreferences":{"Advertising":true,"Analytics":false,"Functional Cookies":true,"E-Mail":true}}})";
  Append({page});
  auto resolver = NewResolver();
  CatchUp(*resolver);

  std::optional<Profile> profile = StoredProfile(P(1));
  ASSERT_TRUE(profile.has_value());
  EXPECT_EQ(ConsentOf(*profile, "advertising"), "granted@10 web-source/web");
  EXPECT_EQ(ConsentOf(*profile, "analytics"), "denied@10 web-source/web") << "false is kept, not dropped";
  EXPECT_EQ(ConsentOf(*profile, "functional_cookies"), "granted@10 web-source/web");
  EXPECT_EQ(ConsentOf(*profile, "e_mail"), "granted@10 web-source/web");
  EXPECT_EQ(profile->consent.size(), 4u);
  EXPECT_THAT(Timeline(P(1))[0], ::testing::Not(HasSubstr("warnings")))
      << "a well-formed consent has no warning";
}

TEST_F(ResolverConsentTest, PlainContextConsentMapOnAnyEventType) {
  ingest::CanonicalEvent order = Event(ingest::EventType::kTrack, "pos", 20);
  order.user_id = "u-1";
  order.context = R"({"consent":{"marketing_email":true,"SMS":false}})";
  Append({order});
  auto resolver = NewResolver();
  CatchUp(*resolver);

  std::optional<Profile> profile = StoredProfile(P(1));
  ASSERT_TRUE(profile.has_value());
  EXPECT_EQ(ConsentOf(*profile, "marketing_email"), "granted@20 pos-source/pos");
  EXPECT_EQ(ConsentOf(*profile, "sms"), "denied@20 pos-source/pos") << "names are lower-cased";
}

TEST_F(ResolverConsentTest, IdentifyTraitConsentCountsButAGroupsTraitsDoNot) {
  ingest::CanonicalEvent identify = Event(ingest::EventType::kIdentify, "app", 30);
  identify.user_id = "u-1";
  identify.traits = R"({"name":"Kim","consent":{"sms":true,"marketing_email":false}})";
  ingest::CanonicalEvent group = Event(ingest::EventType::kGroup, "app", 40);
  group.user_id = "u-1";
  group.group_id = "g-1";
  group.traits = R"({"consent":{"sms":false,"analytics":true}})";  // the group's, not the person's
  Append({identify, group});
  auto resolver = NewResolver();
  CatchUp(*resolver);

  std::optional<Profile> profile = StoredProfile(P(1));
  ASSERT_TRUE(profile.has_value());
  EXPECT_EQ(ConsentOf(*profile, "sms"), "granted@30 app-source/app");
  EXPECT_EQ(ConsentOf(*profile, "marketing_email"), "denied@30 app-source/app");
  EXPECT_EQ(ConsentOf(*profile, "analytics"), "<absent>") << "a group's traits describe the group";
  EXPECT_EQ(TraitOf(*profile, "consent"), R"({"sms":true,"marketing_email":false})")
      << "the trait itself stays a trait, as before";
}

TEST_F(ResolverConsentTest, NewestEventTimeWinsWhateverTheLogOrder) {
  ingest::CanonicalEvent granted = Event(ingest::EventType::kTrack, "web", 200);
  granted.user_id = "u-1";
  granted.context = R"({"consent":{"marketing_email":true}})";
  ingest::CanonicalEvent older_withdrawal =
      Event(ingest::EventType::kTrack, "pos", 100);  // logged later, happened earlier
  older_withdrawal.user_id = "u-1";
  older_withdrawal.context = R"({"consent":{"marketing_email":false,"sms":true}})";
  Append({granted, older_withdrawal});
  auto resolver = NewResolver();
  CatchUp(*resolver);

  std::optional<Profile> profile = StoredProfile(P(1));
  ASSERT_TRUE(profile.has_value());
  EXPECT_EQ(ConsentOf(*profile, "marketing_email"), "granted@200 web-source/web")
      << "an older event logged later must not overwrite a newer consent";
  EXPECT_EQ(ConsentOf(*profile, "sms"), "granted@100 pos-source/pos")
      << "other purposes of that event still count";

  ingest::CanonicalEvent later_withdrawal = Event(ingest::EventType::kIdentify, "app", 300);
  later_withdrawal.user_id = "u-1";
  later_withdrawal.traits = R"({"consent":{"marketing_email":false}})";
  Append({later_withdrawal});
  CatchUp(*resolver);
  profile = StoredProfile(P(1));
  ASSERT_TRUE(profile.has_value());
  EXPECT_EQ(ConsentOf(*profile, "marketing_email"), "denied@300 app-source/app") << "a later event wins";
}

TEST_F(ResolverConsentTest, MalformedConsentIsAWarningAndTheRestApplies) {
  ingest::CanonicalEvent event = Event(ingest::EventType::kTrack, "web", 10);
  event.user_id = "u-1";
  event.context =
      R"({"consent":{"sms":"yes","push":null,"Bad!":true,"newsletter":true,"categoryPreferences":["Advertising"]}})";
  ingest::CanonicalEvent not_an_object = Event(ingest::EventType::kIdentify, "web", 20);
  not_an_object.user_id = "u-1";
  not_an_object.traits = R"({"consent":"all"})";
  Append({event, not_an_object});
  auto resolver = NewResolver();
  CatchUp(*resolver);

  std::optional<Profile> profile = StoredProfile(P(1));
  ASSERT_TRUE(profile.has_value());
  EXPECT_EQ(ConsentOf(*profile, "newsletter"), "granted@10 web-source/web") << "valid members still apply";
  EXPECT_EQ(ConsentOf(*profile, "sms"), "<absent>") << "a non-boolean is never taken as consent";
  EXPECT_EQ(profile->consent.size(), 1u);
  EXPECT_EQ(Count(ColumnFamily::kDeadLetter), 0u) << "malformed consent never rejects the event";

  std::vector<std::string> timeline = Timeline(P(1));
  ASSERT_EQ(timeline.size(), 2u);
  EXPECT_THAT(timeline[1],  // oldest last
              AllOf(HasSubstr(R"(context.consent.sms: expected true or false, got \"yes\"; ignored)"),
                    HasSubstr("context.consent.push: expected true or false, got null; ignored"),
                    HasSubstr(R"(context.consent: \"Bad!\" is not a consent purpose)"),
                    HasSubstr(R"(context.consent.categoryPreferences: expected an object of booleans, got )"
                              R"([\"Advertising\"]; ignored)")));
  EXPECT_THAT(timeline[0],
              HasSubstr(R"(traits.consent: expected an object of booleans, got \"all\"; ignored)"));
}

TEST_F(ResolverConsentTest, ConsentSurvivesAMergeByEventTime) {
  // A visitor known by email, and a user; an identify with the user id and the same email merges them.
  ingest::CanonicalEvent visitor = Event(ingest::EventType::kPage, "web", 500);
  visitor.anonymous_id = "a-1";
  visitor.context =
      R"({"traits":{"email":"kim@example.com"},"consent":{"categoryPreferences":{"SMS":true,"Analytics":false}}})";
  ingest::CanonicalEvent signup = Event(ingest::EventType::kIdentify, "app", 400);
  signup.user_id = "u-1";
  signup.traits = R"({"consent":{"sms":false,"marketing_email":true}})";
  ingest::CanonicalEvent purchase = Event(ingest::EventType::kTrack, "pos", 600);
  purchase.user_id = "u-1";
  purchase.context = R"({"consent":{"analytics":true}})";
  ingest::CanonicalEvent profile_update = Event(ingest::EventType::kIdentify, "app", 450);
  profile_update.user_id = "u-1";
  profile_update.traits = R"({"email":"Kim@example.com"})";
  Append({visitor, signup, purchase, profile_update});
  auto resolver = NewResolver();
  CatchUp(*resolver);

  ASSERT_EQ(resolver->metrics().merges.load(), 1u) << "the shared email must merge the two profiles";
  const std::optional<ProfileId> id = Lookup(*resolver, type::kUserId, "u-1");
  ASSERT_TRUE(id.has_value());
  std::optional<Profile> profile = StoredProfile(*id);
  ASSERT_TRUE(profile.has_value());
  EXPECT_EQ(ConsentOf(*profile, "sms"), "granted@500 web-source/web")
      << "t=500 beats the other profile's t=400";
  EXPECT_EQ(ConsentOf(*profile, "analytics"), "granted@600 pos-source/pos")
      << "t=600 beats t=500 whichever profile wins";
  EXPECT_EQ(ConsentOf(*profile, "marketing_email"), "granted@400 app-source/app");
}

TEST_F(ResolverConsentTest, RebuildGivesTheSameProfiles) {
  std::vector<ingest::CanonicalEvent> events;
  for (int person = 0; person < 20; ++person) {
    ingest::CanonicalEvent visit = Event(ingest::EventType::kPage, "web", 1000 - person);
    visit.anonymous_id = "a-" + std::to_string(person);
    visit.context = person % 2 == 0 ? R"({"consent":{"categoryPreferences":{"Advertising":true}}})"
                                    : R"({"consent":{"advertising":false,"sms":"maybe"}})";
    ingest::CanonicalEvent identify = Event(ingest::EventType::kIdentify, "app", 900 + person);
    identify.user_id = "u-" + std::to_string(person);
    identify.anonymous_id = "a-" + std::to_string(person);
    identify.traits = person % 3 == 0 ? R"({"consent":{"sms":true}})" : R"({"consent":{"advertising":true}})";
    events.push_back(visit);
    events.push_back(identify);
  }
  Append(events);
  auto resolver = NewResolver(identity::IdentityRules(), InBatchesOf(7));
  CatchUp(*resolver);
  std::optional<Profile> first = StoredProfile(P(1));
  ASSERT_TRUE(first.has_value());
  ASSERT_FALSE(first->consent.empty()) << "the scenario must put consent on the profiles it compares";

  const std::map<std::string, std::string> live = DerivedState();
  absl::StatusOr<RebuildReport> report = Rebuild(*store_, pipeline::PipelineOptions{});
  ASSERT_TRUE(report.ok()) << report.status();
  ExpectSameState(live, DerivedState());
}

TEST(ExtractConsentTest, PlainMembersWinOverCategoriesAndTraitsOverContext) {
  ingest::CanonicalEvent event;
  event.type = ingest::EventType::kIdentify;
  event.context = R"({"consent":{"sms":false,"categoryPreferences":{"SMS":true,"Analytics":true}}})";
  event.traits = R"({"consent":{"analytics":false}})";
  privacy::ExtractedConsent extracted = privacy::ExtractConsent(event);
  EXPECT_TRUE(extracted.warnings.empty());
  ASSERT_EQ(extracted.reports.size(), 2u);
  EXPECT_EQ(extracted.reports[0].purpose, "analytics");
  EXPECT_FALSE(extracted.reports[0].granted) << "traits.consent is read last and wins";
  EXPECT_EQ(extracted.reports[1].purpose, "sms");
  EXPECT_FALSE(extracted.reports[1].granted)
      << "a plain member wins over categoryPreferences, even listed first";
}

}  // namespace
}  // namespace tessera::resolve
