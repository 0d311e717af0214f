#pragma once

// The Shopify connector: order webhooks (orders/create, orders/paid) become one Segment
// e-commerce "Order Completed" track event. It follows every convention of connectors/connector.h.
//
// Input: the webhook body is one order object (Shopify's REST order, as in orders/create); the
// {"order":{...}} wrapper of the REST API is accepted too, and field paths in errors then start
// with "order.". Unknown members are ignored; null counts as absent everywhere, as Shopify sends
// null for most empty fields.
//
// Signature: X-Shopify-Hmac-Sha256 must be base64(HMAC-SHA256(secret, raw body)), compared in
// constant time. A missing or wrong header, or no secret configured, is absl::UnauthenticatedError
// and nothing else is looked at.
//
// The event:
//   message_id  "shopify-order-<id>": a replayed webhook, or orders/paid after orders/create of the
//               same order, deduplicates to one "Order Completed".
//   timestamp   processed_at, else created_at (ISO-8601; original_timestamp set too); when both
//               are absent, the request's received_at.
//   properties  order_id, checkout_id, product_id (strings, as Segment's spec has them),
//               order_number (integer), total (total_price), subtotal and revenue (subtotal_price,
//               i.e. after discounts, before shipping and tax), tax (total_tax), discount
//               (total_discounts), shipping (sum of shipping_lines[].price), coupon (the first
//               discount code), currency, source_name, and products[] {product_id, sku, name,
//               price, quantity, variant} from line_items[]. Shopify's money strings ("199.00")
//               become numbers.
//   context     externalIds [{"id":<customer.id>,"type":"shopify_customer_id","collection":"users",
//               "encoding":"none"}], traits {email, phone, firstName, lastName}, ip (browser_ip).
//               email: the order's, else the customer's; phone: the order's, the customer's, the
//               billing address's, the shipping address's; names: the customer's, else the billing
//               address's.
//
// Errors (an OK result with ParsedRequest::request_error, events empty): invalid_json (not JSON),
// invalid_type (not an object, or a member of the wrong JSON type, naming its path such as
// "line_items[2].quantity"), missing_field "id", invalid_value (a money string that is not a
// decimal number, e.g. "line_items[2].price"), invalid_timestamp, missing_identity "customer" (no
// customer id, email nor phone anywhere).
//
// Thread-safety: TranslateShopifyOrder may be called from any number of threads; each thread
// reuses its own JSON parser.

#include <string>

#include "absl/status/statusor.h"
#include "connectors/connector.h"
#include "ingest/segment_parser.h"

namespace tessera::connectors {

// The header Shopify signs its webhooks with.
inline constexpr std::string_view kShopifyHmacHeader = "X-Shopify-Hmac-Sha256";

struct ShopifyOptions {
  // The app's client secret (the webhook signing secret); empty means every request is refused.
  std::string secret;
};

// Verifies and translates one order webhook. The events carry no space, source or channel: the
// pipeline stamps them from the authenticated source.
absl::StatusOr<ingest::ParsedRequest> TranslateShopifyOrder(const WebhookRequest& request,
                                                            const ShopifyOptions& options);

}  // namespace tessera::connectors
