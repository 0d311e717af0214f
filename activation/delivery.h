#pragma once

// Delivery sends one destination's outbox (activation/outbox.h) to it, on its own thread, one
// batch at a time in outbox order, so each profile's events and changes arrive in the order they
// happened, at least once:
//   - A batch is the next `batch_events` rows after the delivered cursor. For a destination with a
//     consent purpose, each row is checked before it is formatted against the profile as it is now:
//     the rows of a profile erased or that withdrew the purpose since are dropped (but its exits,
//     which name whom to remove, are sent). Without a purpose, erasure alone could stop a row, and
//     it deletes the person's waiting rows itself (OutboxWriter::Forget).
//   - A batch may take several calls in turn (activation/transport.h): a failed call is retried
//     by itself, and the batch is delivered when the last one succeeds.
//   - 2xx: the rows are deleted and the cursor moves, in one write. 429, 408, 5xx, timeouts and
//     closed connections: the same batch is sent again after a back-off (exponential with full
//     jitter, or the answer's Retry-After), with the same Idempotency-Key, until it succeeds or
//     `dead_letter_after` has passed since its first attempt. Any other answer, or the time
//     passing: the rows move to the destination's dead letters with the reason and the last
//     answer, and delivery goes on with the next batch.
//   - Requests are spaced to at most `requests_per_second`.
//   - Pausing (persisted) stops sending; rows keep accumulating and are sent after resuming.
//   - ReplayDeadLetters sends the dead letters again, oldest first, before the next outbox batch;
//     those delivered are deleted, the rest keep their place with the new attempt recorded.
// A destination that is down costs ingestion nothing: the resolver only adds rows.
//
// Thread-safety: all public methods may be called from any thread.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "activation/delivery_gate.h"
#include "activation/destination.h"
#include "activation/http_sender.h"
#include "activation/logged_events.h"
#include "activation/oauth_token.h"
#include "activation/transport.h"
#include "activation/outbox.h"
#include "profile_store/store.h"

namespace tessera::activation {

struct DeliveryOptions {
  // The wall clock rows are judged against (tests move it); the system clock when empty.
  std::function<std::chrono::system_clock::time_point()> clock = {};
  // Cluster mode: sends only while the space's lease is held here (activation/delivery_gate.h).
  // Null in a single process. Outlives the delivery.
  DeliveryGate* gate = nullptr;
  // The reader of the space's logged events its deliveries share (activation/logged_events.h), so
  // each event is read and decoded once for all of them. Null: the delivery reads alone. Outlives
  // the delivery.
  LoggedEvents* logged_events = nullptr;
};

struct DeliveryMetrics {
  std::atomic<uint64_t> delivered{0};      // Rows a destination accepted.
  std::atomic<uint64_t> requests{0};       // Requests sent (attempts).
  std::atomic<uint64_t> failures{0};       // Attempts that failed (answer or transport).
  std::atomic<uint64_t> retries{0};        // Attempts that repeated a batch.
  std::atomic<uint64_t> dead_lettered{0};  // Rows moved to dead letters.
  std::atomic<uint64_t> replayed{0};       // Dead letters delivered by a replay.
  std::atomic<uint64_t> skipped{0};        // Rows dropped at the edge (erased or without consent).
  std::atomic<uint64_t> cursor{0};         // Last row delivered or dead-lettered.
  std::atomic<uint64_t> written{0};        // Last row the resolver wrote.
  std::atomic<uint64_t> dead_letters{0};   // Dead letters waiting now.
  std::atomic<int64_t> oldest_pending_micros{0};  // Time of the oldest row being tried (0: none).

  uint64_t lag() const {
    const uint64_t done = cursor.load();
    const uint64_t last = written.load();
    return last > done ? last - done : 0;
  }
};

class Delivery {
 public:
  // InvalidArgument for a URL that cannot be used.
  static absl::StatusOr<std::unique_ptr<Delivery>> Create(profile_store::Store& store, DestinationSpec destination,
                                                          DeliveryOptions options);
  ~Delivery();

  // Reads the cursor, the pause switch and the dead letters' count.
  absl::Status Recover();
  void Start();
  // Stops after the request in flight (its answer, or its timeout).
  void Stop();

  // The resolver wrote rows up to `last_sequence`.
  void NotifyWritten(uint64_t last_sequence);
  // Persisted; takes effect before the next request.
  absl::Status SetPaused(bool paused);
  bool paused() const { return paused_.load(); }
  // Returns how many dead letters are waiting to be sent again.
  absl::StatusOr<uint64_t> ReplayDeadLetters();

  struct ErrorRecord {
    std::chrono::system_clock::time_point time;
    std::string message;
  };
  // The last few failures, newest first.
  std::vector<ErrorRecord> RecentErrors() const;

  const DestinationSpec& destination() const { return destination_; }
  DeliveryMetrics& metrics() { return metrics_; }

 private:
  struct Row {
    uint64_t sequence = 0;
    std::string encoded;
    OutboxItem item;
    bool event_gone = false;  // An event row whose event is no longer in the log.
  };
  enum class Outcome { kDelivered, kDeadLettered, kStopped };

  Delivery(profile_store::Store& store, DestinationSpec destination, DeliveryOptions options, HttpUrl url,
           std::unique_ptr<Transport> transport);
  std::chrono::system_clock::time_point Now() const;
  void Run();
  // Reads up to a batch of rows after the cursor (or dead letters, for a replay).
  absl::StatusOr<std::vector<Row>> ReadRows(profile_store::ColumnFamily family, uint64_t after);
  // Leaves out the rows the profile's present state forbids sending; counts them.
  absl::StatusOr<std::vector<Row>> CheckAtEdge(std::vector<Row> rows);
  // Fills the event of every event row that names only its log position from the space's log
  // (through the shared LoggedEvents), or marks it gone.
  absl::Status ReadLoggedEvents(std::vector<Row>& rows);
  // Sends `rows` until delivered, dead-lettered or stopped. A replay gives up at the first failure
  // instead of retrying (the letters keep their place).
  Outcome Send(const std::vector<Row>& rows, bool replay, DeliveryDeadLetter& letter);
  // Waits `delay` unless stopping or paused; false when it was cut short.
  bool Sleep(std::chrono::milliseconds delay);
  std::chrono::milliseconds Backoff(uint32_t failures);
  void RecordError(std::string message);
  absl::Status Advance(uint64_t last, const std::vector<Row>& sent, const std::vector<Row>& failed,
                       const DeliveryDeadLetter* letter);
  absl::Status FinishReplay(const std::vector<Row>& letters, bool delivered, const DeliveryDeadLetter& attempt);

  // Cluster mode (delivery_cluster.cc). Reads the shared record (at most once a second, and at
  // each change of lease), takes its pause switch, and moves the cursor past what the holder
  // delivered when the local row there is the same. Returns whether this process may send now.
  bool FollowCluster();
  bool Follow(bool holds);
  // Records the cursor, its row and the pause switch for the other members.
  void ShareProgress(const Row& last);
  // Deletes the waiting rows up to `last` and moves the cursor there, without sending.
  absl::Status SkipThrough(uint64_t last);
  std::string SharedKey() const;

  profile_store::Store& store_;
  const DestinationSpec destination_;
  const DeliveryOptions options_;
  const HttpUrl url_;  // Empty for a NATS destination.
  std::unique_ptr<Transport> transport_;
  std::unique_ptr<OAuthTokenSource> oauth_;
  std::unique_ptr<LoggedEvents> own_logged_events_;  // When the options gave none.
  LoggedEvents* logged_events_;  // For an API whose token must be refreshed; else null.
  DeliveryMetrics metrics_;
  std::mt19937_64 random_;
  std::chrono::steady_clock::time_point next_request_{};
  uint64_t cursor_ = 0;  // The thread's; metrics_.cursor mirrors it.
  // Cluster mode, the thread's: when the shared record was last read, whether the lease was held
  // then, and the row number whose record did not match the local row (0: none).
  std::chrono::steady_clock::time_point last_follow_{};
  bool held_ = false;
  bool may_send_ = false;
  uint64_t mismatch_at_ = 0;

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  uint64_t written_ = 0;
  bool stopping_ = false;
  bool replay_ = false;
  std::atomic<bool> paused_{false};
  std::vector<ErrorRecord> errors_;  // Newest last, at most kKeptErrors.
  std::thread thread_;
};

}  // namespace tessera::activation
