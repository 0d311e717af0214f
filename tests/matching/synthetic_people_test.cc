#include "matching/synthetic_people.h"

#include <gtest/gtest.h>

#include <map>
#include <set>

#include "matching/csv_table.h"
#include "matching/schema.h"

namespace tessera::matching {
namespace {

TEST(SyntheticPeopleTest, TheSameSeedWritesTheSameBytes) {
  const SyntheticPeople first = GenerateSyntheticPeople({.records = 2000, .seed = 7});
  const SyntheticPeople again = GenerateSyntheticPeople({.records = 2000, .seed = 7});
  const SyntheticPeople other = GenerateSyntheticPeople({.records = 2000, .seed = 8});
  EXPECT_EQ(first.csv, again.csv) << "the generator must be deterministic for a seed";
  EXPECT_NE(first.csv, other.csv) << "another seed, other people";
}

TEST(SyntheticPeopleTest, GroundTruthCountsMatchTheClusterColumn) {
  const SyntheticPeople people = GenerateSyntheticPeople({.records = 3000, .seed = 25});
  auto table = ParseCsv(people.csv);
  ASSERT_TRUE(table.ok()) << table.status();
  ASSERT_EQ(table->rows.size(), 3000u);
  const int cluster = table->ColumnIndex("cluster");
  ASSERT_GE(cluster, 0);
  std::map<std::string, size_t> records_of;
  std::set<std::string> ids;
  for (const auto& row : table->rows) {
    ++records_of[row[cluster]];
    ids.insert(row[0]);
  }
  EXPECT_EQ(ids.size(), 3000u) << "ids are unique";
  size_t pairs = 0;
  for (const auto& [person, n] : records_of) pairs += n * (n - 1) / 2;
  EXPECT_EQ(records_of.size(), people.people);
  EXPECT_EQ(pairs, people.true_pairs);
  EXPECT_GT(people.true_pairs, 1000u) << "about 0.7 true pairs per record were drawn";
}

TEST(SyntheticPeopleTest, RecordsCarryTheMistakesOfRealFiles) {
  const SyntheticPeople people = GenerateSyntheticPeople({.records = 5000, .seed = 25});
  EXPECT_NE(people.csv.find("김"), std::string::npos) << "Korean names in Hangul";
  EXPECT_NE(people.csv.find("Min-jun"), std::string::npos) << "and romanized";
  EXPECT_NE(people.csv.find(",,"), std::string::npos) << "missing values";
  EXPECT_NE(people.csv.find('/'), std::string::npos) << "dates as DD/MM/YYYY too";
  auto table = ParseCsv(people.csv);
  ASSERT_TRUE(table.ok()) << table.status();
  auto schema = InferSchema(table->header, "id");
  ASSERT_TRUE(schema.ok()) << schema.status();
  std::vector<std::string> compared;
  for (const SchemaColumn& column : schema->columns) compared.push_back(column.name);
  EXPECT_EQ(compared, (std::vector<std::string>{"first_name", "surname", "dob", "email", "city", "postcode"}))
      << "every column but the id and the ground truth is compared";
}

}  // namespace
}  // namespace tessera::matching
