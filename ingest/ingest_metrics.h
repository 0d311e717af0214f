#pragma once

// Counters and histograms that ingestion keeps for /metrics. Lock-free: updated from the I/O and
// writer threads, read by the metrics endpoint.

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace tessera::ingest {

// A Prometheus-style cumulative histogram of durations with fixed bucket bounds.
class LatencyHistogram {
 public:
  // Upper bounds in seconds: 100 µs .. 10 s.
  static constexpr std::array<double, 14> kBounds = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
                                                     0.025,  0.05,    0.1,    0.25,  0.5,    1.0,  10.0};
  void Record(std::chrono::nanoseconds duration);
  // Appends the `name_bucket`, `name_sum` and `name_count` series in Prometheus text format.
  void AppendPrometheus(std::string& out, std::string_view name, std::string_view help) const;
  uint64_t count() const { return count_.load(std::memory_order_relaxed); }

 private:
  std::array<std::atomic<uint64_t>, kBounds.size() + 1> buckets_{};  // Last is +Inf.
  std::atomic<uint64_t> count_{0};
  std::atomic<uint64_t> sum_nanos_{0};
};

struct IngestMetrics {
  std::atomic<uint64_t> events_accepted{0};
  std::atomic<uint64_t> events_duplicate{0};
  std::atomic<uint64_t> events_rejected{0};    // Failed validation (counted by the caller).
  std::atomic<uint64_t> events_suppressed{0};  // Rejected: they carry an erased person's identifier.
  std::atomic<uint64_t> events_overloaded{0};  // Refused with 503 because the queue was full.
  std::atomic<uint64_t> log_batches{0};        // Synced writes (group commits).
  std::atomic<uint64_t> log_write_errors{0};
  std::atomic<int64_t> queue_depth_events{0};  // Submitted but not yet durable.
  LatencyHistogram log_write_latency;          // One synced WriteBatch.
  LatencyHistogram commit_wait_latency;        // Submit -> durable, as a request sees it.

  void AppendPrometheus(std::string& out) const;
};

}  // namespace tessera::ingest
