#pragma once

// The service channel's helpdesk connectors: Zendesk and Freshdesk ticket webhooks translated into
// one canonical track event per delivery, on the profile of the ticket's requester. See
// connectors/connector.h for the conventions every connector follows.
//
// Event names (both providers):
//   the ticket's status is solved or closed (Freshdesk: resolved or closed) -> "Ticket Solved"
//   else the ticket was just created                                       -> "Ticket Created"
//     (Zendesk: event type zen:event-type:ticket.created, or created_at equal to updated_at;
//      Freshdesk: triggered_event mentions "created", or created_at equal to updated_at)
//   else                                                                   -> "Ticket Updated"
//   a Zendesk event-subscription type that is not about a ticket (zen:event-type:user.*, ...)
//     -> the generic "Zendesk Event", kept with provider_event and object_id (Zendesk's id of
//        what it is about; no ticket properties), never dropped.
// An unknown status is no error: it is kept, lower-cased, in properties.status.
//
// properties: provider ("zendesk" / "freshdesk"), provider_event (Zendesk's event type, Freshdesk's
// triggered_event; when sent), ticket_id (string), subject, status, priority (lower-cased text;
// Freshdesk's numeric codes become their names), tags (array of strings; a Zendesk space-separated
// or Freshdesk comma-separated string is split), via (the channel of contact: Zendesk via.channel,
// Freshdesk source), satisfaction ("good" / "bad", else null) and csat (1 / 0, else null); and,
// only when sent, the free text description (Zendesk ticket.description / detail.description,
// Freshdesk ticket_description) and comment (Zendesk ticket.latest_comment, Freshdesk
// ticket_latest_public_comment). The connectors always emit free text; the pipeline removes it
// before the event is logged unless the source has keep_free_text (ingest/free_text.h).
// context: traits {email, phone, name} of the requester (the identifier extractor links them),
// externalIds [{"type":"zendesk_user_id"|"freshdesk_contact_id", ...}] when the requester's id is
// known. The delivery needs at least one of them: else missing_identity naming the requester.
//
// Thread-safety: the functions are reentrant; each thread reuses its own JSON parser.

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "connectors/connector.h"
#include "ingest/segment_parser.h"

namespace tessera::connectors {

inline constexpr std::string_view kZendeskSignatureHeader = "X-Zendesk-Webhook-Signature";
inline constexpr std::string_view kZendeskTimestampHeader = "X-Zendesk-Webhook-Signature-Timestamp";

struct ZendeskOptions {
  // The webhook's signing secret, as Zendesk shows it (used as the HMAC key as written, not
  // base64-decoded). Empty: every request is refused (Unauthenticated).
  std::string secret;
  // Refuse requests whose X-Zendesk-Webhook-Signature-Timestamp is further than this from the
  // request's received_at (replay protection); 0 = no check.
  int64_t max_age_seconds = 300;
};

// Translates one Zendesk webhook delivery. The signature comes first: X-Zendesk-Webhook-Signature
// must be base64(HMAC-SHA256(secret, timestamp + raw body)) with the timestamp of
// X-Zendesk-Webhook-Signature-Timestamp (ISO-8601, e.g. "2024-04-17T17:18:10Z"); a missing header,
// a signature that does not match, an unreadable or stale timestamp, or no secret configured give
// Unauthenticated. Then the body, in either of Zendesk's shapes:
//  - a trigger/automation webhook whose JSON the admin wrote, {"ticket": {id, subject, status,
//    priority, tags, via: {channel} or "web", requester: {id, email, phone, name},
//    satisfaction_rating: {score} or "good", description, latest_comment, created_at,
//    updated_at}} (description and latest_comment from the placeholders {{ticket.description}}
//    and {{ticket.latest_comment}}); message_id
//    "zendesk-<ticket.id>-<ticket.updated_at>"; timestamp: updated_at when it is ISO-8601 (Zendesk's
//    default placeholder {{ticket.updated_at}} is not: the event then takes received_at);
//  - an event-subscription webhook, {"type": "zen:event-type:ticket.created", "id", "time",
//    "detail": {id, subject, status, priority, tags, via, requester_id, description, ...},
//    "event": {...}};
//    message_id "zendesk-<detail.id>-<id>"; timestamp: time. For ticket.status_changed the new
//    status is event.current.
// Errors (an OK result with request_error): invalid_json, invalid_type (not an object, or a member
// of the wrong type, named by its path such as "ticket.tags"), missing_field ("ticket" or "detail"
// absent, "ticket.id"), missing_identity ("ticket.requester" / "detail.requester_id"),
// invalid_timestamp ("time").
absl::StatusOr<ingest::ParsedRequest> TranslateZendeskWebhook(const WebhookRequest& request,
                                                              const ZendeskOptions& options);

struct FreshdeskOptions {
  // Freshdesk does not sign its webhooks: the source's write key authenticates them (in the URL, or
  // as the Basic username Freshdesk's "requires authentication" sends). When `secret` is set, the
  // request must also carry it in the header `secret_header` (a custom header of the webhook
  // action), compared in constant time; a missing or wrong one is Unauthenticated.
  std::string secret = {};
  std::string secret_header = "X-Webhook-Secret";
};

// Translates one Freshdesk automation webhook: {"freshdesk_webhook": {ticket_id, ticket_subject,
// ticket_status, ticket_priority, ticket_tags, ticket_source, ticket_contact_id,
// ticket_contact_email, ticket_contact_phone, ticket_contact_mobile, ticket_contact_name,
// ticket_satisfaction_rating, ticket_description, ticket_latest_public_comment, ticket_created_at,
// ticket_updated_at, triggered_event}} (the wrapper
// Freshdesk's "simple" format writes; the bare object is accepted too). Values may be strings or
// numbers. message_id "freshdesk-<ticket_id>-<ticket_updated_at>", or "freshdesk-<ticket_id>-h-<hash
// of the payload>" without one (message_id_generated). timestamp: ticket_updated_at when ISO-8601,
// else received_at. Satisfaction: Freshdesk's rating codes (103..101 good, -101..-103 bad, 100
// neutral) or words ("good", "happy", "satisfied", ..., "bad", "unhappy", "dissatisfied", ...).
// Errors as for Zendesk; missing_field "freshdesk_webhook.ticket_id", missing_identity
// "freshdesk_webhook.ticket_contact_email".
absl::StatusOr<ingest::ParsedRequest> TranslateFreshdeskWebhook(const WebhookRequest& request,
                                                                const FreshdeskOptions& options);

}  // namespace tessera::connectors
