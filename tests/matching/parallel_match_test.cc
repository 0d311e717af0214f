// The matcher on several threads gives the same bytes as on one, and its pieces (the rules' marks
// on the union of candidates, the comparison patterns) say what the training reads from them.

#include <gtest/gtest.h>

#include <cstring>

#include "matching/blocking.h"
#include "matching/comparison_patterns.h"
#include "matching/matcher.h"
#include "matching/synthetic_people.h"
#include "tests/matching/test_records.h"

namespace tessera::matching {
namespace {

PreparedRecords SyntheticRecords(size_t n) {
  return testing::RecordsFromCsv(GenerateSyntheticPeople({.records = n, .seed = 3}).csv);
}

TEST(ParallelMatchTest, ThreadCountDoesNotChangeAnyResult) {
  const PreparedRecords records = SyntheticRecords(3000);
  MatchOptions one;
  one.threads = 1;
  one.training.u_sample_pairs = 100'000;  // enough to tell a difference, and quick
  auto single = Match(records, one);
  ASSERT_TRUE(single.ok()) << single.status();
  ASSERT_GT(single->candidates.pairs.size(), 1000u);
  for (size_t threads : {2, 3, 8}) {
    MatchOptions options = one;
    options.threads = threads;
    auto many = Match(records, options);
    ASSERT_TRUE(many.ok()) << many.status();
    EXPECT_EQ(many->model.Summary(), single->model.Summary()) << threads << " threads trained another model";
    EXPECT_EQ(many->model.lambda, single->model.lambda) << threads << " threads";
    ASSERT_EQ(many->candidates.pairs.size(), single->candidates.pairs.size()) << threads << " threads";
    EXPECT_EQ(many->candidates.rules_of, single->candidates.rules_of) << threads << " threads";
    for (size_t p = 0; p < single->candidates.pairs.size(); ++p) {
      ASSERT_EQ(many->candidates.pairs[p].l, single->candidates.pairs[p].l) << "pair " << p;
      ASSERT_EQ(many->candidates.pairs[p].r, single->candidates.pairs[p].r) << "pair " << p;
      ASSERT_EQ(many->scores[p].match_weight, single->scores[p].match_weight)
          << "pair " << p << " scored differently on " << threads << " threads";
    }
    EXPECT_EQ(many->cluster_of, single->cluster_of) << threads << " threads";
  }
}

TEST(ParallelMatchTest, EachPairIsMarkedWithTheRulesThatProposeIt) {
  const PreparedRecords records = SyntheticRecords(1500);
  const std::vector<BlockingRule> rules = DefaultBlockingRules(records.schema);
  const CandidatePairs all = PairsOfRules(rules, records, BlockingOptions{}, /*threads=*/2);
  ASSERT_EQ(all.rules_of.size(), all.pairs.size());
  for (size_t k = 0; k < rules.size(); ++k) {
    const CandidatePairs own = PairsOfRule(rules[k], records, BlockingOptions{});
    std::vector<size_t> marked;
    for (size_t p = 0; p < all.pairs.size(); ++p) {
      if (all.rules_of[p] >> k & 1) marked.push_back(p);
    }
    ASSERT_EQ(marked.size(), own.pairs.size()) << rules[k].name;
    for (size_t i = 0; i < marked.size(); ++i) {
      EXPECT_EQ(all.pairs[marked[i]].l, own.pairs[i].l) << rules[k].name;
      EXPECT_EQ(all.pairs[marked[i]].r, own.pairs[i].r) << rules[k].name;
    }
  }
  for (uint64_t mask : all.rules_of) EXPECT_NE(mask, 0u) << "every candidate comes from some rule";
}

TEST(ParallelMatchTest, PatternsAreNumberedByFirstOccurrenceAndCounted) {
  const std::vector<int8_t> levels = {0, 1, /**/ 2, kNullLevel, /**/ 0, 1, /**/ 0, 1, /**/ 2, kNullLevel};
  const ComparisonPatterns patterns(levels, 2);
  ASSERT_EQ(patterns.size(), 2u);
  EXPECT_EQ(patterns.Counts(), (std::vector<double>{3, 2}));
  EXPECT_EQ(patterns.PatternOfPair(), (std::vector<uint32_t>{0, 1, 0, 0, 1}));
  EXPECT_EQ(patterns.Levels(1)[0], 2);
  EXPECT_EQ(patterns.Levels(1)[1], kNullLevel);
}

}  // namespace
}  // namespace tessera::matching
