#pragma once

// HttpSender sends a destination's requests over one kept-alive HTTP/1.1 connection (plain or
// TLS, with the peer's certificate verified against the system's roots or a given CA file), with a
// deadline over each whole exchange: connecting, the TLS handshake, writing and reading. A
// connection the server closed while idle is reopened once, silently; any other failure closes it
// and the next request opens a new one.
//
// Thread-safety: none; one delivery thread uses it.

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "activation/transport.h"

namespace tessera::activation {

struct HttpUrl {
  bool tls = false;
  std::string host;
  uint16_t port = 0;
  std::string target;  // Path and query; "/" when the URL has none.
};

// "http://host[:port][/path]" or "https://...". InvalidArgument for anything else.
absl::StatusOr<HttpUrl> ParseHttpUrl(std::string_view url);

class HttpSender : public Transport {
 public:
  // `ca_file`: PEM certificates to trust instead of the system's (empty: the system's).
  static absl::StatusOr<std::unique_ptr<HttpSender>> Create(const HttpUrl& url, const std::string& ca_file);
  ~HttpSender() override;

  // DeadlineExceeded when the exchange took longer than `timeout`; Unavailable when the server
  // cannot be reached, refuses TLS or closes the connection before answering.
  absl::StatusOr<HttpResponse> Send(const OutgoingRequest& request, std::chrono::milliseconds timeout) override;

  const HttpUrl& url() const;

 private:
  struct Impl;
  explicit HttpSender(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace tessera::activation
