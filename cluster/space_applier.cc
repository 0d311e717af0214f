#include "cluster/space_applier.h"

#include <pthread.h>

#include <algorithm>
#include <cstdio>
#include <utility>

namespace tessera::cluster {
namespace {

FollowerOptions FollowerOptionsOf(const SpaceApplierOptions& options) {
  FollowerOptions follower = options.follower;
  follower.space = options.space;
  return follower;
}

}  // namespace

SpaceApplier::SpaceApplier(NatsConnection& nats, ingest::GroupCommitWriter& log_writer, profile_store::Store& store,
                           SpaceLeases* leases, SpaceApplierOptions options)
    : leases_(leases),
      options_(std::move(options)),
      follower_(nats, log_writer, store, [this] {
        FollowerOptions follower = FollowerOptionsOf(options_);
        // Only the holder moves the durable consumer on, and only within its lease.
        follower.may_acknowledge = [this] { return lease_held(); };
        return follower;
      }()) {}

SpaceApplier::~SpaceApplier() { Stop(); }

absl::Status SpaceApplier::Start() {
  if (absl::Status status = follower_.Start(); !status.ok()) return status;
  if (leases_ != nullptr) {
    thread_ = std::thread([this] {
      pthread_setname_np(pthread_self(), "space-lease");
      Contend();
    });
  }
  return absl::OkStatus();
}

void SpaceApplier::Stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
  follower_.Stop();
  std::optional<Lease> held;
  {
    std::lock_guard lock(mutex_);
    held = std::exchange(lease_, std::nullopt);
  }
  if (held && leases_ != nullptr) {
    if (absl::Status status = leases_->Release(*held); !status.ok() && !absl::IsFailedPrecondition(status)) {
      std::fprintf(stderr, "tessera: space %s: releasing the lease: %s (a standby takes it after the TTL)\n",
                   options_.space.c_str(), std::string(status.message()).c_str());
    }
  }
}

bool SpaceApplier::lease_held() const {
  std::lock_guard lock(mutex_);
  return lease_.has_value() && lease_->HeldAt(std::chrono::steady_clock::now());
}

uint64_t SpaceApplier::fencing_token() const {
  std::lock_guard lock(mutex_);
  return lease_.has_value() && lease_->HeldAt(std::chrono::steady_clock::now()) ? lease_->token : 0;
}

void SpaceApplier::Contend() {
  const auto interval =
      std::max<std::chrono::milliseconds>(std::chrono::milliseconds(100), leases_->options().ttl / 4);
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    std::optional<Lease> held = lease_;
    lock.unlock();
    bool holding = false;
    if (!follower_.error().ok()) {
      // This store cannot follow the stream: a healthy standby must be the resolver.
      if (held) {
        if (absl::Status released = leases_->Release(*held); !released.ok()) {
          std::fprintf(stderr, "tessera: space %s: releasing the lease: %s\n", options_.space.c_str(),
                       std::string(released.message()).c_str());
        }
        held.reset();
      }
    } else if (held) {
      // Renew a copy: the lease stays readable (lease_held) while the call waits on NATS.
      absl::Status renewed = leases_->Renew(*held);
      if (renewed.ok()) {
        holding = true;
      } else if (absl::IsFailedPrecondition(renewed) || !held->HeldAt(std::chrono::steady_clock::now())) {
        std::fprintf(stderr, "tessera: space %s: lease lost: %s\n", options_.space.c_str(),
                     std::string(renewed.message()).c_str());
        held.reset();
      } else {
        holding = true;  // NATS did not answer; still ours until valid_until, retried next round.
      }
    } else {
      absl::StatusOr<std::optional<Lease>> taken = leases_->TryAcquire(options_.space, options_.member);
      if (taken.ok() && taken->has_value()) {
        held = **taken;
        holding = true;
        std::fprintf(stderr, "tessera: space %s: this process is the resolver now (fencing token %llu)\n",
                     options_.space.c_str(), static_cast<unsigned long long>(held->token));
      }
    }
    follower_.UseDurable(holding);
    lock.lock();
    lease_ = held;
    wake_.wait_for(lock, interval, [this] { return stopping_; });
  }
}

}  // namespace tessera::cluster
