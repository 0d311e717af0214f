// The estimate of lambda (the chance that two random records are the same person) against the
// truth of generated files: the per-rule EM sessions' true pairs divided by each rule's recall must
// land near the real number of true pairs whatever the share of duplicates.

#include <gtest/gtest.h>

#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "matching/csv_table.h"
#include "matching/matcher.h"
#include "matching/synthetic_people.h"

namespace tessera::matching {
namespace {

struct Truth {
  double true_pairs = 0;
  double all_pairs = 0;
};

// Matches `table` (people rows, `cluster` the truth) and returns the estimated lambda; `truth` gets
// the real figures.
double EstimatedLambda(const CsvTable& table, Truth& truth) {
  const int cluster = table.ColumnIndex("cluster");
  std::map<std::string, double> records_of;
  for (const auto& row : table.rows) records_of[row[cluster]] += 1;
  for (const auto& [person, n] : records_of) truth.true_pairs += n * (n - 1) / 2;
  const double n = static_cast<double>(table.rows.size());
  truth.all_pairs = n * (n - 1) / 2;
  auto schema = InferSchema(table.header, "id");
  EXPECT_TRUE(schema.ok()) << schema.status();
  auto normalizer = Normalizer::Create();
  EXPECT_TRUE(normalizer.ok());
  const CsvTable* tables[] = {&table};
  auto records = PrepareRecords(tables, "id", *schema, **normalizer);
  EXPECT_TRUE(records.ok()) << records.status();
  auto result = Match(*records, MatchOptions{});
  EXPECT_TRUE(result.ok()) << result.status();
  EXPECT_FALSE(result->lambda_estimate.rules.empty()) << "lambda must come from the rules' sessions";
  return result->model.lambda;
}

void ExpectWithinFactorTwo(double estimate, const Truth& truth, const char* what) {
  const double lambda = truth.true_pairs / truth.all_pairs;
  std::printf("%s: lambda estimated %.4g, true %.4g (%.0f true pairs), ratio %.3f\n", what, estimate, lambda,
              truth.true_pairs, estimate / lambda);
  EXPECT_GT(estimate, lambda / 2) << what;
  EXPECT_LT(estimate, lambda * 2) << what;
}

TEST(LambdaEstimateTest, SyntheticPeopleWithTheirDuplicates) {
  const SyntheticPeople people = GenerateSyntheticPeople({.records = 20000, .seed = 11});
  auto table = ParseCsv(people.csv);
  ASSERT_TRUE(table.ok()) << table.status();
  Truth truth;
  const double estimate = EstimatedLambda(*table, truth);
  EXPECT_EQ(truth.true_pairs, static_cast<double>(people.true_pairs));
  ExpectWithinFactorTwo(estimate, truth, "20,000 synthetic rows");
}

TEST(LambdaEstimateTest, FewerDuplicatesGiveASmallerLambda) {
  // The same kind of file with the copies of three people in four dropped: about a quarter of the
  // true pairs, among about 70% of the rows.
  const SyntheticPeople people = GenerateSyntheticPeople({.records = 20000, .seed = 12});
  auto table = ParseCsv(people.csv);
  ASSERT_TRUE(table.ok()) << table.status();
  const int cluster = table->ColumnIndex("cluster");
  std::map<std::string, int> kept_of;
  std::vector<std::vector<std::string>> rows;
  for (auto& row : table->rows) {
    const std::string& person = row[cluster];
    const bool keeps_copies = std::hash<std::string>{}(person) % 4 == 0;
    if (kept_of[person]++ > 0 && !keeps_copies) continue;
    rows.push_back(std::move(row));
  }
  table->rows = std::move(rows);
  Truth truth;
  const double estimate = EstimatedLambda(*table, truth);
  ExpectWithinFactorTwo(estimate, truth, "copies of 3 in 4 people dropped");
}

}  // namespace
}  // namespace tessera::matching
