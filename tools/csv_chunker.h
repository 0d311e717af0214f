#pragma once

// CsvChunker cuts a CSV file into pieces that are each a CSV file of their own: the header line
// followed by whole rows, so that `tessera import` can send a file of any size to a running
// server's POS CSV connector in requests under its body limit. Rows are found by the importer's
// own tokenizer (connectors/csv_tokenizer.h), so a piece never ends where the server's importer
// would not end a row: not inside a quoted field, at a CR as at an LF, never at a blank line.
//
// Line numbers: the connector numbers the lines of each piece from 1 (the header). A piece knows
// the file line of its first row, so `FileLine` turns a line the server reports back into the
// line of the file.

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "connectors/csv_tokenizer.h"

namespace tessera::tools {

struct CsvPiece {
  std::string text;           // The header line, then whole rows.
  size_t first_row_line = 0;  // The file line (1-based) on which the piece's first row starts.
  size_t header_lines = 1;  // Lines the header takes (more than 1 only if a quoted name holds a line break).
  size_t rows = 0;          // Rows after the header.

  // The file line of a line number the connector reported for this piece (a line of its header
  // stays itself).
  size_t FileLine(size_t piece_line) const {
    return piece_line <= header_lines ? piece_line : first_row_line + piece_line - (header_lines + 1);
  }
};

class CsvChunker {
 public:
  // Pieces hold at most `max_bytes`, unless one row alone (with the header) is longer: that row is
  // a piece by itself, for the server to refuse with a precise answer.
  explicit CsvChunker(size_t max_bytes) : max_bytes_(max_bytes) {}

  // Takes the next bytes of the file (any split, even inside a row); appends finished pieces.
  void Feed(std::string_view bytes, std::vector<CsvPiece>& out);
  // Ends the file: the last row (which may lack its line break) and the last piece.
  void Finish(std::vector<CsvPiece>& out);
  // Whether a header row was found (a file of blank lines has none).
  bool saw_header() const { return have_header_; }

 private:
  void EndRow(std::vector<CsvPiece>& out);
  void EmitPiece(std::vector<CsvPiece>& out);

  size_t max_bytes_;
  connectors::CsvTokenizer tokenizer_;
  bool row_started_ = false;   // The current row has a byte other than a line break.
  bool cr_ended_row_ = false;  // The current row ended at a CR; an LF may follow (CRLF).
  bool bom_done_ = false;      // Past the place of a BOM at the file's start.
  size_t bom_matched_ = 0;     // Bytes of a BOM seen so far at the file's start.
  bool have_header_ = false;
  std::string header_;
  size_t header_lines_ = 0;
  std::string row_;            // The row being read.
  size_t row_first_line_ = 1;  // The line the current row started on.
  CsvPiece piece_;             // Rows collected for the next piece (without the header).
};

}  // namespace tessera::tools
