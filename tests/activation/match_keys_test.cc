// Ad platforms' match keys (activation/match_keys.h). Expected hashes come from outside this code:
// the X Ads API documentation's own example (sha256("adsapi")), and `sha256sum` of the normalized
// text each platform's documentation specifies.

#include "activation/match_keys.h"

#include "gtest/gtest.h"

namespace tessera::activation {
namespace {

TEST(MatchKeysTest, HashesAreLowerCaseHexSha256) {
  // The documented example of the X Ads API ("Custom Audiences User Data").
  EXPECT_EQ(Sha256Hex("adsapi"), "49e0be2aeccfb51a8dee4c945c8a70a9ac500cf6f5cb08112575f74db9b1470d");
}

TEST(MatchKeysTest, EmailsAreTrimmedAndLowerCasedForBothPlatforms) {
  auto email = NormalizedEmailForMatching("  Test.User@Example.COM \n");
  ASSERT_TRUE(email.has_value());
  EXPECT_EQ(*email, "test.user@example.com");
  // printf 'test.user@example.com' | sha256sum
  EXPECT_EQ(Sha256Hex(*email), "a97d7a4513204a9cc7cb2f11d72d41a59b18d1ba633d22e58d53c625518f5203");
  EXPECT_FALSE(NormalizedEmailForMatching("no-at-sign").has_value());
  EXPECT_FALSE(NormalizedEmailForMatching("@example.com").has_value());
  EXPECT_FALSE(NormalizedEmailForMatching("user@").has_value());
}

TEST(MatchKeysTest, MetaHashesDigitsWithTheCountryCodeAndGoogleHashesE164) {
  auto meta = MetaPhoneForMatching("+821012345678");
  auto google = GooglePhoneForMatching("+821012345678");
  ASSERT_TRUE(meta.has_value());
  ASSERT_TRUE(google.has_value());
  EXPECT_EQ(*meta, "821012345678");
  EXPECT_EQ(*google, "+821012345678");
  // printf '821012345678' | sha256sum ; printf '+821012345678' | sha256sum
  EXPECT_EQ(Sha256Hex(*meta), "5d639079300bfabb1fa81139c823d324b2a67e9dd4157475190a31fb17528bc0");
  EXPECT_EQ(Sha256Hex(*google), "2efdd01fdf56e3f07de56acd9d40beb256d5983aec5f6d597c2c48354f35f9e0");
  EXPECT_EQ(*MetaPhoneForMatching(" +82 10-1234-5678 "), "821012345678") << "separators are dropped";
  EXPECT_FALSE(MetaPhoneForMatching("010-1234-5678").has_value()) << "no country code: not matchable";
  EXPECT_FALSE(GooglePhoneForMatching("+0123456789").has_value());
  EXPECT_FALSE(GooglePhoneForMatching("+12").has_value());
  EXPECT_FALSE(GooglePhoneForMatching("+1234567890123456").has_value()) << "E.164 has at most 15 digits";
}

}  // namespace
}  // namespace tessera::activation
