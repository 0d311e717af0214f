#pragma once

// The parts of the live tail (GET /v1/tail, a WebSocket; docs/console.md) that need no network:
// who may open it, the bounded queue each client gets, and the JSON messages it sends. The
// session that moves bytes is in stream_session.cc, beside the event stream (Beast stays there).
//
// Authentication: a read or admin key. Browsers cannot set headers on a WebSocket, and a key in
// the URL ends up in logs, so the key may come as a subprotocol: the client offers
// `Sec-WebSocket-Protocol: tessera-tail, tessera-key.KEY` and the server selects `tessera-tail`
// (never echoing the key). Other clients may send `Authorization: Bearer KEY` instead.
//
// Messages (text frames, JSON), server to client only:
//   {"type":"hello","space":S,"queue":N,"rateIntervalMs":MS}
//   {"type":"events","events":[{"time","receivedAt","type","event","channel","source","messageId",
//                               "userId","anonymousId"}...],"dropped":D}
//       D: events left out since the previous message because this client's queue was full
//       (the oldest go first); the client knows it missed some and how many.
//   {"type":"rate","eventsPerSecond":R,"accepted":TOTAL,"subscribers":N,"at":ISO}  about every second
// Emails, phones and other contact identifiers are never sent: user and anonymous ids are, since a
// read key may look those profiles up anyway and the console links each row to its profile.

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "api/key_registry.h"
#include "ingest/event_feed.h"

namespace tessera::api {

// The subprotocol the server selects, and the prefix of the one carrying the key.
inline constexpr std::string_view kTailProtocol = "tessera-tail";
inline constexpr std::string_view kTailKeyProtocolPrefix = "tessera-key.";

struct TailAccess {
  std::string key = {};           // The presented key (for the audit label; never logged itself).
  std::string space = "default";  // ?space=
  bool protocol_offered = false;  // The client offered kTailProtocol: select it in the answer.
};

// Decides a tail upgrade from its `Authorization` and `Sec-WebSocket-Protocol` headers and query.
// Unauthenticated (401) without a known key, PermissionDenied (403) for a write key,
// InvalidArgument (400) for a malformed space, NotFound (404) for a space not served.
// `served(space)` says whether a space is served here.
absl::StatusOr<TailAccess> AuthorizeTail(const KeyRegistry& keys, std::string_view authorization,
                                         std::string_view websocket_protocols, std::string_view query,
                                         const std::function<bool(std::string_view)>& served);

// A client's pending events: at most `capacity`, the oldest dropped first and counted, so that a
// slow client costs bounded memory and learns what it missed. Thread-safe (the feed pushes on the
// writer thread, the session takes on its strand).
class TailQueue {
 public:
  explicit TailQueue(size_t capacity) : capacity_(capacity == 0 ? 1 : capacity) {}

  // Appends the events of `space`; returns true when the queue was empty before (wake the reader).
  bool Push(const std::vector<ingest::EventSummary>& events, std::string_view space);

  struct Batch {
    std::vector<ingest::EventSummary> events;
    uint64_t dropped = 0;  // Dropped since the previous Take.
  };
  Batch Take();

  size_t capacity() const { return capacity_; }

 private:
  const size_t capacity_;
  mutable std::mutex mutex_;
  std::deque<ingest::EventSummary> events_;
  uint64_t dropped_ = 0;
};

std::string TailHelloMessage(std::string_view space, size_t queue_capacity, int64_t rate_interval_ms);
std::string TailEventsMessage(const TailQueue::Batch& batch);
std::string TailRateMessage(double events_per_second, uint64_t accepted_total, size_t subscribers,
                            ingest::Timestamp at);

}  // namespace tessera::api
