#include "cluster/member_registry.h"

#include "absl/strings/ascii.h"
#include "cluster/internal/kv_bucket.h"
#include "cluster/internal/nats_error.h"

namespace tessera::cluster {

absl::StatusOr<std::unique_ptr<MemberRegistry>> MemberRegistry::Open(NatsConnection& nats,
                                                                    MemberRegistryOptions options, bool create) {
  absl::StatusOr<kvStore*> bucket = internal::OpenBucket(
      nats, {.name = options.bucket, .ttl = options.ttl, .replicas = options.replicas, .what = "member bucket"},
      create);
  if (!bucket.ok()) return bucket.status();
  return std::unique_ptr<MemberRegistry>(new MemberRegistry(*bucket));
}

MemberRegistry::~MemberRegistry() { kvStore_Destroy(bucket_); }

std::string MemberRegistry::KeyOf(std::string_view name) {
  std::string key(name.empty() ? "unnamed" : name);
  for (char& c : key) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_') c = '_';
  }
  return key;
}

absl::Status MemberRegistry::Announce(std::string_view member, std::string_view report) {
  const std::string key = KeyOf(member);
  uint64_t revision = 0;
  natsStatus status =
      kvStore_Put(&revision, bucket_, key.c_str(), report.data(), static_cast<int>(report.size()));
  return internal::FromNats(status, "announce member " + key);
}

absl::StatusOr<std::vector<std::pair<std::string, std::string>>> MemberRegistry::List() {
  std::vector<std::pair<std::string, std::string>> members;
  kvKeysList keys{};
  natsStatus status = kvStore_Keys(&keys, bucket_, nullptr);
  if (status == NATS_NOT_FOUND) return members;  // No key at all.
  if (status != NATS_OK) return internal::FromNats(status, "list members");
  for (int i = 0; i < keys.Count; ++i) {
    kvEntry* entry = nullptr;
    // A member that expired between the two calls is simply left out.
    if (kvStore_Get(&entry, bucket_, keys.Keys[i]) != NATS_OK) continue;
    members.emplace_back(keys.Keys[i], std::string(static_cast<const char*>(kvEntry_Value(entry)),
                                                   static_cast<size_t>(kvEntry_ValueLen(entry))));
    kvEntry_Destroy(entry);
  }
  kvKeysList_Destroy(&keys);
  return members;
}

}  // namespace tessera::cluster
