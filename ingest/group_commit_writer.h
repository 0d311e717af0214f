#pragma once

// GroupCommitWriter makes events durable. Requests from many connections queue here; one writer
// thread takes everything queued (up to a batch limit), drops duplicates, appends the rest to the
// accepted-event log in a single synced RocksDB WriteBatch, and only then reports each request's
// outcome. One fsync thus serves every request that arrived while the previous one ran.
//
// Guarantees: a request's callback reports kAccepted only after its events are on disk. The queue
// is bounded (in events): Submit refuses with ResourceExhausted rather than buffer without limit.
// Callbacks run on the writer thread and must not block; they should hand off to their own thread.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "ingest/accepted_log.h"
#include "ingest/dedup_window.h"
#include "ingest/event.h"
#include "ingest/event_sink.h"
#include "ingest/ingest_metrics.h"
#include "profile_store/store.h"

namespace tessera::ingest {

struct GroupCommitOptions {
  size_t max_batch_events = 20'000;        // Most events in one synced write.
  size_t max_batch_bytes = 32 << 20;       // Most encoded bytes in one synced write.
  std::chrono::microseconds max_delay{0};  // Extra wait for more requests before a small write.
  size_t queue_capacity_events = 200'000;  // Queued events beyond which Submit refuses.
  std::chrono::seconds dedup_window{24 * 3600};
};

class GroupCommitWriter : public EventSink {
 public:
  GroupCommitWriter(profile_store::Store& store, GroupCommitOptions options, IngestMetrics& metrics);
  ~GroupCommitWriter() override;  // Stops (draining the queue) if still running.

  // Recovers the log position and starts the writer thread.
  absl::Status Start() override;

  // Queues `entries`. ResourceExhausted when the queue is full, Unavailable after Stop; in both
  // cases `done` is not called. A request larger than the whole queue is still taken when the
  // queue is empty, so that no valid request can be refused forever.
  absl::Status Submit(std::vector<LogEntry> entries, CommitCallback done) override;

  // A key and value of kIntakeMeta written in the same synced batch as a request's events, so that
  // the two become durable together or not at all: a stream follower's position
  // (cluster/stream_follower.h) can then never run ahead of, or fall behind, the events it copied.
  struct IntakeMark {
    std::string key;
    std::string value;
  };
  // Submit, with `mark` written in the batch that holds the request's events, also when every one
  // is a duplicate (or there is none). The value written is mark.value followed by the log's last
  // sequence once the request's events are in (big-endian 64; 0 for an empty log), so the mark
  // says which prefix of the log it covers. Marks of requests in one batch are written in order.
  absl::Status SubmitMarked(std::vector<LogEntry> entries, IntakeMark mark, CommitCallback done);

  // Events submitted and not yet reported.
  size_t queued_events() const override;

  // Writes everything already queued, reports it, and stops the thread. Later Submits fail.
  void Stop() override;

  // The log's next sequence. Only on the writer thread (in a CommitCallback, say): after a batch is
  // written it is one past the last sequence of that batch.
  uint64_t next_log_sequence() const { return log_.next_sequence(); }

  // Called on the writer thread after each durable batch with the sequences it covered
  // [first, last]; used to wake consumers of the log. Set before Start.
  void SetCommitListener(std::function<void(uint64_t first, uint64_t last)> listener) {
    commit_listener_ = std::move(listener);
  }

  const AcceptedLog& log() const { return log_; }

 private:
  struct Request {
    std::vector<LogEntry> entries;
    CommitCallback done;
    std::chrono::steady_clock::time_point submitted;
    std::optional<IntakeMark> mark;
  };

  absl::Status Enqueue(Request request);
  void Run();
  void WriteBatchOf(std::vector<Request>& requests);

  profile_store::Store& store_;
  const GroupCommitOptions options_;
  IngestMetrics& metrics_;
  AcceptedLog log_;
  DedupWindow dedup_;
  std::function<void(uint64_t, uint64_t)> commit_listener_;

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Request> queue_;
  size_t queued_events_ = 0;
  bool stopping_ = false;
  bool running_ = false;
  std::thread thread_;
};

}  // namespace tessera::ingest
