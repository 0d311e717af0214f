#pragma once

// The social channel's connector for Meta webhooks: Messenger (object "page") and Instagram
// (object "instagram"), both the messaging events (entry[].messaging[], entry[].standby[]) and
// the change notifications (entry[].changes[]), plus the subscription handshake. A pure
// translation, following every convention of connectors/connector.h.
//
// Signature: every POST carries `X-Hub-Signature-256: sha256=<hex HMAC-SHA256(app secret, body)>`;
// a missing, malformed or wrong signature, or an empty app secret, is Unauthenticated.
//
// Identity: Meta's user ids are scoped. A PSID is only meaningful together with the page that
// received the message, an IGSID with the Instagram professional account. The identifier value is
// therefore "<entry id>:<user id>" (see MetaScopedUserId), with type "fb_psid" (object "page") or
// "ig_sid" (object "instagram"), in context.externalIds, so that the same number seen by two pages
// never merges two people by accident. ':' rather than '/' keeps the value usable in the profile
// API's path without escaping (GET /v1/profiles/fb_psid:<page>:<psid>). The user is the sender,
// except for echoes (the page's own messages), which are keyed by their recipient. A change is
// keyed by value.from.id and scoped the same way (Page comments' from.id is assumed to be the
// page-scoped id, typed fb_psid).
//
// Events (all track; space/source/channel left empty):
//   messaging[].message        -> "Message Received" {platform, page_id, mid, text, attachment_types,
//                                 quick_reply_payload, reply_to_mid}
//   message with is_echo/isEcho-> "Message Sent" (keyed by the recipient; adds app_id)
//   messaging[].postback       -> "Postback Received" {title, payload, mid}
//   messaging[].read           -> "Message Read" {watermark, mid}
//   messaging[].delivery       -> "Message Delivered" {watermark, mids}
//   anything else in messaging -> "Social Event" {provider_event: its key, provider_payload}
//   changes[] field "comments" -> "Comment Posted" {comment_id, text, media_id, media_product_type,
//                                 parent_id}
//   changes[] field "mentions" -> "Mentioned" {media_id, comment_id}
//   "feed" with item "comment" and verb "add" (or none) -> "Comment Posted" {comment_id, post_id,
//                                 text (value.message), parent_id}
//   any other change           -> "Social Event" {provider_event: the field, provider_payload: value}
// platform is "messenger" / "instagram" for messaging, "facebook" / "instagram" for changes;
// page_id is the entry's id.
//
// Numbering: the items of all entries are numbered in document order, 0, 1, 2, ... across
// entries (entry[0].messaging[0..n), then entry[0].changes[...], then entry[1]...); that number is
// ParsedRequest::index_of / RejectedEvent::index. An entry that is not an object, or whose
// messaging / standby / changes member is not an array, counts as one (rejected) item.
//
// message_id: "meta-<mid>" for messages and postbacks, "meta-comment-<id>" for comments,
// "meta-mention-<comment or media id>" for mentions; otherwise "meta-" + hex SHA-256-based digest
// (HMAC-SHA256 with an empty key) of object, entry id and the item's minified JSON, so a replayed
// delivery yields the same ids and deduplicates (message_id_generated is then true).
//
// Time: the item's "timestamp" (Messenger: milliseconds), else value.created_time (feed), else
// the entry's "time", else received_at. Meta sends milliseconds in messaging and seconds in
// changes; a value below 1e11 is read as seconds (1e11 ms would be 1973).
//
// Errors: a body that is not JSON, has no "entry" array, or whose "object" is not "page" or
// "instagram" is a request_error naming the field; a bad item is a RejectedEvent whose field is a
// path such as "entry[0].messaging[2].sender.id"; a change or message without a user id is
// missing_identity.
//
// Thread-safety: both functions are reentrant (one simdjson parser per thread).

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "connectors/connector.h"
#include "ingest/segment_parser.h"

namespace tessera::connectors {

struct MetaOptions {
  std::string app_secret;    // The Meta app's secret: the key of X-Hub-Signature-256. Empty: reject all.
  std::string verify_token;  // The "Verify Token" entered in the app's webhook settings. Empty: refuse.
};

// The subscription handshake: Meta's GET with hub.mode=subscribe, hub.verify_token and
// hub.challenge in `query` (the raw query string, not decoded). Returns the URL-decoded challenge,
// which the api echoes as a text/plain 200. PermissionDenied when the token differs from
// options.verify_token (compared in constant time) or none is configured; InvalidArgument naming the
// parameter when one is missing, badly escaped, or hub.mode is not "subscribe".
absl::StatusOr<std::string> MetaVerificationChallenge(std::string_view query, const MetaOptions& options);

// Verifies the signature, then translates one webhook delivery (see above). Unauthenticated when
// the signature does not verify; otherwise an OK ParsedRequest (possibly with request_error).
absl::StatusOr<ingest::ParsedRequest> TranslateMetaWebhook(const WebhookRequest& request,
                                                           const MetaOptions& options);

// The identifier value of a Meta user id scoped to a page / Instagram account: "<scope>:<user>".
std::string MetaScopedUserId(std::string_view scope_id, std::string_view user_id);

}  // namespace tessera::connectors
