#pragma once

// The WebSocket mode of tessera-load: one connection streams EventGenerator batches as text frames
// `{"frameId":N,"batch":[...],"sentAt":"..."}` over `GET /v1/stream` (docs/streaming.md) and reads
// the server's acks, one per frame and in order. Sending is limited by a window of unacknowledged
// frames, or, in unbounded mode, only by how fast the socket accepts bytes: either way at most one
// frame's bytes are held at a time, so a server that stops reading blocks the sender instead of
// the client buffering.
//
// Beast stays inside websocket_driver.cc; this header is all the rest of tessera-load needs.

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>

#include "tools/load/latency_histogram.h"

namespace tessera::tools {

struct WebSocketDriverOptions {
  // IPv4 address to connect to, dotted ("127.0.0.1").
  std::string address;
  // TCP port of the server.
  uint16_t port = 0;
  // Host header of the upgrade request.
  std::string host;
  // Value of the Authorization header: "Basic base64(writeKey:)".
  std::string authorization;
  // Events per frame.
  size_t batch = 100;
  // Approximate JSON size of one event.
  size_t event_bytes = 600;
  // Limit on connecting, the upgrade, the close handshake, and the wait for each frame's ack.
  std::chrono::milliseconds timeout{30'000};
  // Frames sent but not yet acknowledged, per connection; the sender waits when it is reached.
  size_t inflight = 8;
  // Send without waiting for acks (no window), reading them in parallel.
  bool unbounded = false;
  // Sleep before reading each ack, to play a client that reads slowly.
  std::chrono::milliseconds slow_reader{0};
  // Time between two frames of one connection (from --rate); zero sends as fast as allowed.
  std::chrono::steady_clock::duration send_interval{};
  // When set, frames come from here instead of the generator: it stores a batch body
  // ({"batch":[...]}) and its event count and returns true, or returns false when there are no more
  // (the connection then finishes). Called on the connection's thread only.
  std::function<bool(std::string& body, size_t& events)> next_batch;
};

// What the connections of one run share. The caller owns it and keeps it alive until every
// connection returned; the counters are safe to read from other threads.
struct WebSocketRunControl {
  // When the run started (pacing counts from here).
  std::chrono::steady_clock::time_point start;
  // No frame is sent from this point on (time_point::max() when the run is bounded by frames).
  std::chrono::steady_clock::time_point end = std::chrono::steady_clock::time_point::max();
  // Total frames over all connections (--requests), if the run is bounded by frames.
  std::optional<uint64_t> frame_limit;
  // Frames claimed against frame_limit so far.
  std::atomic<uint64_t> frames_claimed{0};
  // Set when the user asks to stop: no new frames, outstanding acks are still collected.
  const std::atomic<bool>* stop = nullptr;
  // Progress for the once-per-second line: frames acknowledged and the events in them.
  std::atomic<uint64_t> acked_frames{0};
  std::atomic<uint64_t> acked_events{0};
};

// The figures of one or more WebSocket connections.
struct WebSocketStats {
  // Send-to-ack time of each acknowledged frame (from the start of its write).
  LatencyHistogram latency;
  uint64_t frames_sent = 0;      // Frames whose write completed.
  uint64_t frames_acked = 0;     // Acks received (including those with an "error" member).
  uint64_t events_sent = 0;      // Events in the frames sent.
  uint64_t events_accepted = 0;  // Entries of the acks' "accepted" arrays.
  uint64_t duplicates = 0;       // Entries of the acks' "duplicates" arrays.
  uint64_t rejected = 0;         // Entries of the acks' "rejected" arrays.
  uint64_t frame_errors = 0;     // Acks with an "error" member.
  std::map<std::string, uint64_t> frame_error_codes;  // Their error.code values.
  uint64_t bytes_sent = 0;                            // Frame payload bytes written.
  uint64_t transport_errors = 0;  // Connections lost: I/O errors, ack timeouts, bad or out-of-order acks.
  uint64_t connect_failures = 0;  // TCP connects or upgrades that failed.

  void Merge(const WebSocketStats& other);
};

// Runs connection number `index` of a run until it ends (its duration passed, its frames were
// claimed, or stop was set) and every frame sent is acknowledged or timed out. A lost connection is
// reopened, and its unacknowledged frames are counted as lost (not resent); after three failures in
// a row, or an upgrade the server refuses, the connection gives up. Failures are counted in the
// returned figures and described on stderr; never throws. `seed` seeds this connection's events.
WebSocketStats RunWebSocketConnection(int index, uint64_t seed, const WebSocketDriverOptions& options,
                                      WebSocketRunControl& control);

}  // namespace tessera::tools
