#pragma once

// The signature of a webhook delivery (issue 23, docs/activation.md when it lands): every request
// to a webhook destination carries
//
//   Tessera-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>" with the destination's secret>
//
// so the receiver can check that the body came from this Tessera, unchanged, and recently (the
// timestamp is inside the signed text, so an old request replayed later is refused by its age).
// The same scheme as Stripe's webhooks, so receivers can reuse their verifiers.
//
// Thread-safety: pure functions.

#include <chrono>
#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace tessera::activation {

inline constexpr std::string_view kSignatureHeader = "Tessera-Signature";

// The header value for `body` sent at `time` (whole seconds since the epoch are signed).
std::string SignWebhook(std::string_view secret, std::chrono::system_clock::time_point time, std::string_view body);

// Checks a header value against `body`, for receivers and for our tests: InvalidArgument when the
// header is malformed, PermissionDenied when no v1 signature matches (compared in constant time)
// or the timestamp is further than `tolerance` from `now`. Several v1 entries are allowed (a
// receiver may hold the old and the new secret during a rotation on our side).
absl::Status VerifyWebhook(std::string_view secret, std::string_view header, std::string_view body,
                           std::chrono::system_clock::time_point now, std::chrono::seconds tolerance);

}  // namespace tessera::activation
