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
