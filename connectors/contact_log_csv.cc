#include "connectors/contact_log_csv.h"

#include <charconv>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/json_writer.h"
#include "connectors/csv_rows.h"
#include "connectors/csv_timestamps.h"
#include "connectors/internal/satisfaction.h"
#include "connectors/internal/text.h"

namespace tessera::connectors {
namespace {

using base::JsonWriter;
using ingest::FieldError;

// The mapped roles, in the order they are checked against the header.
enum Role {
  kContactId,
  kStartedAt,
  kType,
  kDirection,
  kDuration,
  kPhone,
  kEmail,
  kUserId,
  kCustomerName,
  kAgent,
  kQueue,
  kReason,
  kOutcome,
  kSatisfaction,
  kTranscript,
  kNotes,
  kRoleCount
};
constexpr std::string_view kRoleNames[kRoleCount] = {
    "contact_id",    "started_at", "type",  "direction", "duration", "phone",        "email",      "user_id",
    "customer_name", "agent",      "queue", "reason",    "outcome",  "satisfaction", "transcript", "notes"};

constexpr std::string_view kTypes[] = {"call", "chat", "email", "sms", "other"};

// What happened to the contact, as the event name and properties.outcome say it.
enum class Outcome { kCompleted, kMissed, kNotConnected };

// The properties the translation writes: an unmapped column of the same name never overwrites one.
constexpr std::string_view kWrittenProperties[] = {
    "provider", "contact_id", "contact_type", "direction", "duration_seconds", "queue", "agent",
    "reason",   "outcome",    "satisfaction", "csat",      "transcript",       "notes"};

std::string Lower(std::string_view text) {
  std::string lowered(text);
  for (char& c : lowered) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return lowered;
}

std::optional<std::string_view> ReadType(std::string_view lowered) {
  for (const std::string_view type : kTypes) {
    if (lowered == type) return type;
  }
  return std::nullopt;
}

// An unknown word is kept (lower-cased) by the caller and counts as completed.
Outcome ClassifyOutcome(std::string_view lowered) {
  for (const std::string_view word :
       {"missed", "abandoned", "no-answer", "no_answer", "unanswered", "voicemail"}) {
    if (lowered == word) return Outcome::kMissed;
  }
  for (const std::string_view word : {"busy", "failed", "canceled", "cancelled", "rejected"}) {
    if (lowered == word) return Outcome::kNotConnected;
  }
  return Outcome::kCompleted;
}

std::string_view OutcomeName(Outcome outcome) {
  switch (outcome) {
    case Outcome::kCompleted:
      return "completed";
    case Outcome::kMissed:
      return "missed";
    case Outcome::kNotConnected:
      return "not_connected";
  }
  return "completed";
}

// The event name of a contact (see the header for the table).
std::string_view EventName(std::string_view type, std::string_view direction, Outcome outcome) {
  if (type == "call") {
    if (outcome == Outcome::kCompleted) return "Call Completed";
    if (outcome == Outcome::kMissed && direction != "outbound") return "Call Missed";
    return "Call Not Connected";
  }
  if (type == "chat") return outcome == Outcome::kCompleted ? "Chat Completed" : "Chat Missed";
  return outcome == Outcome::kCompleted ? "Contact Completed" : "Contact Missed";
}

// Longest duration accepted: a hundred years in seconds, far beyond any contact, and far from
// overflowing int64 when minutes and hours are multiplied out.
constexpr int64_t kMaxDurationSeconds = int64_t{100} * 366 * 24 * 3600;

// Whole seconds ("95"), or H:MM:SS / MM:SS ("1:02:03", "01:35"): the first part has any number of
// digits, the later ones exactly two, below 60.
std::optional<int64_t> ParseDuration(std::string_view text) {
  int64_t total = 0;
  size_t parts = 0;
  while (true) {
    const size_t colon = text.find(':');
    const std::string_view part = text.substr(0, colon);
    if (part.empty() || part.size() > 12) return std::nullopt;
    int64_t value = 0;
    const auto [end, error] = std::from_chars(part.data(), part.data() + part.size(), value);
    if (error != std::errc() || end != part.data() + part.size() || value < 0 || part.front() == '+') {
      return std::nullopt;
    }
    if (parts > 0 && (part.size() != 2 || value >= 60)) return std::nullopt;
    total = total * 60 + value;
    if (total > kMaxDurationSeconds) return std::nullopt;
    ++parts;
    if (colon == std::string_view::npos) break;
    text.remove_prefix(colon + 1);
  }
  return parts <= 3 ? std::optional<int64_t>(total) : std::nullopt;
}

// "good" / "bad" for a satisfaction cell, or empty when it cannot be read.
std::string_view ClassifySatisfaction(std::string_view lowered, bool binary_scale) {
  if (const std::string_view word = internal::SatisfactionFromWord(lowered); !word.empty()) return word;
  if (lowered.size() != 1 || lowered[0] < '0' || lowered[0] > '5') return {};
  const int score = lowered[0] - '0';
  if (binary_scale) {
    if (score > 1) return {};
    return score == 1 ? "good" : "bad";
  }
  return score >= 4 ? "good" : "bad";
}

bool IsSystemName(std::string_view system) {
  if (system.empty() || system.size() > 64) return false;
  for (const char c : system) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
                    c == '-' || c == '.';
    if (!ok) return false;
  }
  return true;
}

}  // namespace

struct ContactLogImporter::Impl {
  ContactLogMapping mapping;
  ingest::Timestamp received_at;
  std::string column_name[kRoleCount];  // Mapped header name per role; empty when not mapped.
  std::string default_type;             // Lower-cased, one of kTypes.
  bool binary_satisfaction = false;     // satisfaction_scale "0-1".
  std::optional<CsvTimestampFormat> time_format;
  std::optional<CsvRowReader> reader;  // Set by Create, once this Impl has its final address.

  std::string_view Cell(const CsvRow& row, Role role) const { return reader->Cell(row, role); }

  void Reject(const CsvRow& row, ingest::ParsedRequest& out, std::string message_id, FieldError error) {
    out.rejected.push_back(ingest::RejectedEvent{row.line, std::move(message_id), std::move(error)});
  }

  FieldError InvalidValue(Role role, std::string_view expected, std::string_view got) const {
    return MakeCsvError(ingest::error_code::kInvalidValue, column_name[role],
                        "expected " + std::string(expected) + ", got " + internal::QuoteForError(got));
  }

  // A well-formed row (CsvRowReader counted it and checked its columns) becomes an event or a
  // rejected row.
  void TranslateRow(const CsvRow& row, ingest::ParsedRequest& out) {
    const std::string_view contact_id = Cell(row, kContactId);
    if (contact_id.empty()) {
      return Reject(
          row, out, "",
          MakeCsvError(ingest::error_code::kMissingField, column_name[kContactId], "no contact id"));
    }
    std::string message_id = "contact-log-" + mapping.system + "-" + std::string(contact_id);

    const std::string_view time_text = Cell(row, kStartedAt);
    const std::optional<ingest::Timestamp> timestamp = time_format->Parse(time_text);
    if (!timestamp) {
      return Reject(row, out, std::move(message_id),
                    MakeCsvError(ingest::error_code::kInvalidTimestamp, column_name[kStartedAt],
                                 "expected a date-time in the format " +
                                     internal::QuoteForError(time_format->format()) + ", got " +
                                     internal::QuoteForError(time_text)));
    }

    const std::string_view type_text = Cell(row, kType);
    std::string_view type = default_type;
    if (!type_text.empty()) {
      const std::optional<std::string_view> known = ReadType(Lower(type_text));
      if (!known) {
        return Reject(row, out, std::move(message_id),
                      InvalidValue(kType, "a contact type (call, chat, email, sms or other)", type_text));
      }
      type = *known;
    }

    const std::string_view direction_text = Cell(row, kDirection);
    std::string_view direction;
    if (!direction_text.empty()) {
      const std::string lowered = Lower(direction_text);
      if (lowered == "inbound" || lowered == "in" || lowered == "incoming") {
        direction = "inbound";
      } else if (lowered == "outbound" || lowered == "out" || lowered == "outgoing") {
        direction = "outbound";
      } else {
        return Reject(row, out, std::move(message_id),
                      InvalidValue(kDirection, "a direction (inbound, outbound, in or out)", direction_text));
      }
    }

    const std::string_view duration_text = Cell(row, kDuration);
    std::optional<int64_t> duration;
    if (!duration_text.empty()) {
      duration = ParseDuration(duration_text);
      if (!duration) {
        return Reject(
            row, out, std::move(message_id),
            InvalidValue(kDuration, "a duration in seconds (\"95\") or as H:MM:SS or MM:SS", duration_text));
      }
    }

    const std::string_view satisfaction_text = Cell(row, kSatisfaction);
    std::string_view satisfaction;
    if (!satisfaction_text.empty()) {
      satisfaction = ClassifySatisfaction(Lower(satisfaction_text), binary_satisfaction);
      if (satisfaction.empty()) {
        return Reject(
            row, out, std::move(message_id),
            InvalidValue(kSatisfaction,
                         binary_satisfaction
                             ? "a rating: a word such as \"good\" or \"bad\", or 0 (bad) or 1 (good)"
                             : "a rating: a word such as \"good\" or \"bad\", or a score from 1 to 5",
                         satisfaction_text));
      }
    }

    const std::string_view phone = Cell(row, kPhone), email = Cell(row, kEmail), user_id = Cell(row, kUserId);
    if (phone.empty() && email.empty() && user_id.empty()) {
      std::string columns;
      for (const Role role : {kPhone, kEmail, kUserId}) {
        if (column_name[role].empty()) continue;
        if (!columns.empty()) columns.append(", ");
        columns.append(internal::QuoteForError(column_name[role]));
      }
      return Reject(
          row, out, std::move(message_id),
          MakeCsvError(ingest::error_code::kMissingIdentity, "",
                       "no identifier: the columns " + columns + " are all empty; expected at least one"));
    }

    const std::string outcome_word = Lower(Cell(row, kOutcome));
    const Outcome outcome = ClassifyOutcome(outcome_word);
    const bool known_outcome = outcome != Outcome::kCompleted || outcome_word.empty() ||
                               outcome_word == "completed" || outcome_word == "answered" ||
                               outcome_word == "handled" || outcome_word == "resolved";

    ingest::CanonicalEvent event;
    JsonWriter properties(event.properties);
    properties.BeginObject();
    properties.Key("provider").String(mapping.system);
    properties.Key("contact_id").String(contact_id);
    properties.Key("contact_type").String(type);
    if (!direction.empty()) properties.Key("direction").String(direction);
    if (duration) properties.Key("duration_seconds").Int(*duration);
    auto optional_text = [&](std::string_view key, Role role) {
      const std::string_view value = Cell(row, role);
      if (!value.empty()) properties.Key(key).String(value);
    };
    optional_text("queue", kQueue);
    optional_text("agent", kAgent);
    optional_text("reason", kReason);
    properties.Key("outcome").String(known_outcome ? OutcomeName(outcome) : std::string_view(outcome_word));
    if (!satisfaction.empty()) {
      properties.Key("satisfaction").String(satisfaction);
      properties.Key("csat").Int(satisfaction == "good" ? 1 : 0);
    }
    optional_text("transcript", kTranscript);
    optional_text("notes", kNotes);
    if (mapping.unmapped_columns_as_properties) {
      const std::vector<std::string>& header = reader->header();
      for (size_t i = 0; i < header.size(); ++i) {
        if (!reader->IsUnmappedColumn(i) || IsWrittenProperty(header[i])) continue;
        properties.Key(header[i]).String(row.fields[i]);
      }
    }
    properties.EndObject();

    const std::string_view name = Cell(row, kCustomerName);
    JsonWriter context(event.context);
    context.BeginObject();
    if (!phone.empty() || !email.empty() || !name.empty()) {
      context.Key("traits").BeginObject();
      if (!phone.empty()) context.Key("phone").String(phone);
      if (!email.empty()) context.Key("email").String(email);
      if (!name.empty()) context.Key("name").String(name);
      context.EndObject();
    }
    context.EndObject();

    event.message_id = std::move(message_id);
    event.type = ingest::EventType::kTrack;
    event.event = std::string(EventName(type, direction, outcome));
    event.user_id = std::string(user_id);
    event.timestamp = *timestamp;
    event.original_timestamp = *timestamp;
    event.received_at = received_at;
    out.events.push_back(std::move(event));
    out.index_of.push_back(row.line);
  }

  static bool IsWrittenProperty(std::string_view name) {
    for (const std::string_view written : kWrittenProperties) {
      if (name == written) return true;
    }
    return false;
  }
};

ContactLogImporter::ContactLogImporter(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ContactLogImporter::ContactLogImporter(ContactLogImporter&&) noexcept = default;
ContactLogImporter& ContactLogImporter::operator=(ContactLogImporter&&) noexcept = default;
ContactLogImporter::~ContactLogImporter() = default;

absl::StatusOr<ContactLogImporter> ContactLogImporter::Create(ContactLogMapping mapping,
                                                              ingest::Timestamp received_at) {
  auto impl = std::make_unique<Impl>();
  const std::string* names[kRoleCount] = {
      &mapping.contact_id,    &mapping.started_at,   &mapping.type,       &mapping.direction,
      &mapping.duration,      &mapping.phone,        &mapping.email,      &mapping.user_id,
      &mapping.customer_name, &mapping.agent,        &mapping.queue,      &mapping.reason,
      &mapping.outcome,       &mapping.satisfaction, &mapping.transcript, &mapping.notes};
  for (int role = 0; role < kRoleCount; ++role)
    impl->column_name[role] = std::string(TrimCsvCell(*names[role]));
  if (impl->column_name[kContactId].empty()) {
    return absl::InvalidArgumentError("mapping.contact_id: name the column that holds the contact's id");
  }
  if (impl->column_name[kStartedAt].empty()) {
    return absl::InvalidArgumentError(
        "mapping.started_at: name the column that holds when the contact began");
  }
  if (impl->column_name[kPhone].empty() && impl->column_name[kEmail].empty() &&
      impl->column_name[kUserId].empty()) {
    return absl::InvalidArgumentError(
        "mapping: map at least one identifier column (phone, email or user_id); without one no contact can "
        "be "
        "attributed to a person");
  }
  const std::optional<std::string_view> default_type = ReadType(Lower(mapping.default_type));
  if (!default_type) {
    return absl::InvalidArgumentError(
        "mapping.default_type: " + internal::QuoteForError(mapping.default_type) +
        " is not one of call, chat, email, sms, other");
  }
  impl->default_type = std::string(*default_type);
  if (!IsSystemName(mapping.system)) {
    return absl::InvalidArgumentError(
        "mapping.system: " + internal::QuoteForError(mapping.system) +
        " must be 1 to 64 letters, digits, '_', '-' or '.' (it is part of every "
        "message id)");
  }
  if (mapping.satisfaction_scale != "1-5" && mapping.satisfaction_scale != "0-1") {
    return absl::InvalidArgumentError(
        "mapping.satisfaction_scale: " + internal::QuoteForError(mapping.satisfaction_scale) +
        " is not \"1-5\" or \"0-1\"");
  }
  impl->binary_satisfaction = mapping.satisfaction_scale == "0-1";
  if (mapping.max_row_bytes == 0)
    return absl::InvalidArgumentError("mapping.max_row_bytes: must be positive");
  absl::StatusOr<CsvTimestampFormat> time_format =
      CsvTimestampFormat::Create(mapping.timestamp_format, mapping.timezone);
  if (!time_format.ok()) return time_format.status();
  impl->time_format = *std::move(time_format);
  impl->received_at = received_at;
  std::vector<CsvRole> roles;
  for (int role = 0; role < kRoleCount; ++role) roles.push_back({kRoleNames[role], impl->column_name[role]});
  Impl* translator = impl.get();
  impl->reader.emplace(
      std::move(roles), mapping.max_row_bytes,
      impl->column_name[kContactId] + "," + impl->column_name[kStartedAt] + ",...",
      [translator](const CsvRow& row, ingest::ParsedRequest& out) { translator->TranslateRow(row, out); });
  impl->mapping = std::move(mapping);
  return ContactLogImporter(std::move(impl));
}

void ContactLogImporter::Feed(std::string_view chunk, ingest::ParsedRequest& out) {
  impl_->reader->Feed(chunk, out);
}

void ContactLogImporter::Finish(ingest::ParsedRequest& out) { impl_->reader->Finish(out); }

size_t ContactLogImporter::bytes_read() const { return impl_->reader->bytes_read(); }
size_t ContactLogImporter::line() const { return impl_->reader->line(); }

absl::StatusOr<ingest::ParsedRequest> TranslateContactLogCsv(std::string_view csv,
                                                             const ContactLogMapping& mapping,
                                                             ingest::Timestamp received_at) {
  absl::StatusOr<ContactLogImporter> importer = ContactLogImporter::Create(mapping, received_at);
  if (!importer.ok()) return importer.status();
  ingest::ParsedRequest out;
  importer->Feed(csv, out);
  importer->Finish(out);
  if (out.request_error) {
    out.events.clear();
    out.index_of.clear();
    out.rejected.clear();
  }
  return out;
}

}  // namespace tessera::connectors
