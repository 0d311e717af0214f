// A source's connector settings (sources[].connectors): webhook secrets, the Twilio callback URL, the
// POS CSV mapping and the contact-log mapping.

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
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

// connectors.contact_log: the column mapping of contact-centre (call and chat log) imports. As for
// connectors.csv, only the JSON shape is checked here and the connector judges the rest.
absl::Status ReadContactLogMapping(element value, const std::string& path, ContactLogMappingConfig& log) {
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
                                          {{"contact_id", non_empty(log.contact_id)},
                                           {"started_at", non_empty(log.started_at)},
                                           {"type", text(log.type)},
                                           {"direction", text(log.direction)},
                                           {"duration", text(log.duration)},
                                           {"phone", text(log.phone)},
                                           {"email", text(log.email)},
                                           {"user_id", text(log.user_id)},
                                           {"customer_name", text(log.customer_name)},
                                           {"agent", text(log.agent)},
                                           {"queue", text(log.queue)},
                                           {"reason", text(log.reason)},
                                           {"outcome", text(log.outcome)},
                                           {"satisfaction", text(log.satisfaction)},
                                           {"transcript", text(log.transcript)},
                                           {"notes", text(log.notes)}});
                      }},
                     {"timestamp_format", non_empty(log.timestamp_format)},
                     {"timezone", non_empty(log.timezone)},
                     {"default_type", non_empty(log.default_type)},
                     {"system", non_empty(log.system)},
                     {"satisfaction_scale", non_empty(log.satisfaction_scale)}});
}

// connectors.twilio_voice.public_url: the URL configured in Twilio, which its signature covers.
// Tessera appends the query string of each request itself, so the setting must not carry one.
absl::Status ReadPublicUrl(element value, const std::string& path, std::string& out) {
  if (absl::Status s = ReadNonEmptyString(value, path, out); !s.ok()) return s;
  const absl::string_view url(out);
  const bool https = absl::StartsWith(url, "https://");
  if (!https && !absl::StartsWith(url, "http://")) {
    return Invalid(path, absl::StrCat(Quote(url), " must start with https:// (or http://)"));
  }
  const absl::string_view rest = url.substr(https ? 8 : 7);
  if (rest.empty() || rest.front() == '/' || rest.front() == ':') {
    return Invalid(path, absl::StrCat(Quote(url), " has no host"));
  }
  if (absl::StrContains(url, "?") || absl::StrContains(url, "#")) {
    return Invalid(path, absl::StrCat(Quote(url),
                                      " must not contain a query string or fragment: the query of each request "
                                      "is appended to it as Twilio sent it"));
  }
  for (const char c : url) {
    if (static_cast<unsigned char>(c) <= ' ' || c == 0x7f) {
      return Invalid(path, absl::StrCat(Quote(url), " must not contain spaces or control characters"));
    }
  }
  return absl::OkStatus();
}

// connectors.freshdesk.header: an HTTP header name (RFC 9110 token).
absl::Status ReadHeaderName(element value, const std::string& path, std::string& out) {
  if (absl::Status s = ReadNonEmptyString(value, path, out); !s.ok()) return s;
  for (const char c : out) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && !absl::StrContains("!#$%&'*+-.^_`|~", c)) {
      return Invalid(path, absl::StrCat(Quote(out), " is not an HTTP header name (letters, digits and !#$%&'*+-.^_`|~)"));
    }
  }
  return absl::OkStatus();
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
       {"zendesk",
        [&](element v, const std::string& p) -> absl::Status {
          absl::Status status = ReadObject(
              v, p,
              {{"secret", secret(settings.zendesk_secret)},
               {"max_age_seconds", [&](element a, const std::string& ap) -> absl::Status {
                  absl::StatusOr<uint64_t> age = ReadUnsigned(a, ap, 0, kMaxSeconds);
                  if (!age.ok()) return age.status();
                  settings.zendesk_max_age_seconds = static_cast<int64_t>(*age);
                  return absl::OkStatus();
                }}});
          if (!status.ok()) return status;
          if (settings.zendesk_secret.empty()) {
            return Invalid(ChildPath(p, "secret"), "required (the webhook's signing secret, as Zendesk shows it)");
          }
          return absl::OkStatus();
        }},
       {"freshdesk",
        [&](element v, const std::string& p) {
          settings.freshdesk_enabled = true;
          return ReadObject(v, p,
                            {{"secret", secret(settings.freshdesk_secret)},
                             {"header", [&](element h, const std::string& hp) {
                                return ReadHeaderName(h, hp, settings.freshdesk_secret_header);
                              }}});
        }},
       {"twilio_voice",
        [&](element v, const std::string& p) -> absl::Status {
          absl::Status status = ReadObject(
              v, p,
              {{"auth_token", secret(settings.twilio_auth_token)},
               {"public_url",
                [&](element u, const std::string& up) { return ReadPublicUrl(u, up, settings.twilio_public_url); }}});
          if (!status.ok()) return status;
          if (settings.twilio_auth_token.empty()) {
            return Invalid(ChildPath(p, "auth_token"), "required (the Twilio account's auth token)");
          }
          return absl::OkStatus();
        }},
       {"csv",
        [&](element v, const std::string& p) { return ReadCsvMapping(v, p, settings.csv.emplace()); }},
       {"contact_log", [&](element v, const std::string& p) {
          return ReadContactLogMapping(v, p, settings.contact_log.emplace());
        }}});
}

}  // namespace tessera::config::internal
