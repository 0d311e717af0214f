#pragma once

// LogPrefetcher is the resolver's first stage. On a thread of its own it reads one space's
// accepted-event log from a given sequence, prepares every record (resolve/event_preparer.h: decode,
// identifiers, normalization, traits, consent) and hands the prepared events to the apply stage in
// log order through a bounded queue, so that the apply stage (one thread, owning the identity graph
// and the order of everything) spends its time on the graph and the profiles only.
//
// It follows the log: when the apply stage asks it to read on (ReadOn), the reader goes on from
// where it stopped to the end of the log as it is then, so the read-ahead survives from one
// resolver round to the next. Nothing it does depends on the graph,
// so prefetching cannot change what is applied. Memory is bounded by max_chunks * chunk_events
// prepared events.
//
// Thread-safety: Restart, Next and Stop are for the apply stage's thread only.

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "profile_store/store.h"
#include "resolve/event_preparer.h"

namespace tessera::resolve {

struct PrefetchOptions {
  size_t chunk_events = 256;  // Prepared events handed over at a time.
  size_t max_chunks = 8;      // Chunks waiting for the apply stage at most.
};

class LogPrefetcher {
 public:
  LogPrefetcher(profile_store::Store& store, std::string space, const EventPreparer& preparer,
                PrefetchOptions options = {});
  ~LogPrefetcher();
  LogPrefetcher(const LogPrefetcher&) = delete;
  LogPrefetcher& operator=(const LogPrefetcher&) = delete;

  // Drops whatever was read and reads the log again from `from_sequence` to its end.
  void Restart(uint64_t from_sequence);
  // Reads on from where reading stopped, without dropping anything, to the end of the log as it is
  // now (what was committed before this call).
  void ReadOn();
  // The next prepared event after the previous one, valid until the next call; nullptr once every
  // record committed before the latest Restart or ReadOn has been handed over (later ones may come
  // first, when the reader saw them). After an error of the store, Next returns it until a Restart.
  absl::StatusOr<PreparedEvent*> Next();
  // Ends the thread (also done by the destructor).
  void Stop();

 private:
  struct Chunk {
    uint64_t generation = 0;
    std::vector<PreparedEvent> events;
    uint64_t pass = 0;     // Not 0: the read asked for by request `pass` ended with these events.
    absl::Status status;   // Not OK: reading failed after these events.
  };

  void Run();
  // Reads from `next` to the end of the log for `generation` and request `pass`, and moves `next`
  // past what it read. False when reading failed (the error was handed over) or a Restart or Stop
  // came.
  bool ReadFrom(uint64_t& next, uint64_t pass, uint64_t generation);
  // Hands `chunk` over, waiting for room; false when a newer request or Stop made it stale.
  bool Push(Chunk chunk);

  profile_store::Store& store_;
  const std::string space_;
  const EventPreparer& preparer_;
  const PrefetchOptions options_;

  std::mutex mutex_;
  std::condition_variable changed_;
  uint64_t generation_ = 0;        // Of the latest Restart.
  uint64_t from_sequence_ = 0;     // Where the latest Restart reads from.
  uint64_t requested_pass_ = 0;    // Counts Restart and ReadOn calls.
  std::deque<Chunk> queue_;
  bool stopping_ = false;

  // The apply stage's side (its thread only).
  Chunk current_;
  size_t next_index_ = 0;
  uint64_t handed_pass_ = 0;  // The read asked for by this request was handed over.
  bool started_ = false;         // Until the first Restart there is nothing to read.
  std::thread thread_;
};

}  // namespace tessera::resolve
