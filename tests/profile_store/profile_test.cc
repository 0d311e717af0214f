// The profile record's consent: encoding, decoding, and the newest-report-wins rule of SetConsent
// and Absorb (the other members are covered through the resolver's tests).

#include "profile_store/profile.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <string>

namespace tessera::profile_store {
namespace {

constexpr Timestamp kStart = Timestamp(std::chrono::seconds(1'700'000'000));

Timestamp At(int64_t seconds) { return kStart + std::chrono::seconds(seconds); }

ConsentRecord Consent(bool granted, int64_t seconds, uint64_t sequence, std::string source = "website",
                      std::string channel = "web") {
  return ConsentRecord{.granted = granted,
                       .time = At(seconds),
                       .sequence = sequence,
                       .source = std::move(source),
                       .channel = std::move(channel)};
}

Profile Decoded(const Profile& profile) {
  std::string record;
  EncodeProfile(profile, record);
  absl::StatusOr<Profile> decoded = DecodeProfile(record);
  EXPECT_TRUE(decoded.ok()) << decoded.status() << "\nrecord: " << record;
  return decoded.ok() ? *std::move(decoded) : Profile();
}

TEST(ProfileConsentTest, EncodeDecodeRoundTripKeepsEveryPurposeExactly) {
  Profile profile;
  profile.id = ProfileId{7};
  profile.SetConsent("marketing_email", Consent(true, 10, 3, "website", "web"));
  profile.SetConsent("sms", Consent(false, 20, 9, "till \"3\"", "pos"));
  Profile decoded = Decoded(profile);
  EXPECT_EQ(decoded.consent, profile.consent) << "consent must survive the stored record unchanged";
  ASSERT_EQ(decoded.consent.size(), 2u);
  EXPECT_TRUE(decoded.consent.at("marketing_email").granted);
  EXPECT_FALSE(decoded.consent.at("sms").granted);
  EXPECT_EQ(decoded.consent.at("sms").source, "till \"3\"") << "source names are escaped, not mangled";

  std::string first, second;
  EncodeProfile(profile, first);
  EncodeProfile(decoded, second);
  EXPECT_EQ(first, second)
      << "re-encoding a decoded profile must give the same bytes (rebuilds compare them)";
}

TEST(ProfileConsentTest, DamagedConsentOfVersion0IsDataLossNamingIt) {
  absl::StatusOr<Profile> decoded =
      DecodeProfile(R"({"id":"p0000000000000001","consent":{"sms":{"g":"yes","t":0,"s":1}}})");
  ASSERT_FALSE(decoded.ok());
  EXPECT_EQ(decoded.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(decoded.status().message().find("consent.sms.g"), std::string::npos) << decoded.status();
}

TEST(ProfileConsentTest, SetConsentKeepsTheNewestReportByEventTimeThenSequence) {
  Profile profile;
  profile.SetConsent("sms", Consent(true, 100, 5));
  profile.SetConsent("sms", Consent(false, 50, 9));  // logged later, happened earlier
  EXPECT_TRUE(profile.consent.at("sms").granted) << "an older event must not overwrite a newer consent";
  profile.SetConsent("sms", Consent(false, 100, 6, "app-source", "app"));  // same time, later in the log
  EXPECT_FALSE(profile.consent.at("sms").granted) << "at equal event times the later log sequence wins";
  EXPECT_EQ(profile.consent.at("sms").channel, "app");
}

TEST(ProfileConsentTest, AbsorbPicksTheLaterTimePerPurpose) {
  Profile winner;
  winner.id = ProfileId{1};
  winner.SetConsent("sms", Consent(true, 300, 30, "website", "web"));
  winner.SetConsent("analytics", Consent(true, 100, 10, "website", "web"));
  Profile loser;
  loser.id = ProfileId{2};
  loser.SetConsent("sms", Consent(false, 200, 40, "store", "pos"));        // older than the winner's
  loser.SetConsent("analytics", Consent(false, 400, 41, "store", "pos"));  // newer than the winner's
  loser.SetConsent("marketing_email", Consent(true, 150, 42, "store", "pos"));

  winner.Absorb(loser);
  ASSERT_EQ(winner.consent.size(), 3u);
  EXPECT_TRUE(winner.consent.at("sms").granted) << "the winner's newer sms consent stays";
  EXPECT_EQ(winner.consent.at("sms").time, At(300));
  EXPECT_FALSE(winner.consent.at("analytics").granted) << "the loser's newer analytics withdrawal wins";
  EXPECT_EQ(winner.consent.at("analytics").source, "store");
  EXPECT_TRUE(winner.consent.at("marketing_email").granted) << "purposes only the loser had are taken over";
}

}  // namespace
}  // namespace tessera::profile_store
