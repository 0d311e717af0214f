#pragma once

// FakeHttpServer stands in for a provider's API in tests: a real HTTP/1.1 (or HTTPS) server on 127.0.0.1 and
// an ephemeral port, keep-alive, one thread per connection, that records every request and answers
// what the test's responder says: a status with a body and headers, a wait before answering (to
// cause a client's timeout), or closing the connection without an answer.
//
// Thread-safety: all methods may be called from any thread; the responder is called on connection
// threads, one request at a time per connection.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace tessera::testing {

struct RecordedRequest {
  std::string method;
  std::string target;
  std::vector<std::pair<std::string, std::string>> headers;  // Names lower-cased.
  std::string body;
  std::chrono::steady_clock::time_point received;

  std::string Header(std::string_view name) const;  // "" when absent; `name` lower-case.
};

struct FakeResponse {
  int status = 200;
  std::string body = "{}";
  std::vector<std::pair<std::string, std::string>> headers = {};
  std::chrono::milliseconds delay{0};  // Before answering.
  bool close_without_answer = false;
};

// HTTPS instead of HTTP: the server's certificate chain and key, PEM files.
struct FakeTls {
  std::string cert_file;
  std::string key_file;
};

class FakeHttpServer {
 public:
  using Responder = std::function<FakeResponse(const RecordedRequest& request, size_t index)>;

  // Answers 200 "{}" until SetResponder. With `tls`, speaks HTTPS (OpenSSL) on the same port.
  explicit FakeHttpServer(std::optional<FakeTls> tls = std::nullopt);
  ~FakeHttpServer();

  uint16_t port() const { return port_; }
  std::string Url(std::string_view path = "/hook") const;

  // `index` counts every request received so far (0 first).
  void SetResponder(Responder responder);
  // Requests answered with a 2xx, in the order they were received.
  std::vector<RecordedRequest> Accepted() const;
  // Every request received.
  std::vector<RecordedRequest> All() const;
  size_t Count() const;
  // Waits until `predicate(Accepted())` holds or `timeout` passes; returns whether it held.
  bool WaitFor(const std::function<bool(const std::vector<RecordedRequest>&)>& predicate,
               std::chrono::milliseconds timeout) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  uint16_t port_ = 0;
  bool tls_ = false;
};

}  // namespace tessera::testing
