#include "matching/blocking.h"

#include <gtest/gtest.h>

#include "tests/matching/test_records.h"

namespace tessera::matching {
namespace {

TEST(BlockingTest, SoundKeyIsAmericanSoundex) {
  EXPECT_EQ(SoundKey("robert"), "R163");
  EXPECT_EQ(SoundKey("rupert"), "R163");
  EXPECT_EQ(SoundKey("ashcraft"), "A261") << "h does not separate s and c";
  EXPECT_EQ(SoundKey("tymczak"), "T522");
  EXPECT_EQ(SoundKey("pfister"), "P236") << "the first letter's code is not repeated";
  EXPECT_EQ(SoundKey("lee"), "L000");
  EXPECT_EQ(SoundKey("123"), "");
}

TEST(BlockingTest, UnionOfRulesFindsTyposOnceAndSkipsStrangers) {
  const PreparedRecords records = testing::RecordsFromCsv(
      "id,first_name,surname,dob,email\n"
      "a,Robert,Allen,1971-06-24,rob@x.net\n"
      "b,Robert,Alen,1971-06-24,\n"           // same initial + sound key, same dob
      "c,Zoe,Quinn,1990-01-01,zq@y.org\n"     // nobody
      "d,Bob,Smith,1980-02-02,rob@x.net\n");  // same email as a
  const std::vector<BlockingRule> rules = DefaultBlockingRules(records.schema);
  ASSERT_FALSE(rules.empty());
  const CandidatePairs candidates = PairsOfRules(rules, records, BlockingOptions{});
  ASSERT_EQ(candidates.pairs.size(), 2u);
  EXPECT_EQ(candidates.pairs[0].l, 0u);
  EXPECT_EQ(candidates.pairs[0].r, 1u);
  EXPECT_EQ(candidates.pairs[1].l, 0u);
  EXPECT_EQ(candidates.pairs[1].r, 3u);
}

TEST(BlockingTest, OversizedBlocksAreSkippedAndCounted) {
  const PreparedRecords records = testing::RecordsFromCsv(
      "id,dob\n1,2000-01-01\n2,2000-01-01\n3,2000-01-01\n4,1999-01-01\n5,1999-01-01\n");
  const std::vector<BlockingRule> rules = DefaultBlockingRules(records.schema);
  const CandidatePairs candidates =
      PairsOfRules(rules, records, BlockingOptions{.max_block_size = 2, .link_only = false});
  EXPECT_EQ(candidates.pairs.size(), 1u);
  EXPECT_EQ(candidates.blocks_skipped, 1u);
}

}  // namespace
}  // namespace tessera::matching
