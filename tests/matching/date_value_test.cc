#include "matching/date_value.h"

#include <gtest/gtest.h>

namespace tessera::matching {
namespace {

TEST(DateValueTest, ParsesTheThreeSpellings) {
  EXPECT_EQ(ParseDate("1971-06-24"), (DateValue{1971, 6, 24}));
  EXPECT_EQ(ParseDate("19710624"), (DateValue{1971, 6, 24}));
  EXPECT_EQ(ParseDate("24/06/1971"), (DateValue{1971, 6, 24}));
  EXPECT_EQ(ParseDate(" 2000-02-29 "), (DateValue{2000, 2, 29}));
  EXPECT_FALSE(ParseDate("1900-02-29")) << "1900 is not a leap year";
  EXPECT_FALSE(ParseDate("1971-13-01"));
  EXPECT_FALSE(ParseDate("19711324"));
  EXPECT_FALSE(ParseDate(""));
  EXPECT_FALSE(ParseDate("June 1971"));
}

TEST(DateValueTest, DaysSinceEpoch) {
  EXPECT_EQ((DateValue{1970, 1, 1}).DaysSinceEpoch(), 0);
  EXPECT_EQ((DateValue{2000, 3, 1}).DaysSinceEpoch() - (DateValue{2000, 2, 28}).DaysSinceEpoch(), 2);
  EXPECT_EQ((DateValue{1969, 12, 31}).DaysSinceEpoch(), -1);
  EXPECT_EQ((DateValue{1971, 6, 24}).ToString(), "1971-06-24");
}

}  // namespace
}  // namespace tessera::matching
