// The stored profile record: version 1 (binary) round trips, its bytes are pinned by a golden
// record, every truncation is refused, and version 0 records (JSON documents of earlier stores)
// still read.

#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "profile_store/profile.h"

namespace tessera::profile_store {
namespace {

Timestamp At(int64_t micros) { return Timestamp(std::chrono::microseconds(micros)); }

// A profile with something in every member.
Profile FullProfile() {
  Profile profile;
  profile.id = ProfileId{42};
  profile.TouchChannel("web", At(1'700'000'000'000'000));
  profile.TouchChannel("pos", At(1'700'000'100'000'000));
  profile.TouchIdentity("email", "ada@example.com", At(1'700'000'000'000'000), "website");
  profile.TouchIdentity("email", "ada@example.com", At(1'700'000'100'000'000), "till 3");
  profile.TouchIdentity("phone", "+821012345678", At(1'700'000'100'000'000), "");
  profile.SetTrait("name", "\"Ada \\\"L\\\"\"", At(5), 7, false);
  profile.SetTrait("first_visit", "{\"page\":\"/\"}", At(-3), 2, true);
  profile.merged_from = {ProfileId{3}, ProfileId{9}, ProfileId{1'000'000'000'000}};
  profile.SetConsent(
      "sms",
      ConsentRecord{.granted = true, .time = At(10), .sequence = 4, .source = "app", .channel = "app"});
  EventAggregate orders(std::chrono::hours(24));
  orders.Add(At(20), 11, AggregateValue{.number = 19.5, .json = "19.5"}, true);
  profile.aggregates.emplace("orders.total", orders);
  profile.audiences.emplace("buyers", At(30));
  return profile;
}

std::string Encoded(const Profile& profile) {
  std::string record;
  EncodeProfile(profile, record);
  return record;
}

void ExpectSameProfile(const Profile& a, const Profile& b) {
  EXPECT_EQ(a.id, b.id);
  EXPECT_EQ(a.merged_into, b.merged_into);
  EXPECT_EQ(a.first_seen, b.first_seen);
  EXPECT_EQ(a.last_seen, b.last_seen);
  EXPECT_EQ(a.event_count, b.event_count);
  ASSERT_EQ(a.identities.size(), b.identities.size());
  for (size_t i = 0; i < a.identities.size(); ++i) {
    EXPECT_EQ(a.identities[i].type, b.identities[i].type);
    EXPECT_EQ(a.identities[i].value, b.identities[i].value);
    EXPECT_EQ(a.identities[i].first_seen, b.identities[i].first_seen);
    EXPECT_EQ(a.identities[i].last_seen, b.identities[i].last_seen);
    EXPECT_EQ(a.identities[i].sources, b.identities[i].sources);
  }
  ASSERT_EQ(a.traits.size(), b.traits.size());
  for (const auto& [name, trait] : a.traits) {
    ASSERT_TRUE(b.traits.contains(name)) << name;
    EXPECT_EQ(trait.json, b.traits.at(name).json);
    EXPECT_EQ(trait.time, b.traits.at(name).time);
    EXPECT_EQ(trait.sequence, b.traits.at(name).sequence);
    EXPECT_EQ(trait.set_once, b.traits.at(name).set_once);
  }
  ASSERT_EQ(a.channels.size(), b.channels.size());
  for (const auto& [name, channel] : a.channels) {
    ASSERT_TRUE(b.channels.contains(name)) << name;
    EXPECT_EQ(channel.first_seen, b.channels.at(name).first_seen);
    EXPECT_EQ(channel.last_seen, b.channels.at(name).last_seen);
    EXPECT_EQ(channel.events, b.channels.at(name).events);
  }
  EXPECT_EQ(a.merged_from, b.merged_from);
  EXPECT_EQ(a.consent, b.consent);
  EXPECT_EQ(a.aggregates, b.aggregates);
  EXPECT_EQ(a.audiences, b.audiences);
}

TEST(ProfileCodecTest, Version1RoundTripsEveryMemberAndReencodesToTheSameBytes) {
  const Profile profile = FullProfile();
  const std::string record = Encoded(profile);
  ASSERT_EQ(record.front(), '\x01') << "version byte";
  absl::StatusOr<Profile> decoded = DecodeProfile(record);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  ExpectSameProfile(*decoded, profile);
  EXPECT_EQ(Encoded(*decoded), record) << "a rebuild compares records byte for byte";
}

TEST(ProfileCodecTest, RedirectRoundTrips) {
  Profile redirect;
  redirect.id = ProfileId{5};
  redirect.merged_into = ProfileId{2};
  const std::string record = Encoded(redirect);
  EXPECT_EQ(record, std::string("\x01\x05\x01\x02", 4));
  absl::StatusOr<Profile> decoded = DecodeProfile(record);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(decoded->id, ProfileId{5});
  EXPECT_EQ(decoded->merged_into, ProfileId{2});
}

TEST(ProfileCodecTest, Version1BytesOfASmallProfileArePinned) {
  Profile profile;
  profile.id = ProfileId{1};
  profile.TouchChannel("web", At(1000));
  profile.TouchIdentity("user_id", "u1", At(1000), "site");
  // version, id, kind, first/last seen (zig-zag 1000 = 2000 = d0 0f), event count,
  // 1 identity (type, value, first, last, 1 source), no traits, 1 channel (name, first, last,
  // events), no merged_from, consent, aggregates, audiences.
  const std::string expected(
      "\x01\x01\x00\xd0\x0f\xd0\x0f\x01"
      "\x01\x07user_id\x02u1\xd0\x0f\xd0\x0f\x01\x04site"
      "\x00"
      "\x01\x03web\xd0\x0f\xd0\x0f\x01"
      "\x00\x00\x00\x00",
      45);
  EXPECT_EQ(Encoded(profile), expected) << "a change of the layout needs a new version byte";
}

TEST(ProfileCodecTest, EveryTruncationAndTrailingBytesAreDataLoss) {
  const std::string record = Encoded(FullProfile());
  for (size_t size = 0; size < record.size(); ++size) {
    absl::StatusOr<Profile> decoded = DecodeProfile(record.substr(0, size));
    EXPECT_TRUE(absl::IsDataLoss(decoded.status())) << "truncated to " << size << ": " << decoded.status();
  }
  EXPECT_TRUE(absl::IsDataLoss(DecodeProfile(record + "x").status()));
}

TEST(ProfileCodecTest, UnknownVersionIsDataLossNamingIt) {
  absl::StatusOr<Profile> decoded = DecodeProfile(std::string("\x07\x01", 2));
  ASSERT_TRUE(absl::IsDataLoss(decoded.status()));
  EXPECT_NE(decoded.status().message().find("unknown version 7"), std::string::npos) << decoded.status();
}

// A record as version 0 wrote it (the JSON encoder of earlier stores, member for member).
TEST(ProfileCodecTest, Version0RecordsStillRead) {
  const std::string record =
      R"({"id":"p000000000000002a","firstSeen":1700000000000000,"lastSeen":1700000100000000,"eventCount":2,)"
      R"("identities":[{"type":"email","value":"ada@example.com","firstSeen":1700000000000000,)"
      R"("lastSeen":1700000100000000,"sources":["till 3","website"]},{"type":"phone","value":"+821012345678",)"
      R"("firstSeen":1700000100000000,"lastSeen":1700000100000000,"sources":[]}],)"
      R"("traits":{"first_visit":{"v":{"page":"/"},"t":-3,"s":2,"once":true},)"
      R"("name":{"v":"Ada \"L\"","t":5,"s":7}},)"
      R"("channels":{"pos":{"firstSeen":1700000100000000,"lastSeen":1700000100000000,"events":1},)"
      R"("web":{"firstSeen":1700000000000000,"lastSeen":1700000000000000,"events":1}},)"
      R"("mergedFrom":["p0000000000000003","p0000000000000009","p000000e8d4a51000"],)"
      R"("consent":{"sms":{"g":true,"t":10,"s":4,"source":"app","channel":"app"}},)"
      R"("aggregates":{"orders.total":{"r":86400000000,"n":1,"nn":1,"s":19.5,"lo":19.5,"hi":19.5,)"
      R"("ft":20,"lt":20,"fs":11,"ls":11,"fj":"19.5","fjt":20,"fjs":11,"lj":"19.5","ljt":20,"ljs":11,)"
      R"("p":[[20,20,11,11,1,1,19.5,19.5,19.5,"19.5","19.5"]]}},)"
      R"("audiences":{"buyers":30}})";
  absl::StatusOr<Profile> decoded = DecodeProfile(record);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  ExpectSameProfile(*decoded, FullProfile());
  EXPECT_EQ(Encoded(*decoded), Encoded(FullProfile())) << "rewritten as version 1 at the next change";
}

}  // namespace
}  // namespace tessera::profile_store
