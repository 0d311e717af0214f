// tessera-sink: a webhook receiver for the benchmark (tools/bench/run.sh --destinations), not a
// test: it accepts keep-alive HTTP/1.1 POSTs on 127.0.0.1:PORT, one thread per connection, counts
// the requests and the events in each body's "batch" array, and answers 200 "{}" (or, with
// --status N, N for every request: a destination that is down). Every 100 ms it writes
// "requests=R events=E first_ms=F last_ms=L" (milliseconds since the epoch of the first and the
// latest request) to --report FILE, through a rename, so readers never see half a line.
//
//   tessera-sink --port P --report FILE [--status 200]

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <thread>

#include "simdjson.h"

namespace {

std::atomic<uint64_t> g_requests{0};
std::atomic<uint64_t> g_events{0};
std::atomic<int64_t> g_first_ms{0};
std::atomic<int64_t> g_last_ms{0};

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Serves one connection: reads requests with Content-Length bodies, answers each.
void Serve(int fd, int status) {
  simdjson::dom::parser parser;
  std::string buffer;
  const std::string answer = "HTTP/1.1 " + std::to_string(status) + (status == 200 ? " OK" : " Unavailable") +
                             "\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}";
  char chunk[65536];
  for (;;) {
    size_t header_end;
    while ((header_end = buffer.find("\r\n\r\n")) == std::string::npos) {
      const ssize_t got = ::recv(fd, chunk, sizeof(chunk), 0);
      if (got <= 0) return;
      buffer.append(chunk, static_cast<size_t>(got));
    }
    size_t length = 0;
    for (size_t at = 0; at < header_end;) {
      const size_t end = buffer.find("\r\n", at);
      if (strncasecmp(buffer.data() + at, "content-length:", 15) == 0) length = std::strtoul(buffer.c_str() + at + 15, nullptr, 10);
      at = end + 2;
    }
    const size_t body_start = header_end + 4;
    while (buffer.size() < body_start + length) {
      const ssize_t got = ::recv(fd, chunk, sizeof(chunk), 0);
      if (got <= 0) return;
      buffer.append(chunk, static_cast<size_t>(got));
    }
    int64_t expected = 0;
    g_first_ms.compare_exchange_strong(expected, NowMs());
    g_last_ms = NowMs();
    g_requests.fetch_add(1);
    if (status == 200) {
      simdjson::dom::array batch;
      if (parser.parse(buffer.data() + body_start, length)["batch"].get_array().get(batch) == simdjson::SUCCESS) {
        g_events.fetch_add(batch.size());
      }
    }
    buffer.erase(0, body_start + length);
    if (::send(fd, answer.data(), answer.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(answer.size())) return;
  }
}

}  // namespace

int main(int argc, char** argv) {
  int port = 0;
  int status = 200;
  std::string report;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--port") port = std::atoi(argv[i + 1]);
    else if (flag == "--status") status = std::atoi(argv[i + 1]);
    else if (flag == "--report") report = argv[i + 1];
    else {
      std::fprintf(stderr, "usage: tessera-sink --port P --report FILE [--status N]\n");
      return 2;
    }
  }
  if (port <= 0 || report.empty()) {
    std::fprintf(stderr, "usage: tessera-sink --port P --report FILE [--status N]\n");
    return 2;
  }
  const int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  const int one = 1;
  ::setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(static_cast<uint16_t>(port));
  if (::bind(listener, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0 || ::listen(listener, 128) != 0) {
    std::perror("tessera-sink");
    return 1;
  }
  std::thread([report] {
    for (;;) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      const std::string temporary = report + ".tmp";
      {
        std::ofstream out(temporary, std::ios::trunc);
        out << "requests=" << g_requests.load() << " events=" << g_events.load() << " first_ms=" << g_first_ms.load()
            << " last_ms=" << g_last_ms.load() << "\n";
      }
      std::rename(temporary.c_str(), report.c_str());
    }
  }).detach();
  for (;;) {
    const int fd = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    std::thread([fd, status] {
      Serve(fd, status);
      ::close(fd);
    }).detach();
  }
}
