// The WebSocket mode of tessera-load (--websocket): RunWebSocket sets up one WebSocketDriverOptions
// per connection (with --corpus, connections are shared among the corpus's channels in proportion
// to their batches), runs the connections (websocket_driver.cc) and prints the summary.

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "tools/load/load_corpus.h"
#include "tools/load/load_options.h"
#include "tools/load/load_report.h"
#include "tools/load/load_run.h"
#include "tools/load/websocket_driver.h"

namespace tessera::tools {

int RunWebSocket(const Options& options, const Shared& shared) {
  WebSocketDriverOptions driver;
  char address[INET_ADDRSTRLEN] = {};
  ::inet_ntop(AF_INET, &shared.address.sin_addr, address, sizeof(address));
  driver.address = address;
  driver.port = options.port;
  driver.host = options.host + ":" + std::to_string(options.port);
  driver.authorization = "Basic " + Base64(options.write_key + ":");
  driver.batch = options.batch;
  driver.event_bytes = options.event_bytes;
  driver.timeout = options.timeout;
  driver.inflight = options.inflight.value_or(kDefaultInflight);
  driver.unbounded = options.unbounded;
  driver.slow_reader = options.slow_reader.value_or(std::chrono::milliseconds(0));
  // Pacing: each connection carries an equal share of --rate.
  const double per_connection_rate = options.rate / options.connections;
  if (per_connection_rate > 0) {
    driver.send_interval = std::chrono::duration_cast<Clock::duration>(
        std::chrono::duration<double>(static_cast<double>(options.batch) / per_connection_rate));
  }
  std::string window = options.unbounded ? std::string("unbounded (no window)")
                                         : "window " + std::to_string(driver.inflight) + " frames/connection";
  if (driver.slow_reader.count() > 0)
    window += ", slow reader " + std::to_string(driver.slow_reader.count()) + " ms";

  std::printf(
      "tessera-load: %s:%u over WebSocket, %d connections, %zu events/frame, ~%zu B/event, %s, seed %llu, ",
      options.host.c_str(), options.port, options.connections, options.batch, options.event_bytes,
      window.c_str(), static_cast<unsigned long long>(shared.seed));
  PrintRunLength(options);

  WebSocketRunControl control;
  control.start = Clock::now();
  if (options.duration) control.end = control.start + *options.duration;
  control.frame_limit = options.requests;
  control.stop = &g_stop;
  // One driver per connection: with a corpus, each connection streams one channel's batches with
  // that channel's key.
  std::vector<WebSocketDriverOptions> drivers(static_cast<size_t>(options.connections), driver);
  std::vector<std::vector<size_t>> batches_of_channel;
  std::vector<std::unique_ptr<std::atomic<size_t>>> next_of_channel;
  if (shared.corpus != nullptr) {
    const Corpus& corpus = *shared.corpus;
    batches_of_channel.resize(corpus.channels.size());
    for (size_t i = 0; i < corpus.batches.size(); ++i)
      batches_of_channel[corpus.batches[i].channel].push_back(i);
    for (size_t c = 0; c < corpus.channels.size(); ++c)
      next_of_channel.push_back(std::make_unique<std::atomic<size_t>>(0));
    if (static_cast<size_t>(options.connections) < corpus.channels.size()) {
      std::fprintf(stderr, "tessera-load: --connections must be at least the corpus's %zu channels\n",
                   corpus.channels.size());
      return 2;
    }
    // Connections per channel in proportion to its batches, at least one each.
    std::vector<size_t> channel_of_connection;
    const size_t spare = static_cast<size_t>(options.connections) - corpus.channels.size();
    std::vector<size_t> share(corpus.channels.size(), 1);
    size_t given = 0;
    for (size_t c = 0; c < corpus.channels.size(); ++c) {
      const size_t extra = spare * batches_of_channel[c].size() / corpus.batches.size();
      share[c] += extra;
      given += extra;
    }
    for (size_t c = 0; given < spare; c = (c + 1) % share.size(), ++given) ++share[c];
    for (size_t c = 0; c < share.size(); ++c)
      channel_of_connection.insert(channel_of_connection.end(), share[c], c);
    for (size_t i = 0; i < drivers.size(); ++i) {
      const size_t channel = channel_of_connection[i];
      drivers[i].authorization = "Basic " + Base64(options.keys.at(corpus.channels[channel]) + ":");
      drivers[i].next_batch = [&, channel](std::string& body, size_t& events) {
        const size_t next = next_of_channel[channel]->fetch_add(1);
        if (next >= batches_of_channel[channel].size()) return false;
        const Corpus::Batch& batch = shared.corpus->batches[batches_of_channel[channel][next]];
        body = batch.body;
        events = batch.events;
        return true;
      };
    }
  }
  std::vector<WebSocketStats> stats(static_cast<size_t>(options.connections));
  const double elapsed = RunConnections(
      options.connections, control.start, control.acked_frames, control.acked_events, "frames", [&](int i) {
        stats[static_cast<size_t>(i)] = RunWebSocketConnection(
            i, shared.seed * 1'000'003 + static_cast<uint64_t>(i), drivers[static_cast<size_t>(i)], control);
      });

  WebSocketStats total;
  for (const WebSocketStats& s : stats) total.Merge(s);
  std::printf("mode:      websocket (GET /v1/stream), %s\n", window.c_str());
  std::printf("elapsed:   %.2f s\n", elapsed);
  std::printf(
      "frames:    %llu sent, %llu acked (%.1f/s), %llu unacknowledged\n",
      static_cast<unsigned long long>(total.frames_sent), static_cast<unsigned long long>(total.frames_acked),
      static_cast<double>(total.frames_acked) / elapsed,
      static_cast<unsigned long long>(total.frames_sent - std::min(total.frames_sent, total.frames_acked)));
  std::printf("events:    %llu accepted (%.0f/s) of %llu sent, %llu duplicates, %llu rejected\n",
              static_cast<unsigned long long>(total.events_accepted),
              static_cast<double>(total.events_accepted) / elapsed,
              static_cast<unsigned long long>(total.events_sent),
              static_cast<unsigned long long>(total.duplicates),
              static_cast<unsigned long long>(total.rejected));
  std::printf("frame errors: %llu", static_cast<unsigned long long>(total.frame_errors));
  for (const auto& [code, count] : total.frame_error_codes) {
    std::printf(" %s=%llu", code.c_str(), static_cast<unsigned long long>(count));
  }
  std::printf("\n");
  PrintLatency(total.latency);
  std::printf("sent:      %.1f MB (%.2f MB/s)\n", static_cast<double>(total.bytes_sent) / 1e6,
              static_cast<double>(total.bytes_sent) / 1e6 / elapsed);
  std::printf("errors:    %llu transport errors, %llu failed connects\n",
              static_cast<unsigned long long>(total.transport_errors),
              static_cast<unsigned long long>(total.connect_failures));

  const bool acknowledged_any = total.frames_acked > total.frame_errors;
  if (total.transport_errors > 0 || total.connect_failures > 0 || !acknowledged_any) {
    std::fprintf(stderr, "tessera-load: FAILED (%s)\n",
                 !acknowledged_any ? "no frame was acknowledged" : "connections failed");
    return 1;
  }
  return 0;
}

}  // namespace tessera::tools
