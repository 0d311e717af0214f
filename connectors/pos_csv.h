#pragma once

// The POS CSV connector: legacy point-of-sale exports, one receipt per row, become track events
// ("Order Completed" by default). It follows the conventions of connectors/connector.h.
//
// The CSV is RFC 4180: a header row is required (the mapping names header columns), fields are
// separated by commas, a field in double quotes may hold commas, line breaks and doubled quotes
// (""), rows end in CRLF, LF or a lone CR, and a UTF-8 byte order mark at the very start is
// skipped. Lines that are empty (no character at all) are skipped anywhere. Header names are
// matched after trimming spaces and tabs; cell values used by the mapping are trimmed too.
//
// Each row:
//   message_id   "pos-receipt-<receipt_id>" (or "pos-receipt-<store>-<receipt_id>", see
//                CsvMapping::receipt_id_per_store): re-importing a file gives the same ids, so the
//                pipeline's dedup window drops the repeats.
//   properties   order_id (the receipt id), revenue and total (the amount, a number), currency,
//                store_id, and every unmapped column under its header name, as a string (see
//                CsvMapping::unmapped_columns_as_properties).
//   context      externalIds [{"id":<loyalty card>,"type":"loyalty_id","collection":"users",
//                "encoding":"none"}], traits {phone, email}.
//   timestamp    from the timestamp column (original_timestamp too); received_at from the caller.
//
// Line numbers: every row, good or bad, is identified by the 1-based line number of the file on
// which it starts (the header is usually line 1). ParsedRequest::index_of[i] is the line of
// events[i], and RejectedEvent::index is the line of the rejected row. A quoted field spanning
// lines makes the next row start further down; CRLF counts as one line break.
//
// A bad row is a RejectedEvent and the other rows go on:
//   invalid_csv        the row has a different number of columns than the header, a quoted field
//                      is never closed, or a closing quote is followed by something but a comma;
//   missing_field      no receipt id (field: the receipt column's header name);
//   invalid_value      an amount that is not a decimal number (field: the amount column);
//   invalid_timestamp  a timestamp that does not match the format (field: the timestamp column);
//   missing_identity   none of the loyalty card, phone and email cells has a value.
// A header that lacks a mapped column (or has it twice) is a request_error naming the column, set
// before any row is read; no row is translated then.
//
// Reading rows (BOM, quotes, line numbers, the header lookup) is connectors/csv_rows.h and the
// timestamp formats connectors/csv_timestamps.h, shared with the contact-log import.
//
// Time zones: timestamps without an offset are read in CsvMapping::timezone, a fixed offset ("Z",
// "UTC", "+02:00", "-0530") or an IANA name such as "Europe/Berlin" (ICU's time zone data, so
// daylight saving time applies); see connectors/csv_timestamps.h.

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "connectors/csv_rows.h"
#include "ingest/event.h"
#include "ingest/segment_parser.h"

namespace tessera::connectors {

namespace pos_csv_error {
// A row that is not valid CSV or does not have the header's number of columns.
inline constexpr std::string_view kInvalidCsv = csv_error::kInvalidCsv;
}  // namespace pos_csv_error

// Which header column holds what. Columns left empty are not mapped.
struct CsvMapping {
  std::string receipt_id =
      "receipt_id";              // Required: the receipt's id, unique per file (per store, see below).
  std::string loyalty_card;      // -> context.externalIds, type loyalty_id.
  std::string phone;             // -> context.traits.phone.
  std::string email;             // -> context.traits.email.
  std::string amount;            // -> properties.revenue and .total, a decimal number; empty cell: omitted.
  std::string currency;          // -> properties.currency; empty cell or unmapped: default_currency.
  std::string default_currency;  // ISO 4217 code used when there is no currency column or cell; may be empty.
  std::string store;             // -> properties.store_id.
  std::string timestamp = "timestamp";  // Required: when the sale happened.
  // "iso8601" (base::ParseIso8601), or a strftime-like pattern of %Y %m %d %H %I %M %S %f
  // (fraction) %p (AM/PM) %b (Jan..Dec) %z (offset or Z) %F (= %Y-%m-%d) %T (= %H:%M:%S) %% and
  // literal characters, e.g. "%Y-%m-%d %H:%M:%S" or "%m/%d/%Y %I:%M %p".
  std::string timestamp_format = "iso8601";
  // The zone of timestamps that carry no offset: "Z", "UTC", "+HH:MM" / "-HH:MM" / "+HHMM", or an
  // IANA name such as "Europe/Berlin" (ICU's time zone data; daylight saving time applies).
  std::string timezone = "Z";
  std::string event_name = "Order Completed";  // The track event's name.
  char decimal_separator = '.';                // ',' for exports that write "12,50" (quoted in the CSV).
  bool receipt_id_per_store = false;  // Receipt ids repeat across stores: message id includes the store.
  bool unmapped_columns_as_properties = true;  // Keep the other columns as string properties.
  size_t max_row_bytes = 1 << 20;  // A longer row is rejected (invalid_csv), not buffered further.
};

// Translates a CSV file fed in chunks of any size (a chunk may end inside a field, a quoted line
// break, a CRLF or a UTF-8 sequence), so that large files stream with bounded memory and an import
// can show progress. Usage:
//   auto importer = CsvImporter::Create(mapping, received_at);   // InvalidArgument: bad mapping
//   ingest::ParsedRequest out;
//   while (read chunk) { importer->Feed(chunk, out); hand out.events on; clear out; }
//   importer->Finish(out);
// Results are appended to `out`: events with index_of = line numbers, rejected rows, and
// event_count += rows seen. out.request_error is set once the header is found unusable; later
// input is then ignored.
//
// Thread-safety: one importer per file; not thread-safe.
class CsvImporter {
 public:
  // Checks the mapping (required columns named, timestamp format and timezone readable, an
  // identifier column mapped); InvalidArgument naming the problem otherwise.
  static absl::StatusOr<CsvImporter> Create(CsvMapping mapping, ingest::Timestamp received_at);

  CsvImporter(CsvImporter&&) noexcept;
  CsvImporter& operator=(CsvImporter&&) noexcept;
  ~CsvImporter();

  // Consumes the next bytes of the file; every row completed by them is translated into `out`.
  void Feed(std::string_view chunk, ingest::ParsedRequest& out);
  // Ends the file: a last row without a line break is translated; an unclosed quote rejects it.
  // A file without a header row sets out.request_error. Feed and Finish must not be called after.
  void Finish(ingest::ParsedRequest& out);

  // Progress: bytes consumed and the line being read (1-based).
  size_t bytes_read() const;
  size_t line() const;

 private:
  struct Impl;
  explicit CsvImporter(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// The whole file at once: Create, Feed, Finish.
absl::StatusOr<ingest::ParsedRequest> TranslatePosCsv(std::string_view csv, const CsvMapping& mapping,
                                                      ingest::Timestamp received_at);

}  // namespace tessera::connectors
