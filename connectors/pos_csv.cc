#include "connectors/pos_csv.h"

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/json_writer.h"
#include "connectors/csv_rows.h"
#include "connectors/csv_timestamps.h"
#include "connectors/internal/text.h"

namespace tessera::connectors {
namespace {

using base::JsonWriter;
using ingest::FieldError;

// The mapped roles, in the order they are checked against the header.
enum Role { kReceipt, kLoyalty, kPhone, kEmail, kAmount, kCurrency, kStore, kTime, kRoleCount };
constexpr std::string_view kRoleNames[kRoleCount] = {"receipt_id", "loyalty_card", "phone", "email",
                                                     "amount",     "currency",     "store", "timestamp"};

}  // namespace

struct CsvImporter::Impl {
  CsvMapping mapping;
  ingest::Timestamp received_at;
  std::string column_name[kRoleCount];  // Mapped header name per role; empty when not mapped.
  std::optional<CsvTimestampFormat> time_format;
  std::optional<CsvRowReader> reader;  // Set by Create, once this Impl has its final address.

  std::string_view Cell(const CsvRow& row, Role role) const { return reader->Cell(row, role); }

  void Reject(const CsvRow& row, ingest::ParsedRequest& out, std::string message_id, FieldError error) {
    out.rejected.push_back(ingest::RejectedEvent{row.line, std::move(message_id), std::move(error)});
  }

  // A well-formed row (CsvRowReader counted it and checked its columns) becomes an event or a
  // rejected row.
  void TranslateRow(const CsvRow& row, ingest::ParsedRequest& out) {
    const std::string_view receipt = Cell(row, kReceipt);
    if (receipt.empty()) {
      return Reject(row, out, "",
                    MakeCsvError(ingest::error_code::kMissingField, column_name[kReceipt], "no receipt id"));
    }
    const std::string_view store = Cell(row, kStore);
    std::string message_id = "pos-receipt-";
    if (mapping.receipt_id_per_store) {
      if (store.empty()) {
        return Reject(
            row, out, "",
            MakeCsvError(ingest::error_code::kMissingField, column_name[kStore],
                         "no store id; receipt ids are per store, so the store is part of the message id"));
      }
      message_id.append(store);
      message_id.push_back('-');
    }
    message_id.append(receipt);

    const std::string_view time_text = Cell(row, kTime);
    const std::optional<ingest::Timestamp> timestamp = time_format->Parse(time_text);
    if (!timestamp) {
      return Reject(row, out, std::move(message_id),
                    MakeCsvError(ingest::error_code::kInvalidTimestamp, column_name[kTime],
                                 "expected a date-time in the format " +
                                     internal::QuoteForError(time_format->format()) + ", got " +
                                     internal::QuoteForError(time_text)));
    }

    std::optional<double> amount;
    const std::string_view amount_text = Cell(row, kAmount);
    if (!amount_text.empty()) {
      amount = internal::ParseDecimal(amount_text, mapping.decimal_separator);
      if (!amount) {
        return Reject(
            row, out, std::move(message_id),
            MakeCsvError(ingest::error_code::kInvalidValue, column_name[kAmount],
                         std::string("expected a decimal amount such as \"12") + mapping.decimal_separator +
                             "50\", got " + internal::QuoteForError(amount_text)));
      }
    }

    const std::string_view loyalty = Cell(row, kLoyalty), phone = Cell(row, kPhone),
                           email = Cell(row, kEmail);
    if (loyalty.empty() && phone.empty() && email.empty()) {
      std::string columns;
      for (const Role role : {kLoyalty, kPhone, kEmail}) {
        if (column_name[role].empty()) continue;
        if (!columns.empty()) columns.append(", ");
        columns.append(internal::QuoteForError(column_name[role]));
      }
      return Reject(
          row, out, std::move(message_id),
          MakeCsvError(ingest::error_code::kMissingIdentity, "",
                       "no identifier: the columns " + columns + " are all empty; expected at least one"));
    }

    std::string_view currency = Cell(row, kCurrency);
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
      const std::vector<std::string>& header = reader->header();
      for (size_t i = 0; i < header.size(); ++i) {
        if (!reader->IsUnmappedColumn(i) || IsWrittenProperty(header[i])) continue;
        properties.Key(header[i]).String(row.fields[i]);
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
    out.index_of.push_back(row.line);
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
  for (int role = 0; role < kRoleCount; ++role) {
    impl->column_name[role] = std::string(TrimCsvCell(*names[role]));
  }
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
      impl->column_name[kReceipt] + "," + impl->column_name[kTime] + ",...",
      [translator](const CsvRow& row, ingest::ParsedRequest& out) { translator->TranslateRow(row, out); });
  impl->mapping = std::move(mapping);
  return CsvImporter(std::move(impl));
}

void CsvImporter::Feed(std::string_view chunk, ingest::ParsedRequest& out) {
  impl_->reader->Feed(chunk, out);
}

void CsvImporter::Finish(ingest::ParsedRequest& out) { impl_->reader->Finish(out); }

size_t CsvImporter::bytes_read() const { return impl_->reader->bytes_read(); }
size_t CsvImporter::line() const { return impl_->reader->line(); }

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
