#pragma once

// SpaceApplier: one space in a process that applies the stream (docs/cluster.md): a resolver or a
// replica. Both copy the space's stream into the local log (StreamFollower), where the process's
// resolver applies it, so their state is the same at the same position.
//
// A resolver also contends for the space's lease (SpaceLeases). The holder follows with the
// space's durable consumer, whose acknowledgement floor then shows what the cluster's resolver has
// copied into its log, and it is the one process that may act outward for the space; the others wait as hot
// standbys, following with ephemeral consumers, and one of them takes the lease within a TTL of
// the holder's death. The holder renews at a quarter of the TTL and stops acting at the lease's
// local deadline when renewals fail; on Stop it releases the lease so a standby need not wait. A
// resolver whose store cannot follow the stream (StreamFollower::error) gives the lease up and
// does not contend again.
//
// Thread-safety: public methods may be called from any thread.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "absl/status/status.h"
#include "cluster/nats_connection.h"
#include "cluster/space_lease.h"
#include "cluster/stream_follower.h"

namespace tessera::cluster {

struct SpaceApplierOptions {
  std::string space;
  std::string member;  // This process's name, written as the lease's holder.
  FollowerOptions follower;  // Its space is set from `space`.
};

class SpaceApplier {
 public:
  // `leases` is null for a replica, which never holds a lease.
  SpaceApplier(NatsConnection& nats, ingest::GroupCommitWriter& log_writer, profile_store::Store& store,
               SpaceLeases* leases, SpaceApplierOptions options);
  ~SpaceApplier();  // Stops.
  SpaceApplier(const SpaceApplier&) = delete;
  SpaceApplier& operator=(const SpaceApplier&) = delete;

  absl::Status Start();
  // Stops following and releases the lease if held.
  void Stop();

  const std::string& space() const { return options_.space; }
  const StreamFollower& follower() const { return follower_; }
  // Whether this process holds the space's lease now, and its fencing token (0 when not).
  bool lease_held() const;
  uint64_t fencing_token() const;

 private:
  void Contend();

  SpaceLeases* leases_;
  const SpaceApplierOptions options_;
  StreamFollower follower_;

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;        // Guarded by mutex_.
  std::optional<Lease> lease_;   // Guarded by mutex_.
  std::thread thread_;
};

}  // namespace tessera::cluster
