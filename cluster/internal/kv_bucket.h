#pragma once

// Internal to cluster/: opening the JetStream key-value buckets cluster mode keeps (leases,
// members).

#include <chrono>
#include <string>

#include "absl/status/statusor.h"
#include "cluster/nats_connection.h"

namespace tessera::cluster::internal {

struct BucketOptions {
  std::string name;
  std::chrono::seconds ttl{0};  // Entries expire this long after their last write; 0: never.
  int replicas = 3;
  std::string what;             // For errors: "lease bucket".
};

// The bucket, created first (file storage, one value per key) if it does not exist and `create` is
// set; NotFound when it does not exist and `create` is not set. A bucket that exists with other
// settings is used as it is rather than failing every process that starts. The caller destroys
// the result with kvStore_Destroy.
absl::StatusOr<kvStore*> OpenBucket(NatsConnection& nats, const BucketOptions& options, bool create);

}  // namespace tessera::cluster::internal
