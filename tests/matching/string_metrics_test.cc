#include "matching/string_metrics.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace tessera::matching {
namespace {

// Published values: W. E. Winkler, "String Comparator Metrics and Enhanced Decision Rules in the
// Fellegi-Sunter Model of Record Linkage", Proceedings of the Section on Survey Research Methods,
// American Statistical Association, 1990, pp. 354-359 (the comparator table; the same pairs and
// values are quoted in Wikipedia's "Jaro-Winkler distance" article): Jaro / Jaro-Winkler to three
// decimals.
TEST(StringMetricsTest, JaroAndJaroWinklerMatchWinklersTable) {
  struct Case {
    const char* a;
    const char* b;
    double jaro;
    double jaro_winkler;
  };
  for (const Case& c : {Case{"MARTHA", "MARHTA", 0.944, 0.961}, Case{"DWAYNE", "DUANE", 0.822, 0.840},
                        Case{"DIXON", "DICKSONX", 0.767, 0.813}}) {
    EXPECT_NEAR(Jaro(c.a, c.b), c.jaro, 0.0005) << c.a << " / " << c.b;
    EXPECT_NEAR(JaroWinkler(c.a, c.b), c.jaro_winkler, 0.0005) << c.a << " / " << c.b;
    EXPECT_DOUBLE_EQ(JaroWinkler(c.a, c.b), JaroWinkler(c.b, c.a)) << "symmetric";
  }
}

TEST(StringMetricsTest, JaroEdgeCases) {
  EXPECT_EQ(Jaro("", ""), 1.0);
  EXPECT_EQ(Jaro("abc", ""), 0.0);
  EXPECT_EQ(Jaro("abc", "xyz"), 0.0);
  EXPECT_EQ(JaroWinkler("same", "same"), 1.0);
  EXPECT_EQ(Jaro("a", "a"), 1.0);
}

// Levenshtein's textbook example (kitten -> sitting: two substitutions and an insertion), and the
// example that separates optimal string alignment from unrestricted Damerau-Levenshtein:
// OSA("CA", "ABC") = 3 where the unrestricted distance is 2 (Wikipedia, "Damerau-Levenshtein
// distance", section "Optimal string alignment distance").
TEST(StringMetricsTest, EditDistances) {
  EXPECT_EQ(Levenshtein("kitten", "sitting"), 3);
  EXPECT_EQ(Levenshtein("", "abc"), 3);
  EXPECT_EQ(Levenshtein("flaw", "lawn"), 2);
  EXPECT_EQ(DamerauLevenshtein("kitten", "sitting"), 3);
  EXPECT_EQ(DamerauLevenshtein("CA", "ABC"), 3);
  EXPECT_EQ(DamerauLevenshtein("martha", "marhta"), 1) << "one adjacent transposition";
  EXPECT_EQ(Levenshtein("martha", "marhta"), 2);
  EXPECT_EQ(DamerauLevenshtein("", ""), 0);
  EXPECT_EQ(DamerauLevenshtein("abc", ""), 3);
  EXPECT_EQ(DamerauLevenshtein("1971-06-24", "1971-06-42"), 1);
}

// WithinOneEdit is the comparisons' shortcut for DamerauLevenshtein <= 1: it must agree on every
// pair, here all strings of up to four letters over a three-letter alphabet against each other, and
// long values on the heap path of the table (past its inline scratch space).
TEST(StringMetricsTest, WithinOneEditAgreesWithTheFullDistance) {
  std::vector<std::string> words = {""};
  for (size_t length = 1; length <= 4; ++length) {
    const size_t before = words.size();
    for (size_t w = 0; w < before; ++w) {
      if (words[w].size() != length - 1) continue;
      for (char c : {'a', 'b', 'c'}) words.push_back(words[w] + c);
    }
  }
  for (const std::string& a : words) {
    for (const std::string& b : words) {
      ASSERT_EQ(WithinOneEdit(a, b), DamerauLevenshtein(a, b) <= 1) << "\"" << a << "\" / \"" << b << "\"";
    }
  }
  const std::string long_a(120, 'x'), long_b = std::string(60, 'x') + "y" + std::string(59, 'x');
  EXPECT_EQ(DamerauLevenshtein(long_a, long_b), 1);
  EXPECT_TRUE(WithinOneEdit(long_a, long_b));
  EXPECT_NEAR(Jaro(long_a, long_b), Jaro(long_b, long_a), 1e-12);
}

}  // namespace
}  // namespace tessera::matching
