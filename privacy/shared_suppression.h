#pragma once

// SharedSuppression: a suppression list that every gateway of a cluster checks, kept outside any
// one store (cluster/cluster_suppression.h keeps it in NATS). Members add to it when they take an
// erasure request and when they carry one out; gateways refuse events carrying an identifier on
// it. Its hashes use a salt of its own, the same at every member.
//
// Thread-safety: implementations allow every method from any thread.

#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "identity/identifier.h"
#include "privacy/suppression.h"

namespace tessera::privacy {

class SharedSuppression {
 public:
  virtual ~SharedSuppression() = default;

  // The list as known here, or null until it has been read once: a gateway without it cannot
  // know what to refuse, and takes no events.
  virtual const SuppressionList* list() const = 0;

  // Adds `identifiers` (normalized) of `space`, suppressed by erasure `request_id`: durable in the
  // shared list, and in this member's copy, when OK. Unavailable while the list cannot be reached.
  virtual absl::Status Suppress(std::string_view space, const std::vector<identity::Identifier>& identifiers,
                                std::string_view request_id) = 0;
};

}  // namespace tessera::privacy
