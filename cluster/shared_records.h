#pragma once

// SharedRecords: small values every member of a cluster reads and the space's lease holder
// writes, one per key, in a JetStream key-value bucket that keeps them without expiry. Activation
// keeps there how far each destination has been delivered and whether it is paused
// (docs/activation.md, "In cluster mode"), so that a standby that takes the lease goes on from
// where the last holder stopped. The values are opaque here.
//
// Thread-safety: any thread may call any method.

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "cluster/nats_connection.h"

namespace tessera::cluster {

class SharedRecords {
 public:
  // The bucket `name`, created first if it does not exist.
  static absl::StatusOr<std::unique_ptr<SharedRecords>> Open(NatsConnection& nats, const std::string& name,
                                                             int replicas);
  ~SharedRecords();
  SharedRecords(const SharedRecords&) = delete;
  SharedRecords& operator=(const SharedRecords&) = delete;

  // `key` is made of [A-Za-z0-9_-] parts joined by '.'. Nullopt when the key was never written.
  absl::StatusOr<std::optional<std::string>> Get(const std::string& key);
  absl::Status Put(const std::string& key, std::string_view value);

 private:
  explicit SharedRecords(kvStore* bucket) : bucket_(bucket) {}
  kvStore* bucket_;
};

}  // namespace tessera::cluster
