#pragma once

// StreamWriter: a cluster gateway's EventSink (ingest/event_sink.h). Each accepted event is
// published to its space's JetStream stream (cluster/event_stream.h) with its dedup key as
// Nats-Msg-Id; a request is reported once JetStream has acknowledged every one of its events
// (stored on a quorum of replicas, or already there: kDuplicate). Publishes are asynchronous, so
// one connection carries many requests' events at once.
//
// Bounded: at most `max_pending_events` events wait for acknowledgements; beyond it Submit refuses
// with ResourceExhausted (503 and Retry-After at the edge). Without a NATS connection Submit
// refuses at once (ingest::StoreUnreachable). A publish that gets no acknowledgement within
// `publish_timeout`, or none for lack of a quorum, fails its request the same way: the event may or
// may not be stored, and the client's retry of the same message id is stored once. A full stream
// fails it with ResourceExhausted; any other JetStream refusal with Internal. Stop waits for the
// Submits in progress and the acknowledgements (at most twice the timeout), reports what is left
// as failed, and no callback runs after it returns.
//
// Thread-safety: Submit may be called from any number of threads. Callbacks run on nats.c's
// threads.

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "cluster/nats_connection.h"
#include "cluster/stream_fill.h"
#include "ingest/event_sink.h"
#include "ingest/ingest_metrics.h"

namespace tessera::cluster {

struct StreamWriterOptions {
  std::chrono::milliseconds publish_timeout{5'000};
  size_t max_pending_events = 200'000;
  // When set, requests for a space whose stream is near its limits are refused at once with
  // ingest::StoreNearlyFull (429 at the edge) rather than published into JetStream's refusal.
  StreamFill* fill = nullptr;
};

class StreamWriter : public ingest::EventSink {
 public:
  // `metrics` (may be null) gets the accepted and duplicate events, the queue depth and the commit
  // wait, as the local log's writer counts them.
  StreamWriter(NatsConnection& nats, StreamWriterOptions options, ingest::IngestMetrics* metrics = nullptr);
  ~StreamWriter() override;

  absl::Status Start() override;
  absl::Status Submit(std::vector<ingest::LogEntry> entries, ingest::CommitCallback done) override;
  size_t queued_events() const override { return pending_events_.load(std::memory_order_relaxed); }
  uint64_t acknowledged_position(std::string_view space) const override;
  void Stop() override;
  // tessera_cluster_publish_failures_total{reason} (events of requests refused or failed:
  // unreachable, overloaded, refused, and shed near the stream's limits; the bound's own refusals
  // are counted by the pipeline as overloaded events), tessera_cluster_pending_events,
  // tessera_cluster_connected and tessera_cluster_stream_fill{space}.
  void AppendPrometheus(std::string& out) const override;

 private:
  struct Request;
  struct InFlight {
    std::shared_ptr<Request> request;
    size_t index = 0;
  };

  static void OnAck(jsCtx* js, natsMsg* msg, jsPubAck* ack, jsPubAckErr* error, void* closure);
  // Records one event's outcome (or its error) and reports the request when it was the last.
  void Settle(const std::shared_ptr<Request>& request, size_t index, const jsPubAck* ack, absl::Status error);
  void CountFailure(const absl::Status& status, size_t events);

  NatsConnection& nats_;
  const StreamWriterOptions options_;
  ingest::IngestMetrics* metrics_;
  std::atomic<uint64_t> failed_unreachable_{0};
  std::atomic<uint64_t> failed_overloaded_{0};
  std::atomic<uint64_t> failed_refused_{0};
  std::atomic<uint64_t> failed_shed_{0};
  jsCtx* jetstream_ = nullptr;  // Our own context: its acknowledgement handler is this writer's.
  std::atomic<size_t> pending_events_{0};
  std::atomic<bool> stopped_{false};
  std::atomic<int> submitting_{0};    // Submit calls in progress; Stop waits for them.
  std::atomic<int> acknowledging_{0};  // OnAck calls in progress; Stop waits for them.
  std::mutex mutex_;
  absl::flat_hash_map<natsMsg*, InFlight> in_flight_;  // Guarded by mutex_.
  mutable std::mutex positions_mutex_;
  absl::flat_hash_map<std::string, uint64_t> acknowledged_;  // Highest sequence per space; positions_mutex_.
};

}  // namespace tessera::cluster
