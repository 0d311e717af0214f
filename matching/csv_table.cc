#include "matching/csv_table.h"

#include <fstream>
#include <sstream>

#include "absl/status/status.h"

namespace tessera::matching {
namespace {

std::string_view Trimmed(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

}  // namespace

int CsvTable::ColumnIndex(std::string_view name) const {
  for (size_t i = 0; i < header.size(); ++i) {
    if (header[i] == name) return static_cast<int>(i);
  }
  return -1;
}

absl::StatusOr<CsvTable> ParseCsv(std::string_view text) {
  if (text.starts_with("\xEF\xBB\xBF")) text.remove_prefix(3);
  CsvTable table;
  std::vector<std::string> row;
  std::string field;
  bool quoted = false;      // inside quotes
  bool was_quoted = false;  // this field had quotes (no trimming)
  size_t line = 1, row_line = 1;
  auto end_field = [&] {
    row.push_back(was_quoted ? field : std::string(Trimmed(field)));
    field.clear();
    was_quoted = false;
  };
  auto end_row = [&]() -> absl::Status {
    end_field();
    if (row.size() == 1 && row[0].empty()) {  // blank line
      row.clear();
      return absl::OkStatus();
    }
    if (table.header.empty()) {
      table.header = std::move(row);
    } else {
      if (row.size() > table.header.size()) {
        return absl::InvalidArgumentError("line " + std::to_string(row_line) + ": " +
                                          std::to_string(row.size()) + " fields, the header has " +
                                          std::to_string(table.header.size()));
      }
      row.resize(table.header.size());
      table.rows.push_back(std::move(row));
    }
    row.clear();
    return absl::OkStatus();
  };
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (quoted) {
      if (c == '"') {
        if (i + 1 < text.size() && text[i + 1] == '"') {
          field.push_back('"');
          ++i;
        } else {
          quoted = false;
        }
      } else {
        if (c == '\n') ++line;
        field.push_back(c);
      }
    } else if (c == '"' && Trimmed(field).empty()) {
      quoted = true;
      was_quoted = true;
      field.clear();
    } else if (c == ',') {
      end_field();
    } else if (c == '\n') {
      if (absl::Status s = end_row(); !s.ok()) return s;
      row_line = ++line;
    } else if (!was_quoted) {
      field.push_back(c);
    }
  }
  if (quoted)
    return absl::InvalidArgumentError("line " + std::to_string(row_line) + ": unterminated quoted field");
  if (!field.empty() || !row.empty()) {
    if (absl::Status s = end_row(); !s.ok()) return s;
  }
  if (table.header.empty()) return absl::InvalidArgumentError("empty file: expected a header line");
  return table;
}

absl::StatusOr<CsvTable> ReadCsvFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(path + ": cannot open for reading");
  std::ostringstream buffer;
  buffer << in.rdbuf();
  if (in.bad()) return absl::DataLossError(path + ": read error");
  absl::StatusOr<CsvTable> table = ParseCsv(buffer.str());
  if (!table.ok()) return absl::InvalidArgumentError(path + ": " + std::string(table.status().message()));
  return table;
}

}  // namespace tessera::matching
