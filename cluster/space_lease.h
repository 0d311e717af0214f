#pragma once

// SpaceLeases: which process is a space's resolver. Leases live in a JetStream key-value bucket,
// one key per space, whose entries expire `ttl` after their last write: a holder renews well within
// the TTL, and when it dies the key expires and a standby takes over.
//
// Every write is a compare-and-set on the key's revision, so two processes never both take a
// space. A holder also keeps a local deadline (Lease::valid_until, within the TTL of its last
// successful write): one that missed its renewals (paused, cut off from NATS) stops at it, before
// the key can expire and be taken by another. The fencing token is the bucket's revision when the
// lease was taken; it grows with every new holder, so anything that records it can refuse an
// older holder's work (nothing records it yet).
//
// Thread-safety: any thread may call any method; one Lease value belongs to one thread.

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "cluster/nats_connection.h"

namespace tessera::cluster {

struct LeaseOptions {
  std::chrono::seconds ttl{10};            // A lease not renewed for this long is free.
  int replicas = 3;                        // Copies of the bucket, like the event streams.
  std::string bucket = "tessera_leases";
};

struct Lease {
  std::string space;
  std::string holder;      // Who holds it (a process's name, e.g. host:port).
  uint64_t token = 0;      // Fencing token: the bucket's revision when it was taken.
  uint64_t revision = 0;   // The revision of the last write, for the next compare-and-set.
  // Until when the holder may act: three quarters of a TTL after its last successful write was
  // sent. A holder must check it before acting and stop at it when renewals fail, whether or not
  // NATS can tell it that it lost the lease (it may be cut off from NATS).
  std::chrono::steady_clock::time_point valid_until{};

  bool HeldAt(std::chrono::steady_clock::time_point now) const { return now < valid_until; }
};

class SpaceLeases {
 public:
  // The bucket, created first if it does not exist and `create` is set; NotFound when it does not
  // exist and `create` is not set.
  static absl::StatusOr<std::unique_ptr<SpaceLeases>> Open(NatsConnection& nats, LeaseOptions options,
                                                           bool create = true);
  ~SpaceLeases();
  SpaceLeases(const SpaceLeases&) = delete;
  SpaceLeases& operator=(const SpaceLeases&) = delete;

  // Takes the space's lease for `holder` if nobody holds it (never taken, expired or released);
  // nullopt when someone else does (see Holder).
  absl::StatusOr<std::optional<Lease>> TryAcquire(std::string_view space, std::string_view holder);

  // Extends `lease` by a TTL from now. FailedPrecondition when it was lost (superseded, or past
  // valid_until without a renewal); the holder must then stop acting for the space at once. Another
  // error (NATS unreachable) leaves the lease held until valid_until: retry before it.
  absl::Status Renew(Lease& lease);

  // Gives the lease up so that a standby need not wait for the TTL. FailedPrecondition when it was
  // no longer held.
  absl::Status Release(const Lease& lease);

  // Who holds the space's lease; nullopt when nobody does.
  absl::StatusOr<std::optional<std::string>> Holder(std::string_view space);

  const LeaseOptions& options() const { return options_; }

 private:
  SpaceLeases(NatsConnection& nats, LeaseOptions options, kvStore* bucket);
  std::chrono::steady_clock::time_point ValidUntil(std::chrono::steady_clock::time_point sent) const;

  NatsConnection& nats_;
  LeaseOptions options_;  // ttl: the bucket's own, when it existed with another.
  kvStore* bucket_;
};

}  // namespace tessera::cluster
