#pragma once

// DeliveryGate: how delivery runs in cluster mode (docs/activation.md, "In cluster mode"). Every
// resolver of a space applies the same stream with the same engine, so each writes the same
// outbox rows under the same numbers; only the holder of the space's lease sends them. The holder
// records after each batch how far it got (the row's number and a fingerprint of the row), and
// whether the destination is paused, in a record every member reads: a standby deletes what the
// holder delivered from its own outbox, and the standby that takes the lease goes on from there.
// A record that does not match the local row (numbering that differs: a destination configured at
// different moments on different members) is not followed: that member then sends from its own
// cursor, which may repeat rows but never skips one.
//
// Thread-safety: implementations are called from every delivery thread.

#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace tessera::activation {

class DeliveryGate {
 public:
  virtual ~DeliveryGate() = default;
  // Whether this process holds `space`'s lease now.
  virtual bool MaySend(std::string_view space) const = 0;
  // The shared record under `key` (nullopt: none yet). Unavailable while the cluster cannot be read.
  virtual absl::StatusOr<std::optional<std::string>> Load(const std::string& key) = 0;
  virtual absl::Status Store(const std::string& key, std::string_view value) = 0;
};

}  // namespace tessera::activation
