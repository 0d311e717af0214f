#pragma once

// StreamFollower: copies one space's JetStream stream, in stream order, into this process's local
// accepted-event log, where the resolver applies it exactly as in single-node mode. Resolvers and
// replicas both follow; since every follower writes the same events in the same order through the
// same dedup window, their logs, and so their graphs and profiles, are equal at equal positions.
//
// The position (the last stream sequence copied) is written in the same synced batch as the
// events it covers (GroupCommitWriter::SubmitMarked), so after a crash the follower resumes exactly
// after what its log holds: nothing is copied twice or skipped. Messages are read with a pull
// consumer starting at position + 1: a durable one (named per space, the resolver's, whose
// acknowledgement floor shows what the lease holder has applied) or an ephemeral one (replicas and
// standbys). A consumer lost with a NATS server is made again from the position.
//
// A message this build cannot decode is still copied, so that the resolver sends it to the
// dead-letter store with the reason, identically on every follower. A sequence the consumer does
// not deliver is never skipped: only the scrubber deletes messages, under the scrub mark, and a
// store below the mark, or before the stream's first message, cannot follow (it must be restored
// from a newer backup): the follower then stops and says so (error()). Any other gap is read again.
//
// Thread-safety: public methods may be called from any thread.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "cluster/nats_connection.h"
#include "ingest/group_commit_writer.h"
#include "profile_store/store.h"

namespace tessera::cluster {

struct FollowerOptions {
  std::string space = {};
  // The durable consumer's name, used while UseDurable(true) (the lease holder); otherwise the
  // consumer is ephemeral.
  std::string durable = "tessera_resolver";
  int fetch_batch = 1'000;                    // Most messages copied in one synced write.
  std::chrono::milliseconds fetch_wait{500};  // How long one fetch waits for new messages.
  std::chrono::milliseconds retry_wait{250};  // Pause after NATS or the local log refused.
  // Checked before each acknowledgement of a durable consumer: a holder whose lease ran out must
  // not move the consumer on (the next holder makes its own from its store's position).
  std::function<bool()> may_acknowledge = {};
  // The space's scrub mark in the stream made at the given time (ClusterSuppression::
  // ScrubbedThrough; 0 for a mark of another stream): messages up to it may have been erased from
  // the stream, so a store that has copied less cannot follow. Unset: never checked.
  std::function<absl::StatusOr<uint64_t>(int64_t stream_created_ns)> scrubbed_through = {};
};

// The local store's record of what it copied from a space's stream.
struct CopiedPosition {
  uint64_t stream_sequence = 0;  // Last stream sequence copied (0: none).
  int64_t stream_created_ns = 0;  // When the stream copied from was made (0: unknown).
  uint64_t log_sequence = 0;     // Last local log sequence written with it (0: none).
};

// kIntakeMeta key of a space's copied position: "stream/<space>/position" -> stream sequence, the
// stream's creation time and the log sequence, each big-endian 64 (16 bytes, without the creation
// time, in the first build that followed streams).
std::string CopiedPositionKey(std::string_view space);
absl::StatusOr<CopiedPosition> ReadCopiedPosition(const profile_store::Store& store, std::string_view space);

class StreamFollower {
 public:
  StreamFollower(NatsConnection& nats, ingest::GroupCommitWriter& log_writer, profile_store::Store& store,
                 FollowerOptions options);
  ~StreamFollower();  // Stops.
  StreamFollower(const StreamFollower&) = delete;
  StreamFollower& operator=(const StreamFollower&) = delete;

  // Reads the position and starts copying on a thread of its own. The log writer must be running.
  absl::Status Start();
  // Finishes the batch in progress (its events durable) and stops.
  void Stop();
  // Switches between the durable consumer (the lease holder's: made anew from this store's
  // position, replacing the previous holder's) and an ephemeral one, at the next fetch.
  void UseDurable(bool durable) { durable_wanted_.store(durable); }

  const std::string& space() const { return options_.space; }
  // Last stream sequence durably copied.
  uint64_t copied() const { return copied_.load(std::memory_order_acquire); }
  // The stream's last sequence as last seen (0 before any message); copied() lags it by the rest.
  uint64_t stream_last() const { return stream_last_.load(std::memory_order_relaxed); }
  // The last stream sequence whose events are all at or before `applied_log_sequence` in the local
  // log: what a resolver that has applied that far reflects. Never less than an earlier answer;
  // 0 when unknown (after a restart, until the resolver passes the log's end at start).
  uint64_t StreamPositionAt(uint64_t applied_log_sequence) const;
  // Gaps the consumer left (each read again from the position, never skipped).
  uint64_t gaps() const { return gaps_.load(std::memory_order_relaxed); }
  // OK while following; the reason when it stopped for good.
  absl::Status error() const;

 private:
  struct Subscription;
  void Run();
  // Copies one fetched batch; false when the follower must stop.
  bool CopyBatch(natsMsgList& list, Subscription& subscription);
  // Writes `entries` and the position `last_sequence` in one synced batch, and waits for it.
  absl::Status Submit(const std::vector<ingest::LogEntry>& entries, uint64_t last_sequence);
  // Checks that the store can follow the stream from its position: FailedPrecondition when the
  // stream was made anew or no longer holds the messages after the position.
  absl::Status CheckFollowable();
  // A pull consumer from the position on: durable when `durable` (the previous holder's is deleted
  // first), ephemeral otherwise. Null (after a pause) when NATS refused; checked to be new.
  std::unique_ptr<Subscription> Subscribe(bool durable);
  // Logs (at most every 30 s for the same gap) that the consumer skipped first..last.
  void ReportGap(uint64_t first, uint64_t last);
  void Pause();
  void Fail(absl::Status status);

  NatsConnection& nats_;
  ingest::GroupCommitWriter& log_writer_;
  profile_store::Store& store_;
  const FollowerOptions options_;

  std::atomic<uint64_t> copied_{0};
  std::atomic<int64_t> stream_created_ns_{0};  // Of the stream followed (from the store, then NATS).
  std::atomic<uint64_t> stream_last_{0};
  std::atomic<bool> stopping_{false};
  std::atomic<bool> durable_wanted_{false};
  std::atomic<uint64_t> gaps_{0};
  uint64_t gap_first_ = 0;          // Follower thread only: the gap last reported, and when.
  std::chrono::steady_clock::time_point gap_reported_{};
  mutable std::mutex mutex_;
  mutable std::deque<CopiedPosition> marks_;  // Guarded by mutex_: copies not known applied, oldest first.
  mutable uint64_t last_answer_ = 0;           // Guarded by mutex_: StreamPositionAt never goes back.
  absl::Status error_;                // Guarded by mutex_.
  std::thread thread_;
};

}  // namespace tessera::cluster
