// Fuzzes the contact-log CSV connector with three column mappings (ISO-8601 with the 1-5
// satisfaction scale, a strftime-like format in an IANA zone with the 0-1 scale, and a narrow
// mapping with a small row limit), all naming the same header columns so that one corpus serves
// them all. Each input is translated whole (TranslateContactLogCsv) and fed to a
// ContactLogImporter in chunks of varying size: the two must agree, since the importer promises
// that a chunk may end anywhere (inside a field, a quoted line break, a CRLF, a UTF-8 sequence).

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "connectors/contact_log_csv.h"
#include "fuzz/fuzz_checks.h"

namespace {

using tessera::connectors::ContactLogImporter;
using tessera::connectors::ContactLogMapping;
using tessera::fuzz::Fail;
using tessera::ingest::ParsedRequest;

ContactLogMapping BaseMapping() {
  ContactLogMapping mapping;
  mapping.contact_id = "id";
  mapping.started_at = "start";
  mapping.type = "type";
  mapping.direction = "dir";
  mapping.duration = "duration";
  mapping.phone = "phone";
  mapping.email = "email";
  mapping.user_id = "user";
  mapping.customer_name = "name";
  mapping.agent = "agent";
  mapping.queue = "queue";
  mapping.reason = "reason";
  mapping.outcome = "outcome";
  mapping.satisfaction = "csat";
  mapping.transcript = "transcript";
  mapping.notes = "notes";
  return mapping;
}

std::array<ContactLogMapping, 3> Mappings() {
  std::array<ContactLogMapping, 3> mappings = {BaseMapping(), BaseMapping(), BaseMapping()};
  mappings[0].system = "cti";
  mappings[1].timestamp_format = "%d/%m/%Y %I:%M:%S %p %z";
  mappings[1].timezone = "Asia/Seoul";
  mappings[1].satisfaction_scale = "0-1";
  mappings[1].default_type = "chat";
  ContactLogMapping narrow;  // Most columns unmapped: they become properties.
  narrow.contact_id = "id";
  narrow.started_at = "start";
  narrow.user_id = "user";
  narrow.max_row_bytes = 256;  // Small, so that the fuzzer reaches the row limit.
  mappings[2] = narrow;
  return mappings;
}

void CheckSame(const ParsedRequest& whole, const ParsedRequest& streamed) {
  if (whole.request_error.has_value() != streamed.request_error.has_value())
    Fail("request_error differs when streamed");
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
    if (a.message_id != b.message_id || a.event != b.event || a.user_id != b.user_id ||
        a.properties != b.properties || a.context != b.context || a.timestamp != b.timestamp) {
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
  static const std::array<ContactLogMapping, 3> mappings = Mappings();
  const std::string_view csv(reinterpret_cast<const char*>(data), size);
  const tessera::ingest::Timestamp received_at(std::chrono::seconds(1'717'200'000));
  for (const ContactLogMapping& mapping : mappings) {
    absl::StatusOr<ParsedRequest> whole =
        tessera::connectors::TranslateContactLogCsv(csv, mapping, received_at);
    if (!whole.ok()) Fail("mapping refused", whole.status().ToString());
    tessera::fuzz::CheckParsedRequest(*whole);
    for (const auto& event : whole->events) {
      if (!event.message_id.starts_with("contact-log-"))
        Fail("message id without its prefix", event.message_id);
    }

    absl::StatusOr<ContactLogImporter> importer = ContactLogImporter::Create(mapping, received_at);
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
