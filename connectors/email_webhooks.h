#pragma once

// The email channel's connectors: email service providers' event webhooks (SendGrid, Mailgun)
// translated into canonical track events, one per provider event. The person is identified by the
// recipient's email address in context.traits.email (no userId is needed); message ids come from the
// provider's event id so that a replayed webhook deduplicates. See connectors/connector.h for the
// conventions every connector follows.
//
// Event names (SendGrid "event" / Mailgun "event-data.event" -> track event):
//   processed -> "Email Processed"        accepted -> "Email Accepted"
//   delivered -> "Email Delivered"        delivered -> "Email Delivered"
//   open -> "Email Opened"                opened -> "Email Opened"
//   click -> "Email Link Clicked"         clicked -> "Email Link Clicked"
//   bounce -> "Email Bounced"             failed (severity permanent, or none) -> "Email Bounced"
//   deferred -> "Email Deferred"          failed (severity temporary) -> "Email Deferred"
//   dropped -> "Email Dropped"            complained -> "Email Marked as Spam"
//   spamreport -> "Email Marked as Spam"  unsubscribed -> "Unsubscribed"
//   unsubscribe -> "Unsubscribed"         stored -> "Email Stored"
//   group_unsubscribe -> "Unsubscribed from Group"
//   group_resubscribe -> "Resubscribed to Group"
// Any other kind becomes a generic "Email Event". Every event's properties carry "provider"
// ("sendgrid" / "mailgun") and "provider_event" (the provider's kind, as sent).
//
// Thread-safety: the functions are reentrant; each thread reuses its own JSON parser.

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "connectors/connector.h"
#include "ingest/segment_parser.h"

namespace tessera::connectors {

struct SendGridOptions {
  // The Event Webhook's verification key as SendGrid shows it (base64 DER), or a PEM block. Empty:
  // every request is refused (Unauthenticated "no verification key configured").
  std::string public_key;
  // Refuse requests whose X-Twilio-Email-Event-Webhook-Timestamp is further than this from the
  // request's received_at (replay protection); 0 = no check.
  int64_t max_age_seconds = 0;
};

// Translates one SendGrid Event Webhook delivery. The ECDSA signature
// (X-Twilio-Email-Event-Webhook-Signature over X-Twilio-Email-Event-Webhook-Timestamp + body) is
// verified first: a missing header, a signature that does not verify, a stale timestamp or an
// unconfigured key give Unauthenticated; a key that cannot be read gives FailedPrecondition.
// The body is a JSON array of events: not JSON -> request_error invalid_json, not an array ->
// request_error invalid_type. Per element (by index, the others go on): not an object ->
// invalid_type "[i]", no email -> missing_identity "[i].email", no event kind -> missing_field
// "[i].event", unusable timestamp -> invalid_timestamp "[i].timestamp".
// message_id: "sendgrid-<sg_event_id>", or "sendgrid-h-<hash of the element's JSON>" without one
// (message_id_generated is then true). timestamp: "timestamp" in Unix seconds (values of 10^11 and
// more are taken as milliseconds, as some SendGrid payloads send); received_at when absent.
// properties: provider, provider_event, sg_event_id, sg_message_id, smtp_id, category, ip,
// useragent, url, url_offset, reason, status, response, attempt, type, tls, cert_err, pool,
// asm_group_id, marketing_campaign_id / _name / _version / _split_id, and "custom_args": every other
// top-level member whose value is a string, number or boolean (unique / custom args and SendGrid's
// own extra fields); other objects and arrays are left out. context: traits.email, ip, userAgent.
absl::StatusOr<ingest::ParsedRequest> TranslateSendGridEvents(const WebhookRequest& request,
                                                              const SendGridOptions& options);

struct MailgunOptions {
  // The domain's HTTP webhook signing key. Empty: every request is refused (Unauthenticated).
  std::string signing_key;
  // Refuse requests whose signature.timestamp is further than this from the request's received_at
  // (replay protection); 0 = no check.
  int64_t max_age_seconds = 0;
};

// Translates one Mailgun webhook delivery: {"signature":{"timestamp","token","signature"},
// "event-data":{...}}. The body must be JSON (else request_error invalid_json); then the signature,
// hex(HMAC-SHA256(signing_key, timestamp + token)), is checked: missing, wrong or stale ->
// Unauthenticated. The one event is then translated; when it cannot be (event-data missing or not an
// object, no event kind, no recipient, bad timestamp) request_error names the field.
// message_id: "mailgun-<event-data.id>" (or "mailgun-h-<hash>" without one). The person: the
// recipient's email (event-data.recipient, else the first of event-data.message.recipients, which
// "stored" events carry instead). timestamp: event-data.timestamp (fractional Unix seconds).
// properties: provider, provider_event, mailgun_event_id, email_message_id (the message's
// Message-Id header), subject, from, recipient, recipient_domain, severity, reason, url, ip,
// log_level, method, tags, campaigns, user_variables, delivery_status (code, message,
// description, attempt_no), client_info. context: traits.email, ip, userAgent, location
// (city, country, region from geolocation).
absl::StatusOr<ingest::ParsedRequest> TranslateMailgunEvent(const WebhookRequest& request,
                                                            const MailgunOptions& options);

}  // namespace tessera::connectors
