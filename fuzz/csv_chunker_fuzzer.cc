// Fuzzes the cutting of CSV files into pieces for `tessera import` through a server
// (tools/csv_chunker.h) against the importer itself (connectors/pos_csv.h): translating the pieces
// one by one, as the server does, must give the events and rejected rows of translating the whole
// file, at the same file lines. The first byte sets the piece size (small, so that files are cut
// often) and the feeding size.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "connectors/pos_csv.h"
#include "fuzz/fuzz_checks.h"
#include "tools/csv_chunker.h"

namespace {

using tessera::connectors::CsvMapping;
using tessera::fuzz::Fail;
using tessera::ingest::ParsedRequest;

CsvMapping Mapping() {
  CsvMapping mapping;
  mapping.receipt_id = "receipt";
  mapping.email = "email";
  mapping.phone = "phone";
  mapping.timestamp = "sold_at";
  mapping.timestamp_format = "iso8601";
  mapping.unmapped_columns_as_properties = false;
  return mapping;
}

std::string Lines(const std::vector<size_t>& lines) {
  std::string text;
  for (size_t line : lines) text += std::to_string(line) + " ";
  return text;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  static const CsvMapping mapping = Mapping();
  const size_t max_piece = 16 + data[0] % 64;
  const size_t feed = 1 + data[0] % 7;
  const std::string_view file(reinterpret_cast<const char*>(data) + 1, size - 1);
  const tessera::ingest::Timestamp received_at(std::chrono::seconds(1'717'200'000));

  absl::StatusOr<ParsedRequest> whole = tessera::connectors::TranslatePosCsv(file, mapping, received_at);
  if (!whole.ok()) Fail("mapping refused", whole.status().ToString());

  tessera::tools::CsvChunker chunker(max_piece);
  std::vector<tessera::tools::CsvPiece> pieces;
  for (size_t at = 0; at < file.size(); at += feed) chunker.Feed(file.substr(at, feed), pieces);
  chunker.Finish(pieces);

  std::vector<std::string> ids;
  std::vector<size_t> lines;
  std::vector<size_t> rejected_lines;
  size_t rows = 0;
  for (const tessera::tools::CsvPiece& piece : pieces) {
    absl::StatusOr<ParsedRequest> part =
        tessera::connectors::TranslatePosCsv(piece.text, mapping, received_at);
    if (!part.ok()) Fail("mapping refused", part.status().ToString());
    if (part->request_error) {
      // The whole file must have failed on the same header.
      if (!whole->request_error)
        Fail("a piece failed on its header but the file did not", part->request_error->message);
      return 0;
    }
    if (part->event_count != piece.rows) Fail("a piece's row count differs from the importer's", piece.text);
    rows += part->event_count;
    for (size_t i = 0; i < part->events.size(); ++i) {
      ids.push_back(part->events[i].message_id);
      lines.push_back(piece.FileLine(part->index_of[i]));
    }
    for (const auto& row : part->rejected) rejected_lines.push_back(piece.FileLine(row.index));
  }
  if (whole->request_error) {
    if (!pieces.empty()) Fail("the file failed on its header but the pieces did not");
    return 0;
  }
  if (rows != whole->event_count) Fail("the pieces have another number of rows than the file");
  std::vector<std::string> whole_ids;
  for (const auto& event : whole->events) whole_ids.push_back(event.message_id);
  if (ids != whole_ids) Fail("the pieces' events differ from the file's");
  if (lines != whole->index_of) {
    Fail("the pieces' event lines differ from the file's", Lines(lines) + " vs " + Lines(whole->index_of));
  }
  std::vector<size_t> whole_rejected;
  for (const auto& row : whole->rejected) whole_rejected.push_back(row.index);
  if (rejected_lines != whole_rejected)
    Fail("the pieces' rejected lines differ from the file's",
         Lines(rejected_lines) + " vs " + Lines(whole_rejected));
  return 0;
}
