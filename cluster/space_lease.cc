#include "cluster/space_lease.h"

#include "absl/strings/str_cat.h"
#include "cluster/internal/kv_bucket.h"
#include "cluster/internal/nats_error.h"
#include "cluster/internal/nats_handles.h"

namespace tessera::cluster {
namespace {

using internal::kNanosPerSecond;
using Clock = std::chrono::steady_clock;

// The key's current entry: nullopt when there is none (never written, or expired). A released
// lease is an entry with an empty holder.
struct Current {
  std::string holder;
  uint64_t revision = 0;
};

// Read from the bucket stream's leader (not kvStore_Get, which a lagging follower may answer
// directly): a compare-and-set that just failed must be explained by the latest revision.
absl::StatusOr<std::optional<Current>> ReadCurrent(NatsConnection& nats, const std::string& bucket,
                                                   const std::string& key) {
  const std::string stream = "KV_" + bucket;
  const std::string subject = "$KV." + bucket + "." + key;
  natsMsg* raw = nullptr;
  jsErrCode js_error = static_cast<jsErrCode>(0);
  natsStatus status = js_GetLastMsg(&raw, nats.jetstream(), stream.c_str(), subject.c_str(), nullptr, &js_error);
  internal::NatsMsgPtr message(raw);
  if (status == NATS_NOT_FOUND) return std::optional<Current>();
  if (status != NATS_OK) return internal::FromNats(status, "read lease " + key, js_error);
  const char* operation = nullptr;
  if (natsMsgHeader_Get(message.get(), "KV-Operation", &operation) == NATS_OK && operation != nullptr) {
    return std::optional<Current>();  // DEL or PURGE: no holder.
  }
  return std::optional<Current>(Current{std::string(natsMsg_GetData(message.get()),
                                                    static_cast<size_t>(natsMsg_GetDataLength(message.get()))),
                                        natsMsg_GetSequence(message.get())});
}

// A compare-and-set write of `holder` over revision `last` (0: the key must not exist).
absl::StatusOr<uint64_t> WriteOver(kvStore* bucket, const std::string& key, std::string_view holder,
                                   uint64_t last) {
  uint64_t revision = 0;
  natsStatus status = last == 0 ? kvStore_Create(&revision, bucket, key.c_str(), holder.data(),
                                                 static_cast<int>(holder.size()))
                                : kvStore_Update(&revision, bucket, key.c_str(), holder.data(),
                                                 static_cast<int>(holder.size()), last);
  if (status == NATS_OK) return revision;
  // A failed compare-and-set comes back as a JetStream error on the publish; the key is then read
  // again by the caller, which tells a lost race from a failure.
  return internal::FromNats(status, "write lease " + key);
}

}  // namespace

absl::StatusOr<std::unique_ptr<SpaceLeases>> SpaceLeases::Open(NatsConnection& nats, LeaseOptions options,
                                                              bool create) {
  // Its TTL rules when it existed with another (see the constructor).
  absl::StatusOr<kvStore*> bucket = internal::OpenBucket(
      nats, {.name = options.bucket, .ttl = options.ttl, .replicas = options.replicas, .what = "lease bucket"}, create);
  if (!bucket.ok()) return bucket.status();
  return std::unique_ptr<SpaceLeases>(new SpaceLeases(nats, std::move(options), *bucket));
}

SpaceLeases::SpaceLeases(NatsConnection& nats, LeaseOptions options, kvStore* bucket)
    : nats_(nats), options_(std::move(options)), bucket_(bucket) {
  // A bucket made earlier with another TTL keeps it, and that TTL is the one that expires keys:
  // validity deadlines are reckoned with it.
  kvStatus* status = nullptr;
  if (kvStore_Status(&status, bucket_) == NATS_OK) {
    const int64_t ttl_nanos = kvStatus_TTL(status);
    if (ttl_nanos > 0) options_.ttl = std::chrono::seconds(std::max<int64_t>(1, ttl_nanos / kNanosPerSecond));
    kvStatus_Destroy(status);
  }
}

SpaceLeases::~SpaceLeases() { kvStore_Destroy(bucket_); }

absl::StatusOr<std::optional<Lease>> SpaceLeases::TryAcquire(std::string_view space, std::string_view holder) {
  if (holder.empty()) return absl::InvalidArgumentError("lease holder: empty");
  const std::string key(space);
  auto current = ReadCurrent(nats_, options_.bucket, key);
  if (!current.ok()) return current.status();
  if (current->has_value() && !(*current)->holder.empty()) return std::optional<Lease>();
  const Clock::time_point sent = Clock::now();
  auto revision = WriteOver(bucket_, key, holder, current->has_value() ? (*current)->revision : 0);
  if (!revision.ok()) {
    // Lost a race with another process taking it at the same moment, or a real failure.
    auto now = ReadCurrent(nats_, options_.bucket, key);
    if (now.ok() && now->has_value() && !(*now)->holder.empty() && (*now)->holder != holder) {
      return std::optional<Lease>();
    }
    return revision.status();
  }
  return std::optional<Lease>(Lease{.space = key,
                                    .holder = std::string(holder),
                                    .token = *revision,
                                    .revision = *revision,
                                    .valid_until = ValidUntil(sent)});
}

absl::Status SpaceLeases::Renew(Lease& lease) {
  const Clock::time_point sent = Clock::now();
  auto revision = WriteOver(bucket_, lease.space, lease.holder, lease.revision);
  if (revision.ok()) {
    lease.revision = *revision;
    lease.valid_until = ValidUntil(sent);
    return absl::OkStatus();
  }
  auto now = ReadCurrent(nats_, options_.bucket, lease.space);
  const bool superseded = now.ok() && (!now->has_value() || (*now)->revision != lease.revision);
  // Past its deadline a lease that could not be renewed may already be another's, whatever NATS
  // answers (or fails to answer) now.
  if (superseded || Clock::now() >= lease.valid_until) {
    return absl::FailedPreconditionError(absl::StrCat("lease of space ", lease.space, " lost by ", lease.holder,
                                                      " (token ", lease.token, ")"));
  }
  return revision.status();
}

Clock::time_point SpaceLeases::ValidUntil(Clock::time_point sent) const {
  // The key expires a TTL after the server stored the write, which is after `sent`; a quarter of
  // the TTL is kept in hand for clock rate differences and the time to stop acting.
  const std::chrono::milliseconds ttl = options_.ttl;
  return sent + ttl - ttl / 4;
}

absl::Status SpaceLeases::Release(const Lease& lease) {
  auto revision = WriteOver(bucket_, lease.space, "", lease.revision);
  if (revision.ok()) return absl::OkStatus();
  auto now = ReadCurrent(nats_, options_.bucket, lease.space);
  if (now.ok() && (!now->has_value() || (*now)->revision != lease.revision)) {
    return absl::FailedPreconditionError(
        absl::StrCat("lease of space ", lease.space, " was no longer held by ", lease.holder));
  }
  return revision.status();
}

absl::StatusOr<std::optional<std::string>> SpaceLeases::Holder(std::string_view space) {
  auto current = ReadCurrent(nats_, options_.bucket, std::string(space));
  if (!current.ok()) return current.status();
  if (!current->has_value() || (*current)->holder.empty()) return std::optional<std::string>();
  return std::optional<std::string>((*current)->holder);
}

}  // namespace tessera::cluster
