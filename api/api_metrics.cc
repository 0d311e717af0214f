#include "api/api_metrics.h"

#include "absl/strings/str_cat.h"

namespace tessera::api {

void ApiMetrics::CountRequest(RouteId route, int status) {
  size_t slot = kStatuses.size();
  for (size_t i = 0; i < kStatuses.size(); ++i) {
    if (kStatuses[i] == status) {
      slot = i;
      break;
    }
  }
  requests_[static_cast<int>(route)][slot].fetch_add(1, std::memory_order_relaxed);
}

std::string ApiMetrics::RenderPrometheus(const pipeline::IngestPipeline& pipeline) const {
  std::string out;
  out.reserve(8192);
  absl::StrAppend(&out, "# HELP tessera_http_requests_total HTTP requests by route and status.\n",
                  "# TYPE tessera_http_requests_total counter\n");
  for (int route = 0; route < static_cast<int>(RouteId::kCount); ++route) {
    for (size_t slot = 0; slot <= kStatuses.size(); ++slot) {
      const uint64_t count = requests_[route][slot].load(std::memory_order_relaxed);
      if (count == 0) continue;
      const std::string status = slot < kStatuses.size() ? absl::StrCat(kStatuses[slot]) : "other";
      absl::StrAppend(&out, "tessera_http_requests_total{route=\"", std::string(RouteLabel(static_cast<RouteId>(route))),
                      "\",status=\"", status, "\"} ", count, "\n");
    }
  }
  absl::StrAppend(&out, "# HELP tessera_open_connections Open client connections.\n",
                  "# TYPE tessera_open_connections gauge\n", "tessera_open_connections ", open_connections(), "\n");
  absl::StrAppend(&out, "# HELP tessera_open_streams Open WebSocket event streams.\n",
                  "# TYPE tessera_open_streams gauge\n", "tessera_open_streams ",
                  open_streams_.load(std::memory_order_relaxed), "\n");
  absl::StrAppend(&out, "# HELP tessera_stream_frames_total Frames received on event streams.\n",
                  "# TYPE tessera_stream_frames_total counter\n", "tessera_stream_frames_total ",
                  stream_frames_.load(std::memory_order_relaxed), "\n");
  absl::StrAppend(&out, "# HELP tessera_stream_frame_errors_total Frames acknowledged with an error.\n",
                  "# TYPE tessera_stream_frame_errors_total counter\n", "tessera_stream_frame_errors_total ",
                  stream_frame_errors_.load(std::memory_order_relaxed), "\n");
  absl::StrAppend(&out,
                  "# HELP tessera_stream_pauses_total Times a stream stopped reading because its in-flight "
                  "budget or the ingest queue was full.\n",
                  "# TYPE tessera_stream_pauses_total counter\n", "tessera_stream_pauses_total ",
                  stream_pauses_.load(std::memory_order_relaxed), "\n");
  pipeline.AppendPrometheus(out);
  return out;
}

}  // namespace tessera::api
