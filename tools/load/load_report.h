#pragma once

// What tessera-load prints while and after it runs: a progress line per second (RunConnections runs
// the connections' threads around it), the line that says how long the run goes, and the
// acknowledgement latency percentiles of the summary.

#include <atomic>
#include <cstdint>
#include <thread>
#include <vector>

#include "tools/load/latency_histogram.h"
#include "tools/load/load_options.h"
#include "tools/load/load_run.h"

namespace tessera::tools {

// Prints a progress line per second on stderr until `running` drops to zero: the events and
// requests (or frames) acknowledged per second, read from the two counters.
void ReportProgress(Clock::time_point start, const std::atomic<int>& running,
                    const std::atomic<uint64_t>& requests, const std::atomic<uint64_t>& events,
                    const char* unit);

// Runs `connection(i)` for i in [0, connections) on one thread each, reporting progress every
// second until they all end; returns the elapsed seconds since `start`.
template <typename Connection>
double RunConnections(int connections, Clock::time_point start, const std::atomic<uint64_t>& units,
                      const std::atomic<uint64_t>& events, const char* unit, Connection connection) {
  std::vector<std::thread> threads;
  std::atomic<int> running{connections};
  for (int i = 0; i < connections; ++i) {
    threads.emplace_back([&, i] {
      connection(i);
      running.fetch_sub(1);
    });
  }
  ReportProgress(start, running, units, events, unit);
  for (std::thread& thread : threads) thread.join();
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// Ends the first line of a run: its length (requests, frames, a duration or the corpus) and rate.
void PrintRunLength(const Options& options);

// The summary line of ack latency: p50, p90, p99 and max.
void PrintLatency(const LatencyHistogram& latency);

}  // namespace tessera::tools
