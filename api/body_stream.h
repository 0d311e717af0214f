#pragma once

// BodyStream produces a response body piece by piece, for replies too large to build in memory
// (an audience's members). The HTTP server sends it with `Transfer-Encoding: chunked` and asks for
// the next piece only after the previous one was written to the socket, so memory stays bounded
// and a slow client slows the producer down.
//
// Thread-safety: the server calls Next from one thread at a time (the connection's strand).

#include <string>

#include "absl/status/statusor.h"

namespace tessera::api {

class BodyStream {
 public:
  virtual ~BodyStream() = default;

  // Appends the next piece of the body to `chunk` (empty on entry). Returns true when more may
  // follow, false when this piece (possibly empty) was the last one. An error after the response
  // header was sent cannot change the status any more: the server then ends the connection without
  // the terminating chunk, so the client sees a truncated transfer rather than a complete body.
  virtual absl::StatusOr<bool> Next(std::string& chunk) = 0;
};

}  // namespace tessera::api
