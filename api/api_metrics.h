#pragma once

// HTTP-level metrics (requests by route and status) and the /metrics page, which also shows
// ingestion's counters. Lock-free counters; rendering takes a snapshot.

#include <array>
#include <atomic>
#include <string>

#include "api/router.h"
#include "pipeline/ingest_pipeline.h"

namespace tessera::api {

class ApiMetrics {
 public:
  void CountRequest(RouteId route, int status);
  void ConnectionOpened() { open_connections_.fetch_add(1, std::memory_order_relaxed); }
  void ConnectionClosed() { open_connections_.fetch_sub(1, std::memory_order_relaxed); }
  int64_t open_connections() const { return open_connections_.load(std::memory_order_relaxed); }

  // WebSocket streams (docs/streaming.md).
  void StreamOpened() { open_streams_.fetch_add(1, std::memory_order_relaxed); }
  void StreamClosed() { open_streams_.fetch_sub(1, std::memory_order_relaxed); }
  void CountFrame() { stream_frames_.fetch_add(1, std::memory_order_relaxed); }
  void CountFrameError() { stream_frame_errors_.fetch_add(1, std::memory_order_relaxed); }
  // A stream stopped reading its socket because its in-flight budget or the pipeline was full.
  void CountStreamPause() { stream_pauses_.fetch_add(1, std::memory_order_relaxed); }

  // The whole /metrics page in Prometheus text exposition format 0.0.4.
  std::string RenderPrometheus(const pipeline::IngestPipeline& pipeline) const;

 private:
  // Status codes we count individually; anything else lands in "other".
  static constexpr std::array<int, 15> kStatuses = {101, 200, 204, 400, 401, 403, 404,
                                                     405, 408, 409, 413, 426, 429, 500, 503};
  std::array<std::array<std::atomic<uint64_t>, kStatuses.size() + 1>, static_cast<int>(RouteId::kCount)> requests_{};
  std::atomic<int64_t> open_connections_{0};
  std::atomic<int64_t> open_streams_{0};
  std::atomic<uint64_t> stream_frames_{0};
  std::atomic<uint64_t> stream_frame_errors_{0};
  std::atomic<uint64_t> stream_pauses_{0};
};

}  // namespace tessera::api
