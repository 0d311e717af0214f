#pragma once

// LoggedEvents reads events from one space's accepted log as the JSON destinations send
// (ingest::RecordAsJson), for every delivery of that space. Outbox event rows name only their log
// position (activation/outbox.h), and a space's deliveries read the same positions moments apart:
// the events read and decoded in the last few seconds are kept, so the second and third
// destination take them from memory instead of reading the log and decoding again.
//
// What is kept is bounded in count and in age: an event is never served more than `max_age` after
// it was read from the log, so an erasure or a retention sweep that removed it is seen by every
// read that starts later than that (the outbox rows of an erased person are deleted with it; a
// row read just before then was going to be sent either way).
//
// Thread-safety: Read may be called from any thread.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "profile_store/store.h"

namespace tessera::activation {

class LoggedEvents {
 public:
  struct Limits {
    size_t max_events = 8192;
    std::chrono::milliseconds max_age{5000};
  };

  LoggedEvents(profile_store::Store& store, std::string space, Limits limits);
  LoggedEvents(profile_store::Store& store, std::string space) : LoggedEvents(store, std::move(space), Limits{}) {}

  // The event at each log position, as JSON; nullopt for one no longer in the log. Positions in
  // ascending order are cheapest (one log iterator walks them); any order is answered.
  absl::StatusOr<std::vector<std::optional<std::string>>> Read(const std::vector<uint64_t>& positions);

  // Reads answered from memory and from the log, for tests and metrics.
  uint64_t hits() const;
  uint64_t misses() const;

 private:
  struct Kept {
    std::string json;
    std::chrono::steady_clock::time_point read_at;
  };
  // Reads the positions in `wanted` (ascending) from the log into `found`; missing ones stay out.
  absl::Status ReadFromLog(const std::vector<uint64_t>& wanted, std::map<uint64_t, std::string>& found) const;
  void Keep(std::map<uint64_t, std::string> found, std::chrono::steady_clock::time_point now);

  profile_store::Store& store_;
  const std::string space_;
  const Limits limits_;

  mutable std::mutex mutex_;
  std::map<uint64_t, Kept> kept_;  // By log position; the lowest are dropped first.
  uint64_t hits_ = 0;
  uint64_t misses_ = 0;
};

}  // namespace tessera::activation
