#pragma once

// ConnectorHandler serves POST /v1/connectors/{channel}/{format}: native payloads of a channel's
// platform (Shopify orders, SendGrid and Mailgun event webhooks, Meta webhooks, POS CSV exports,
// Zendesk and Freshdesk ticket webhooks, Twilio Voice status callbacks) translated by the connectors/ component into canonical events, then accepted like any tracking
// request. Also the GET subscription handshake Meta makes before it sends webhooks.
//
// The source is the write key (Basic header, or ?writeKey= since webhook senders cannot set
// headers); its connector settings (config `sources[i].connectors`) hold the signing secrets and
// the CSV column mapping. POST /v1/connectors/pos/csv is not signed: the write key alone
// authenticates it, and a source without `connectors.csv` gets 400 connector_not_configured.
// POST /v1/connectors/service/freshdesk is not signed either (Freshdesk cannot sign): the write key,
// and the optional shared secret header of `connectors.freshdesk`, authenticate it; a source
// without `connectors.freshdesk` gets 400 connector_not_configured.
// POST /v1/connectors/service/contact-log (call and chat logs as CSV) is like pos/csv: the write key
// alone, and 400 connector_not_configured for a source without `connectors.contact_log`. Twilio signs the URL it called:
// `connectors.twilio_voice.public_url`, else the URL rebuilt from Host / X-Forwarded-* and the path.

#include <functional>
#include <string>
#include <string_view>

#include "api/cors.h"
#include "api/key_registry.h"
#include "api/router.h"
#include "api/tracking_handler.h"
#include "config/config.h"
#include "connectors/connector.h"
#include "connectors/contact_log_csv.h"
#include "connectors/pos_csv.h"
#include "pipeline/ingest_pipeline.h"

namespace tessera::api {

struct ConnectorRequest {
  Method method = Method::kPost;
  std::string_view connector;  // "pos/shopify", "email/sendgrid", ...: the path after /v1/connectors/
  std::string_view query;
  std::string_view authorization;
  std::string_view origin = {};  // The Origin header: set only by browsers (webhook senders send none).
  std::string_view body;         // The raw body, exactly as received.
  std::function<std::string_view(std::string_view name)> header;
};

// The connector's mapping from a source's `connectors.csv` (shared with `tessera import`).
connectors::CsvMapping CsvMappingFrom(const config::CsvMappingConfig& csv);
// The connector's mapping from a source's `connectors.contact_log` (shared with `tessera import`).
connectors::ContactLogMapping ContactLogMappingFrom(const config::ContactLogMappingConfig& log);

class ConnectorHandler {
 public:
  // `cors` decides which browser pages may post with a source's key (webhook senders send no
  // Origin, so they are never affected).
  ConnectorHandler(const KeyRegistry& keys, pipeline::IngestPipeline& pipeline, const CorsPolicy& cors);

  // `reply` is called exactly once, possibly on another thread, possibly before Handle returns.
  void Handle(const ConnectorRequest& request, std::function<void(HttpReply)> reply);

  // The connectors this handler serves ("pos/shopify", ...), for error messages and docs.
  static std::string_view KnownConnectors();

 private:
  const KeyRegistry& keys_;
  pipeline::IngestPipeline& pipeline_;
  const CorsPolicy& cors_;
};

}  // namespace tessera::api
