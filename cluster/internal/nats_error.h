#pragma once

// Internal to cluster/: nats.c's status codes (and JetStream's error codes) as absl::Status, with the
// client's own last error text, so every failure names what was attempted and why.

#include <string_view>

#include "absl/status/status.h"
#include "nats/nats.h"

namespace tessera::cluster::internal {

// OK for NATS_OK. Unavailable for what a retry may cure (no connection, no responders, a timeout,
// no JetStream quorum); NotFound, AlreadyExists and FailedPrecondition where JetStream says so;
// Internal otherwise. `what` says what was attempted ("publish to tessera.events.default").
absl::Status FromNats(natsStatus status, std::string_view what, jsErrCode js_error = static_cast<jsErrCode>(0));

}  // namespace tessera::cluster::internal
