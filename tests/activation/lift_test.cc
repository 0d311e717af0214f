// Holdouts and lift (activation/holdout.h, activation/lift.h): the holdout is the configured share,
// stable and independent between audiences; the intervals reproduce the published examples of
// Wilson's and Newcombe's methods; and a synthetic campaign with a known effect is recovered
// within its confidence interval.

#include <random>
#include <string>

#include "activation/holdout.h"
#include "activation/lift.h"
#include "gtest/gtest.h"

namespace tessera::activation {
namespace {

constexpr std::string_view kPinnedHoldoutPattern = "01110010010111001100101110100110";

std::string ProfileId(int i) {
  char id[20];
  std::snprintf(id, sizeof(id), "p%016d", i);
  return id;
}

TEST(HoldoutTest, TheHoldoutIsTheConfiguredShareStableAndIndependentBetweenAudiences) {
  constexpr int kProfiles = 200'000;
  int held = 0;
  int both = 0;
  for (int i = 0; i < kProfiles; ++i) {
    const bool vip = InHoldout("default", "vip", ProfileId(i), 0.1);
    held += vip;
    both += vip && InHoldout("default", "churn-risk", ProfileId(i), 0.1);
    ASSERT_EQ(vip, InHoldout("default", "vip", ProfileId(i), 0.1)) << "the same answer every time";
  }
  EXPECT_NEAR(held / double(kProfiles), 0.1, 0.004);
  EXPECT_NEAR(both / double(kProfiles), 0.01, 0.002) << "two audiences' holdouts are independent";
  EXPECT_FALSE(InHoldout("default", "vip", ProfileId(1), 0));
  EXPECT_TRUE(InHoldout("default", "vip", ProfileId(1), 1));
}

TEST(HoldoutTest, WhoIsHeldOutDoesNotChangeBetweenVersions) {
  // Pinned answers: a change here would move people between the treated group and the holdout of
  // every running campaign, so it must be deliberate.
  std::string pattern;
  for (int i = 0; i < 32; ++i) pattern += InHoldout("default", "vip", ProfileId(i), 0.5) ? '1' : '0';
  EXPECT_EQ(pattern, kPinnedHoldoutPattern);
}

TEST(LiftTest, WilsonAndNewcombeIntervalsMatchNewcombesPublishedExample) {
  // Newcombe, "Interval estimation for the difference between independent proportions", Statistics
  // in Medicine 17 (1998), example (a): 56/70 against 48/80; method 10 gives 0.0524 to 0.3339.
  auto lift = ComputeLift({.members = 70, .converted = 56}, {.members = 80, .converted = 48});
  ASSERT_TRUE(lift.has_value());
  EXPECT_NEAR(lift->absolute, 0.2, 1e-12);
  EXPECT_NEAR(lift->absolute_ci.low, 0.0524, 5e-5);
  EXPECT_NEAR(lift->absolute_ci.high, 0.3339, 5e-5);
  // Newcombe (1998), "Two-sided confidence intervals for the single proportion", method 3 (Wilson):
  // 81/263 gives 0.2553 to 0.3662.
  const Interval wilson = WilsonInterval(81, 263);
  EXPECT_NEAR(wilson.low, 0.2553, 5e-5);
  EXPECT_NEAR(wilson.high, 0.3662, 5e-5);
}

TEST(LiftTest, ASyntheticCampaignsKnownEffectIsRecoveredWithinItsInterval) {
  // Treated members convert at 12%, the holdout at 8%: +4 points, +50%; revenue 30 per conversion.
  std::mt19937_64 random(20261206);
  std::bernoulli_distribution treated_converts(0.12);
  std::bernoulli_distribution holdout_converts(0.08);
  GroupOutcome treated{.members = 20'000};
  GroupOutcome holdout{.members = 2'000};
  for (uint64_t i = 0; i < treated.members; ++i) treated.converted += treated_converts(random);
  for (uint64_t i = 0; i < holdout.members; ++i) holdout.converted += holdout_converts(random);
  treated.revenue = 30.0 * treated.converted;
  holdout.revenue = 30.0 * holdout.converted;
  auto lift = ComputeLift(treated, holdout);
  ASSERT_TRUE(lift.has_value());
  EXPECT_LT(lift->absolute_ci.low, 0.04);
  EXPECT_GT(lift->absolute_ci.high, 0.04);
  EXPECT_GT(lift->absolute_ci.low, 0) << "an effect this size on these groups is significant";
  ASSERT_TRUE(lift->relative_ci.has_value());
  EXPECT_LT(lift->relative_ci->low, 0.5);
  EXPECT_GT(lift->relative_ci->high, 0.5);
  EXPECT_NEAR(lift->treated_revenue_per_member, 30.0 * lift->treated_rate, 1e-9);
  EXPECT_FALSE(ComputeLift(treated, {}).has_value()) << "no holdout, no lift";
  auto never = ComputeLift(treated, {.members = 100, .converted = 0});
  ASSERT_TRUE(never.has_value());
  EXPECT_FALSE(never->relative.has_value()) << "no relative lift over a holdout that never converted";
}

}  // namespace
}  // namespace tessera::activation
