// A source's connector settings (sources[].connectors): webhook secrets and the POS CSV mapping.

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "config/internal/json_reader.h"
#include "config/internal/sections.h"

namespace tessera::config::internal {
namespace {

// connectors.csv: the column mapping of POS CSV imports. Only the JSON shape is checked here;
// the connector itself judges formats and time zones (tools/ asks it before anything starts).
absl::Status ReadCsvMapping(element value, const std::string& path, CsvMappingConfig& csv) {
  auto text = [](std::string& out) {
    return [&out](element v, const std::string& p) { return ReadString(v, p, out); };
  };
  auto non_empty = [](std::string& out) {
    return [&out](element v, const std::string& p) { return ReadNonEmptyString(v, p, out); };
  };
  return ReadObject(value, path,
                    {{"columns",
                      [&](element v, const std::string& p) {
                        return ReadObject(v, p,
                                          {{"receipt_id", non_empty(csv.receipt_id)},
                                           {"loyalty_card", text(csv.loyalty_card)},
                                           {"phone", text(csv.phone)},
                                           {"email", text(csv.email)},
                                           {"amount", text(csv.amount)},
                                           {"currency", text(csv.currency)},
                                           {"store", text(csv.store)},
                                           {"timestamp", non_empty(csv.timestamp)}});
                      }},
                     {"default_currency", text(csv.default_currency)},
                     {"timestamp_format", non_empty(csv.timestamp_format)},
                     {"timezone", non_empty(csv.timezone)},
                     {"event_name", non_empty(csv.event_name)},
                     {"decimal_separator",
                      [&](element v, const std::string& p) -> absl::Status {
                        std::string separator;
                        if (absl::Status s = ReadString(v, p, separator); !s.ok()) return s;
                        if (separator != "." && separator != ",") {
                          return Invalid(p, absl::StrCat(Quote(separator), " must be \".\" or \",\""));
                        }
                        csv.decimal_separator = separator[0];
                        return absl::OkStatus();
                      }},
                     {"receipt_id_per_store", [&](element v, const std::string& p) {
                        return ReadBool(v, p, csv.receipt_id_per_store);
                      }}});
}

}  // namespace

absl::Status ReadConnectorSettings(element value, const std::string& path, ConnectorSettings& settings) {
  auto secret = [](std::string& out) {
    return [&out](element v, const std::string& p) { return ReadNonEmptyString(v, p, out); };
  };
  return ReadObject(
      value, path,
      {{"shopify",
        [&](element v, const std::string& p) {
          return ReadObject(v, p, {{"secret", secret(settings.shopify_secret)}});
        }},
       {"sendgrid",
        [&](element v, const std::string& p) {
          return ReadObject(v, p, {{"public_key", secret(settings.sendgrid_public_key)}});
        }},
       {"mailgun",
        [&](element v, const std::string& p) {
          return ReadObject(v, p,
                            {{"signing_key", secret(settings.mailgun_signing_key)},
                             {"max_age_seconds", [&](element a, const std::string& ap) -> absl::Status {
                                absl::StatusOr<uint64_t> age = ReadUnsigned(a, ap, 0, kMaxSeconds);
                                if (!age.ok()) return age.status();
                                settings.mailgun_max_age_seconds = static_cast<int64_t>(*age);
                                return absl::OkStatus();
                              }}});
        }},
       {"meta",
        [&](element v, const std::string& p) {
          return ReadObject(v, p,
                            {{"app_secret", secret(settings.meta_app_secret)},
                             {"verify_token", secret(settings.meta_verify_token)}});
        }},
       {"csv",
        [&](element v, const std::string& p) { return ReadCsvMapping(v, p, settings.csv.emplace()); }}});
}

}  // namespace tessera::config::internal
