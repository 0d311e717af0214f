#include "tools/http_client.h"

#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <memory>

#include "absl/strings/str_cat.h"

namespace tessera::tools {
namespace {

using Clock = std::chrono::steady_clock;

int MillisLeft(Clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return left <= 0 ? 0 : static_cast<int>(std::min<int64_t>(left, 1'000'000));
}

// Waits until `fd` is ready for `events`; DeadlineExceeded at the deadline.
absl::Status WaitReady(int fd, short events, Clock::time_point deadline, std::string_view what) {
  while (true) {
    pollfd pfd{fd, events, 0};
    const int ready = ::poll(&pfd, 1, MillisLeft(deadline));
    if (ready > 0) return absl::OkStatus();
    if (ready == 0) return absl::DeadlineExceededError(absl::StrCat("timed out ", std::string(what)));
    if (errno != EINTR)
      return absl::UnavailableError(absl::StrCat(std::string(what), ": ", std::strerror(errno)));
  }
}

class Socket {
 public:
  ~Socket() {
    if (fd_ >= 0) ::close(fd_);
  }
  int fd() const { return fd_; }

  absl::Status Connect(const HttpEndpoint& endpoint, Clock::time_point deadline) {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* found = nullptr;
    const std::string port = std::to_string(endpoint.port);
    if (int error = ::getaddrinfo(endpoint.host.c_str(), port.c_str(), &hints, &found); error != 0) {
      return absl::UnavailableError(
          absl::StrCat("cannot resolve ", endpoint.host, ": ", ::gai_strerror(error)));
    }
    std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> addresses(found, &::freeaddrinfo);
    absl::Status last = absl::UnavailableError(absl::StrCat("no address for ", endpoint.host));
    for (addrinfo* address = found; address != nullptr; address = address->ai_next) {
      fd_ = ::socket(address->ai_family, address->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
                     address->ai_protocol);
      if (fd_ < 0) continue;
      if (::connect(fd_, address->ai_addr, address->ai_addrlen) == 0) return absl::OkStatus();
      if (errno == EINPROGRESS) {
        last = WaitReady(fd_, POLLOUT, deadline, "connecting");
        int error = 0;
        socklen_t length = sizeof(error);
        if (last.ok() && ::getsockopt(fd_, SOL_SOCKET, SO_ERROR, &error, &length) == 0 && error == 0) {
          return absl::OkStatus();
        }
        if (last.ok()) last = absl::UnavailableError(std::strerror(error));
      } else {
        last = absl::UnavailableError(std::strerror(errno));
      }
      ::close(fd_);
      fd_ = -1;
    }
    return last;
  }

  absl::Status SendAll(std::string_view bytes, Clock::time_point deadline) {
    while (!bytes.empty()) {
      const ssize_t sent = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (sent > 0) {
        bytes.remove_prefix(static_cast<size_t>(sent));
      } else if (sent < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
        if (absl::Status ready = WaitReady(fd_, POLLOUT, deadline, "sending the request"); !ready.ok())
          return ready;
      } else {
        return absl::UnavailableError(absl::StrCat("sending the request: ", std::strerror(errno)));
      }
    }
    return absl::OkStatus();
  }

  // Everything until the server closes the connection.
  absl::StatusOr<std::string> ReceiveAll(Clock::time_point deadline) {
    std::string received;
    char chunk[16 * 1024];
    while (true) {
      const ssize_t n = ::recv(fd_, chunk, sizeof(chunk), 0);
      if (n > 0) {
        received.append(chunk, static_cast<size_t>(n));
      } else if (n == 0) {
        return received;
      } else if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
        if (absl::Status ready = WaitReady(fd_, POLLIN, deadline, "waiting for the answer"); !ready.ok())
          return ready;
      } else {
        return absl::UnavailableError(absl::StrCat("reading the answer: ", std::strerror(errno)));
      }
    }
  }

 private:
  int fd_ = -1;
};

std::string Lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

absl::StatusOr<HttpAnswer> ParseAnswer(const std::string& raw) {
  const size_t header_end = raw.find("\r\n\r\n");
  if (header_end == std::string::npos || !raw.starts_with("HTTP/1.") || raw.size() < 12) {
    return absl::UnavailableError("the server closed the connection without a complete answer");
  }
  HttpAnswer answer;
  const auto [end, error] = std::from_chars(raw.data() + 9, raw.data() + 12, answer.status);
  if (error != std::errc() || end != raw.data() + 12)
    return absl::DataLossError("malformed HTTP status line");
  answer.body = raw.substr(header_end + 4);
  // The body runs to the end of the connection unless a Content-Length says otherwise.
  const std::string head = Lower(std::string_view(raw).substr(0, header_end));
  if (const size_t at = head.find("\r\ncontent-length:"); at != std::string::npos) {
    size_t start = at + 17;
    while (start < head.size() && head[start] == ' ') ++start;
    size_t length = 0;
    std::from_chars(head.data() + start, head.data() + head.size(), length);
    if (length < answer.body.size()) answer.body.resize(length);
  }
  return answer;
}

}  // namespace

std::string HttpEndpoint::Url() const { return absl::StrCat("http://", host, ":", port); }

absl::StatusOr<HttpEndpoint> ParseHttpUrl(std::string_view url) {
  constexpr std::string_view kScheme = "http://";
  auto invalid = [&] {
    return absl::InvalidArgumentError(
        absl::StrCat("\"", std::string(url), "\" is not a server address of the form http://HOST:PORT"));
  };
  if (!url.starts_with(kScheme)) return invalid();
  std::string_view rest = url.substr(kScheme.size());
  if (rest.ends_with('/')) rest.remove_suffix(1);
  const size_t colon = rest.rfind(':');
  if (colon == std::string_view::npos || colon == 0) return invalid();
  HttpEndpoint endpoint;
  endpoint.host = std::string(rest.substr(0, colon));
  if (endpoint.host.size() > 2 && endpoint.host.front() == '[' && endpoint.host.back() == ']') {
    endpoint.host = endpoint.host.substr(1, endpoint.host.size() - 2);  // [::1]
  }
  const std::string_view port = rest.substr(colon + 1);
  const auto [end, error] = std::from_chars(port.data(), port.data() + port.size(), endpoint.port);
  if (error != std::errc() || end != port.data() + port.size() || endpoint.port == 0) return invalid();
  return endpoint;
}

absl::StatusOr<HttpAnswer> PostJson(const HttpEndpoint& endpoint, std::string_view path,
                                    std::string_view body,
                                    const std::vector<std::pair<std::string, std::string>>& headers,
                                    std::chrono::milliseconds timeout) {
  return Post(endpoint, path, "application/json", body, headers, timeout);
}

absl::StatusOr<HttpAnswer> Post(const HttpEndpoint& endpoint, std::string_view path, std::string_view content_type,
                                std::string_view body,
                                const std::vector<std::pair<std::string, std::string>>& headers,
                                std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  Socket socket;
  if (absl::Status connected = socket.Connect(endpoint, deadline); !connected.ok()) {
    return absl::Status(connected.code(),
                        absl::StrCat("cannot connect to ", endpoint.Url(), ": ", connected.message()));
  }
  std::string request = absl::StrCat(
      "POST ", std::string(path), " HTTP/1.1\r\nHost: ", endpoint.host, ":", endpoint.port,
      "\r\nContent-Type: ", std::string(content_type), "\r\nContent-Length: ", body.size(),
      "\r\nConnection: close\r\n");
  for (const auto& [name, value] : headers) absl::StrAppend(&request, name, ": ", value, "\r\n");
  absl::StrAppend(&request, "\r\n", std::string(body));
  if (absl::Status sent = socket.SendAll(request, deadline); !sent.ok()) return sent;
  absl::StatusOr<std::string> raw = socket.ReceiveAll(deadline);
  if (!raw.ok()) return raw.status();
  return ParseAnswer(*raw);
}

}  // namespace tessera::tools
