#include "connectors/csv_rows.h"

#include <algorithm>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "connectors/csv_tokenizer.h"
#include "connectors/internal/text.h"

namespace tessera::connectors {
namespace {

constexpr std::string_view kBom = "\xEF\xBB\xBF";

}  // namespace

std::string_view TrimCsvCell(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

ingest::FieldError MakeCsvError(std::string_view code, std::string field, std::string message) {
  return ingest::FieldError{std::string(code), std::move(message), std::move(field)};
}

struct CsvRowReader::Impl {
  std::vector<CsvRole> roles;
  size_t max_row_bytes = 0;
  std::string header_example;
  RowHandler on_row;

  // Header.
  bool header_done = false;
  bool failed = false;  // The header was unusable: input is ignored.
  std::vector<std::string> header;
  std::vector<size_t> column;  // Index per role, kNotMapped when not mapped.
  std::vector<bool> mapped_column;

  // Tokenizer.
  bool bom_done = false;
  std::string bom_pending;
  CsvTokenizer tokenizer;
  std::vector<std::string> fields;
  std::string field;
  std::string row_error;
  size_t row_bytes = 0;
  bool row_started = false;
  size_t row_line = 1;
  size_t bytes_read = 0;

  void Process(std::string_view chunk, ingest::ParsedRequest& out) {
    for (const char c : chunk) {
      if (!row_started && !CsvTokenizer::IsLineBreak(c)) {
        row_started = true;
        row_line = tokenizer.line();
      }
      const CsvTokenizer::Result result = tokenizer.Next(c);
      switch (result.step) {
        case CsvTokenizer::Step::kNothing:
          break;
        case CsvTokenizer::Step::kAppend:
          Append(result.byte);
          break;
        case CsvTokenizer::Step::kEndField:
          EndSeparatedField();
          break;
        case CsvTokenizer::Step::kEndRow:
          EndRow(out);
          break;
        case CsvTokenizer::Step::kStrayByte:
          if (row_error.empty()) {
            row_error = "column " + std::to_string(fields.size() + 1) + ": a closing quote is followed by '" +
                        std::string(1, c) + "' instead of a comma";
          }
          Append(result.byte);
          break;
      }
    }
  }

  void Append(char c) {
    if (++row_bytes > max_row_bytes) {
      if (row_error.empty()) row_error = "the row is longer than " + std::to_string(max_row_bytes) + " bytes";
      return;
    }
    field.push_back(c);
  }

  void EndField() {
    fields.push_back(std::move(field));
    field.clear();
  }

  // A comma ends a field. It counts towards max_row_bytes like the field's own bytes: otherwise a
  // row of commas alone would grow `fields` without bound (an empty string per comma).
  void EndSeparatedField() {
    if (++row_bytes > max_row_bytes) {
      if (row_error.empty()) row_error = "the row is longer than " + std::to_string(max_row_bytes) + " bytes";
      field.clear();
      return;
    }
    EndField();
  }

  void EndRow(ingest::ParsedRequest& out) {
    if (row_started) {
      EndField();
      if (!failed) {
        if (header_done) {
          HandleRow(out);
        } else {
          ReadHeader(out);
        }
      }
    }
    fields.clear();
    field.clear();
    row_error.clear();
    row_bytes = 0;
    row_started = false;
  }

  void ReadHeader(ingest::ParsedRequest& out) {
    header_done = true;
    if (!row_error.empty()) {
      failed = true;
      out.request_error = MakeCsvError(
          csv_error::kInvalidCsv, "", "the header row (line " + std::to_string(row_line) + "): " + row_error);
      return;
    }
    header.reserve(fields.size());
    for (const std::string& name : fields) header.emplace_back(TrimCsvCell(name));
    mapped_column.assign(header.size(), false);
    column.assign(roles.size(), kNotMapped);
    for (size_t role = 0; role < roles.size(); ++role) {
      const std::string& name = roles[role].column;
      if (name.empty()) continue;
      for (size_t i = 0; i < header.size(); ++i) {
        if (header[i] != name) continue;
        if (column[role] != kNotMapped) {
          failed = true;
          out.request_error =
              MakeCsvError(ingest::error_code::kInvalidValue, name,
                           "the header has the column " + internal::QuoteForError(name) + " (mapped as " +
                               std::string(roles[role].role) + ") twice; expected it once");
          return;
        }
        column[role] = i;
        mapped_column[i] = true;
      }
      if (column[role] == kNotMapped) {
        std::string columns;
        for (const std::string& known : header) {
          if (!columns.empty()) columns.append(", ");
          columns.append(internal::QuoteForError(known));
        }
        failed = true;
        out.request_error =
            MakeCsvError(ingest::error_code::kMissingField, name,
                         "the header has no column " + internal::QuoteForError(name) + " (mapped as " +
                             std::string(roles[role].role) + "); its columns are " + columns);
        return;
      }
    }
    // A repeated unmapped header name keeps its first column only: properties have unique keys.
    for (size_t i = 0; i < header.size(); ++i) {
      for (size_t j = 0; j < i && !mapped_column[i]; ++j) mapped_column[i] = header[j] == header[i];
    }
  }

  void HandleRow(ingest::ParsedRequest& out) {
    ++out.event_count;
    if (!row_error.empty()) {
      out.rejected.push_back(
          ingest::RejectedEvent{row_line, "", MakeCsvError(csv_error::kInvalidCsv, "", row_error)});
      return;
    }
    if (fields.size() != header.size()) {
      out.rejected.push_back(ingest::RejectedEvent{
          row_line, "",
          MakeCsvError(csv_error::kInvalidCsv, "",
                       "the row has " + std::to_string(fields.size()) + " columns; the header has " +
                           std::to_string(header.size()))});
      return;
    }
    on_row(CsvRow{std::span<const std::string>(fields), row_line}, out);
  }
};

CsvRowReader::CsvRowReader(std::vector<CsvRole> roles, size_t max_row_bytes, std::string header_example,
                           RowHandler on_row)
    : impl_(std::make_unique<Impl>()) {
  for (CsvRole& role : roles) role.column = std::string(TrimCsvCell(role.column));
  impl_->roles = std::move(roles);
  impl_->max_row_bytes = max_row_bytes;
  impl_->header_example = std::move(header_example);
  impl_->on_row = std::move(on_row);
}

CsvRowReader::CsvRowReader(CsvRowReader&&) noexcept = default;
CsvRowReader& CsvRowReader::operator=(CsvRowReader&&) noexcept = default;
CsvRowReader::~CsvRowReader() = default;

void CsvRowReader::Feed(std::string_view chunk, ingest::ParsedRequest& out) {
  Impl& impl = *impl_;
  impl.bytes_read += chunk.size();
  if (impl.failed) return;
  if (!impl.bom_done) {
    // The BOM may arrive split across chunks: hold back a prefix of it until it is decided.
    const size_t take = std::min(kBom.size() - impl.bom_pending.size(), chunk.size());
    impl.bom_pending.append(chunk.substr(0, take));
    chunk.remove_prefix(take);
    if (impl.bom_pending.size() < kBom.size() && kBom.starts_with(impl.bom_pending)) return;
    impl.bom_done = true;
    std::string pending = std::move(impl.bom_pending);
    impl.bom_pending.clear();
    if (pending == kBom) pending.clear();
    impl.Process(pending, out);
  }
  impl.Process(chunk, out);
}

void CsvRowReader::Finish(ingest::ParsedRequest& out) {
  Impl& impl = *impl_;
  if (!impl.bom_done) {
    impl.bom_done = true;
    if (impl.bom_pending != kBom) impl.Process(impl.bom_pending, out);
  }
  if (impl.tokenizer.in_quoted_field() && impl.row_error.empty()) {
    impl.row_error = "column " + std::to_string(impl.fields.size() + 1) + ": a quoted field is never closed";
  }
  impl.EndRow(out);
  if (!impl.header_done && !impl.failed) {
    impl.failed = true;
    out.request_error = MakeCsvError(csv_error::kInvalidCsv, "",
                                     "the file has no header row; expected one naming the columns, e.g. " +
                                         internal::QuoteForError(impl.header_example));
  }
}

std::string_view CsvRowReader::Cell(const CsvRow& row, size_t role) const {
  const size_t column = impl_->column[role];
  return column == kNotMapped ? std::string_view() : TrimCsvCell(row.fields[column]);
}

const std::vector<std::string>& CsvRowReader::header() const { return impl_->header; }

bool CsvRowReader::IsUnmappedColumn(size_t i) const {
  return !impl_->mapped_column[i] && !impl_->header[i].empty();
}

const std::string& CsvRowReader::ColumnName(size_t role) const { return impl_->roles[role].column; }

size_t CsvRowReader::bytes_read() const { return impl_->bytes_read; }
size_t CsvRowReader::line() const { return impl_->tokenizer.line(); }

}  // namespace tessera::connectors
