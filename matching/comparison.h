#pragma once

// Comparison: how two records' values of one column are compared, as a list of levels from the
// most to the least similar, ending with "else", as Splink's comparison library defines them for
// each kind of column (names: exact, Damerau-Levenshtein <= 1, Jaro-Winkler >= 0.92 / 0.88; dates:
// exact, one typo, day and month transposed, within a month / a year / ten years; e-mail: exact,
// same user name, Jaro-Winkler >= 0.88; ...). A pair in which either value is missing is at the
// "null" level, which carries no evidence. Thread-safe (pure functions of the records).

#include <string>
#include <vector>

#include "matching/prepared_records.h"
#include "matching/schema.h"

namespace tessera::matching {

inline constexpr int kNullLevel = -1;

struct Comparison {
  size_t column = 0;        // index into PreparedRecords' columns
  std::string column_name;  // the input header
  ColumnKind kind = ColumnKind::kFreeText;
  std::vector<std::string> levels;       // labels, most similar first, "else" last
  bool term_frequency_on_exact = false;  // level 0 adjusted by how common the value is
};

// One comparison per schema column.
std::vector<Comparison> ComparisonsFor(const Schema& schema);

// The level (index into `comparison.levels`) of records `l` and `r`, or kNullLevel.
int CompareRecords(const Comparison& comparison, const PreparedRecords& records, size_t l, size_t r);

}  // namespace tessera::matching
