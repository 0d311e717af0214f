#pragma once

// Turns a batch of outbox items into the request a destination's API expects. One function per
// wire format; each says which documentation it follows. A format may leave items out (a contact
// list has no use for a page view): those count as delivered.
//
// Thread-safety: pure functions.

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "activation/destination.h"
#include "activation/http_sender.h"
#include "activation/outbox.h"

namespace tessera::activation {

struct RequestContext {
  const DestinationSpec& destination;
  const HttpUrl& url;
  std::chrono::system_clock::time_point now;
  std::string idempotency_key;  // The same for every attempt of this batch.
};

// A webhook: `{"batch": [...], "sentAt": "..."}`, events as accepted (Segment's spec, with their
// messageId), audience changes as track events "Audience Entered" / "Audience Exited" with the
// audience, space, profile and reason in properties and the profile's traits in context.traits;
// signed (activation/webhook_signature.h) and carrying Idempotency-Key.
OutgoingRequest FormatWebhook(const RequestContext& context, const std::vector<OutboxItem>& items);

// The JSON of one audience change as a Segment track event (for the webhook and NATS formats).
void AppendAudienceChangeEvent(std::string_view space, const OutboxItem& item, std::string& out);

// The request for `items` in the destination's format. Unimplemented for a type whose format is
// not written yet.
absl::StatusOr<OutgoingRequest> FormatRequest(const RequestContext& context, const std::vector<OutboxItem>& items);

}  // namespace tessera::activation
