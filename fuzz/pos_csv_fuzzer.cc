// Fuzzes the POS CSV connector with three column mappings (a strftime-like format with a fixed
// offset, the same with a decimal comma and an IANA zone, ISO-8601), all naming the same header
// columns so that one corpus serves them all. Each input is translated whole (TranslatePosCsv) and
// fed to a CsvImporter in chunks of varying size: the two must agree, since CsvImporter promises
// that a chunk may end anywhere (inside a field, a quoted line break, a CRLF, a UTF-8 sequence).

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "connectors/pos_csv.h"
#include "fuzz/fuzz_checks.h"

namespace {

using tessera::connectors::CsvImporter;
using tessera::connectors::CsvMapping;
using tessera::ingest::ParsedRequest;
using tessera::fuzz::Fail;

CsvMapping BaseMapping() {
  CsvMapping mapping;
  mapping.receipt_id = "receipt";
  mapping.loyalty_card = "card";
  mapping.phone = "phone";
  mapping.email = "email";
  mapping.amount = "amount";
  mapping.currency = "currency";
  mapping.default_currency = "EUR";
  mapping.store = "store";
  mapping.timestamp = "sold_at";
  return mapping;
}

std::array<CsvMapping, 3> Mappings() {
  std::array<CsvMapping, 3> mappings = {BaseMapping(), BaseMapping(), BaseMapping()};
  mappings[0].timestamp_format = "%Y-%m-%d %H:%M:%S";
  mappings[0].timezone = "+02:00";
  mappings[1].timestamp_format = "%d/%m/%Y %I:%M:%S.%f %p %z";
  mappings[1].timezone = "Europe/Berlin";
  mappings[1].decimal_separator = ',';
  mappings[1].receipt_id_per_store = true;
  mappings[2].timestamp_format = "iso8601";
  mappings[2].unmapped_columns_as_properties = false;
  mappings[2].max_row_bytes = 256;  // Small, so that the fuzzer reaches the row limit.
  return mappings;
}

void CheckSame(const ParsedRequest& whole, const ParsedRequest& streamed) {
  if (whole.request_error.has_value() != streamed.request_error.has_value()) Fail("request_error differs when streamed");
  if (whole.request_error && (whole.request_error->code != streamed.request_error->code ||
                              whole.request_error->field != streamed.request_error->field)) {
    Fail("request_error differs when streamed", whole.request_error->message);
  }
  if (whole.event_count != streamed.event_count) Fail("event_count differs when streamed");
  if (whole.index_of != streamed.index_of) Fail("index_of differs when streamed");
  if (whole.events.size() != streamed.events.size()) Fail("events differ when streamed");
  for (size_t i = 0; i < whole.events.size(); ++i) {
    const auto& a = whole.events[i];
    const auto& b = streamed.events[i];
    if (a.message_id != b.message_id || a.properties != b.properties || a.context != b.context ||
        a.timestamp != b.timestamp) {
      Fail("event differs when streamed", a.properties + " vs " + b.properties);
    }
  }
  if (whole.rejected.size() != streamed.rejected.size()) Fail("rejected rows differ when streamed");
  for (size_t i = 0; i < whole.rejected.size(); ++i) {
    const auto& a = whole.rejected[i];
    const auto& b = streamed.rejected[i];
    if (a.index != b.index || a.error.code != b.error.code || a.error.field != b.error.field) {
      Fail("rejected row differs when streamed", a.error.message + " vs " + b.error.message);
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::array<CsvMapping, 3> mappings = Mappings();
  const std::string_view csv(reinterpret_cast<const char*>(data), size);
  const tessera::ingest::Timestamp received_at(std::chrono::seconds(1'717'200'000));
  for (const CsvMapping& mapping : mappings) {
    absl::StatusOr<ParsedRequest> whole = tessera::connectors::TranslatePosCsv(csv, mapping, received_at);
    if (!whole.ok()) Fail("mapping refused", whole.status().ToString());
    tessera::fuzz::CheckParsedRequest(*whole);

    absl::StatusOr<CsvImporter> importer = CsvImporter::Create(mapping, received_at);
    if (!importer.ok()) Fail("mapping refused", importer.status().ToString());
    ParsedRequest streamed;
    // Chunk sizes of 1 to 16 bytes, chosen by the input itself so that a crash reproduces.
    size_t offset = 0;
    while (offset < csv.size()) {
      const size_t length = 1 + static_cast<uint8_t>(csv[offset]) % 16;
      importer->Feed(csv.substr(offset, length), streamed);
      offset += length;
    }
    importer->Finish(streamed);
    if (importer->bytes_read() != csv.size()) Fail("bytes_read differs from the bytes fed");
    CheckSame(*whole, streamed);
  }
  return 0;
}
