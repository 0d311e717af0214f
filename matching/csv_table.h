#pragma once

// CsvTable: a whole CSV file in memory, as `tessera match` reads its input. RFC 4180 quoting;
// spaces around unquoted fields are trimmed (Febrl writes ", " between fields); a row with fewer
// fields is padded with empty ones, one with more is an error naming its line.

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace tessera::matching {

struct CsvTable {
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;  // each as wide as the header

  // The index of the column named `name`; -1 when there is none.
  int ColumnIndex(std::string_view name) const;
};

absl::StatusOr<CsvTable> ParseCsv(std::string_view text);
// NotFound / InvalidArgument with the path in the message.
absl::StatusOr<CsvTable> ReadCsvFile(const std::string& path);

}  // namespace tessera::matching
