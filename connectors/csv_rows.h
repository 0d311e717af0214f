#pragma once

// CsvRowReader turns a CSV file fed in chunks into rows for the CSV importers
// (connectors/pos_csv.h, connectors/contact_log_csv.h), so that they read files the same way:
//
// - RFC 4180 through CsvTokenizer (connectors/csv_tokenizer.h); a UTF-8 byte order mark at the
//   very start is skipped, even when it arrives split across chunks; empty lines are skipped.
// - The first row is the header. Each named role (a mapped column, e.g. "receipt_id" -> "Receipt")
//   is looked up in it after trimming spaces and tabs; a mapped column missing from the header,
//   or there twice, is out.request_error naming it, and the rest of the file is ignored.
// - Every later row counts in out.event_count. A malformed one (a stray byte after a closing
//   quote, an unclosed quote at the end, more than max_row_bytes, or another number of columns
//   than the header) is a RejectedEvent invalid_csv with its line; every other row goes to the
//   row handler, which translates it or rejects it.
// - Lines: a row's line is the 1-based line of the file on which it starts; CRLF is one line
//   break, and a line break inside quotes counts.
//
// Thread-safety: one reader per file; not thread-safe.

#include <cstddef>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ingest/event.h"
#include "ingest/segment_parser.h"

namespace tessera::connectors {

namespace csv_error {
// A row that is not valid CSV or does not have the header's number of columns; also a header row
// that is not valid CSV, and a file without a header.
inline constexpr std::string_view kInvalidCsv = "invalid_csv";
}  // namespace csv_error

// A mapped column: what the importer calls it (for messages) and its header name.
struct CsvRole {
  std::string_view role;  // e.g. "receipt_id": the mapping's key, named in header errors.
  std::string column;     // The header name (trimmed); empty leaves the role unmapped.
};

// A well-formed data row: as many fields as the header has columns.
struct CsvRow {
  std::span<const std::string> fields;  // As read; Cell() trims.
  size_t line = 0;                      // The line on which the row starts.
};

class CsvRowReader {
 public:
  // Called once per well-formed data row, with the ParsedRequest being filled.
  using RowHandler = std::function<void(const CsvRow& row, ingest::ParsedRequest& out)>;
  static constexpr size_t kNotMapped = static_cast<size_t>(-1);

  // `roles` are checked against the header in their order; `max_row_bytes` > 0 (bytes of a row's
  // fields and commas). `header_example` shows in the error for a file without a header, e.g.
  // "receipt_id,timestamp,...".
  CsvRowReader(std::vector<CsvRole> roles, size_t max_row_bytes, std::string header_example,
               RowHandler on_row);
  CsvRowReader(CsvRowReader&&) noexcept;
  CsvRowReader& operator=(CsvRowReader&&) noexcept;
  ~CsvRowReader();

  // Consumes the next bytes of the file; each row they complete is handled into `out`.
  void Feed(std::string_view chunk, ingest::ParsedRequest& out);
  // Ends the file: a last row without a line break is handled; an unclosed quote rejects it. A
  // file without a header row sets out.request_error. Feed and Finish must not be called after.
  void Finish(ingest::ParsedRequest& out);

  // For the row handler, after the header was read:
  // The trimmed cell of role `role` (its index in `roles`); empty when the role is not mapped.
  std::string_view Cell(const CsvRow& row, size_t role) const;
  // The header names, trimmed.
  const std::vector<std::string>& header() const;
  // Whether column `i` is free for "unmapped columns as properties": not mapped to a role, not
  // the repeat of an earlier column's name, and named.
  bool IsUnmappedColumn(size_t i) const;
  // The header name of role `role`, as configured (empty when unmapped).
  const std::string& ColumnName(size_t role) const;

  // Progress: bytes consumed and the line being read (1-based).
  size_t bytes_read() const;
  size_t line() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// `text` without leading and trailing spaces and tabs (how header names and cells are compared).
std::string_view TrimCsvCell(std::string_view text);

// An ingest::FieldError; `field` is the header name of the column at fault, or empty.
ingest::FieldError MakeCsvError(std::string_view code, std::string field, std::string message);

}  // namespace tessera::connectors
