#include "tools/csv_chunker.h"

#include <utility>

namespace tessera::tools {

void CsvChunker::Feed(std::string_view bytes, std::vector<CsvPiece>& out) {
  for (const char c : bytes) {
    if (row_.empty()) row_first_line_ = line_;
    row_.push_back(c);
    // A doubled quote inside a quoted field toggles twice, leaving the state as it was.
    if (c == '"') in_quotes_ = !in_quotes_;
    if (c != '\n') continue;
    ++line_;
    if (!in_quotes_) EndRow(out);
  }
}

void CsvChunker::Finish(std::vector<CsvPiece>& out) {
  if (!row_.empty()) EndRow(out);
  EmitPiece(out);
}

void CsvChunker::EndRow(std::vector<CsvPiece>& out) {
  if (!have_header_) {
    have_header_ = true;
    header_ = std::move(row_);
    header_lines_ = line_ - row_first_line_;
    if (header_lines_ == 0) header_lines_ = 1;  // A header without a line break at the end of the file.
    row_.clear();
    return;
  }
  if (!piece_.text.empty() && header_.size() + piece_.text.size() + row_.size() > max_bytes_) EmitPiece(out);
  if (piece_.text.empty()) piece_.first_row_line = row_first_line_;
  piece_.text += row_;
  ++piece_.rows;
  row_.clear();
}

void CsvChunker::EmitPiece(std::vector<CsvPiece>& out) {
  if (piece_.rows == 0) return;
  CsvPiece piece;
  piece.text.reserve(header_.size() + piece_.text.size());
  piece.text = header_;
  // A header that ended the file without a line break still needs one before the rows.
  if (!piece.text.empty() && piece.text.back() != '\n') piece.text.push_back('\n');
  piece.text += piece_.text;
  piece.first_row_line = piece_.first_row_line;
  piece.header_lines = header_lines_;
  piece.rows = piece_.rows;
  out.push_back(std::move(piece));
  piece_ = CsvPiece();
}

}  // namespace tessera::tools
