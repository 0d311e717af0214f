#pragma once

// ClusterSuppression: the suppression list every member of a cluster shares (privacy/
// shared_suppression.h), kept in the JetStream key-value bucket `tessera_suppression`. Its salt is
// the bucket's key `salt`, drawn by the first member that needs it; each suppressed identifier is
// a key `h.<hex of the space>.<hex of its salted hash>` whose value is the erasure request's id;
// `w.<hex of the space>` is the space's scrub mark ("<sequence> <stream creation ns>").
// Neither values nor unsalted hashes leave a member.
//
// A thread reads the whole list once NATS answers (list() is null until then) and then follows
// every addition through a key watcher, made anew when it fails. An identifier a member suppresses
// here is in its own copy at once, and in every other member's within the watcher's delivery.
//
// Thread-safety: every method may be called from any thread.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "cluster/nats_connection.h"
#include "privacy/privacy_store.h"
#include "privacy/shared_suppression.h"
#include "privacy/suppression.h"
#include "profile_store/store.h"

namespace tessera::cluster {

struct ClusterSuppressionOptions {
  std::string bucket = "tessera_suppression";
  int replicas = 3;
  std::chrono::milliseconds retry_wait{1'000};  // Between attempts while NATS or the bucket fails.
};

class ClusterSuppression : public privacy::SharedSuppression {
 public:
  // `store` only lends its handle to the salted hashing (nothing is written to it).
  ClusterSuppression(NatsConnection& nats, profile_store::Store& store, ClusterSuppressionOptions options);
  ~ClusterSuppression() override;  // Stops.
  ClusterSuppression(const ClusterSuppression&) = delete;
  ClusterSuppression& operator=(const ClusterSuppression&) = delete;

  // Makes the bucket and its salt if they do not exist yet (`tessera cluster init`, so that the
  // members starting next do not race to make them), retrying a read JetStream leaves unanswered
  // for up to `timeout`.
  static absl::Status Ensure(NatsConnection& nats, const ClusterSuppressionOptions& options,
                             std::chrono::milliseconds timeout);

  void Start();
  void Stop();

  const privacy::SuppressionList* list() const override { return list_.load(std::memory_order_acquire); }
  absl::Status Suppress(std::string_view space, const std::vector<identity::Identifier>& identifiers,
                        std::string_view request_id) override;

  // The space's scrub mark: the stream sequence through which erased people's messages and
  // erasure commands may have been erased from the stream (cluster/stream_scrubber.h), in the
  // stream made at `stream_created_ns`; sequence 0 when never. A store that has copied less of
  // that stream cannot follow it any more.
  struct ScrubMark {
    uint64_t sequence = 0;
    int64_t stream_created_ns = 0;
  };
  absl::StatusOr<ScrubMark> ScrubbedThrough(std::string_view space) const;
  // Raises the space's scrub mark to `mark` (compare-and-set: never lowered by a writer that read
  // an older one; a mark of an earlier stream of the same name is replaced). Before anything is
  // erased.
  absl::Status RaiseScrubbedThrough(std::string_view space, ScrubMark mark);

  // Waits up to `timeout` until the list has been read once; false if it has not.
  bool WaitLoaded(std::chrono::milliseconds timeout) const;

  // The bucket key of a suppressed identifier's hash in `space`.
  static std::string KeyOf(std::string_view space, std::string_view hash);

 private:
  void Run();
  // Opens the bucket and reads or draws the salt; the list's hashing is then set up.
  absl::Status Prepare();
  // Reads every key, publishes the list, and follows additions until the watcher fails or Stop.
  absl::Status Follow();
  void Wait(std::chrono::milliseconds duration);

  NatsConnection& nats_;
  profile_store::Store& store_;
  const ClusterSuppressionOptions options_;
  kvStore* bucket_ = nullptr;                       // Run's thread sets it once; Suppress reads it after list_.
  std::unique_ptr<privacy::PrivacyStore> hashing_;  // With the cluster's salt.
  std::unique_ptr<privacy::SuppressionList> owned_;
  std::atomic<const privacy::SuppressionList*> list_{nullptr};

  mutable std::mutex mutex_;
  mutable std::condition_variable changed_;
  bool stopping_ = false;  // Guarded by mutex_.
  std::thread thread_;
};

}  // namespace tessera::cluster
