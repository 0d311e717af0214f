#include "cluster/internal/kv_bucket.h"

#include "cluster/internal/nats_error.h"
#include "cluster/internal/nats_handles.h"

namespace tessera::cluster::internal {

absl::StatusOr<kvStore*> OpenBucket(NatsConnection& nats, const BucketOptions& options, bool create) {
  kvStore* bucket = nullptr;
  if (!create) {
    natsStatus status = js_KeyValue(&bucket, nats.jetstream(), options.name.c_str());
    if (absl::Status s = FromNats(status, options.what + " " + options.name); !s.ok()) return s;
    return bucket;
  }
  kvConfig config;
  kvConfig_Init(&config);
  config.Bucket = options.name.c_str();
  config.History = 1;
  config.TTL = options.ttl.count() * kNanosPerSecond;  // nats.c takes nanoseconds here.
  config.StorageType = js_FileStorage;
  config.Replicas = options.replicas;
  natsStatus status = js_CreateKeyValue(&bucket, nats.jetstream(), &config);
  if (status != NATS_OK) {
    absl::Status created = FromNats(status, "create " + options.what + " " + options.name);
    // An existing bucket with the same settings is answered OK; one made with others is used.
    status = js_KeyValue(&bucket, nats.jetstream(), options.name.c_str());
    if (status != NATS_OK) return created;
  }
  return bucket;
}

}  // namespace tessera::cluster::internal
