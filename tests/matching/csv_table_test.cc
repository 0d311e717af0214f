#include "matching/csv_table.h"

#include <gtest/gtest.h>

namespace tessera::matching {
namespace {

TEST(CsvTableTest, QuotesTrimmingAndShortRows) {
  auto table = ParseCsv("id, name ,city\r\n1, \"Smith, Jo\" ,\"Lon\"\"don\"\n2,Ada\n\n");
  ASSERT_TRUE(table.ok()) << table.status();
  ASSERT_EQ(table->header, (std::vector<std::string>{"id", "name", "city"}));
  ASSERT_EQ(table->rows.size(), 2u);
  EXPECT_EQ(table->rows[0][1], "Smith, Jo");
  EXPECT_EQ(table->rows[0][2], "Lon\"don");
  EXPECT_EQ(table->rows[1], (std::vector<std::string>{"2", "Ada", ""})) << "short rows are padded";
  EXPECT_EQ(table->ColumnIndex("city"), 2);
  EXPECT_EQ(table->ColumnIndex("nope"), -1);
}

TEST(CsvTableTest, ErrorsNameTheLineOrPath) {
  auto wide = ParseCsv("a,b\n1,2\n1,2,3\n");
  ASSERT_FALSE(wide.ok());
  EXPECT_NE(std::string(wide.status().message()).find("line 3"), std::string::npos) << wide.status();
  auto missing = ReadCsvFile("/nonexistent/input.csv");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(std::string(missing.status().message()).find("/nonexistent/input.csv"), std::string::npos);
}

}  // namespace
}  // namespace tessera::matching
