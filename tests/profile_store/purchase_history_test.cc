// A profile's purchases by local day: adding, merging day by day, and the stored form (inside the
// profile record, absent from records without purchases and from records written before them).

#include "profile_store/purchase_history.h"

#include <gtest/gtest.h>

#include "profile_store/profile.h"

namespace tessera::profile_store {
namespace {

TEST(PurchaseHistoryTest, PurchasesOnOneDayAreOneEntryWithTheirSumAndDaysStayInOrder) {
  PurchaseHistory history;
  history.Add(10'000, 20.5);
  history.Add(9'000, 5);
  history.Add(10'000, -4.5);  // A refund the same day.
  history.Add(11'000, 0);     // A free order still counts as a purchase.
  ASSERT_EQ(history.days.size(), 3u);
  EXPECT_EQ(history.days[0], (PurchaseDay{.day = 9'000, .orders = 1, .value = 5}));
  EXPECT_EQ(history.days[1], (PurchaseDay{.day = 10'000, .orders = 2, .value = 16}));
  EXPECT_EQ(history.days[2], (PurchaseDay{.day = 11'000, .orders = 1, .value = 0}));
}

TEST(PurchaseHistoryTest, MergeAddsTheSameDaysAndKeepsTheOthers) {
  PurchaseHistory winner;
  winner.Add(1, 10);
  winner.Add(3, 30);
  winner.other_currency = 1;
  PurchaseHistory loser;
  loser.Add(2, 20);
  loser.Add(3, 3);
  loser.Add(4, 40);
  loser.other_currency = 2;
  winner.Merge(loser);
  EXPECT_EQ(winner.days, (std::vector<PurchaseDay>{{1, 1, 10}, {2, 1, 20}, {3, 2, 33}, {4, 1, 40}}));
  EXPECT_EQ(winner.other_currency, 3u);
}

TEST(PurchaseHistoryTest, ProfilesAbsorbPurchasesAndRoundTripThroughTheRecord) {
  Profile winner;
  winner.id = ProfileId{1};
  winner.purchases.Add(-400, 12.25);  // Before 1970: days are signed.
  winner.purchases.Add(9'770, 100);
  Profile loser;
  loser.id = ProfileId{2};
  loser.purchases.Add(9'770, 1);
  winner.Absorb(loser);
  ASSERT_EQ(winner.purchases.days.size(), 2u);
  EXPECT_EQ(winner.purchases.days[1], (PurchaseDay{.day = 9'770, .orders = 2, .value = 101}));

  std::string record;
  EncodeProfile(winner, record);
  absl::StatusOr<Profile> decoded = DecodeProfile(record);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(decoded->purchases, winner.purchases);
}

TEST(PurchaseHistoryTest, ARecordWithoutPurchasesIsTheRecordWrittenBeforeThem) {
  Profile profile;
  profile.id = ProfileId{7};
  profile.event_count = 3;
  std::string record;
  EncodeProfile(profile, record);
  absl::StatusOr<Profile> decoded = DecodeProfile(record);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_TRUE(decoded->purchases.empty());
  // Purchases add bytes after the audiences, nothing else changes.
  profile.purchases.Add(1, 1);
  std::string with_purchases;
  EncodeProfile(profile, with_purchases);
  EXPECT_EQ(with_purchases.substr(0, record.size()), record);
}

TEST(PurchaseHistoryTest, DamagedPurchasesAreRefused) {
  Profile profile;
  profile.id = ProfileId{7};
  profile.purchases.Add(5, 1);
  profile.purchases.Add(6, 2);
  std::string record;
  EncodeProfile(profile, record);
  for (size_t cut = 1; cut < 12; ++cut) {
    EXPECT_FALSE(DecodeProfile(record.substr(0, record.size() - cut)).ok()) << cut;
  }
  // Days out of order: the second day's delta (right after the first day's 8-byte value) made 0.
  PurchaseHistory history;
  history.Add(5, 1);
  history.Add(6, 2);
  std::string bytes;
  history.Encode(bytes);
  bytes[1 + 1 + 1 + 8] = 0;
  base::ByteReader reader(bytes);
  PurchaseHistory decoded;
  EXPECT_FALSE(decoded.Decode(reader));
}

}  // namespace
}  // namespace tessera::profile_store
