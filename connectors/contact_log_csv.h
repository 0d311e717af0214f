#pragma once

// The contact-log CSV connector: call and chat logs exported by any CTI or contact-centre system,
// one contact (a call, a chat, an email, ...) per row, become track events that the resolver's
// service history reads (resolve/service_recorder.cc relies on the names and properties below).
// It reads CSV exactly as the POS CSV connector does (connectors/csv_rows.h: RFC 4180, a header
// row naming the columns, a UTF-8 byte order mark skipped, line numbers, max_row_bytes) and
// shares its timestamp formats (connectors/csv_timestamps.h).
//
// Each good row is one track event:
//   message_id   "contact-log-<system>-<contact_id>": re-importing a file gives the same ids, so the
//                pipeline's dedup window drops the repeats.
//   event        by contact type and outcome:
//                  call   completed "Call Completed"; missed "Call Missed" when inbound or the
//                         direction is unknown, "Call Not Connected" when outbound; not connected
//                         "Call Not Connected";
//                  chat   "Chat Completed"; missed or not connected "Chat Missed";
//                  other  (email, sms, other) "Contact Completed" / "Contact Missed".
//   properties   provider (the system), contact_id, contact_type (call/chat/email/sms/other),
//                direction (inbound/outbound), duration_seconds (a number), queue, agent, reason,
//                outcome (completed/missed/not_connected, or an unknown word lower-cased, which
//                counts as completed), satisfaction ("good"/"bad") with csat (1/0), transcript,
//                notes, and every unmapped column under its header name, as a string; a member
//                whose cell is empty is omitted (contact_type and outcome always have a value).
//   context      traits {phone, email, name (the customer_name column)}.
//   userId       the user_id column.
//   timestamp    from started_at (original_timestamp too); received_at from the caller.
//
// Cells:
//   type          call, chat, email, sms or other, any case; empty or unmapped: default_type.
//   direction     inbound/in/incoming or outbound/out/outgoing, any case.
//   duration      whole seconds ("95"), or H:MM:SS / MM:SS ("1:02:03", "01:35").
//   outcome       completed/answered/handled/resolved -> completed;
//                 missed/abandoned/no-answer/no_answer/unanswered/voicemail -> missed;
//                 busy/failed/canceled/cancelled/rejected -> not_connected; empty -> completed.
//   satisfaction  a word the helpdesk connectors know ("good", "satisfied", "bad", "unhappy", ...),
//                 or a number: on the "1-5" scale 4 and 5 are good, 0 to 3 bad; on the "0-1"
//                 scale 1 is good and 0 bad (ContactLogMapping::satisfaction_scale).
//
// A bad row is a RejectedEvent with its line, and the other rows go on:
//   invalid_csv        the row has a different number of columns than the header, or bad quoting;
//   missing_field      no contact id (field: the contact_id column's header name);
//   invalid_value      a type, direction, duration or satisfaction that cannot be read (field:
//                      that column);
//   invalid_timestamp  a started_at that does not match the format (field: the started_at column);
//   missing_identity   the phone, email and user_id cells are all empty.
// A header that lacks a mapped column (or has it twice) is a request_error naming the column, set
// before any row is read; no row is translated then.

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "connectors/csv_rows.h"  // csv_error::kInvalidCsv
#include "ingest/event.h"
#include "ingest/segment_parser.h"

namespace tessera::connectors {

// Which header column holds what. Columns left empty are not mapped; at least one of phone,
// email and user_id must be mapped.
struct ContactLogMapping {
  std::string contact_id = "contact_id";  // Required: the contact's id in the system; part of the message id.
  std::string started_at = "started_at";  // Required: when the contact began.
  std::string type;                       // -> properties.contact_type; empty cell: default_type.
  std::string direction;                  // -> properties.direction.
  std::string duration;                   // -> properties.duration_seconds.
  std::string phone;                      // -> context.traits.phone.
  std::string email;                      // -> context.traits.email.
  std::string user_id;                    // -> userId.
  std::string customer_name;              // -> context.traits.name.
  std::string agent;                      // -> properties.agent.
  std::string queue;                      // -> properties.queue.
  std::string reason;                     // -> properties.reason.
  std::string outcome;                    // -> properties.outcome and the event name.
  std::string satisfaction;               // -> properties.satisfaction and .csat.
  std::string transcript;                 // -> properties.transcript.
  std::string notes;                      // -> properties.notes.
  // "iso8601" or a strftime-like pattern (connectors/csv_timestamps.h), as for POS CSV.
  std::string timestamp_format = "iso8601";
  // The zone of timestamps that carry no offset: "Z", "+HH:MM", or an IANA name.
  std::string timezone = "Z";
  std::string default_type = "call";  // The type of rows without one: call, chat, email, sms or other.
  // The exporting system: properties.provider and part of the message id (1 to 64 of a-z, A-Z,
  // 0-9, '_', '-', '.'), so that two systems' contact ids never collide.
  std::string system = "contact_log";
  // How numbers in the satisfaction column read: "1-5" (4 and 5 good; 0 to 3 bad) or "0-1"
  // (1 good, 0 bad; for thumbs-up/down exports, where 1 is not the worst rating).
  std::string satisfaction_scale = "1-5";
  bool unmapped_columns_as_properties = true;  // Keep the other columns as string properties.
  size_t max_row_bytes = 1 << 20;  // A longer row is rejected (invalid_csv), not buffered further.
};

// Translates a contact-log CSV fed in chunks of any size (a chunk may end anywhere), with the
// interface of CsvImporter (connectors/pos_csv.h):
//   auto importer = ContactLogImporter::Create(mapping, received_at);  // InvalidArgument: bad mapping
//   while (read chunk) { importer->Feed(chunk, out); hand out.events on; clear out; }
//   importer->Finish(out);
// Results are appended to `out`: events with index_of = line numbers, rejected rows, and
// event_count += rows seen. out.request_error is set once the header is found unusable; later
// input is then ignored.
//
// Thread-safety: one importer per file; not thread-safe.
class ContactLogImporter {
 public:
  // Checks the mapping (contact_id and started_at named, an identifier column mapped, the
  // timestamp format, timezone, default_type, system and satisfaction_scale readable);
  // InvalidArgument naming the problem otherwise.
  static absl::StatusOr<ContactLogImporter> Create(ContactLogMapping mapping, ingest::Timestamp received_at);

  ContactLogImporter(ContactLogImporter&&) noexcept;
  ContactLogImporter& operator=(ContactLogImporter&&) noexcept;
  ~ContactLogImporter();

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
  explicit ContactLogImporter(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// The whole file at once: Create, Feed, Finish. With a request_error, no events or rejected rows.
absl::StatusOr<ingest::ParsedRequest> TranslateContactLogCsv(std::string_view csv,
                                                             const ContactLogMapping& mapping,
                                                             ingest::Timestamp received_at);

}  // namespace tessera::connectors
