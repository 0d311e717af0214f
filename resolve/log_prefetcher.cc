#include "resolve/log_prefetcher.h"

#include <pthread.h>

#include <algorithm>
#include <utility>

#include "ingest/accepted_log.h"

namespace tessera::resolve {

LogPrefetcher::LogPrefetcher(profile_store::Store& store, std::string space, const EventPreparer& preparer,
                             PrefetchOptions options)
    : store_(store), space_(std::move(space)), preparer_(preparer), options_(options) {
  thread_ = std::thread([this] { Run(); });
}

LogPrefetcher::~LogPrefetcher() { Stop(); }

void LogPrefetcher::Stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  changed_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void LogPrefetcher::Restart(uint64_t from_sequence) {
  {
    std::lock_guard lock(mutex_);
    ++generation_;
    ++requested_pass_;
    from_sequence_ = from_sequence;
    queue_.clear();
  }
  changed_.notify_all();
  current_ = Chunk{};
  next_index_ = 0;
  started_ = true;
}

void LogPrefetcher::ReadOn() {
  if (!started_) return;
  {
    std::lock_guard lock(mutex_);
    ++requested_pass_;
  }
  changed_.notify_all();
}

absl::StatusOr<PreparedEvent*> LogPrefetcher::Next() {
  if (!started_) return nullptr;
  for (;;) {
    if (next_index_ < current_.events.size()) return &current_.events[next_index_++];
    if (!current_.status.ok()) return current_.status;
    std::unique_lock lock(mutex_);
    if (queue_.empty() && handed_pass_ == requested_pass_) return nullptr;
    changed_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
    if (stopping_) return absl::CancelledError("the resolver's log reader stopped");
    current_ = std::move(queue_.front());
    queue_.pop_front();
    lock.unlock();
    changed_.notify_all();  // Room for the reader.
    next_index_ = 0;
    handed_pass_ = std::max(handed_pass_, current_.pass);
  }
}

void LogPrefetcher::Run() {
  const std::string name = "prep:" + space_.substr(0, 10);
  pthread_setname_np(pthread_self(), name.c_str());  // Tells the stages apart in a profile.
  uint64_t generation = 0;
  uint64_t next = 0;       // The next sequence to read.
  uint64_t done_pass = 0;  // The latest request read for.
  bool failed = false;     // Reading failed; only a Restart reads again.
  for (;;) {
    uint64_t pass = 0;
    {
      std::unique_lock lock(mutex_);
      changed_.wait(lock, [&] {
        return stopping_ || generation_ != generation || (!failed && requested_pass_ != done_pass);
      });
      if (stopping_) return;
      if (generation_ != generation) {
        generation = generation_;
        next = from_sequence_;
        failed = false;
      }
      pass = requested_pass_;
    }
    // The iterator is made after the request, so it sees everything committed before it.
    if (ReadFrom(next, pass, generation)) {
      done_pass = pass;
    } else {
      failed = true;  // Or stale: the wait above sees the new generation.
    }
  }
}

bool LogPrefetcher::ReadFrom(uint64_t& next, uint64_t pass, uint64_t generation) {
  ingest::AcceptedLog log(store_);
  Chunk chunk;
  chunk.generation = generation;
  chunk.events.reserve(options_.chunk_events);
  bool stale = false;
  absl::Status scanned = log.Scan(space_, next, [&](uint64_t sequence, std::string_view record) {
    chunk.events.push_back(preparer_.Prepare(sequence, record));
    next = sequence + 1;
    if (chunk.events.size() < options_.chunk_events) return true;
    Chunk full = std::exchange(chunk, Chunk{});
    chunk.generation = generation;
    chunk.events.reserve(options_.chunk_events);
    stale = !Push(std::move(full));
    return !stale;
  });
  if (stale) return false;
  const bool ok = scanned.ok();
  chunk.pass = ok ? pass : 0;
  chunk.status = std::move(scanned);
  return Push(std::move(chunk)) && ok;
}

bool LogPrefetcher::Push(Chunk chunk) {
  std::unique_lock lock(mutex_);
  changed_.wait(lock, [&] {
    return stopping_ || generation_ != chunk.generation || queue_.size() < options_.max_chunks;
  });
  if (stopping_ || generation_ != chunk.generation) return false;
  queue_.push_back(std::move(chunk));
  lock.unlock();
  changed_.notify_all();
  return true;
}

}  // namespace tessera::resolve
