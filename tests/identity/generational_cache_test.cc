#include "identity/internal/generational_cache.h"

#include <gtest/gtest.h>

namespace tessera::identity::internal {
namespace {

TEST(GenerationalCacheTest, FindsWhatWasInserted) {
  GenerationalCache<int, std::string> cache(4);
  cache.Insert(1, "one");
  EXPECT_EQ(cache.Find(1), "one");
  EXPECT_EQ(cache.Find(2), std::nullopt);
}

TEST(GenerationalCacheTest, StaysWithinTwoGenerations) {
  GenerationalCache<int, int> cache(100);
  for (int i = 0; i < 10'000; ++i) cache.Insert(i, i);
  EXPECT_LE(cache.size(), 200u) << "the cache must be bounded by 2 x capacity";
  EXPECT_EQ(cache.Find(9'999), 9'999) << "the newest entry must survive";
  EXPECT_EQ(cache.Find(0), std::nullopt) << "the oldest entries must be gone";
}

TEST(GenerationalCacheTest, RecentlyUsedEntriesSurviveAGenerationChange) {
  GenerationalCache<int, int> cache(10);
  cache.Insert(-1, -1);
  for (int i = 0; i < 25; ++i) {
    cache.Insert(i, i);
    ASSERT_EQ(cache.Find(-1), -1) << "a hot entry was evicted after " << i << " inserts";
  }
}

TEST(GenerationalCacheTest, InsertReplacesAndClearEmpties) {
  GenerationalCache<int, int> cache(2);
  cache.Insert(1, 1);
  cache.Insert(1, 2);
  EXPECT_EQ(cache.Find(1), 2);
  cache.Clear();
  EXPECT_EQ(cache.size(), 0u);
  EXPECT_EQ(cache.Find(1), std::nullopt);
}

}  // namespace
}  // namespace tessera::identity::internal
