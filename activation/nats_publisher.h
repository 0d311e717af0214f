#pragma once

// NatsPublisher carries a `nats` destination's batches to a NATS server: each message of a
// request is published to the request's subject with its id in the `Nats-Msg-Id` header, in order.
// - Core NATS: the batch counts as delivered once a flush round trip shows the server has read
//   every message (subscribers connected then get them; NATS keeps nothing for the others).
// - JetStream (`jetstream`): each message waits for the stream's acknowledgement, and the stream
//   drops a repeated id within its duplicate window, so a retried batch is stored once.
// The connection is made on the first send and made again after it breaks; a server that cannot be
// reached is an Unavailable answer, which delivery retries like an HTTP 503.
//
// Thread-safety: none; one delivery thread uses it.

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "activation/transport.h"

namespace tessera::activation {

// "nats://host:port" (or tls://); InvalidArgument for anything else.
absl::Status CheckNatsUrl(std::string_view url);

class NatsPublisher : public Transport {
 public:
  static absl::StatusOr<std::unique_ptr<NatsPublisher>> Create(std::string url, bool jetstream);
  ~NatsPublisher() override;

  absl::StatusOr<HttpResponse> Send(const OutgoingRequest& request, std::chrono::milliseconds timeout) override;

 private:
  struct Impl;
  explicit NatsPublisher(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace tessera::activation
