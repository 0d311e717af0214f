#pragma once

// Connectors translate a channel's native payload (a POS order webhook, an email provider's event
// webhook, a social platform's webhook, a POS CSV export) into canonical events. They are pure:
// bytes in, canonical events or a precise error out; no sockets, no store. The api layer
// authenticates the source, calls the connector with the source's connector settings, and hands
// the result to the ingest pipeline exactly like a parsed tracking request.
//
// Conventions every connector follows:
//  - A signature that does not verify: absl::UnauthenticatedError (the api answers 401, nothing is
//    stored).
//  - A payload that is malformed as a whole: an OK result whose ParsedRequest::request_error names
//    the field (JSON path) and says what was expected (the api answers 400).
//  - One bad item of a multi-item payload (one email event of an array, one CSV row): a
//    RejectedEvent with its index, the others go on.
//  - A well-formed item of an unknown kind is kept as a generic track event, never dropped.
//  - message_id is derived from the provider's own event id (so replayed webhooks deduplicate),
//    prefixed by the provider: "sendgrid-<sg_event_id>", "shopify-order-<id>", ...
//  - Identifiers travel where the identifier extractor finds them (ingest/identifier_extractor.h):
//    userId, anonymousId, context.traits.email / phone, and context.externalIds[] entries
//    {"id":..., "type":"fb_psid"|"ig_sid"|"shopify_customer_id"|"loyalty_id"|..., "collection":"users",
//    "encoding":"none"}.
//  - space, source and channel are left empty: the pipeline stamps them from the source.

#include <functional>
#include <string_view>

#include "ingest/event.h"
#include "ingest/segment_parser.h"

namespace tessera::connectors {

// One webhook delivery as received.
struct WebhookRequest {
  std::string_view body;  // The raw bytes, exactly as received: signatures cover them.
  // A header's value by name (case-insensitive); empty when absent.
  std::function<std::string_view(std::string_view name)> header = [](std::string_view) { return std::string_view(); };
  std::string_view query = {};  // The raw query string after '?', not decoded.
  ingest::Timestamp received_at = {};
};

}  // namespace tessera::connectors
