#pragma once

// The wire formats beyond the webhook's and Meta's (activation/request_format.h dispatches to
// them), one file each, saying which documentation it follows. Each reads the destination's
// `options` (ValidateX names the first wrong key) and makes the request for a batch of items, all
// entries, all exits or all events (RequestPrefix); nullopt when none of the items has what the
// provider matches on.
//
// Thread-safety: pure functions; a request's `next` may be called on any thread.

#include <optional>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "activation/oauth_token.h"
#include "activation/request_format.h"

namespace tessera::activation::internal {

using FormatResult = absl::StatusOr<std::optional<OutgoingRequest>>;

absl::Status ValidateGoogleCustomerMatch(const DestinationSpec& destination);
// The OAuth client of options.oauth (token_url defaulting to Google's); nullopt without one, when
// `secret` is the access token itself.
std::optional<OAuthClient> GoogleOAuthClient(const DestinationSpec& destination);
FormatResult FormatGoogleCustomerMatch(const RequestContext& context, const std::vector<OutboxItem>& items);

absl::Status ValidateSendgridContacts(const DestinationSpec& destination);
FormatResult FormatSendgridContacts(const RequestContext& context, const std::vector<OutboxItem>& items);

absl::Status ValidateMailgunList(const DestinationSpec& destination);
FormatResult FormatMailgunList(const RequestContext& context, const std::vector<OutboxItem>& items);

absl::Status ValidateKakaoMessage(const DestinationSpec& destination);
FormatResult FormatKakaoMessage(const RequestContext& context, const std::vector<OutboxItem>& items);
// The API root of the destination's channel (AlimTalk or SMS).
std::string_view KakaoDefaultUrl(const DestinationSpec& destination);

absl::Status ValidateNatsSubject(const DestinationSpec& destination);
FormatResult FormatNatsSubject(const RequestContext& context, const std::vector<OutboxItem>& items);
// Whether the destination publishes through JetStream (options.jetstream).
bool NatsUsesJetStream(const DestinationSpec& destination);

}  // namespace tessera::activation::internal
