#include <gtest/gtest.h>

#include <cstdio>

#include "matching/csv_table.h"
#include "matching/matcher.h"
#include "matching/pair_evaluation.h"
#include "matching/prepared_records.h"

namespace tessera::matching {
namespace {

// The model reaches 0.902 (precision 0.952, recall 0.858, blocking recall 0.884; docs/matching.md);
// this is that less a small margin, and issue 25's goal.
constexpr double kMinimumF1 = 0.90;

// Splink's fake_1000 sample (../shared/datasets/splink, 251 clusters, 2031 true pairs), matched
// without labels as `tessera match` does; the `cluster` column is ground truth only (the inferred
// schema ignores it). Splink's documentation reports a best pairwise F1 of 0.862 for its
// unsupervised model on this file; issue 25 asks for 0.90.
TEST(Fake1000QualityTest, PairwiseF1AtTheBestThreshold) {
  auto table = ReadCsvFile(std::string(TESSERA_SHARED_DIR) + "/datasets/splink/fake_1000.csv");
  ASSERT_TRUE(table.ok()) << table.status();
  auto schema = InferSchema(table->header, "unique_id");
  ASSERT_TRUE(schema.ok()) << schema.status();
  for (const SchemaColumn& column : schema->columns)
    EXPECT_NE(column.name, "cluster") << "the label must not be compared";
  auto normalizer = Normalizer::Create();
  ASSERT_TRUE(normalizer.ok());
  const CsvTable* tables[] = {&*table};
  auto records = PrepareRecords(tables, "unique_id", *schema, **normalizer);
  ASSERT_TRUE(records.ok()) << records.status();
  auto result = Match(*records, MatchOptions{});
  ASSERT_TRUE(result.ok()) << result.status();

  const int cluster_column = table->ColumnIndex("cluster");
  std::vector<std::string> entity;
  for (const auto& row : table->rows) entity.push_back(row[cluster_column]);
  const PairQuality best =
      BestThreshold(result->candidates.pairs, result->probabilities, entity, records->source, false);
  const PairQuality clusters = OfClusters(result->cluster_of, entity, records->source, false);
  std::printf(
      "fake_1000: %zu candidate pairs, blocking recall %.4f; best threshold %.4f: precision %.4f recall %.4f "
      "F1 %.4f; clusters at 0.9: precision %.4f recall %.4f F1 %.4f\n",
      result->candidates.pairs.size(),
      BlockingRecall(result->candidates.pairs, entity, records->source, false), best.threshold,
      best.precision, best.recall, best.f1, clusters.precision, clusters.recall, clusters.f1);
  EXPECT_EQ(best.actual, 2031u);
  EXPECT_GE(best.f1, kMinimumF1) << "pairwise F1 at the best threshold fell";
  // The clusters' F1 was 0.942 with plain connected components and the earlier lambda; with the
  // cannot-link guard (clustering.h) it is 0.899: this file's people have records the model scores
  // as confident non-matches of each other (blocking recall 0.884), so some true joins are refused.
  EXPECT_GE(clusters.f1, 0.89) << "F1 of the clusters at the default threshold fell (0.899 when written)";
  EXPECT_GE(clusters.precision, 0.98);
}

}  // namespace
}  // namespace tessera::matching
