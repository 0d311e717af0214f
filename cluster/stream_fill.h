#pragma once

// StreamFill: how full each space's JetStream stream is, so that gateways shed load (429) before
// JetStream refuses publishes at the stream's limits (docs/cluster.md). A thread reads the state
// of every space asked about once a second, and what this gateway publishes is added to it
// (Published; what it published since the previous read began is added back to each read, as the
// read may not show it yet), so a burst through one gateway cannot run past the shedding point
// between two reads (other gateways' show at the next read); the fill is
// the larger of bytes / MaxBytes and messages / MaxMsgs (a stream without limits is never full).
// Until a space's stream has been read, or while NATS does not answer, it counts as not full: an
// unreachable stream is the publish's error to report, not this one's.
//
// Thread-safety: every method may be called from any thread.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

#include "absl/container/flat_hash_map.h"
#include "cluster/nats_connection.h"

namespace tessera::cluster {

class StreamFill {
 public:
  // Sheds at `shed_at` (0 < shed_at <= 1) of a limit.
  StreamFill(NatsConnection& nats, double shed_at, std::chrono::milliseconds interval = std::chrono::seconds(1));
  ~StreamFill();
  StreamFill(const StreamFill&) = delete;
  StreamFill& operator=(const StreamFill&) = delete;

  // Whether the space's stream is at or past the shedding point. The first call for a space adds
  // it to those read.
  bool Shedding(std::string_view space);
  // Counts what is being published to the space's stream until its next read: `bytes` of records
  // (JetStream's own overhead per message is added) in `messages` messages.
  void Published(std::string_view space, uint64_t bytes, uint64_t messages);
  // The fill per space (0 to 1 or more), for metrics.
  absl::flat_hash_map<std::string, double> Fills() const;

 private:
  struct Usage {
    bool read = false;  // Until the first read the stream's limits are unknown.
    double bytes = 0, messages = 0;  // As read, plus what was published since.
    double max_bytes = -1, max_messages = -1;
    // Everything Published so far (never reset), and as it was when the previous read began: a
    // read adds back what was published since then, which it may not see yet (in flight or after
    // it began); what it did see is then counted twice, the safe side.
    double published_bytes = 0, published_messages = 0;
    double previous_bytes = 0, previous_messages = 0;
    double Fill() const;
  };
  void Run();

  NatsConnection& nats_;
  const double shed_at_;
  const std::chrono::milliseconds interval_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  absl::flat_hash_map<std::string, Usage> usage_;  // Guarded by mutex_.
  bool stopping_ = false;                           // Guarded by mutex_.
  std::thread thread_;
};

}  // namespace tessera::cluster
