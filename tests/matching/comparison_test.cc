#include "matching/comparison.h"

#include <gtest/gtest.h>

#include "tests/matching/test_records.h"

namespace tessera::matching {
namespace {

// The level label of comparison `c` for records l and r ("null" when a value is missing).
std::string LevelLabel(const PreparedRecords& records, size_t c, size_t l, size_t r) {
  const std::vector<Comparison> comparisons = ComparisonsFor(records.schema);
  const int level = CompareRecords(comparisons[c], records, l, r);
  return level == kNullLevel ? "null" : comparisons[c].levels[level];
}

TEST(ComparisonTest, LevelsFollowSplinksComparisonLibrary) {
  const PreparedRecords records = testing::RecordsFromCsv(
      "id,first_name,dob,email\n"
      "0,Martha,1971-06-24,robert255@smith.net\n"
      "1,Marhta,1971-06-24,robert255@jones.org\n"
      "2,MARTHA,1971-24-06,\n"
      "3,Dwayne,1971-07-10,robert25@smith.net\n"
      "4,Duane,1975-01-01,zz@q.com\n"
      "5,,1971-06-42,\n");
  EXPECT_EQ(LevelLabel(records, 0, 0, 2), "exact") << "case folded";
  EXPECT_EQ(LevelLabel(records, 0, 0, 1), "damerau_levenshtein<=1");
  EXPECT_EQ(LevelLabel(records, 0, 3, 4), "else") << "DWAYNE/DUANE 0.84 < 0.88";
  EXPECT_EQ(LevelLabel(records, 0, 0, 5), "null");
  EXPECT_EQ(LevelLabel(records, 1, 0, 1), "exact");
  EXPECT_EQ(LevelLabel(records, 1, 0, 3), "within_1_month");
  EXPECT_EQ(LevelLabel(records, 1, 0, 4), "within_10_years");
  EXPECT_EQ(LevelLabel(records, 1, 0, 2), "null") << "1971-24-06 is not a date";
  EXPECT_EQ(LevelLabel(records, 2, 0, 1), "username_exact");
  EXPECT_EQ(LevelLabel(records, 2, 0, 3), "jaro_winkler>=0.88");
  EXPECT_EQ(LevelLabel(records, 2, 0, 4), "else");
}

TEST(ComparisonTest, TransposedDayAndMonth) {
  const PreparedRecords records =
      testing::RecordsFromCsv("id,dob\n0,1988-03-02\n1,02/03/1988\n2,1988-02-03\n");
  EXPECT_EQ(LevelLabel(records, 0, 0, 1), "exact");
  EXPECT_EQ(LevelLabel(records, 0, 0, 2), "day_month_transposed");
}

}  // namespace
}  // namespace tessera::matching
