#include "tests/e2e/e2e_support.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <sstream>
#include <thread>
#include <vector>


namespace tessera::e2e {
namespace {

using Clock = std::chrono::steady_clock;

// Small string helpers. (Debian's Abseil is built with its own string_view type, so absl's string
// utilities do not take std::string_view; these few are all this file needs.)
template <typename... Args>
std::string Cat(const Args&... args) {
  std::ostringstream out;
  (out << ... << args);
  return out.str();
}

std::string Lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view Trim(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) text.remove_prefix(1);
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.remove_suffix(1);
  return text;
}

template <typename Int>
bool ParseInt(std::string_view text, Int& out, int base = 10) {
  text = Trim(text);
  if (text.empty()) return false;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), out, base);
  return error == std::errc() && end == text.data() + text.size();
}

constexpr std::string_view kListeningPrefix = "listening on ";

// Where the `tessera` binary is. CMake defines TESSERA_BINARY for the test executable; when this
// library is compiled without it, the environment variable of the same name wins, and otherwise
// the build tree's layout (build/tests/e2e/<test> -> build/tools/tessera) is assumed.
std::string TesseraBinary() {
#ifdef TESSERA_BINARY
  return TESSERA_BINARY;
#else
  if (const char* from_env = std::getenv("TESSERA_BINARY"); from_env != nullptr && *from_env != '\0') {
    return from_env;
  }
  std::error_code error;
  const std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", error);
  if (error) return "tessera";
  return (self.parent_path() / ".." / ".." / "tools" / "tessera").lexically_normal().string();
#endif
}

int RemainingMillis(Clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return left <= 0 ? 0 : static_cast<int>(std::min<int64_t>(left, 1'000'000));
}

std::string ErrnoText(std::string_view what) { return Cat(what, ": ", std::strerror(errno)); }

// Reads whatever `fd` has now (a regular file: up to its current end) and appends it to `out`.
void DrainFile(int fd, std::string& out) {
  if (fd < 0) return;
  char chunk[16 * 1024];
  while (true) {
    const ssize_t n = ::read(fd, chunk, sizeof(chunk));
    if (n > 0) {
      out.append(chunk, static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    return;
  }
}

// Finds "listening on http://HOST:PORT\n" in `output`; 0 until the whole line is there.
uint16_t FindListeningPort(std::string_view output) {
  const size_t start = output.find(kListeningPrefix);
  if (start == std::string_view::npos) return 0;
  const size_t end = output.find('\n', start);
  if (end == std::string_view::npos) return 0;
  std::string_view address = output.substr(start + kListeningPrefix.size(), end - start - kListeningPrefix.size());
  address = Trim(address);
  // http://HOST:PORT, or https:// with TLS.
  if (address.starts_with("http://")) {
    address.remove_prefix(7);
  } else if (address.starts_with("https://")) {
    address.remove_prefix(8);
  } else {
    return 0;
  }
  const size_t colon = address.rfind(':');
  if (colon == std::string_view::npos) return 0;
  std::string_view port_text = address.substr(colon + 1);
  if (const size_t slash = port_text.find('/'); slash != std::string_view::npos) port_text = port_text.substr(0, slash);
  uint32_t port = 0;
  if (!ParseInt(port_text, port) || port == 0 || port > 65535) return 0;
  return static_cast<uint16_t>(port);
}

int ExitCodeOf(int wait_status) {
  if (WIFEXITED(wait_status)) return WEXITSTATUS(wait_status);
  if (WIFSIGNALED(wait_status)) return 128 + WTERMSIG(wait_status);
  return -1;
}

bool IsChunked(const std::map<std::string, std::string>& headers) {
  const auto it = headers.find("transfer-encoding");
  return it != headers.end() && Lower(it->second).find("chunked") != std::string::npos;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// TempDir

TempDir::TempDir() {
  const char* base = std::getenv("TMPDIR");
  std::string pattern = Cat(base != nullptr && *base != '\0' ? base : "/tmp", "/tessera-e2e-XXXXXX");
  std::vector<char> buffer(pattern.begin(), pattern.end());
  buffer.push_back('\0');
  if (::mkdtemp(buffer.data()) == nullptr) {
    std::perror("mkdtemp");
    std::abort();
  }
  path_ = buffer.data();
}

TempDir::~TempDir() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

// ---------------------------------------------------------------------------------------------
// ServerProcess

absl::StatusOr<std::unique_ptr<ServerProcess>> ServerProcess::Start(const ServerConfig& config) {
  if (config.data_dir.empty()) return absl::InvalidArgumentError("ServerConfig.data_dir is required");
  std::error_code error;
  std::filesystem::create_directories(config.data_dir, error);
  if (error) return absl::InternalError(Cat("create ", config.data_dir, ": ", error.message()));

  std::string json =
      Cat(R"({"listen":{"address":"127.0.0.1","port":0},"data_dir":")", config.data_dir,
          R"(","sources":[{"name":"website","write_key":")", kWriteKey,
          R"(","space":"default","channel":"web")", config.source_extra, R"(},{"name":"store","write_key":")",
          kPosWriteKey, R"(","space":"default","channel":"pos")", config.source_extra, R"(})",
          config.extra_sources.empty() ? "" : ",",
          config.extra_sources, R"(],"read_keys":[")", kReadKey, R"(")");
  for (const std::string& key : config.extra_read_keys) json += Cat(R"(,")", key, R"(")");
  json += Cat(R"(],"admin_keys":[")", kAdminKey, R"(")");
  for (const std::string& key : config.extra_admin_keys) json += Cat(R"(,")", key, R"(")");
  json += "]";
  if (!config.extra_json.empty()) json += Cat(",", config.extra_json);
  json += "}\n";
  const std::string config_path = config.data_dir + "/test-config.json";
  {
    std::ofstream out(config_path, std::ios::trunc);
    out << json;
    if (!out.good()) return absl::InternalError(Cat("cannot write ", config_path));
  }

  // The child's stdout and stderr go to a file rather than a pipe, so that a chatty server can
  // never block on a pipe nobody drains; we read the file as it grows.
  std::string output_path = config.data_dir + "/server-output-XXXXXX.log";
  std::vector<char> output_template(output_path.begin(), output_path.end());
  output_template.push_back('\0');
  const int child_out = ::mkostemps(output_template.data(), 4, O_CLOEXEC);
  if (child_out < 0) return absl::InternalError(ErrnoText("mkostemps"));
  output_path = output_template.data();
  const int reader = ::open(output_path.c_str(), O_RDONLY | O_CLOEXEC);
  if (reader < 0) {
    ::close(child_out);
    return absl::InternalError(ErrnoText("open server output"));
  }

  // Everything the child needs is prepared before fork: after it only async-signal-safe calls.
  const std::string binary = TesseraBinary();
  std::vector<std::string> args = {binary, "serve", "--config", config_path};
  std::vector<char*> argv;
  for (std::string& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);
  const pid_t parent = ::getpid();

  const pid_t pid = ::fork();
  if (pid < 0) {
    ::close(child_out);
    ::close(reader);
    return absl::InternalError(ErrnoText("fork"));
  }
  if (pid == 0) {
    // Never outlive the test, even when it crashes.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);
    const int devnull = ::open("/dev/null", O_RDONLY);
    if (devnull >= 0) ::dup2(devnull, STDIN_FILENO);
    ::dup2(child_out, STDOUT_FILENO);
    ::dup2(child_out, STDERR_FILENO);
    ::close_range(3, ~0U, 0);
    ::execv(argv[0], argv.data());
    static constexpr char kExecFailed[] = "e2e: execv of the tessera binary failed\n";
    [[maybe_unused]] ssize_t ignored = ::write(STDERR_FILENO, kExecFailed, sizeof(kExecFailed) - 1);
    ::_exit(127);
  }
  ::close(child_out);

  std::unique_ptr<ServerProcess> server(new ServerProcess());
  server->pid_ = pid;
  server->output_fd_ = reader;

  const auto deadline = Clock::now() + std::chrono::seconds(30);
  std::optional<int> exited;
  const bool started = WaitFor(
      [&] {
        DrainFile(server->output_fd_, server->output_);
        server->port_ = FindListeningPort(server->output_);
        if (server->port_ != 0) return true;
        int status = 0;
        if (::waitpid(pid, &status, WNOHANG) == pid) {
          exited = ExitCodeOf(status);
          server->pid_ = -1;
          return true;
        }
        return false;
      },
      std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()));
  if (exited.has_value()) {
    DrainFile(server->output_fd_, server->output_);
    return absl::InternalError(Cat(binary, " exited with status ", *exited,
                                            " before listening; output:\n", server->output_));
  }
  if (!started) {
    return absl::DeadlineExceededError(
        Cat(binary, " did not print \"listening on\" within 30 s; output:\n", server->Output()));
  }
  return server;
}

ServerProcess::~ServerProcess() {
  if (pid_ > 0) Kill();
  if (output_fd_ >= 0) ::close(output_fd_);
}

absl::StatusOr<int> ServerProcess::Terminate(std::chrono::seconds timeout) {
  if (pid_ <= 0) return absl::FailedPreconditionError("server is not running");
  if (::kill(pid_, SIGTERM) != 0) return absl::InternalError(ErrnoText("kill(SIGTERM)"));
  int exit_code = -1;
  const bool exited = WaitFor(
      [&] {
        int status = 0;
        const pid_t reaped = ::waitpid(pid_, &status, WNOHANG);
        if (reaped == pid_) {
          exit_code = ExitCodeOf(status);
          return true;
        }
        return false;
      },
      std::chrono::duration_cast<std::chrono::milliseconds>(timeout));
  if (!exited) {
    return absl::DeadlineExceededError(
        Cat("server (pid ", pid_, ") did not exit within ", timeout.count(), " s of SIGTERM"));
  }
  pid_ = -1;
  return exit_code;
}

void ServerProcess::Kill() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  int status = 0;
  while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
  pid_ = -1;
}

std::string ServerProcess::Output() {
  DrainFile(output_fd_, output_);
  return output_;
}

// ---------------------------------------------------------------------------------------------
// HttpClient

HttpClient::HttpClient(uint16_t port, std::chrono::milliseconds timeout) : port_(port), timeout_(timeout) {}

HttpClient::~HttpClient() {
  if (fd_ >= 0) ::close(fd_);
}

absl::Status HttpClient::EnsureConnected() {
  if (fd_ >= 0) {
    // A kept-alive connection the server has since closed reads as EOF (or an error); start over
    // instead of sending into it.
    pollfd pfd{fd_, POLLIN, 0};
    if (::poll(&pfd, 1, 0) > 0) {
      char byte;
      const ssize_t n = ::recv(fd_, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
      if (n <= 0 || (pfd.revents & (POLLHUP | POLLERR)) != 0) {
        ::close(fd_);
        fd_ = -1;
        buffer_.clear();
      }
    }
  }
  if (fd_ >= 0) return absl::OkStatus();

  const auto deadline = Clock::now() + timeout_;
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return absl::InternalError(ErrnoText("socket"));
  const int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port_);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof(address)) != 0) {
    if (errno != EINPROGRESS) {
      const absl::Status status = absl::UnavailableError(ErrnoText(Cat("connect to 127.0.0.1:", port_)));
      ::close(fd);
      return status;
    }
    pollfd pfd{fd, POLLOUT, 0};
    int ready;
    do {
      ready = ::poll(&pfd, 1, RemainingMillis(deadline));
    } while (ready < 0 && errno == EINTR);
    if (ready == 0) {
      ::close(fd);
      return absl::DeadlineExceededError(Cat("connect to 127.0.0.1:", port_, " timed out"));
    }
    int socket_error = 0;
    socklen_t length = sizeof(socket_error);
    ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &socket_error, &length);
    if (socket_error != 0) {
      ::close(fd);
      return absl::UnavailableError(
          Cat("connect to 127.0.0.1:", port_, ": ", std::strerror(socket_error)));
    }
  }
  fd_ = fd;
  buffer_.clear();
  return absl::OkStatus();
}

absl::StatusOr<HttpResponse> HttpClient::Request(std::string_view method, std::string_view target,
                                                 std::string_view body,
                                                 const std::map<std::string, std::string>& headers) {
  std::string request = Cat(method, " ", target, " HTTP/1.1\r\nHost: 127.0.0.1:", port_, "\r\n");
  bool has_length = false;
  for (const auto& [name, value] : headers) {
    if (Lower(name) == "content-length") has_length = true;
    request += Cat(name, ": ", value, "\r\n");
  }
  if (!has_length && (!body.empty() || method == "POST" || method == "PUT")) {
    request += Cat("Content-Length: ", body.size(), "\r\n");
  }
  request += "\r\n";
  request += body;
  return SendRaw(request);
}

absl::StatusOr<HttpResponse> HttpClient::PostJson(std::string_view target, std::string_view body,
                                                  std::string_view write_key) {
  std::map<std::string, std::string> headers = {{"Content-Type", "application/json"}};
  if (!write_key.empty()) headers["Authorization"] = Cat("Basic ", Base64(Cat(write_key, ":")));
  return Request("POST", target, body, headers);
}

absl::StatusOr<HttpResponse> HttpClient::SendRaw(std::string_view bytes) {
  if (absl::Status connected = EnsureConnected(); !connected.ok()) return connected;
  const auto deadline = Clock::now() + timeout_;
  size_t sent = 0;
  absl::Status send_error;
  // Send and watch for an early answer at the same time: a server may reply (413, 400) and close
  // before it has read the whole request, and the response must not be lost in a failed send.
  while (sent < bytes.size()) {
    pollfd pfd{fd_, POLLOUT | POLLIN, 0};
    const int ready = ::poll(&pfd, 1, RemainingMillis(deadline));
    if (ready < 0 && errno == EINTR) continue;
    if (ready == 0) {
      ::close(fd_);
      fd_ = -1;
      return absl::DeadlineExceededError(Cat("sending ", bytes.size(), " bytes timed out after ", sent));
    }
    if ((pfd.revents & POLLIN) != 0) break;
    const ssize_t n = ::send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK) continue;
      send_error = absl::UnavailableError(ErrnoText("send"));
      break;
    }
    sent += static_cast<size_t>(n);
  }
  absl::StatusOr<HttpResponse> response = ReadResponse();
  if (!response.ok() && !send_error.ok()) {
    return absl::UnavailableError(Cat(send_error.message(), "; then ", response.status().message()));
  }
  return response;
}

absl::StatusOr<HttpResponse> HttpClient::ReadResponse() {
  const auto deadline = Clock::now() + timeout_;
  bool eof = false;
  // Reads more bytes into buffer_; false on EOF, error or deadline (status says which).
  absl::Status read_status;
  auto read_more = [&]() -> bool {
    while (true) {
      pollfd pfd{fd_, POLLIN, 0};
      const int ready = ::poll(&pfd, 1, RemainingMillis(deadline));
      if (ready < 0 && errno == EINTR) continue;
      if (ready == 0) {
        read_status = absl::DeadlineExceededError(
            Cat("no complete response within ", timeout_.count(), " ms (have ", buffer_.size(), " bytes)"));
        return false;
      }
      char chunk[64 * 1024];
      const ssize_t n = ::recv(fd_, chunk, sizeof(chunk), 0);
      if (n > 0) {
        buffer_.append(chunk, static_cast<size_t>(n));
        return true;
      }
      if (n < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)) continue;
      eof = true;
      read_status = n == 0 ? absl::UnavailableError("connection closed by the server")
                           : absl::UnavailableError(ErrnoText("recv"));
      return false;
    }
  };
  auto fail = [&](absl::Status status) -> absl::StatusOr<HttpResponse> {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
    buffer_.clear();
    return status;
  };

  while (true) {
    size_t header_end;
    while ((header_end = buffer_.find("\r\n\r\n")) == std::string::npos) {
      if (!read_more()) return fail(read_status);
    }
    HttpResponse response;
    const std::string_view head(buffer_.data(), header_end);
    std::vector<std::string_view> lines;
    for (size_t start = 0;;) {
      const size_t end = head.find("\r\n", start);
      lines.push_back(head.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start));
      if (end == std::string_view::npos) break;
      start = end + 2;
    }
    // Status line: HTTP/1.1 200 OK
    const std::string_view status_line = lines[0];
    const size_t first_space = status_line.find(' ');
    const std::string_view status_code =
        first_space == std::string_view::npos ? std::string_view() : status_line.substr(first_space + 1, 3);
    if (!status_line.starts_with("HTTP/1.") || !ParseInt(status_code, response.status)) {
      return fail(absl::DataLossError(Cat("malformed status line: ", lines[0])));
    }
    for (size_t i = 1; i < lines.size(); ++i) {
      const size_t colon = lines[i].find(':');
      if (colon == std::string_view::npos) {
        return fail(absl::DataLossError(Cat("malformed header line: ", lines[i])));
      }
      std::string name = Lower(lines[i].substr(0, colon));
      std::string value(Trim(lines[i].substr(colon + 1)));
      auto [it, inserted] = response.headers.emplace(name, value);
      if (!inserted) it->second += Cat(", ", value);
    }
    size_t consumed = header_end + 4;

    if (response.status / 100 == 1) {  // 100 Continue and friends: the real answer follows.
      buffer_.erase(0, consumed);
      continue;
    }
    const bool no_body = response.status == 204 || response.status == 304;
    const auto length_it = response.headers.find("content-length");
    if (no_body) {
      // Nothing to read.
    } else if (IsChunked(response.headers)) {
      size_t position = consumed;
      while (true) {
        size_t line_end;
        while ((line_end = buffer_.find("\r\n", position)) == std::string::npos) {
          if (!read_more()) return fail(read_status);
        }
        std::string_view size_text(buffer_.data() + position, line_end - position);
        if (const size_t semicolon = size_text.find(';'); semicolon != std::string_view::npos) {
          size_text = size_text.substr(0, semicolon);
        }
        uint64_t chunk_size = 0;
        if (!ParseInt(size_text, chunk_size, 16)) {
          return fail(absl::DataLossError("malformed chunk size"));
        }
        position = line_end + 2;
        if (chunk_size == 0) {
          // Skip trailers up to the empty line.
          while (true) {
            while ((line_end = buffer_.find("\r\n", position)) == std::string::npos) {
              if (!read_more()) return fail(read_status);
            }
            const bool empty = line_end == position;
            position = line_end + 2;
            if (empty) break;
          }
          break;
        }
        while (buffer_.size() < position + chunk_size + 2) {
          if (!read_more()) return fail(read_status);
        }
        response.body.append(buffer_, position, chunk_size);
        position += chunk_size + 2;
      }
      consumed = position;
    } else if (length_it != response.headers.end()) {
      size_t length = 0;
      if (!ParseInt(length_it->second, length)) {
        return fail(absl::DataLossError(Cat("bad Content-Length: ", length_it->second)));
      }
      while (buffer_.size() < consumed + length) {
        if (!read_more()) return fail(read_status);
      }
      response.body = buffer_.substr(consumed, length);
      consumed += length;
    } else {
      // No length: the body runs to the end of the connection.
      while (read_more()) {
      }
      if (!eof) return fail(read_status);
      response.body = buffer_.substr(consumed);
      consumed = buffer_.size();
    }
    buffer_.erase(0, consumed);

    const auto connection = response.headers.find("connection");
    if (eof || (connection != response.headers.end() &&
                Lower(connection->second).find("close") != std::string::npos)) {
      ::close(fd_);
      fd_ = -1;
      buffer_.clear();
    }
    return response;
  }
}

// ---------------------------------------------------------------------------------------------

std::string Base64(std::string_view bytes) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const uint32_t v = (static_cast<uint8_t>(bytes[i]) << 16) | (static_cast<uint8_t>(bytes[i + 1]) << 8) |
                       static_cast<uint8_t>(bytes[i + 2]);
    out.push_back(kAlphabet[(v >> 18) & 63]);
    out.push_back(kAlphabet[(v >> 12) & 63]);
    out.push_back(kAlphabet[(v >> 6) & 63]);
    out.push_back(kAlphabet[v & 63]);
  }
  const size_t rest = bytes.size() - i;
  if (rest == 1) {
    const uint32_t v = static_cast<uint8_t>(bytes[i]) << 16;
    out.push_back(kAlphabet[(v >> 18) & 63]);
    out.push_back(kAlphabet[(v >> 12) & 63]);
    out += "==";
  } else if (rest == 2) {
    const uint32_t v = (static_cast<uint8_t>(bytes[i]) << 16) | (static_cast<uint8_t>(bytes[i + 1]) << 8);
    out.push_back(kAlphabet[(v >> 18) & 63]);
    out.push_back(kAlphabet[(v >> 12) & 63]);
    out.push_back(kAlphabet[(v >> 6) & 63]);
    out.push_back('=');
  }
  return out;
}

CommandResult RunCommand(const std::string& scratch_dir, const std::string& command, int timeout_seconds) {
  const std::string out = scratch_dir + "/command-output.txt";
  const int status = std::system(("timeout -s KILL " + std::to_string(timeout_seconds) + " sh -c '" + command +
                                  "' > " + out + " 2>&1")
                                     .c_str());
  std::ifstream in(out, std::ios::binary);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1,
          std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>())};
}

bool WaitFor(const std::function<bool()>& condition, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (true) {
    if (condition()) return true;
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

std::string JsonStringMember(const std::string& json, const std::string& name) {
  const std::string needle = "\"" + name + "\":\"";
  const size_t at = json.find(needle);
  if (at == std::string::npos) return "";
  const size_t start = at + needle.size();
  return json.substr(start, json.find('"', start) - start);
}

}  // namespace tessera::e2e
