#include "matching/clustering.h"

#include <gtest/gtest.h>

#include "matching/pair_evaluation.h"

namespace tessera::matching {
namespace {

TEST(ClusteringTest, ConnectedComponentsAboveTheThreshold) {
  const std::vector<RecordPair> pairs = {{0, 1}, {1, 2}, {3, 4}, {2, 4}};
  const std::vector<double> probabilities = {0.99, 0.95, 0.97, 0.5};
  const std::vector<uint32_t> clusters = ClusterRecords(6, pairs, probabilities, 0.9);
  EXPECT_EQ(clusters, (std::vector<uint32_t>{0, 0, 0, 3, 3, 5}));
}

TEST(ClusteringTest, AConfidentNonMatchAcrossKeepsTwoClustersApart) {
  // 0-1 and 2-3 are sure; 1-2 joins them at 0.92, but 0-3 was scored 0.001 (-10 bits against
  // +3.5 for the join): the evidence against wins and two clusters stay.
  const std::vector<RecordPair> pairs = {{0, 1}, {2, 3}, {1, 2}, {0, 3}};
  const std::vector<double> probabilities = {0.999, 0.998, 0.92, 0.001};
  ClusterStats stats;
  EXPECT_EQ(ClusterRecords(4, pairs, probabilities, 0.9, {}, &stats), (std::vector<uint32_t>{0, 0, 2, 2}));
  EXPECT_EQ(stats.joins_refused, 1u);
  EXPECT_EQ(stats.largest_cluster, 2u);
  // Plain connected components chain them.
  EXPECT_EQ(ClusterRecords(4, pairs, probabilities, 0.9, {.cannot_link = false}),
            (std::vector<uint32_t>{0, 0, 0, 0}));
  // A join stronger than the evidence against goes ahead (0.9999 is +13.3 bits; 0.001 -10).
  const std::vector<double> strong = {0.99999, 0.99999, 0.9999, 0.001};
  EXPECT_EQ(ClusterRecords(4, pairs, strong, 0.9), (std::vector<uint32_t>{0, 0, 0, 0}));
}

TEST(PairEvaluationTest, PrecisionRecallAndBestThreshold) {
  const std::vector<std::string> entity = {"a", "a", "a", "b", "b", "c"};  // 3 + 1 true pairs
  const std::vector<int> source(6, 0);
  const std::vector<RecordPair> pairs = {{0, 1}, {1, 2}, {3, 4}, {2, 4}};
  const std::vector<double> probabilities = {0.99, 0.95, 0.97, 0.5};
  const PairQuality at = AtThreshold(pairs, probabilities, 0.9, entity, source, false);
  EXPECT_EQ(at.predicted, 3u);
  EXPECT_EQ(at.true_positives, 3u);
  EXPECT_EQ(at.actual, 4u);
  EXPECT_DOUBLE_EQ(at.recall, 0.75);
  const PairQuality best = BestThreshold(pairs, probabilities, entity, source, false);
  EXPECT_DOUBLE_EQ(best.threshold, 0.95);
  EXPECT_DOUBLE_EQ(best.f1, at.f1);
  const PairQuality clusters =
      OfClusters(ClusterRecords(6, pairs, probabilities, 0.9), entity, source, false);
  EXPECT_EQ(clusters.true_positives, 4u) << "the cluster {0,1,2} implies the pair 0-2 too";
  EXPECT_DOUBLE_EQ(BlockingRecall(pairs, entity, source, false), 0.75);
}

}  // namespace
}  // namespace tessera::matching
