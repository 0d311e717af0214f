#pragma once

// PreparedRecords: the input rows as matching uses them: the id, the source table (for linking two
// files), each schema column's normalized values, dates as days, and each column's term
// frequencies (how common a value is, for the term-frequency adjustment of exact matches).
// Built once, then read-only; reading is thread-safe.

#include <climits>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "absl/status/statusor.h"
#include "matching/csv_table.h"
#include "matching/normalizer.h"
#include "matching/schema.h"

namespace tessera::matching {

inline constexpr int kNoDate = INT_MIN;

// Two records by their index in PreparedRecords, l < r.
struct RecordPair {
  uint32_t l = 0;
  uint32_t r = 0;
};

struct PreparedRecords {
  Schema schema;
  std::vector<std::string> ids;  // as written in the input
  std::vector<int> source;       // index of the input table each record came from
  // [column][record]: the normalized value ("" when missing); for dates also the days since epoch.
  std::vector<std::vector<std::string>> values;
  std::vector<std::vector<int>> days;
  // [column]: normalized value -> its share of the column's non-empty values.
  std::vector<std::unordered_map<std::string, double>> term_frequency;

  size_t size() const { return ids.size(); }
  double TermFrequency(size_t column, const std::string& value) const;
};

// Normalizes every schema column of every table (each table one source). InvalidArgument when the
// id column or a schema column is missing from a table, or an id is empty.
absl::StatusOr<PreparedRecords> PrepareRecords(std::span<const CsvTable* const> tables,
                                               std::string_view id_column, const Schema& schema,
                                               const Normalizer& normalizer);

}  // namespace tessera::matching
