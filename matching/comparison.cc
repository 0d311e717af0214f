#include "matching/comparison.h"

#include <cstdlib>

#include "matching/string_metrics.h"

namespace tessera::matching {
namespace {

std::vector<std::string> LevelsOf(ColumnKind kind) {
  switch (kind) {
    case ColumnKind::kFirstName:
    case ColumnKind::kSurname:
    case ColumnKind::kPersonName:
      return {"exact", "damerau_levenshtein<=1", "jaro_winkler>=0.92", "jaro_winkler>=0.88", "else"};
    case ColumnKind::kDateOfBirth:
      return {"exact",
              "damerau_levenshtein<=1",
              "day_month_transposed",
              "within_1_month",
              "within_1_year",
              "within_10_years",
              "else"};
    case ColumnKind::kEmail:
      return {"exact", "username_exact", "jaro_winkler>=0.88", "else"};
    case ColumnKind::kCity:
      return {"exact", "damerau_levenshtein<=1", "jaro_winkler>=0.88", "else"};
    case ColumnKind::kAddress:
      return {"exact", "damerau_levenshtein<=1", "jaro_winkler>=0.88", "else"};
    case ColumnKind::kPhone:
    case ColumnKind::kPostcode:
    case ColumnKind::kFreeText:
      return {"exact", "damerau_levenshtein<=1", "damerau_levenshtein<=2", "else"};
  }
  return {"exact", "else"};
}

bool UsesTermFrequency(ColumnKind kind) {
  switch (kind) {
    case ColumnKind::kFirstName:
    case ColumnKind::kSurname:
    case ColumnKind::kPersonName:
    case ColumnKind::kCity:
      return true;
    case ColumnKind::kDateOfBirth:
    case ColumnKind::kEmail:
    case ColumnKind::kPhone:
    case ColumnKind::kPostcode:
    case ColumnKind::kAddress:
    case ColumnKind::kFreeText:
      return false;
  }
  return false;
}

int NameLevel(const std::string& a, const std::string& b) {
  if (WithinOneEdit(a, b)) return 1;
  const double jw = JaroWinkler(a, b);
  if (jw >= 0.92) return 2;
  if (jw >= 0.88) return 3;
  return 4;
}

int DateLevel(const std::string& a, const std::string& b, int days_a, int days_b) {
  if (WithinOneEdit(a, b)) return 1;
  // YYYY-MM-DD: the same year, and each one's month is the other's day.
  if (a.compare(0, 4, b, 0, 4) == 0 && a.compare(5, 2, b, 8, 2) == 0 && a.compare(8, 2, b, 5, 2) == 0)
    return 2;
  const int apart = std::abs(days_a - days_b);
  if (apart <= 31) return 3;
  if (apart <= 366) return 4;
  if (apart <= 3653) return 5;
  return 6;
}

int EmailLevel(const std::string& a, const std::string& b) {
  const size_t at_a = a.find('@'), at_b = b.find('@');
  if (at_a == at_b && a.compare(0, at_a, b, 0, at_b) == 0) return 1;
  if (JaroWinkler(a, b) >= 0.88) return 2;
  return 3;
}

int EditLevel(const std::string& a, const std::string& b) {
  const int distance = DamerauLevenshtein(a, b);
  if (distance <= 1) return 1;
  if (distance <= 2) return 2;
  return 3;
}

int TextLevel(const std::string& a, const std::string& b) {
  if (WithinOneEdit(a, b)) return 1;
  if (JaroWinkler(a, b) >= 0.88) return 2;
  return 3;
}

}  // namespace

std::vector<Comparison> ComparisonsFor(const Schema& schema) {
  std::vector<Comparison> comparisons;
  for (size_t c = 0; c < schema.columns.size(); ++c) {
    const SchemaColumn& column = schema.columns[c];
    comparisons.push_back(Comparison{.column = c,
                                     .column_name = column.name,
                                     .kind = column.kind,
                                     .levels = LevelsOf(column.kind),
                                     .term_frequency_on_exact = UsesTermFrequency(column.kind)});
  }
  return comparisons;
}

int CompareRecords(const Comparison& comparison, const PreparedRecords& records, size_t l, size_t r) {
  const std::string& a = records.values[comparison.column][l];
  const std::string& b = records.values[comparison.column][r];
  if (a.empty() || b.empty()) return kNullLevel;
  if (a == b) return 0;
  switch (comparison.kind) {
    case ColumnKind::kFirstName:
    case ColumnKind::kSurname:
    case ColumnKind::kPersonName:
      return NameLevel(a, b);
    case ColumnKind::kDateOfBirth:
      return DateLevel(a, b, records.days[comparison.column][l], records.days[comparison.column][r]);
    case ColumnKind::kEmail:
      return EmailLevel(a, b);
    case ColumnKind::kCity:
    case ColumnKind::kAddress:
      return TextLevel(a, b);
    case ColumnKind::kPhone:
    case ColumnKind::kPostcode:
    case ColumnKind::kFreeText:
      return EditLevel(a, b);
  }
  return static_cast<int>(comparison.levels.size()) - 1;
}

}  // namespace tessera::matching
