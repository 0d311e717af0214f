#include "api/connector_handler.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "api/reply_json.h"
#include "connectors/contact_log_csv.h"
#include "connectors/email_webhooks.h"
#include "connectors/helpdesk_webhooks.h"
#include "connectors/meta_webhooks.h"
#include "connectors/shopify.h"
#include "connectors/twilio_voice.h"

namespace tessera::api {
namespace {

constexpr std::string_view kShopify = "pos/shopify";
constexpr std::string_view kSendGrid = "email/sendgrid";
constexpr std::string_view kMailgun = "email/mailgun";
constexpr std::string_view kMeta = "social/meta";
constexpr std::string_view kPosCsv = "pos/csv";
constexpr std::string_view kContactLog = "service/contact-log";
constexpr std::string_view kZendesk = "service/zendesk";
constexpr std::string_view kFreshdesk = "service/freshdesk";
constexpr std::string_view kTwilioVoice = "service/twilio-voice";
constexpr std::string_view kConnectorsPath = "/v1/connectors/";

bool IsKnownConnector(std::string_view name) {
  for (std::string_view known :
       {kShopify, kPosCsv, kSendGrid, kMailgun, kMeta, kZendesk, kFreshdesk, kTwilioVoice, kContactLog}) {
    if (name == known) return true;
  }
  return false;
}

// A connector's refusal as an HTTP reply: a signature that does not verify is 401, a handshake
// with the wrong token 403, anything else the client sent wrong 400.
HttpReply RefusalReply(const absl::Status& status) {
  const std::string message(status.message());
  switch (status.code()) {
    case absl::StatusCode::kUnauthenticated:
      return ErrorReply(401, "invalid_signature", message);
    case absl::StatusCode::kPermissionDenied:
      return ErrorReply(403, "forbidden", message);
    case absl::StatusCode::kInvalidArgument:
      return ErrorReply(400, "invalid_value", message);
    case absl::StatusCode::kFailedPrecondition:
      // The source's own settings are unusable (e.g. a key that cannot be read): the operator's to fix.
      return ErrorReply(500, "misconfigured", message);
    default:
      return ErrorReply(500, "internal", message);
  }
}

}  // namespace

connectors::CsvMapping CsvMappingFrom(const config::CsvMappingConfig& csv) {
  connectors::CsvMapping mapping;
  mapping.receipt_id = csv.receipt_id;
  mapping.loyalty_card = csv.loyalty_card;
  mapping.phone = csv.phone;
  mapping.email = csv.email;
  mapping.amount = csv.amount;
  mapping.currency = csv.currency;
  mapping.default_currency = csv.default_currency;
  mapping.store = csv.store;
  mapping.timestamp = csv.timestamp;
  mapping.timestamp_format = csv.timestamp_format;
  mapping.timezone = csv.timezone;
  mapping.event_name = csv.event_name;
  mapping.decimal_separator = csv.decimal_separator;
  mapping.receipt_id_per_store = csv.receipt_id_per_store;
  return mapping;
}

connectors::ContactLogMapping ContactLogMappingFrom(const config::ContactLogMappingConfig& log) {
  connectors::ContactLogMapping mapping;
  mapping.contact_id = log.contact_id;
  mapping.started_at = log.started_at;
  mapping.type = log.type;
  mapping.direction = log.direction;
  mapping.duration = log.duration;
  mapping.phone = log.phone;
  mapping.email = log.email;
  mapping.user_id = log.user_id;
  mapping.customer_name = log.customer_name;
  mapping.agent = log.agent;
  mapping.queue = log.queue;
  mapping.reason = log.reason;
  mapping.outcome = log.outcome;
  mapping.satisfaction = log.satisfaction;
  mapping.transcript = log.transcript;
  mapping.notes = log.notes;
  mapping.timestamp_format = log.timestamp_format;
  mapping.timezone = log.timezone;
  mapping.default_type = log.default_type;
  mapping.system = log.system;
  mapping.satisfaction_scale = log.satisfaction_scale;
  return mapping;
}

ConnectorHandler::ConnectorHandler(const KeyRegistry& keys, pipeline::IngestPipeline& pipeline,
                                   const CorsPolicy& cors)
    : keys_(keys), pipeline_(pipeline), cors_(cors) {}

std::string_view ConnectorHandler::KnownConnectors() {
  return "pos/shopify, pos/csv, email/sendgrid, email/mailgun, social/meta, service/zendesk, service/freshdesk, "
         "service/twilio-voice, service/contact-log";
}

namespace {

// A whole CSV body through one of the CSV importers. A mapping it refuses is the operator's
// configuration, not the client's (start-up checks every one): FailedPrecondition.
template <typename Importer>
absl::StatusOr<ingest::ParsedRequest> ImportWholeBody(absl::StatusOr<Importer> importer, std::string_view body) {
  if (!importer.ok()) return absl::FailedPreconditionError(importer.status().message());
  ingest::ParsedRequest rows;
  importer->Feed(body, rows);
  importer->Finish(rows);
  return rows;
}

}  // namespace

void ConnectorHandler::Handle(const ConnectorRequest& request, std::function<void(HttpReply)> reply) {
  const std::string_view name = request.connector;
  if (!IsKnownConnector(name)) {
    reply(ErrorReply(
        404, "not_found",
        absl::StrCat("no connector \"", std::string(name), "\"; known: ", std::string(KnownConnectors()))));
    return;
  }
  if (request.method == Method::kGet && name != kMeta) {
    HttpReply refused =
        ErrorReply(405, "method_not_allowed", absl::StrCat(std::string(name), " accepts POST only"));
    refused.headers.emplace_back("Allow", "POST");
    reply(std::move(refused));
    return;
  }
  absl::StatusOr<const ingest::SourceRef*> source =
      keys_.SourceFromHeaderOrQuery(request.authorization, request.query);
  if (!source.ok()) {
    reply(ErrorReply(401, "unauthorized", std::string(source.status().message())));
    return;
  }
  // POST /v1/connectors/pos/csv (and service/contact-log) is not signed and a text/csv POST needs no
  // preflight: without this a page of any site holding the key could store events through it.
  if (!request.origin.empty() && !cors_.AllowsIngest(*source, request.origin)) {
    reply(ErrorReply(
        403, "origin_not_allowed",
        absl::StrCat("pages from ", std::string(request.origin), " may not post with the key of source \"",
                     (*source)->name, "\" (see sources[].allowed_origins)")));
    return;
  }
  const config::ConnectorSettings& settings = keys_.ConnectorsOf(**source);

  if (request.method == Method::kGet) {  // Meta's subscription handshake: echo the challenge.
    absl::StatusOr<std::string> challenge = connectors::MetaVerificationChallenge(
        request.query, {.app_secret = settings.meta_app_secret, .verify_token = settings.meta_verify_token});
    if (!challenge.ok()) {
      reply(RefusalReply(challenge.status()));
      return;
    }
    HttpReply echo{200, *std::move(challenge), {}};
    echo.headers.emplace_back("Content-Type", "text/plain; charset=utf-8");
    reply(std::move(echo));
    return;
  }

  const connectors::WebhookRequest webhook{
      .body = request.body, .header = request.header, .query = request.query, .received_at = ReceivedNow()};
  absl::StatusOr<ingest::ParsedRequest> parsed;
  if (name == kPosCsv) {
    if (!settings.csv) {
      reply(ErrorReply(400, "connector_not_configured",
                       "this source has no CSV mapping (sources[i].connectors.csv in the configuration)"));
      return;
    }
    absl::StatusOr<ingest::ParsedRequest> rows = ImportWholeBody(
        connectors::CsvImporter::Create(CsvMappingFrom(*settings.csv), webhook.received_at), request.body);
    if (!rows.ok()) return reply(RefusalReply(rows.status()));
    parsed = *std::move(rows);
  } else if (name == kContactLog) {
    if (!settings.contact_log) {
      reply(ErrorReply(400, "connector_not_configured",
                       "this source has no contact-log mapping (sources[i].connectors.contact_log in the "
                       "configuration)"));
      return;
    }
    absl::StatusOr<ingest::ParsedRequest> rows = ImportWholeBody(
        connectors::ContactLogImporter::Create(ContactLogMappingFrom(*settings.contact_log), webhook.received_at),
        request.body);
    if (!rows.ok()) return reply(RefusalReply(rows.status()));
    parsed = *std::move(rows);
  } else if (name == kShopify) {
    parsed = connectors::TranslateShopifyOrder(webhook, {.secret = settings.shopify_secret});
  } else if (name == kSendGrid) {
    parsed = connectors::TranslateSendGridEvents(
        webhook, {.public_key = settings.sendgrid_public_key, .max_age_seconds = 0});
  } else if (name == kZendesk) {
    parsed = connectors::TranslateZendeskWebhook(
        webhook, {.secret = settings.zendesk_secret, .max_age_seconds = settings.zendesk_max_age_seconds});
  } else if (name == kFreshdesk) {
    if (!settings.freshdesk_enabled) {
      reply(ErrorReply(400, "connector_not_configured",
                       "this source does not accept Freshdesk webhooks (sources[i].connectors.freshdesk in the "
                       "configuration)"));
      return;
    }
    parsed = connectors::TranslateFreshdeskWebhook(
        webhook, {.secret = settings.freshdesk_secret, .secret_header = settings.freshdesk_secret_header});
  } else if (name == kTwilioVoice) {
    parsed = connectors::TranslateTwilioVoiceCallback(
        webhook, {.auth_token = settings.twilio_auth_token,
                  .public_url = settings.twilio_public_url,
                  .request_path = std::string(kConnectorsPath) + std::string(name)});
  } else if (name == kMailgun) {
    parsed = connectors::TranslateMailgunEvent(
        webhook,
        {.signing_key = settings.mailgun_signing_key, .max_age_seconds = settings.mailgun_max_age_seconds});
  } else {
    parsed = connectors::TranslateMetaWebhook(
        webhook, {.app_secret = settings.meta_app_secret, .verify_token = settings.meta_verify_token});
  }
  if (!parsed.ok()) {
    reply(RefusalReply(parsed.status()));
    return;
  }
  if (parsed->request_error) {
    const ingest::FieldError& error = *parsed->request_error;
    pipeline_.metrics().events_rejected.fetch_add(std::max<size_t>(parsed->event_count, 1),
                                                  std::memory_order_relaxed);
    reply(ErrorReply(400, error.code, error.message, error.field));
    return;
  }
  if (parsed->events.empty() && parsed->rejected.empty()) {  // A CSV with a header and no rows.
    reply(HttpReply{200, R"({"success":true})", {}});
    return;
  }
  pipeline_.Accept(**source, *std::move(parsed), /*strict=*/false,
                   [reply = std::move(reply)](pipeline::IngestResult result) {
                     reply(IngestResultReply(result, /*with_counts=*/true));
                   });
}

}  // namespace tessera::api
