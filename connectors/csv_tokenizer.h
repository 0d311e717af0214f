#pragma once

// CsvTokenizer says what each byte of a CSV file means, the way POS exports are read (RFC 4180,
// and lenient where exporters are): a field that starts with '"' is quoted and may hold commas,
// line breaks and doubled quotes; a quote inside an unquoted field is taken literally ("5\" tv");
// CR, LF and CRLF each end a row. It keeps no field text, only the state, so the importers' row
// reader (connectors/csv_rows.h, behind connectors/pos_csv.h and connectors/contact_log_csv.h)
// and `tessera import`'s cutting of files into pieces (tools/csv_chunker.h) find rows at exactly
// the same places.
//
// Thread-safety: one tokenizer per file; not thread-safe.

#include <cstddef>

namespace tessera::connectors {

class CsvTokenizer {
 public:
  enum class Step {
    kNothing,    // The byte only changes state (an opening or closing quote, the LF of a CRLF).
    kAppend,     // Append `byte` to the field (for an escaped quote, the one '"').
    kEndField,   // A comma: the field ends.
    kEndRow,     // A line break outside quotes: the row (and its last field) ends.
    kStrayByte,  // A byte after a closing quote that is not a comma or line break: malformed, but
                 // appended (as kAppend) so that the row can still be reported.
  };
  struct Result {
    Step step = Step::kNothing;
    char byte = 0;
  };

  Result Next(char c) {
    if (c == '\r' || c == '\n') {
      const bool lf_after_cr = c == '\n' && last_was_cr_;
      last_was_cr_ = c == '\r';
      if (!lf_after_cr) ++line_;
      if (state_ == State::kQuoted) return {Step::kAppend, c};
      if (lf_after_cr) return {};
      state_ = State::kFieldStart;
      return {Step::kEndRow, c};
    }
    last_was_cr_ = false;
    switch (state_) {
      case State::kFieldStart:
        if (c == '"') {
          state_ = State::kQuoted;
          return {};
        }
        if (c == ',') return {Step::kEndField, c};
        state_ = State::kUnquoted;
        return {Step::kAppend, c};
      case State::kUnquoted:
        if (c == ',') {
          state_ = State::kFieldStart;
          return {Step::kEndField, c};
        }
        return {Step::kAppend, c};
      case State::kQuoted:
        if (c == '"') {
          state_ = State::kQuoteInQuoted;
          return {};
        }
        return {Step::kAppend, c};
      case State::kQuoteInQuoted:
        if (c == '"') {
          state_ = State::kQuoted;
          return {Step::kAppend, '"'};
        }
        if (c == ',') {
          state_ = State::kFieldStart;
          return {Step::kEndField, c};
        }
        state_ = State::kUnquoted;
        return {Step::kStrayByte, c};
    }
    return {};
  }

  // Inside a quoted field (at the end of the file: a quote never closed).
  bool in_quoted_field() const { return state_ == State::kQuoted; }
  // The line being read, 1-based; a line break inside quotes counts.
  size_t line() const { return line_; }
  // Whether `c` is a line break (bytes that do not start a row).
  static bool IsLineBreak(char c) { return c == '\r' || c == '\n'; }

 private:
  enum class State { kFieldStart, kUnquoted, kQuoted, kQuoteInQuoted };
  State state_ = State::kFieldStart;
  bool last_was_cr_ = false;
  size_t line_ = 1;
};

}  // namespace tessera::connectors
