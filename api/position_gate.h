#pragma once

// PositionGate: read-your-writes on a cluster member that applies the stream (docs/cluster.md). A
// gateway answers an accepted request with the stream position its events reached ("position");
// a read that passes it as `min_position` is answered once this member's state reflects that
// position of the read's space, or with 503 `unavailable` and Retry-After when it does not within
// the wait. Every read it lets through carries `Tessera-Position`: the position (of the space's
// stream) its answer reflects at least.
//
// Thread-safety: Run may be called from any I/O thread; the wait polls on the caller's executor.

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string_view>

#include <boost/asio/any_io_executor.hpp>

#include "api/http_reply.h"

namespace tessera::api {

class PositionGate {
 public:
  // `applied(space)`: the stream position the member's state of `space` reflects now.
  PositionGate(std::function<uint64_t(std::string_view space)> applied, std::chrono::milliseconds max_wait)
      : applied_(std::move(applied)), max_wait_(max_wait) {}

  // First passes `refusal`'s answer (a bad key, an unknown space) to `reply` if it has one, so that
  // nobody learns positions or holds a connection without the right key. Otherwise calls `answer`
  // once the query's min_position (if any) is reached and passes its reply, with the position
  // header, to `reply`; or replies 400 (a bad min_position) or 503 without calling `answer`.
  // `reply` is called exactly once, on `executor` or the calling thread.
  void Run(const boost::asio::any_io_executor& executor, std::string_view query,
           const std::function<std::optional<HttpReply>()>& refusal, std::function<HttpReply()> answer,
           std::function<void(HttpReply)> reply) const;

 private:
  std::function<uint64_t(std::string_view)> applied_;
  std::chrono::milliseconds max_wait_;
};

}  // namespace tessera::api
