#pragma once

// What delivery hands to a destination and what comes back, whatever carries it: an HTTP(S)
// request (activation/http_sender.h) or messages on a NATS subject (activation/nats_publisher.h).
// A batch may take several calls in turn (Google's offline user data job: create, add, run;
// SendGrid's removal: find the contacts' ids, then remove them): each request may say how to make
// the next one from its answer, and delivery retries whichever call failed, not the ones before.
//
// Thread-safety: a Transport is used by one delivery thread.

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"

namespace tessera::activation {

struct HttpResponse {
  int status = 0;
  std::string body;
  std::string retry_after;  // The Retry-After header, as sent ("" when absent).
};

// One message of a batch for a message bus: its id (the bus drops a repeat) and its JSON.
struct OutgoingMessage {
  std::string id;
  std::string body;
};

struct OutgoingRequest {
  std::string method = "POST";
  std::string target;  // Path and query (HTTP); the subject (NATS).
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers = {};
  std::string body = {};
  std::vector<OutgoingMessage> messages = {};  // NATS only: published in order.
  // Statuses that count as success besides 2xx (a removal of someone the provider never had).
  std::vector<int> also_success = {};
  // The next call of the exchange, made from this one's successful answer; nullopt ends it.
  // An error dead-letters the batch with its message (an answer the provider documents as failure).
  std::function<absl::StatusOr<std::optional<OutgoingRequest>>(const HttpResponse&)> next = {};
};

class Transport {
 public:
  virtual ~Transport() = default;
  // DeadlineExceeded when the exchange took longer than `timeout`; Unavailable when the other end
  // cannot be reached or hangs up before answering (both are retried).
  virtual absl::StatusOr<HttpResponse> Send(const OutgoingRequest& request, std::chrono::milliseconds timeout) = 0;
};

}  // namespace tessera::activation
