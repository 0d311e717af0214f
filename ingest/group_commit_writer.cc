#include "ingest/group_commit_writer.h"

#include <pthread.h>

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "ingest/event_codec.h"

namespace tessera::ingest {

LogEntry MakeLogEntry(const CanonicalEvent& event) {
  LogEntry entry;
  entry.space = event.space;
  entry.dedup_key = DedupWindow::Key(event.space, event.message_id);
  EncodeEvent(event, entry.record);
  entry.received_at = event.received_at;
  return entry;
}

GroupCommitWriter::GroupCommitWriter(profile_store::Store& store, GroupCommitOptions options, IngestMetrics& metrics)
    : store_(store),
      options_(std::move(options)),
      metrics_(metrics),
      log_(store),
      dedup_(store, options_.dedup_window) {}

GroupCommitWriter::~GroupCommitWriter() { Stop(); }

absl::Status GroupCommitWriter::Start() {
  if (absl::Status status = log_.Recover(); !status.ok()) return status;
  std::lock_guard lock(mutex_);
  if (running_) return absl::FailedPreconditionError("group-commit writer already started");
  running_ = true;
  stopping_ = false;
  thread_ = std::thread([this] {
    // Named so that top -H and profiles tell the threads apart (at most 15 characters).
    pthread_setname_np(pthread_self(), "log-writer");
    Run();
  });
  return absl::OkStatus();
}

absl::Status GroupCommitWriter::Submit(std::vector<LogEntry> entries, CommitCallback done) {
  return Enqueue(Request{std::move(entries), std::move(done), std::chrono::steady_clock::now(), std::nullopt});
}

absl::Status GroupCommitWriter::SubmitMarked(std::vector<LogEntry> entries, IntakeMark mark, CommitCallback done) {
  return Enqueue(Request{std::move(entries), std::move(done), std::chrono::steady_clock::now(), std::move(mark)});
}

absl::Status GroupCommitWriter::Enqueue(Request request) {
  const size_t count = request.entries.size();
  {
    std::lock_guard lock(mutex_);
    if (!running_ || stopping_) return absl::UnavailableError("the server is shutting down");
    if (queued_events_ > 0 && queued_events_ + count > options_.queue_capacity_events) {
      return absl::ResourceExhaustedError(
          absl::StrCat("ingestion queue full (", queued_events_, " events waiting); retry later"));
    }
    queued_events_ += count;
    queue_.push_back(std::move(request));
  }
  metrics_.queue_depth_events.fetch_add(static_cast<int64_t>(count), std::memory_order_relaxed);
  wake_.notify_one();
  return absl::OkStatus();
}

size_t GroupCommitWriter::queued_events() const {
  std::lock_guard lock(mutex_);
  return queued_events_;
}

void GroupCommitWriter::Stop() {
  {
    std::lock_guard lock(mutex_);
    if (!running_) return;
    stopping_ = true;
  }
  wake_.notify_one();
  if (thread_.joinable()) thread_.join();
  std::lock_guard lock(mutex_);
  running_ = false;
}

void GroupCommitWriter::Run() {
  std::vector<Request> taken;
  for (;;) {
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [this] { return !queue_.empty() || stopping_; });
      if (queue_.empty()) break;  // stopping, and everything queued has been written
      if (options_.max_delay.count() > 0 && !stopping_) {
        // Trade a little latency for larger batches, but only while the batch is small.
        wake_.wait_for(lock, options_.max_delay, [this] {
          size_t events = 0;
          for (const Request& request : queue_) events += request.entries.size();
          return stopping_ || events >= options_.max_batch_events;
        });
      }
      size_t events = 0;
      size_t bytes = 0;
      while (!queue_.empty()) {
        const Request& next = queue_.front();
        size_t next_bytes = 0;
        for (const LogEntry& entry : next.entries) next_bytes += entry.record.size();
        if (!taken.empty() &&
            (events + next.entries.size() > options_.max_batch_events || bytes + next_bytes > options_.max_batch_bytes)) {
          break;
        }
        events += next.entries.size();
        bytes += next_bytes;
        taken.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    WriteBatchOf(taken);
    taken.clear();
  }
}

void GroupCommitWriter::WriteBatchOf(std::vector<Request>& requests) {
  rocksdb::WriteBatch batch;
  const uint64_t first_sequence = log_.next_sequence();
  std::vector<std::vector<EventOutcome>> outcomes(requests.size());
  absl::Status status = absl::OkStatus();
  size_t accepted = 0;

  // The store's answers for the whole batch at once; a key repeated within it is caught as pending.
  std::vector<std::string_view> keys;
  std::vector<Timestamp> times;
  for (const Request& request : requests) {
    for (const LogEntry& entry : request.entries) {
      keys.push_back(entry.dedup_key);
      times.push_back(entry.received_at);
    }
  }
  absl::StatusOr<std::vector<bool>> stored = dedup_.SeenInStore(keys, times);
  if (!stored.ok()) status = stored.status();
  size_t index = 0;
  std::vector<uint64_t> logged_through(requests.size(), 0);
  Timestamp newest_received{};  // Last log sequence once request r is in.
  for (size_t r = 0; r < requests.size() && status.ok(); ++r) {
    std::vector<LogEntry>& entries = requests[r].entries;
    outcomes[r].reserve(entries.size());
    for (const LogEntry& entry : entries) {
      const bool seen = (*stored)[index++] || dedup_.IsPending(entry.dedup_key);
      if (seen) {
        outcomes[r].push_back(EventOutcome::kDuplicate);
        continue;
      }
      const uint64_t sequence = log_.AddToBatch(entry.space, entry.record, batch);
      dedup_.AddToBatch(entry.dedup_key, entry.received_at, sequence, batch);
      newest_received = std::max(newest_received, entry.received_at);
      outcomes[r].push_back(EventOutcome::kAccepted);
      ++accepted;
    }
    logged_through[r] = log_.next_sequence() - 1;
  }
  bool marked = false;
  for (size_t r = 0; r < requests.size() && status.ok(); ++r) {
    if (!requests[r].mark.has_value()) continue;
    std::string value = requests[r].mark->value;
    profile_store::AppendBigEndian64(value, logged_through[r]);
    batch.Put(store_.handle(profile_store::ColumnFamily::kIntakeMeta), requests[r].mark->key, value);
    marked = true;
  }
  if (status.ok() && (accepted > 0 || marked)) {
    if (accepted > 0) log_.FinishBatch(batch);
    const auto write_start = std::chrono::steady_clock::now();
    status = store_.WriteIntake(batch);
    metrics_.log_write_latency.Record(std::chrono::steady_clock::now() - write_start);
    metrics_.log_batches.fetch_add(1, std::memory_order_relaxed);
  }
  dedup_.EndBatch();

  size_t request_events = 0;
  for (const Request& request : requests) request_events += request.entries.size();
  const auto now = std::chrono::steady_clock::now();
  if (!status.ok()) {
    log_.AbandonBatch(first_sequence);
    metrics_.log_write_errors.fetch_add(1, std::memory_order_relaxed);
  } else {
    metrics_.events_accepted.fetch_add(accepted, std::memory_order_relaxed);
    if (accepted > 0) store_.AdvanceDedupClock(newest_received.time_since_epoch().count());
    metrics_.events_duplicate.fetch_add(request_events - accepted, std::memory_order_relaxed);
    if (accepted > 0 && commit_listener_) commit_listener_(first_sequence, log_.next_sequence() - 1);
  }
  {
    std::lock_guard lock(mutex_);
    queued_events_ -= request_events;
  }
  metrics_.queue_depth_events.fetch_sub(static_cast<int64_t>(request_events), std::memory_order_relaxed);

  for (size_t r = 0; r < requests.size(); ++r) {
    metrics_.commit_wait_latency.Record(now - requests[r].submitted);
    if (status.ok()) {
      requests[r].done(absl::OkStatus(), std::move(outcomes[r]));
    } else {
      requests[r].done(status, {});
    }
  }
}

}  // namespace tessera::ingest
