#pragma once

// EventSink: where accepted events go to become durable before their request is answered. The
// embedded server's sink is the local accepted-event log (GroupCommitWriter); a cluster gateway's
// is its space's JetStream stream (cluster/stream_writer.h).
//
// Every sink keeps one promise: a request's callback reports kAccepted for an event only once the
// event is durable where the sink keeps it, and kDuplicate for one it already holds under the same
// message id; on an error nothing of the request is reported stored.

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/cord.h"
#include "ingest/event.h"

namespace tessera::ingest {

enum class EventOutcome : uint8_t { kAccepted, kDuplicate };

// One event ready for the sink. It is encoded on the submitting thread, so that a sink's own
// threads only hash, look up and copy bytes.
struct LogEntry {
  std::string space;
  std::string dedup_key;  // DedupWindow::Key(space, message_id)
  std::string record;     // EncodeEvent(event)
  Timestamp received_at{};
};

// Prepares `event` (its space must be set) for Submit.
LogEntry MakeLogEntry(const CanonicalEvent& event);

// Called once per Submit: OK with one outcome per entry, or the error (nothing reported stored).
using CommitCallback = std::function<void(absl::Status status, std::vector<EventOutcome> outcomes)>;

// An error of a sink told apart from others of its code by a payload (`mark`).
inline absl::Status MarkedStatus(absl::Status status, absl::string_view mark) {
  status.SetPayload(mark, absl::Cord("1"));
  return status;
}
inline bool HasMark(const absl::Status& status, absl::string_view mark) {
  return status.GetPayload(mark).has_value();
}

// An Unavailable error of a sink whose store cannot be reached now (a cluster gateway without NATS
// or without a quorum), told apart from a sink that is stopping, so that clients read "unavailable"
// and retry soon rather than "shutting_down".
inline constexpr absl::string_view kStoreUnreachablePayload = "tessera.ingest/store-unreachable";
inline absl::Status StoreUnreachable(absl::string_view message) {
  return MarkedStatus(absl::UnavailableError(message), kStoreUnreachablePayload);
}
inline bool IsStoreUnreachable(const absl::Status& status) {
  return absl::IsUnavailable(status) && HasMark(status, kStoreUnreachablePayload);
}

// A ResourceExhausted error of a sink whose store is near its size limits (a cluster gateway's
// stream), told apart from a full queue, so that clients read "stream_full" (429) and back off longer.
inline constexpr absl::string_view kStoreNearlyFullPayload = "tessera.ingest/store-nearly-full";
inline absl::Status StoreNearlyFull(absl::string_view message) {
  return MarkedStatus(absl::ResourceExhaustedError(message), kStoreNearlyFullPayload);
}
inline bool IsStoreNearlyFull(const absl::Status& status) {
  return absl::IsResourceExhausted(status) && HasMark(status, kStoreNearlyFullPayload);
}

class EventSink {
 public:
  virtual ~EventSink() = default;

  virtual absl::Status Start() = 0;

  // Queues `entries`. ResourceExhausted when the sink's bound is reached, Unavailable when it cannot
  // take events now (stopped, or its store unreachable); in both cases `done` is not called.
  // Otherwise `done` is called exactly once, possibly on another thread, possibly before Submit
  // returns. Callbacks must not block.
  virtual absl::Status Submit(std::vector<LogEntry> entries, CommitCallback done) = 0;

  // Events submitted and not yet reported.
  virtual size_t queued_events() const = 0;

  // Reports everything already submitted, then refuses further Submits.
  virtual void Stop() = 0;

  // The highest position in `space`'s stream acknowledged so far (0: the sink has no positions).
  // Read in a request's callback, it is at or past every event of that request: what a client
  // passes as min_position to read its own writes on a cluster member.
  virtual uint64_t acknowledged_position(std::string_view /*space*/) const { return 0; }

  // The sink's own metrics in Prometheus text format (what IngestMetrics does not already hold).
  virtual void AppendPrometheus(std::string& /*out*/) const {}
};

}  // namespace tessera::ingest
