#pragma once

// EventStream: the per-space JetStream streams that are the cluster's accepted-event log
// (docs/cluster.md). A gateway publishes each accepted event to its space's subject,
// `tessera.events.<space>`, with the event's message id as `Nats-Msg-Id`, and answers 200 only after
// JetStream's PubAck: the event is then stored on a quorum of the stream's replicas. A publish of a
// message id already in the stream's duplicate window is acknowledged as a duplicate with the
// sequence of the first copy, so a client's retry through any gateway is stored once.
//
// Thread-safety: every method may be called from any thread (nats.c is thread-safe).

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "cluster/nats_connection.h"

namespace tessera::cluster {

struct EventStreamOptions {
  int replicas = 3;                              // Copies of every event; 200 waits for a quorum of them.
  std::chrono::seconds duplicate_window{120};    // JetStream's Nats-Msg-Id memory.
  int64_t max_bytes = -1;  // The stream's size limit (new publishes fail beyond it); -1: none when creating,
                           // and an existing stream's own limit is kept.
};

struct PublishAck {
  uint64_t sequence = 0;   // The event's position in its space's stream (from 1).
  bool duplicate = false;  // The message id was already stored at `sequence`; nothing new was stored.
};

struct StreamState {
  uint64_t messages = 0;
  uint64_t bytes = 0;
  uint64_t first_sequence = 0;
  uint64_t last_sequence = 0;
  int64_t replicas = 0;
  int64_t current_replicas = 0;  // The leader and the followers that have caught up with it (0: no leader).
  int64_t created_ns = 0;        // When the stream was made (ns since the epoch): tells a stream made anew.
  int64_t max_bytes = -1;        // The stream's limits (-1: none).
  int64_t max_messages = -1;
};

// "TESSERA_EVENTS_<space>" and "tessera.events.<space>"; spaces are [a-z0-9_-]{1,64} (config/), which
// are valid in both.
std::string StreamName(std::string_view space);
std::string StreamSubject(std::string_view space);

class EventStream {
 public:
  EventStream(NatsConnection& nats, EventStreamOptions options);

  // Creates the space's stream, or brings an existing one's duplicate window, discard policy and
  // (when set) size limit to these options, keeping its other settings (its subject, storage and
  // replica count must match: FailedPrecondition otherwise, since changing them is an operator's
  // decision). File storage, limits retention, no message discarded to make room.
  absl::Status Ensure(std::string_view space);

  // Publishes one event and waits for JetStream's acknowledgement, at most `timeout`.
  // Unavailable when there is no connection, no answer in time or no quorum; the event may then be
  // stored or not, and a retry with the same message id within the duplicate window stores it once.
  absl::StatusOr<PublishAck> Publish(std::string_view space, std::string_view message_id,
                                     std::string_view payload, std::chrono::milliseconds timeout);

  absl::StatusOr<StreamState> State(std::string_view space);

 private:
  NatsConnection& nats_;
  EventStreamOptions options_;
};

}  // namespace tessera::cluster
