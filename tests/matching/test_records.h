#pragma once

// Prepared records from CSV text, for the matching tests.

#include <gtest/gtest.h>

#include <string_view>

#include "matching/csv_table.h"
#include "matching/prepared_records.h"
#include "matching/schema.h"

namespace tessera::matching::testing {

inline PreparedRecords RecordsFromCsv(std::string_view csv, std::string_view id_column = "id") {
  auto table = ParseCsv(csv);
  EXPECT_TRUE(table.ok()) << table.status();
  auto schema = InferSchema(table->header, id_column);
  EXPECT_TRUE(schema.ok()) << schema.status();
  auto normalizer = Normalizer::Create();
  EXPECT_TRUE(normalizer.ok()) << normalizer.status();
  const CsvTable* tables[] = {&*table};
  auto records = PrepareRecords(tables, id_column, *schema, **normalizer);
  EXPECT_TRUE(records.ok()) << records.status();
  return std::move(*records);
}

}  // namespace tessera::matching::testing
