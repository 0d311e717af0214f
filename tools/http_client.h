#pragma once

// A small blocking HTTP/1.1 client for the `tessera` subcommands that ask a running server to do
// something (`tessera backup` and `tessera import` while the server holds the store). One request per
// connection (Connection: close), plain HTTP, a deadline over the whole exchange. Deliberately
// tiny and free of Beast and Asio: the server's own HTTP stack stays in api/.

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"

namespace tessera::tools {

struct HttpEndpoint {
  std::string host;  // A name or an address; resolved with getaddrinfo.
  uint16_t port = 0;

  std::string Url() const;  // "http://host:port"
};

// "http://HOST:PORT" (a trailing '/' is allowed). InvalidArgument for anything else, https included.
absl::StatusOr<HttpEndpoint> ParseHttpUrl(std::string_view url);

struct HttpAnswer {
  int status = 0;
  std::string body;
};

// Sends `POST path` with a JSON `body` and the extra `headers`, and reads the whole answer.
// Unavailable when the server cannot be reached or closes early, DeadlineExceeded after `timeout`.
absl::StatusOr<HttpAnswer> PostJson(const HttpEndpoint& endpoint, std::string_view path,
                                    std::string_view body,
                                    const std::vector<std::pair<std::string, std::string>>& headers,
                                    std::chrono::milliseconds timeout);

// The same with any `content_type` (e.g. text/csv).
absl::StatusOr<HttpAnswer> Post(const HttpEndpoint& endpoint, std::string_view path, std::string_view content_type,
                                std::string_view body,
                                const std::vector<std::pair<std::string, std::string>>& headers,
                                std::chrono::milliseconds timeout);

}  // namespace tessera::tools
