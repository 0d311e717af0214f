#include "tests/support/fake_http_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <openssl/ssl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <list>
#include <optional>

// Plain POSIX sockets and a small HTTP/1.1 reader (Content-Length bodies, which is what the
// clients under test send): no Beast here, so that the test binaries linking this library never
// mix Beast instantiations compiled with different settings.

namespace tessera::testing {
namespace {

std::string Lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

std::string_view Trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t' || text.back() == '\r')) text.remove_suffix(1);
  return text;
}

std::string_view Reason(int status) {
  switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 422: return "Unprocessable Entity";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    default: return "Status";
  }
}

// One connection's bytes, plain or through TLS.
struct Channel {
  int fd = -1;
  SSL* ssl = nullptr;
  ssize_t Read(char* data, size_t size) const {
    if (ssl == nullptr) return ::recv(fd, data, size, 0);
    const int got = SSL_read(ssl, data, static_cast<int>(size));
    return got > 0 ? got : -1;
  }
  ssize_t Write(const char* data, size_t size) const {
    if (ssl == nullptr) return ::send(fd, data, size, MSG_NOSIGNAL);
    const int sent = SSL_write(ssl, data, static_cast<int>(size));
    return sent > 0 ? sent : -1;
  }
};

// Reads one request from `channel` (with what is left in `buffer`); nullopt when the peer closed or
// sent something unreadable.
std::optional<RecordedRequest> ReadRequest(const Channel& channel, std::string& buffer, bool& keep_alive) {
  size_t header_end;
  while ((header_end = buffer.find("\r\n\r\n")) == std::string::npos) {
    char chunk[16384];
    const ssize_t got = channel.Read(chunk, sizeof(chunk));
    if (got <= 0) return std::nullopt;
    buffer.append(chunk, static_cast<size_t>(got));
  }
  RecordedRequest request;
  std::string_view head(buffer.data(), header_end);
  const size_t line_end = head.find("\r\n");
  std::string_view request_line = head.substr(0, line_end);
  const size_t first_space = request_line.find(' ');
  const size_t second_space = request_line.rfind(' ');
  if (first_space == std::string_view::npos || second_space <= first_space) return std::nullopt;
  request.method = std::string(request_line.substr(0, first_space));
  request.target = std::string(request_line.substr(first_space + 1, second_space - first_space - 1));
  size_t content_length = 0;
  keep_alive = true;
  std::string_view rest = line_end == std::string_view::npos ? std::string_view() : head.substr(line_end + 2);
  while (!rest.empty()) {
    const size_t end = rest.find("\r\n");
    std::string_view line = rest.substr(0, end);
    rest = end == std::string_view::npos ? std::string_view() : rest.substr(end + 2);
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    std::string name = Lower(Trim(line.substr(0, colon)));
    std::string value(Trim(line.substr(colon + 1)));
    if (name == "content-length") content_length = std::stoul(value);
    if (name == "connection" && Lower(value) == "close") keep_alive = false;
    request.headers.emplace_back(std::move(name), std::move(value));
  }
  const size_t body_start = header_end + 4;
  while (buffer.size() < body_start + content_length) {
    char chunk[16384];
    const ssize_t got = channel.Read(chunk, sizeof(chunk));
    if (got <= 0) return std::nullopt;
    buffer.append(chunk, static_cast<size_t>(got));
  }
  request.body = buffer.substr(body_start, content_length);
  buffer.erase(0, body_start + content_length);
  request.received = std::chrono::steady_clock::now();
  return request;
}

bool WriteAll(const Channel& channel, std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t sent = channel.Write(bytes.data(), bytes.size());
    if (sent <= 0) return false;
    bytes.remove_prefix(static_cast<size_t>(sent));
  }
  return true;
}

}  // namespace

std::string RecordedRequest::Header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (key == name) return value;
  }
  return {};
}

struct FakeHttpServer::Impl {
  int listener = -1;
  std::thread accept_thread;
  std::atomic<bool> stopping{false};

  mutable std::mutex mutex;
  mutable std::condition_variable changed;
  Responder responder = [](const RecordedRequest&, size_t) { return FakeResponse{}; };
  std::vector<RecordedRequest> all;
  std::vector<RecordedRequest> accepted;
  std::list<std::thread> connections;
  std::list<int> sockets;

  SSL_CTX* tls = nullptr;

  void Serve(int fd) {
    Channel channel{.fd = fd, .ssl = nullptr};
    if (tls != nullptr) {
      channel.ssl = SSL_new(tls);
      SSL_set_fd(channel.ssl, fd);
      if (SSL_accept(channel.ssl) != 1) {
        SSL_free(channel.ssl);
        return;
      }
    }
    ServeRequests(channel);
    if (channel.ssl != nullptr) SSL_free(channel.ssl);
  }

  void ServeRequests(const Channel& channel) {
    const int fd = channel.fd;
    std::string buffer;
    for (;;) {
      bool keep_alive = true;
      std::optional<RecordedRequest> recorded = ReadRequest(channel, buffer, keep_alive);
      if (!recorded) return;
      Responder respond;
      size_t index = 0;
      {
        std::lock_guard lock(mutex);
        respond = responder;
        index = all.size();
        all.push_back(*recorded);
      }
      changed.notify_all();
      FakeResponse answer = respond(*recorded, index);
      if (answer.delay.count() > 0) {
        const auto until = std::chrono::steady_clock::now() + answer.delay;
        while (!stopping && std::chrono::steady_clock::now() < until) {
          std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
      }
      if (answer.close_without_answer || stopping) {
        ::shutdown(fd, SHUT_RDWR);
        return;
      }
      std::string response = "HTTP/1.1 " + std::to_string(answer.status) + " " + std::string(Reason(answer.status)) +
                             "\r\nContent-Type: application/json\r\nContent-Length: " +
                             std::to_string(answer.body.size()) + "\r\n";
      for (const auto& [name, value] : answer.headers) response += name + ": " + value + "\r\n";
      if (!keep_alive) response += "Connection: close\r\n";
      response += "\r\n" + answer.body;
      if (!WriteAll(channel, response)) return;
      if (answer.status >= 200 && answer.status < 300) {
        {
          std::lock_guard lock(mutex);
          accepted.push_back(*std::move(recorded));
        }
        changed.notify_all();
      }
      if (!keep_alive) {
        ::shutdown(fd, SHUT_RDWR);
        return;
      }
    }
  }
};

FakeHttpServer::FakeHttpServer(std::optional<FakeTls> tls) : impl_(std::make_unique<Impl>()), tls_(tls.has_value()) {
  // OpenSSL writes TLS records (a handshake's alert too) with write(2) on the socket: a client that
  // hung up first, as one refusing the certificate does, must not kill the test with SIGPIPE
  // (DestinationsTlsE2eTest died so, now and then).
  std::signal(SIGPIPE, SIG_IGN);
  if (tls) {
    impl_->tls = SSL_CTX_new(TLS_server_method());
    if (impl_->tls == nullptr ||
        SSL_CTX_use_certificate_chain_file(impl_->tls, tls->cert_file.c_str()) != 1 ||
        SSL_CTX_use_PrivateKey_file(impl_->tls, tls->key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
      std::fprintf(stderr, "fake http server: cannot load %s / %s\n", tls->cert_file.c_str(), tls->key_file.c_str());
      std::abort();
    }
  }
  impl_->listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  const int one = 1;
  ::setsockopt(impl_->listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  if (::bind(impl_->listener, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0 ||
      ::listen(impl_->listener, 128) != 0) {
    std::perror("fake http server");
    std::abort();
  }
  socklen_t length = sizeof(address);
  ::getsockname(impl_->listener, reinterpret_cast<sockaddr*>(&address), &length);
  port_ = ntohs(address.sin_port);
  impl_->accept_thread = std::thread([impl = impl_.get()] {
    while (!impl->stopping) {
      const int fd = ::accept4(impl->listener, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) {
        if (impl->stopping) return;
        continue;
      }
      if (impl->stopping) {
        ::close(fd);
        return;
      }
      const int no_delay = 1;
      ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &no_delay, sizeof(no_delay));
      std::lock_guard lock(impl->mutex);
      impl->sockets.push_back(fd);
      impl->connections.emplace_back([impl, fd] { impl->Serve(fd); });
    }
  });
}

FakeHttpServer::~FakeHttpServer() {
  impl_->stopping = true;
  ::shutdown(impl_->listener, SHUT_RDWR);  // wakes the blocking accept
  impl_->accept_thread.join();
  ::close(impl_->listener);
  {
    std::lock_guard lock(impl_->mutex);
    for (int fd : impl_->sockets) ::shutdown(fd, SHUT_RDWR);
  }
  for (std::thread& connection : impl_->connections) connection.join();
  for (int fd : impl_->sockets) ::close(fd);
  if (impl_->tls != nullptr) SSL_CTX_free(impl_->tls);
}

std::string FakeHttpServer::Url(std::string_view path) const {
  return std::string(tls_ ? "https" : "http") + "://127.0.0.1:" + std::to_string(port_) + std::string(path);
}

void FakeHttpServer::SetResponder(Responder responder) {
  std::lock_guard lock(impl_->mutex);
  impl_->responder = std::move(responder);
}

std::vector<RecordedRequest> FakeHttpServer::Accepted() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->accepted;
}

std::vector<RecordedRequest> FakeHttpServer::All() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->all;
}

size_t FakeHttpServer::Count() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->all.size();
}

bool FakeHttpServer::WaitFor(const std::function<bool(const std::vector<RecordedRequest>&)>& predicate,
                             std::chrono::milliseconds timeout) const {
  std::unique_lock lock(impl_->mutex);
  return impl_->changed.wait_for(lock, timeout, [&] { return predicate(impl_->accepted); });
}

}  // namespace tessera::testing
