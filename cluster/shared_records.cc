#include "cluster/shared_records.h"

#include "cluster/internal/kv_bucket.h"
#include "cluster/internal/nats_error.h"

namespace tessera::cluster {

absl::StatusOr<std::unique_ptr<SharedRecords>> SharedRecords::Open(NatsConnection& nats, const std::string& name,
                                                                   int replicas) {
  absl::StatusOr<kvStore*> bucket = internal::OpenBucket(
      nats, {.name = name, .ttl = std::chrono::seconds(0), .replicas = replicas, .what = "shared records bucket"},
      /*create=*/true);
  if (!bucket.ok()) return bucket.status();
  return std::unique_ptr<SharedRecords>(new SharedRecords(*bucket));
}

SharedRecords::~SharedRecords() { kvStore_Destroy(bucket_); }

absl::StatusOr<std::optional<std::string>> SharedRecords::Get(const std::string& key) {
  kvEntry* entry = nullptr;
  natsStatus status = kvStore_Get(&entry, bucket_, key.c_str());
  if (status == NATS_NOT_FOUND) return std::optional<std::string>();
  if (absl::Status s = internal::FromNats(status, "read " + key); !s.ok()) return s;
  std::string value(static_cast<const char*>(kvEntry_Value(entry)), static_cast<size_t>(kvEntry_ValueLen(entry)));
  kvEntry_Destroy(entry);
  return std::optional<std::string>(std::move(value));
}

absl::Status SharedRecords::Put(const std::string& key, std::string_view value) {
  uint64_t revision = 0;
  return internal::FromNats(
      kvStore_Put(&revision, bucket_, key.c_str(), value.data(), static_cast<int>(value.size())), "write " + key);
}

}  // namespace tessera::cluster
