// Progress and summary output of tessera-load (load_report.h).

#include "tools/load/load_report.h"

#include <chrono>
#include <cstdio>
#include <string>

namespace tessera::tools {
namespace {

std::string Millis(uint64_t micros) {
  char buffer[32];
  std::snprintf(buffer, sizeof(buffer), "%.2f ms", static_cast<double>(micros) / 1000.0);
  return buffer;
}

}  // namespace

void ReportProgress(Clock::time_point start, const std::atomic<int>& running,
                    const std::atomic<uint64_t>& requests, const std::atomic<uint64_t>& events,
                    const char* unit) {
  uint64_t last_requests = 0;
  uint64_t last_events = 0;
  auto last_tick = start;
  while (running.load() > 0) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    const auto now = Clock::now();
    if (now - last_tick < std::chrono::seconds(1)) continue;
    const double seconds = std::chrono::duration<double>(now - last_tick).count();
    const uint64_t requests_now = requests.load();
    const uint64_t events_now = events.load();
    std::fprintf(stderr, "  %5.0f s: %8.0f events/s %7.0f %s/s\n",
                 std::chrono::duration<double>(now - start).count(),
                 static_cast<double>(events_now - last_events) / seconds,
                 static_cast<double>(requests_now - last_requests) / seconds, unit);
    last_requests = requests_now;
    last_events = events_now;
    last_tick = now;
  }
}

void PrintRunLength(const Options& options) {
  if (options.requests) {
    std::printf("%llu %s", static_cast<unsigned long long>(*options.requests),
                options.websocket ? "frames" : "requests");
  } else if (options.duration) {
    std::printf("%.1f s", static_cast<double>(options.duration->count()) / 1000.0);
  } else {
    std::printf("the corpus %s once", options.corpus.c_str());
  }
  if (options.rate > 0) std::printf(", rate %.0f events/s", options.rate);
  std::printf("\n");
  std::fflush(stdout);
}

void PrintLatency(const LatencyHistogram& latency) {
  std::printf("ack latency: p50 %s  p90 %s  p99 %s  max %s\n", Millis(latency.Quantile(0.50)).c_str(),
              Millis(latency.Quantile(0.90)).c_str(), Millis(latency.Quantile(0.99)).c_str(),
              Millis(latency.max()).c_str());
}

}  // namespace tessera::tools
