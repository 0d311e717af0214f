#include "matching/prepared_records.h"

#include "absl/status/status.h"
#include "matching/date_value.h"

namespace tessera::matching {
namespace {

std::string NormalizedValue(const Normalizer& normalizer, ColumnKind kind, std::string_view raw) {
  switch (kind) {
    case ColumnKind::kFirstName:
    case ColumnKind::kSurname:
    case ColumnKind::kPersonName:
    case ColumnKind::kCity:
      return normalizer.Name(raw);
    case ColumnKind::kDateOfBirth:
      return normalizer.Date(raw);
    case ColumnKind::kEmail:
      return normalizer.Email(raw);
    case ColumnKind::kPhone:
      return normalizer.Phone(raw);
    case ColumnKind::kPostcode:
      return normalizer.Postcode(raw);
    case ColumnKind::kAddress:
    case ColumnKind::kFreeText:
      return normalizer.Name(raw);
  }
  return "";
}

}  // namespace

double PreparedRecords::TermFrequency(size_t column, const std::string& value) const {
  const auto it = term_frequency[column].find(value);
  return it == term_frequency[column].end() ? 0.0 : it->second;
}

absl::StatusOr<PreparedRecords> PrepareRecords(std::span<const CsvTable* const> tables,
                                               std::string_view id_column, const Schema& schema,
                                               const Normalizer& normalizer) {
  PreparedRecords records;
  records.schema = schema;
  const size_t columns = schema.columns.size();
  records.values.resize(columns);
  records.days.resize(columns);
  records.term_frequency.resize(columns);
  for (size_t t = 0; t < tables.size(); ++t) {
    const CsvTable& table = *tables[t];
    const int id_index = table.ColumnIndex(id_column);
    if (id_index < 0) {
      return absl::InvalidArgumentError("no id column \"" + std::string(id_column) + "\" in the header");
    }
    std::vector<int> indexes;
    for (const SchemaColumn& column : schema.columns) {
      const int index = table.ColumnIndex(column.name);
      if (index < 0) return absl::InvalidArgumentError("no column \"" + column.name + "\" in the header");
      indexes.push_back(index);
    }
    for (size_t r = 0; r < table.rows.size(); ++r) {
      const std::vector<std::string>& row = table.rows[r];
      if (row[id_index].empty()) {
        return absl::InvalidArgumentError("row " + std::to_string(r + 1) + ": empty id in column \"" +
                                          std::string(id_column) + "\"");
      }
      records.ids.push_back(row[id_index]);
      records.source.push_back(static_cast<int>(t));
      for (size_t c = 0; c < columns; ++c) {
        const ColumnKind kind = schema.columns[c].kind;
        std::string value = NormalizedValue(normalizer, kind, row[indexes[c]]);
        int days = kNoDate;
        if (kind == ColumnKind::kDateOfBirth && !value.empty()) days = ParseDate(value)->DaysSinceEpoch();
        records.days[c].push_back(days);
        records.values[c].push_back(std::move(value));
      }
    }
  }
  for (size_t c = 0; c < columns; ++c) {
    size_t non_empty = 0;
    auto& frequency = records.term_frequency[c];
    for (const std::string& value : records.values[c]) {
      if (value.empty()) continue;
      ++non_empty;
      frequency[value] += 1.0;
    }
    for (auto& [value, count] : frequency) count /= static_cast<double>(non_empty);
  }
  return records;
}

}  // namespace tessera::matching
