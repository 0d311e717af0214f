#include "ingest/ingest_metrics.h"

#include "absl/strings/str_cat.h"

namespace tessera::ingest {

void LatencyHistogram::Record(std::chrono::nanoseconds duration) {
  const double seconds = std::chrono::duration<double>(duration).count();
  size_t bucket = 0;
  while (bucket < kBounds.size() && seconds > kBounds[bucket]) ++bucket;
  buckets_[bucket].fetch_add(1, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
  sum_nanos_.fetch_add(static_cast<uint64_t>(duration.count()), std::memory_order_relaxed);
}

void LatencyHistogram::AppendPrometheus(std::string& out, std::string_view name, std::string_view help) const {
  // Debian's abseil has its own string_view type, so std::string_view goes through std::string.
  const std::string metric(name);
  absl::StrAppend(&out, "# HELP ", metric, " ", std::string(help), "\n# TYPE ", metric, " histogram\n");
  uint64_t cumulative = 0;
  for (size_t i = 0; i < kBounds.size(); ++i) {
    cumulative += buckets_[i].load(std::memory_order_relaxed);
    absl::StrAppend(&out, metric, "_bucket{le=\"", kBounds[i], "\"} ", cumulative, "\n");
  }
  cumulative += buckets_[kBounds.size()].load(std::memory_order_relaxed);
  absl::StrAppend(&out, metric, "_bucket{le=\"+Inf\"} ", cumulative, "\n");
  absl::StrAppend(&out, metric, "_sum ", static_cast<double>(sum_nanos_.load(std::memory_order_relaxed)) / 1e9, "\n");
  absl::StrAppend(&out, metric, "_count ", cumulative, "\n");
}

void IngestMetrics::AppendPrometheus(std::string& out) const {
  auto load = [](const std::atomic<uint64_t>& value) { return value.load(std::memory_order_relaxed); };
  absl::StrAppend(&out, "# HELP tessera_events_total Events by ingestion outcome.\n",
                  "# TYPE tessera_events_total counter\n");
  absl::StrAppend(&out, "tessera_events_total{result=\"accepted\"} ", load(events_accepted), "\n");
  absl::StrAppend(&out, "tessera_events_total{result=\"duplicate\"} ", load(events_duplicate), "\n");
  absl::StrAppend(&out, "tessera_events_total{result=\"rejected\"} ", load(events_rejected), "\n");
  absl::StrAppend(&out, "tessera_events_total{result=\"overloaded\"} ", load(events_overloaded), "\n");
  absl::StrAppend(&out, "tessera_events_total{result=\"suppressed\"} ", load(events_suppressed), "\n");
  absl::StrAppend(&out, "# HELP tessera_log_batches_total Synced writes to the accepted-event log.\n",
                  "# TYPE tessera_log_batches_total counter\n", "tessera_log_batches_total ", load(log_batches),
                  "\n");
  absl::StrAppend(&out, "# HELP tessera_log_write_errors_total Failed writes to the accepted-event log.\n",
                  "# TYPE tessera_log_write_errors_total counter\n", "tessera_log_write_errors_total ",
                  load(log_write_errors), "\n");
  absl::StrAppend(&out, "# HELP tessera_ingest_queue_depth_events Events waiting for the log writer.\n",
                  "# TYPE tessera_ingest_queue_depth_events gauge\n", "tessera_ingest_queue_depth_events ",
                  queue_depth_events.load(std::memory_order_relaxed), "\n");
  log_write_latency.AppendPrometheus(out, "tessera_log_write_seconds",
                                     "Duration of one synced write of the accepted-event log.");
  commit_wait_latency.AppendPrometheus(out, "tessera_commit_wait_seconds",
                                       "Time from a request's submission to its events being durable.");
}

}  // namespace tessera::ingest
