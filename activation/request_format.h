#pragma once

// Turns a batch of outbox items into the request a destination's API expects. One function per
// wire format, each in its own file saying which documentation it follows. A request may carry only
// a prefix of the batch (an API that adds and removes with different calls: RequestPrefix), and
// items may have nothing to send (a member without an email or phone): a request without data is
// not sent, and its items count as delivered.
//
// Thread-safety: pure functions.

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "activation/destination.h"
#include "activation/http_sender.h"
#include "activation/outbox.h"
#include "activation/transport.h"

namespace tessera::activation {

struct RequestContext {
  const DestinationSpec& destination;
  const HttpUrl& url;
  std::chrono::system_clock::time_point now;
  std::string idempotency_key;  // The same for every attempt of this batch.
  std::string access_token = {};  // An OAuth token fetched for this attempt (empty: the secret is the token).
};

// A webhook: `{"batch": [...], "sentAt": "..."}`, events as accepted (Segment's spec, with their
// messageId), audience changes as track events "Audience Entered" / "Audience Exited" with the
// audience, space, profile and reason in properties and the profile's traits in context.traits;
// signed (activation/webhook_signature.h) and carrying Idempotency-Key. Service events go without
// the free-text properties the destination does not name (DestinationSpec::free_text);
// InvalidArgument when such an event cannot be read to remove them.
absl::StatusOr<OutgoingRequest> FormatWebhook(const RequestContext& context, const std::vector<OutboxItem>& items);

// The JSON of one audience change as a Segment track event (for the webhook and NATS formats).
void AppendAudienceChangeEvent(std::string_view space, const OutboxItem& item, std::string& out);

// Meta Custom Audiences (meta_audience_format.cc): from the destination's options.
struct MetaAudienceOptions {
  std::string audience_id;
};
// InvalidArgument naming the key: no audience_id, no access token (secret), or events asked for.
absl::StatusOr<MetaAudienceOptions> ReadMetaAudienceOptions(const DestinationSpec& destination);
// Adds (POST) or removes (DELETE) the members of `items`, all entries or all exits; nullopt when
// none of them has an email or a phone to match on.
std::optional<OutgoingRequest> FormatMetaCustomAudience(const RequestContext& context, const MetaAudienceOptions& options,
                                         const std::vector<OutboxItem>& items);

// The provider's API root when the destination names no url ("" for types without one: a
// webhook, a NATS server).
std::string DefaultUrl(const DestinationSpec& destination);

// Checks the destination's type-specific settings before anything is sent: InvalidArgument naming
// the key; Unimplemented for a type whose format is not written yet.
absl::Status ValidateDestination(const DestinationSpec& destination);

// How many of `items` (a prefix, at least one when there are any) one request of the destination
// can carry: all for a webhook or a NATS subject; for an audience API, the run of entries or of
// exits at the front (and of exits after an erasure or not, for SendGrid, which deletes the
// erased); for a messaging gateway, the run of exits or of the rest.
size_t RequestPrefix(const DestinationSpec& destination, const std::vector<OutboxItem>& items);
// Whether one request always carries a whole batch (RequestPrefix is then its size), so that
// delivery need not look at the items first.
bool CarriesWholeBatches(const DestinationSpec& destination);

// The request for `items` (no more than RequestPrefix allows) in the destination's format; nullopt
// when they have nothing to send.
absl::StatusOr<std::optional<OutgoingRequest>> FormatRequest(const RequestContext& context,
                                                             const std::vector<OutboxItem>& items);

}  // namespace tessera::activation
