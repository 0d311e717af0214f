#include "connectors/pos_csv.h"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/json_writer.h"
#include "base/time.h"
#include "base/time_zone.h"
#include "connectors/csv_tokenizer.h"
#include "connectors/internal/text.h"

namespace tessera::connectors {
namespace {

using base::JsonWriter;
using base::TimeZone;
using ingest::FieldError;

constexpr std::string_view kBom = "\xEF\xBB\xBF";

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

char AsciiLower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

std::string_view Trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

// Reads exactly `min`..`max` digits at `pos`.
std::optional<int> ReadDigits(std::string_view text, size_t& pos, size_t min, size_t max) {
  size_t count = 0;
  int value = 0;
  while (pos + count < text.size() && count < max && IsDigit(text[pos + count])) {
    value = value * 10 + (text[pos + count] - '0');
    ++count;
  }
  if (count < min) return std::nullopt;
  pos += count;
  return value;
}

constexpr std::string_view kMonthAbbreviations[] = {"jan", "feb", "mar", "apr", "may", "jun",
                                                    "jul", "aug", "sep", "oct", "nov", "dec"};

// A strftime-like pattern, expanded (%F, %T) and checked once.
struct TimestampPattern {
  std::string pattern;  // Only single-letter directives and literals remain.
};

absl::StatusOr<TimestampPattern> CompileTimestampPattern(std::string_view format) {
  TimestampPattern compiled;
  bool has_year = false, has_month = false, has_day = false, has_hour12 = false, has_ampm = false;
  for (size_t i = 0; i < format.size(); ++i) {
    if (format[i] != '%') {
      compiled.pattern.push_back(format[i]);
      continue;
    }
    if (i + 1 >= format.size()) {
      return absl::InvalidArgumentError("mapping.timestamp_format: a lone '%' at the end of \"" +
                                        std::string(format) + "\"");
    }
    const char directive = format[++i];
    switch (directive) {
      case 'F':
        compiled.pattern.append("%Y-%m-%d");
        has_year = has_month = has_day = true;
        break;
      case 'T':
        compiled.pattern.append("%H:%M:%S");
        break;
      case 'Y':
        has_year = true;
        compiled.pattern.append("%Y");
        break;
      case 'm':
      case 'b':
        has_month = true;
        compiled.pattern.append({'%', directive});
        break;
      case 'd':
        has_day = true;
        compiled.pattern.append("%d");
        break;
      case 'I':
        has_hour12 = true;
        compiled.pattern.append("%I");
        break;
      case 'p':
        has_ampm = true;
        compiled.pattern.append("%p");
        break;
      case 'H':
      case 'M':
      case 'S':
      case 'f':
      case 'z':
      case '%':
        compiled.pattern.append({'%', directive});
        break;
      default:
        return absl::InvalidArgumentError(std::string("mapping.timestamp_format: unsupported directive %") +
                                          directive + " in \"" + std::string(format) +
                                          "\"; supported: %Y %m %d %H %I %M %S %f %p %b %z %F %T %%");
    }
  }
  if (!has_year || !has_month || !has_day) {
    return absl::InvalidArgumentError("mapping.timestamp_format: \"" + std::string(format) +
                                      "\" needs a year (%Y), a month (%m or %b) and a day (%d)");
  }
  if (has_hour12 != has_ampm) {
    return absl::InvalidArgumentError("mapping.timestamp_format: \"" + std::string(format) +
                                      "\": %I (12-hour clock) and %p (AM/PM) go together");
  }
  return compiled;
}

std::optional<ingest::Timestamp> ParseWithPattern(std::string_view text, const TimestampPattern& compiled,
                                                  const TimeZone& default_zone) {
  const std::string_view pattern = compiled.pattern;
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  int64_t micros = 0;
  bool pm = false, has_ampm = false;
  std::optional<std::chrono::minutes> offset;
  size_t pos = 0;
  for (size_t i = 0; i < pattern.size(); ++i) {
    if (pattern[i] != '%' || pattern[i + 1] == '%') {
      if (pattern[i] == '%') ++i;
      if (pos >= text.size() || text[pos] != pattern[i]) return std::nullopt;
      ++pos;
      continue;
    }
    const char directive = pattern[++i];
    std::optional<int> value;
    switch (directive) {
      case 'Y':
        value = ReadDigits(text, pos, 4, 4);
        year = value.value_or(0);
        break;
      case 'm':
        value = ReadDigits(text, pos, 1, 2);
        month = value.value_or(0);
        break;
      case 'd':
        value = ReadDigits(text, pos, 1, 2);
        day = value.value_or(0);
        break;
      case 'H':
      case 'I':
        value = ReadDigits(text, pos, 1, 2);
        hour = value.value_or(0);
        break;
      case 'M':
        value = ReadDigits(text, pos, 1, 2);
        minute = value.value_or(0);
        break;
      case 'S':
        value = ReadDigits(text, pos, 1, 2);
        second = value.value_or(0);
        break;
      case 'f': {
        const size_t start = pos;
        while (pos < text.size() && IsDigit(text[pos])) ++pos;
        if (pos == start) return std::nullopt;
        for (size_t k = 0; k < 6; ++k) micros = micros * 10 + (start + k < pos ? text[start + k] - '0' : 0);
        value = 0;
        break;
      }
      case 'p': {
        const std::string_view word = text.substr(pos, 2);
        if (word.size() == 2 && AsciiLower(word[1]) == 'm' &&
            (AsciiLower(word[0]) == 'a' || AsciiLower(word[0]) == 'p')) {
          pm = AsciiLower(word[0]) == 'p';
          has_ampm = true;
          pos += 2;
          value = 0;
        }
        break;
      }
      case 'b': {
        const std::string_view word = text.substr(pos, 3);
        for (int k = 0; k < 12 && word.size() == 3; ++k) {
          const std::string_view name = kMonthAbbreviations[k];
          if (AsciiLower(word[0]) == name[0] && AsciiLower(word[1]) == name[1] &&
              AsciiLower(word[2]) == name[2]) {
            month = k + 1;
            pos += 3;
            value = 0;
            break;
          }
        }
        break;
      }
      case 'z':
        offset = base::ReadFixedOffset(text, pos);
        if (offset) value = 0;
        break;
      default:
        return std::nullopt;
    }
    if (!value) return std::nullopt;
  }
  if (pos != text.size()) return std::nullopt;
  if (has_ampm) {
    if (hour < 1 || hour > 12) return std::nullopt;
    hour = hour % 12 + (pm ? 12 : 0);
  }
  if (hour > 23 || minute > 59 || second > 59) return std::nullopt;
  const std::chrono::year_month_day date{std::chrono::year(year),
                                         std::chrono::month(static_cast<unsigned>(month)),
                                         std::chrono::day(static_cast<unsigned>(day))};
  if (!date.ok()) return std::nullopt;
  const auto local = std::chrono::sys_days(date) + std::chrono::hours(hour) + std::chrono::minutes(minute) +
                     std::chrono::seconds(second) + std::chrono::microseconds(micros);
  if (offset) return ingest::Timestamp(local - *offset);
  return default_zone.ToUtc(ingest::Timestamp(local));
}

// ISO-8601 in a column: with an offset as written, without one in the configured offset.
std::optional<ingest::Timestamp> ParseIsoWithDefault(std::string_view text, const TimeZone& default_zone) {
  std::optional<ingest::Timestamp> parsed = base::ParseIso8601(text);
  if (!parsed) return std::nullopt;
  // The date part ("2024-03-01") holds the only '-' before the time; an offset comes after it.
  const bool has_offset = text.size() > 10 && (AsciiLower(text.back()) == 'z' ||
                                               text.find_first_of("+-", 10) != std::string_view::npos);
  if (has_offset) return parsed;
  return default_zone.ToUtc(*parsed);
}

FieldError MakeError(std::string_view code, std::string field, std::string message) {
  return FieldError{std::string(code), std::move(message), std::move(field)};
}

// The mapped roles, in the order they are checked against the header.
enum Role { kReceipt, kLoyalty, kPhone, kEmail, kAmount, kCurrency, kStore, kTime, kRoleCount };
constexpr std::string_view kRoleNames[kRoleCount] = {"receipt_id", "loyalty_card", "phone", "email",
                                                     "amount",     "currency",     "store", "timestamp"};
constexpr size_t kNotMapped = static_cast<size_t>(-1);

}  // namespace

struct CsvImporter::Impl {
  CsvMapping mapping;
  ingest::Timestamp received_at;
  std::string column_name[kRoleCount];  // Mapped header name per role; empty when not mapped.
  bool iso8601 = true;
  TimestampPattern pattern;
  TimeZone default_zone;  // Of timestamps written without an offset.

  // Header.
  bool header_done = false;
  bool failed = false;  // The header was unusable: input is ignored.
  std::vector<std::string> header;
  size_t column[kRoleCount];  // Index per role, kNotMapped when not mapped.
  std::vector<bool> mapped_column;

  // Tokenizer.
  bool bom_done = false;
  std::string bom_pending;
  CsvTokenizer tokenizer;
  std::vector<std::string> fields;
  std::string field;
  std::string row_error;
  size_t row_bytes = 0;
  bool row_started = false;
  size_t row_line = 1;
  size_t bytes_read = 0;

  void Process(std::string_view chunk, ingest::ParsedRequest& out) {
    for (const char c : chunk) {
      if (!row_started && !CsvTokenizer::IsLineBreak(c)) {
        row_started = true;
        row_line = tokenizer.line();
      }
      const CsvTokenizer::Result result = tokenizer.Next(c);
      switch (result.step) {
        case CsvTokenizer::Step::kNothing:
          break;
        case CsvTokenizer::Step::kAppend:
          Append(result.byte);
          break;
        case CsvTokenizer::Step::kEndField:
          EndSeparatedField();
          break;
        case CsvTokenizer::Step::kEndRow:
          EndRow(out);
          break;
        case CsvTokenizer::Step::kStrayByte:
          if (row_error.empty()) {
            row_error = "column " + std::to_string(fields.size() + 1) + ": a closing quote is followed by '" +
                        std::string(1, c) + "' instead of a comma";
          }
          Append(result.byte);
          break;
      }
    }
  }

  void Append(char c) {
    if (++row_bytes > mapping.max_row_bytes) {
      if (row_error.empty())
        row_error = "the row is longer than " + std::to_string(mapping.max_row_bytes) + " bytes";
      return;
    }
    field.push_back(c);
  }

  void EndField() {
    fields.push_back(std::move(field));
    field.clear();
  }

  // A comma ends a field. It counts towards max_row_bytes like the field's own bytes: otherwise a
  // row of commas alone would grow `fields` without bound (an empty string per comma).
  void EndSeparatedField() {
    if (++row_bytes > mapping.max_row_bytes) {
      if (row_error.empty())
        row_error = "the row is longer than " + std::to_string(mapping.max_row_bytes) + " bytes";
      field.clear();
      return;
    }
    EndField();
  }

  void EndRow(ingest::ParsedRequest& out) {
    if (row_started) {
      EndField();
      if (!failed) {
        if (header_done) {
          TranslateRow(out);
        } else {
          ReadHeader(out);
        }
      }
    }
    fields.clear();
    field.clear();
    row_error.clear();
    row_bytes = 0;
    row_started = false;
  }

  void ReadHeader(ingest::ParsedRequest& out) {
    header_done = true;
    if (!row_error.empty()) {
      failed = true;
      out.request_error = MakeError(pos_csv_error::kInvalidCsv, "",
                                    "the header row (line " + std::to_string(row_line) + "): " + row_error);
      return;
    }
    header.reserve(fields.size());
    for (const std::string& name : fields) header.emplace_back(Trim(name));
    mapped_column.assign(header.size(), false);
    for (int role = 0; role < kRoleCount; ++role) {
      column[role] = kNotMapped;
      if (column_name[role].empty()) continue;
      for (size_t i = 0; i < header.size(); ++i) {
        if (header[i] != column_name[role]) continue;
        if (column[role] != kNotMapped) {
          failed = true;
          out.request_error =
              MakeError(ingest::error_code::kInvalidValue, column_name[role],
                        "the header has the column " + internal::QuoteForError(column_name[role]) +
                            " (mapped as " + std::string(kRoleNames[role]) + ") twice; expected it once");
          return;
        }
        column[role] = i;
        mapped_column[i] = true;
      }
      if (column[role] == kNotMapped) {
        std::string columns;
        for (const std::string& name : header) {
          if (!columns.empty()) columns.append(", ");
          columns.append(internal::QuoteForError(name));
        }
        failed = true;
        out.request_error =
            MakeError(ingest::error_code::kMissingField, column_name[role],
                      "the header has no column " + internal::QuoteForError(column_name[role]) +
                          " (mapped as " + std::string(kRoleNames[role]) + "); its columns are " + columns);
        return;
      }
    }
    // A repeated unmapped header name keeps its first column only: properties have unique keys.
    for (size_t i = 0; i < header.size(); ++i) {
      for (size_t j = 0; j < i && !mapped_column[i]; ++j) mapped_column[i] = header[j] == header[i];
    }
  }

  std::string_view Cell(Role role) const {
    return column[role] == kNotMapped ? std::string_view() : Trim(fields[column[role]]);
  }

  void Reject(ingest::ParsedRequest& out, std::string message_id, FieldError error) {
    out.rejected.push_back(ingest::RejectedEvent{row_line, std::move(message_id), std::move(error)});
  }

  void TranslateRow(ingest::ParsedRequest& out) {
    ++out.event_count;
    if (!row_error.empty()) return Reject(out, "", MakeError(pos_csv_error::kInvalidCsv, "", row_error));
    if (fields.size() != header.size()) {
      return Reject(out, "",
                    MakeError(pos_csv_error::kInvalidCsv, "",
                              "the row has " + std::to_string(fields.size()) + " columns; the header has " +
                                  std::to_string(header.size())));
    }
    const std::string_view receipt = Cell(kReceipt);
    if (receipt.empty()) {
      return Reject(out, "",
                    MakeError(ingest::error_code::kMissingField, column_name[kReceipt], "no receipt id"));
    }
    const std::string_view store = Cell(kStore);
    std::string message_id = "pos-receipt-";
    if (mapping.receipt_id_per_store) {
      if (store.empty()) {
        return Reject(
            out, "",
            MakeError(ingest::error_code::kMissingField, column_name[kStore],
                      "no store id; receipt ids are per store, so the store is part of the message id"));
      }
      message_id.append(store);
      message_id.push_back('-');
    }
    message_id.append(receipt);

    const std::string_view time_text = Cell(kTime);
    const std::optional<ingest::Timestamp> timestamp =
        iso8601 ? ParseIsoWithDefault(time_text, default_zone)
                : ParseWithPattern(time_text, pattern, default_zone);
    if (!timestamp) {
      return Reject(out, std::move(message_id),
                    MakeError(ingest::error_code::kInvalidTimestamp, column_name[kTime],
                              "expected a date-time in the format " +
                                  internal::QuoteForError(iso8601 ? std::string_view("iso8601")
                                                                  : mapping.timestamp_format) +
                                  ", got " + internal::QuoteForError(time_text)));
    }

    std::optional<double> amount;
    const std::string_view amount_text = Cell(kAmount);
    if (!amount_text.empty()) {
      amount = internal::ParseDecimal(amount_text, mapping.decimal_separator);
      if (!amount) {
        return Reject(
            out, std::move(message_id),
            MakeError(ingest::error_code::kInvalidValue, column_name[kAmount],
                      std::string("expected a decimal amount such as \"12") + mapping.decimal_separator +
                          "50\", got " + internal::QuoteForError(amount_text)));
      }
    }

    const std::string_view loyalty = Cell(kLoyalty), phone = Cell(kPhone), email = Cell(kEmail);
    if (loyalty.empty() && phone.empty() && email.empty()) {
      std::string columns;
      for (const Role role : {kLoyalty, kPhone, kEmail}) {
        if (column_name[role].empty()) continue;
        if (!columns.empty()) columns.append(", ");
        columns.append(internal::QuoteForError(column_name[role]));
      }
      return Reject(
          out, std::move(message_id),
          MakeError(ingest::error_code::kMissingIdentity, "",
                    "no identifier: the columns " + columns + " are all empty; expected at least one"));
    }

    std::string_view currency = Cell(kCurrency);
    if (currency.empty()) currency = mapping.default_currency;

    ingest::CanonicalEvent event;
    JsonWriter properties(event.properties);
    properties.BeginObject();
    properties.Key("order_id").String(receipt);
    if (amount) {
      properties.Key("revenue").Double(*amount);
      properties.Key("total").Double(*amount);
    }
    if (!currency.empty()) properties.Key("currency").String(currency);
    if (!store.empty()) properties.Key("store_id").String(store);
    if (mapping.unmapped_columns_as_properties) {
      for (size_t i = 0; i < header.size(); ++i) {
        if (mapped_column[i] || header[i].empty() || IsWrittenProperty(header[i])) continue;
        properties.Key(header[i]).String(fields[i]);
      }
    }
    properties.EndObject();

    JsonWriter context(event.context);
    context.BeginObject();
    if (!loyalty.empty()) {
      context.Key("externalIds").BeginArray().BeginObject();
      context.Key("id").String(loyalty).Key("type").String("loyalty_id");
      context.Key("collection").String("users").Key("encoding").String("none");
      context.EndObject().EndArray();
    }
    if (!phone.empty() || !email.empty()) {
      context.Key("traits").BeginObject();
      if (!phone.empty()) context.Key("phone").String(phone);
      if (!email.empty()) context.Key("email").String(email);
      context.EndObject();
    }
    context.EndObject();

    event.message_id = std::move(message_id);
    event.type = ingest::EventType::kTrack;
    event.event = mapping.event_name;
    event.timestamp = *timestamp;
    event.original_timestamp = *timestamp;
    event.received_at = received_at;
    out.events.push_back(std::move(event));
    out.index_of.push_back(row_line);
  }

  // Unmapped columns never overwrite the properties the mapping writes.
  static bool IsWrittenProperty(std::string_view name) {
    return name == "order_id" || name == "revenue" || name == "total" || name == "currency" ||
           name == "store_id";
  }
};

CsvImporter::CsvImporter(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
CsvImporter::CsvImporter(CsvImporter&&) noexcept = default;
CsvImporter& CsvImporter::operator=(CsvImporter&&) noexcept = default;
CsvImporter::~CsvImporter() = default;

absl::StatusOr<CsvImporter> CsvImporter::Create(CsvMapping mapping, ingest::Timestamp received_at) {
  auto impl = std::make_unique<Impl>();
  const std::string* names[kRoleCount] = {&mapping.receipt_id, &mapping.loyalty_card, &mapping.phone,
                                          &mapping.email,      &mapping.amount,       &mapping.currency,
                                          &mapping.store,      &mapping.timestamp};
  for (int role = 0; role < kRoleCount; ++role) impl->column_name[role] = std::string(Trim(*names[role]));
  if (impl->column_name[kReceipt].empty()) {
    return absl::InvalidArgumentError("mapping.receipt_id: name the column that holds the receipt id");
  }
  if (impl->column_name[kTime].empty()) {
    return absl::InvalidArgumentError("mapping.timestamp: name the column that holds the time of the sale");
  }
  if (impl->column_name[kLoyalty].empty() && impl->column_name[kPhone].empty() &&
      impl->column_name[kEmail].empty()) {
    return absl::InvalidArgumentError(
        "mapping: map at least one identifier column (loyalty_card, phone or email); without one no row can "
        "be "
        "attributed to a person");
  }
  if (mapping.receipt_id_per_store && impl->column_name[kStore].empty()) {
    return absl::InvalidArgumentError("mapping.receipt_id_per_store needs mapping.store");
  }
  if (mapping.event_name.empty()) return absl::InvalidArgumentError("mapping.event_name: must not be empty");
  if (mapping.decimal_separator != '.' && mapping.decimal_separator != ',') {
    return absl::InvalidArgumentError("mapping.decimal_separator: expected '.' or ','");
  }
  if (mapping.max_row_bytes == 0)
    return absl::InvalidArgumentError("mapping.max_row_bytes: must be positive");
  impl->iso8601 = mapping.timestamp_format == "iso8601";
  if (!impl->iso8601) {
    absl::StatusOr<TimestampPattern> pattern = CompileTimestampPattern(mapping.timestamp_format);
    if (!pattern.ok()) return pattern.status();
    impl->pattern = *std::move(pattern);
  }
  std::optional<TimeZone> zone = TimeZone::Parse(mapping.timezone);
  if (!zone) {
    return absl::InvalidArgumentError(
        "mapping.timezone: " + internal::QuoteForError(mapping.timezone) +
        " is neither an offset (\"Z\", \"UTC\", \"+HH:MM\", \"-HHMM\") nor a known "
        "IANA time zone such as \"Europe/Berlin\"");
  }
  impl->default_zone = *std::move(zone);
  impl->received_at = received_at;
  impl->mapping = std::move(mapping);
  return CsvImporter(std::move(impl));
}

void CsvImporter::Feed(std::string_view chunk, ingest::ParsedRequest& out) {
  Impl& impl = *impl_;
  impl.bytes_read += chunk.size();
  if (impl.failed) return;
  if (!impl.bom_done) {
    // The BOM may arrive split across chunks: hold back a prefix of it until it is decided.
    const size_t take = std::min(kBom.size() - impl.bom_pending.size(), chunk.size());
    impl.bom_pending.append(chunk.substr(0, take));
    chunk.remove_prefix(take);
    if (impl.bom_pending.size() < kBom.size() && kBom.starts_with(impl.bom_pending)) return;
    impl.bom_done = true;
    std::string pending = std::move(impl.bom_pending);
    impl.bom_pending.clear();
    if (pending == kBom) pending.clear();
    impl.Process(pending, out);
  }
  impl.Process(chunk, out);
}

void CsvImporter::Finish(ingest::ParsedRequest& out) {
  Impl& impl = *impl_;
  if (!impl.bom_done) {
    impl.bom_done = true;
    if (impl.bom_pending != kBom) impl.Process(impl.bom_pending, out);
  }
  if (impl.tokenizer.in_quoted_field() && impl.row_error.empty()) {
    impl.row_error = "column " + std::to_string(impl.fields.size() + 1) + ": a quoted field is never closed";
  }
  impl.EndRow(out);
  if (!impl.header_done && !impl.failed) {
    impl.failed = true;
    out.request_error = MakeError(
        pos_csv_error::kInvalidCsv, "",
        "the file has no header row; expected one naming the columns, e.g. " +
            internal::QuoteForError(impl.column_name[kReceipt] + "," + impl.column_name[kTime] + ",..."));
  }
}

size_t CsvImporter::bytes_read() const { return impl_->bytes_read; }
size_t CsvImporter::line() const { return impl_->tokenizer.line(); }

absl::StatusOr<ingest::ParsedRequest> TranslatePosCsv(std::string_view csv, const CsvMapping& mapping,
                                                      ingest::Timestamp received_at) {
  absl::StatusOr<CsvImporter> importer = CsvImporter::Create(mapping, received_at);
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
