#include "tools/csv_chunker.h"

#include <utility>

namespace tessera::tools {

namespace {
constexpr std::string_view kBom = "\xEF\xBB\xBF";
}  // namespace

void CsvChunker::Feed(std::string_view bytes, std::vector<CsvPiece>& out) {
  for (const char c : bytes) {
    if (!bom_done_) {
      // The importer drops a UTF-8 BOM at the file's start before it reads anything: it starts
      // no row. It stays in the text (each piece then starts with it, and the importer drops it
      // there too). Bytes that turn out not to be a BOM are read like any others.
      if (c == kBom[bom_matched_]) {
        row_.push_back(c);
        if (++bom_matched_ == kBom.size()) bom_done_ = true;
        continue;
      }
      bom_done_ = true;
      for (size_t i = 0; i < bom_matched_; ++i) {
        row_started_ = true;
        tokenizer_.Next(kBom[i]);
      }
    }
    if (cr_ended_row_) {
      // A row ended at a CR: the LF of a CRLF still belongs to it.
      cr_ended_row_ = false;
      if (c == '\n') {
        row_.push_back(c);
        tokenizer_.Next(c);
        EndRow(out);
        continue;
      }
      EndRow(out);
    }
    if (row_.empty()) row_first_line_ = tokenizer_.line();
    // Blank lines are no rows (the importer skips them) but stay in the text, before the next
    // row, so that the piece's lines are the file's.
    if (!row_started_ && !connectors::CsvTokenizer::IsLineBreak(c)) row_started_ = true;
    row_.push_back(c);
    if (tokenizer_.Next(c).step != connectors::CsvTokenizer::Step::kEndRow || !row_started_) continue;
    if (c == '\r') {
      cr_ended_row_ = true;
    } else {
      EndRow(out);
    }
  }
}

void CsvChunker::Finish(std::vector<CsvPiece>& out) {
  if (!bom_done_ && bom_matched_ > 0) row_started_ = true;  // A file that is the start of a BOM.
  if (row_started_) EndRow(out);                            // Blank lines at the end of the file are dropped.
  cr_ended_row_ = false;
  EmitPiece(out);
}

void CsvChunker::EndRow(std::vector<CsvPiece>& out) {
  if (!have_header_) {
    have_header_ = true;
    header_ = std::move(row_);
    header_lines_ = tokenizer_.line() - row_first_line_;
    if (header_lines_ == 0) header_lines_ = 1;  // A header without a line break at the end of the file.
    row_.clear();
    row_started_ = false;
    return;
  }
  if (!piece_.text.empty() && header_.size() + piece_.text.size() + row_.size() > max_bytes_) EmitPiece(out);
  if (piece_.text.empty()) piece_.first_row_line = row_first_line_;
  piece_.text += row_;
  ++piece_.rows;
  row_.clear();
  row_started_ = false;
}

void CsvChunker::EmitPiece(std::vector<CsvPiece>& out) {
  if (piece_.rows == 0) return;
  CsvPiece piece;
  piece.text.reserve(header_.size() + piece_.text.size());
  piece.text = header_;
  // A header that ended the file without a line break still needs one before the rows; one that
  // ended at a lone CR gets its LF, or a blank line starting the rows would become the LF of a
  // CRLF and the piece's lines would no longer be the file's.
  if (!piece.text.empty() && piece.text.back() != '\n') piece.text.push_back('\n');
  piece.text += piece_.text;
  piece.first_row_line = piece_.first_row_line;
  piece.header_lines = header_lines_;
  piece.rows = piece_.rows;
  out.push_back(std::move(piece));
  piece_ = CsvPiece();
}

}  // namespace tessera::tools
