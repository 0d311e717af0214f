#pragma once

// NatsConnection: one connection to a NATS cluster with its JetStream context, the one way
// cluster/ talks to NATS.
//
// The connection is made even when no server answers yet (a gateway must start, and answer 503,
// while NATS is down) and reconnects for ever with a short wait: a server restart or a network cut
// never needs a Tessera restart. While it is down, every JetStream call fails fast with
// Unavailable (nothing is buffered on the client: a publish either reaches JetStream or fails).
//
// Thread-safety: nats.c's connection and JetStream context are thread-safe, so one NatsConnection
// may be shared by every thread of a process.

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "nats/nats.h"

namespace tessera::cluster {

struct NatsOptions {
  std::vector<std::string> urls;                       // nats://host:port of every server; at least one.
  std::string name = "tessera";                        // Shown by the servers' monitoring.
  std::chrono::milliseconds connect_timeout{2'000};    // Per attempt to reach one server.
  std::chrono::milliseconds request_timeout{5'000};    // A JetStream API call or publish without an answer.
  std::chrono::milliseconds reconnect_wait{250};       // Between reconnect attempts to one server.
};

class NatsConnection {
 public:
  // InvalidArgument when `options.urls` is empty; otherwise a connection that may still be trying
  // to reach its first server (see connected()).
  static absl::StatusOr<std::unique_ptr<NatsConnection>> Connect(const NatsOptions& options);
  ~NatsConnection();
  NatsConnection(const NatsConnection&) = delete;
  NatsConnection& operator=(const NatsConnection&) = delete;

  // Whether a server is connected right now.
  bool connected() const;
  // Waits up to `timeout` for a server connection; false when there is still none.
  bool WaitConnected(std::chrono::milliseconds timeout) const;

  natsConnection* raw() const { return connection_; }
  jsCtx* jetstream() const { return jetstream_; }
  const NatsOptions& options() const { return options_; }

 private:
  NatsConnection(NatsOptions options, natsConnection* connection, jsCtx* jetstream);

  NatsOptions options_;
  natsConnection* connection_;
  jsCtx* jetstream_;
};

}  // namespace tessera::cluster
