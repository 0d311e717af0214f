// The HTTP mode of tessera-load: each connection POSTs batches (generated, or the corpus's lines in
// file order) to /v1/batch over a keep-alive HTTP/1.1 connection of its own, paced by --rate, until
// the run ends; RunHttp then prints the summary.

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "tools/load/event_generator.h"
#include "tools/load/latency_histogram.h"
#include "tools/load/load_corpus.h"
#include "tools/load/load_options.h"
#include "tools/load/load_report.h"
#include "tools/load/load_run.h"

namespace tessera::tools {
namespace {

struct Stats {
  LatencyHistogram latency;
  std::map<int, uint64_t> statuses;
  uint64_t requests = 0;     // Requests that got a response.
  uint64_t events_sent = 0;  // Events in those requests.
  uint64_t events_accepted = 0;
  uint64_t bytes_sent = 0;
  uint64_t transport_errors = 0;  // Send/receive failures and timeouts.
  uint64_t connect_failures = 0;

  void Merge(const Stats& other) {
    latency.Merge(other.latency);
    for (const auto& [status, count] : other.statuses) statuses[status] += count;
    requests += other.requests;
    events_sent += other.events_sent;
    events_accepted += other.events_accepted;
    bytes_sent += other.bytes_sent;
    transport_errors += other.transport_errors;
    connect_failures += other.connect_failures;
  }
};

// One keep-alive HTTP/1.1 connection.
class Connection {
 public:
  Connection(const sockaddr_in& address, std::chrono::milliseconds timeout)
      : address_(address), timeout_(timeout) {}
  ~Connection() { Close(); }

  bool Connect() {
    Close();
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) return false;
    const int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    timeval tv{static_cast<time_t>(timeout_.count() / 1000),
               static_cast<suseconds_t>(timeout_.count() % 1000 * 1000)};
    ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    if (::connect(fd_, reinterpret_cast<const sockaddr*>(&address_), sizeof(address_)) != 0) {
      Close();
      return false;
    }
    buffer_.clear();
    return true;
  }
  bool connected() const { return fd_ >= 0; }
  void Close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

  // Sends `request` and reads one response; false on any transport failure (the connection is
  // then closed).
  bool RoundTrip(std::string_view request, int& status, std::string& body) {
    while (!request.empty()) {
      const ssize_t n = ::send(fd_, request.data(), request.size(), MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return Fail();
      request.remove_prefix(static_cast<size_t>(n));
    }
    const auto deadline = Clock::now() + timeout_;
    size_t head_end;
    while ((head_end = buffer_.find("\r\n\r\n")) == std::string::npos) {
      if (!ReadMore(deadline)) return Fail();
    }
    std::string head = buffer_.substr(0, head_end);
    for (char& c : head) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (head.size() < 12 || !head.starts_with("http/1.") ||
        !ParseInteger(std::string_view(head).substr(9, 3), status)) {
      return Fail();
    }
    const bool close_after = head.find("\r\nconnection: close") != std::string::npos;
    size_t consumed = head_end + 4;
    body.clear();
    if (const size_t at = head.find("\r\ncontent-length:"); at != std::string::npos) {
      size_t start = at + 17;
      while (start < head.size() && head[start] == ' ') ++start;
      size_t length = 0;
      const auto [end, error] = std::from_chars(head.data() + start, head.data() + head.size(), length);
      if (error != std::errc()) return Fail();
      while (buffer_.size() < consumed + length) {
        if (!ReadMore(deadline)) return Fail();
      }
      body = buffer_.substr(consumed, length);
      consumed += length;
    } else if (head.find("\r\ntransfer-encoding: chunked") != std::string::npos) {
      while (true) {
        size_t line_end;
        while ((line_end = buffer_.find("\r\n", consumed)) == std::string::npos) {
          if (!ReadMore(deadline)) return Fail();
        }
        size_t chunk = 0;
        std::from_chars(buffer_.data() + consumed, buffer_.data() + line_end, chunk, 16);
        consumed = line_end + 2;
        while (buffer_.size() < consumed + chunk + 2) {
          if (!ReadMore(deadline)) return Fail();
        }
        body.append(buffer_, consumed, chunk);
        consumed += chunk + 2;
        if (chunk == 0) break;
      }
    } else if (status != 204 && status != 304) {
      while (ReadMore(deadline)) {
      }
      body = buffer_.substr(consumed);
      consumed = buffer_.size();
      buffer_.clear();
      Close();
      return true;
    }
    buffer_.erase(0, consumed);
    if (close_after) Close();
    return true;
  }

 private:
  bool Fail() {
    Close();
    buffer_.clear();
    return false;
  }
  bool ReadMore(Clock::time_point deadline) {
    while (true) {
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
      if (left <= 0) return false;
      pollfd pfd{fd_, POLLIN, 0};
      const int ready = ::poll(&pfd, 1, static_cast<int>(left));
      if (ready < 0 && errno == EINTR) continue;
      if (ready <= 0) return false;
      char chunk[16 * 1024];
      const ssize_t n = ::recv(fd_, chunk, sizeof(chunk), 0);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return false;
      buffer_.append(chunk, static_cast<size_t>(n));
      return true;
    }
  }

  sockaddr_in address_;
  std::chrono::milliseconds timeout_;
  int fd_ = -1;
  std::string buffer_;
};

// "accepted":N from a partial-success body; nullopt when absent (then all events were accepted).
std::optional<uint64_t> AcceptedCount(std::string_view body) {
  const size_t at = body.find("\"accepted\":");
  if (at == std::string_view::npos) return std::nullopt;
  size_t start = at + 11;
  while (start < body.size() && body[start] == ' ') ++start;
  uint64_t value = 0;
  const auto [end, error] = std::from_chars(body.data() + start, body.data() + body.size(), value);
  if (error != std::errc()) return std::nullopt;
  return value;
}

void RunConnection(int index, Shared& shared, Stats& stats) {
  const Options& options = *shared.options;
  EventGenerator generator(shared.seed * 1'000'003 + static_cast<uint64_t>(index), options.event_bytes);
  Connection connection(shared.address, options.timeout);
  // Pacing: each connection carries an equal share of --rate.
  const double per_connection_rate = options.rate / options.connections;
  const auto interval = per_connection_rate > 0
                            ? std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(
                                  static_cast<double>(options.batch) / per_connection_rate))
                            : Clock::duration::zero();
  Clock::time_point next_send = shared.start;
  int consecutive_failures = 0;
  std::string request;
  std::string body;

  while (!g_stop.load(std::memory_order_relaxed)) {
    if (options.requests) {
      if (shared.next_request.fetch_add(1) >= *options.requests) break;
    } else if (Clock::now() >= shared.end) {
      break;
    }
    if (interval > Clock::duration::zero()) {
      next_send += interval;
      const auto now = Clock::now();
      if (next_send > now) std::this_thread::sleep_until(std::min(next_send, shared.end));
      if (!options.requests && Clock::now() >= shared.end) break;
    }
    if (!connection.connected() && !connection.Connect()) {
      ++stats.connect_failures;
      if (++consecutive_failures >= 3) {
        std::fprintf(stderr, "tessera-load: connection %d: cannot connect to %s:%u: %s\n", index,
                     options.host.c_str(), options.port, std::strerror(errno));
        return;
      }
      continue;
    }
    std::string generated;
    const std::string* payload = &generated;
    size_t events = options.batch;
    const std::string* auth_header = &shared.auth_header;
    if (shared.corpus != nullptr) {
      const size_t next = shared.corpus->next.fetch_add(1);
      if (next >= shared.corpus->batches.size()) break;
      const Corpus::Batch& batch = shared.corpus->batches[next];
      payload = &batch.body;
      events = batch.events;
      auth_header = &shared.corpus_auth_headers[batch.channel];
    } else {
      generated = generator.NextBatch(options.batch);
    }
    request.clear();
    request += "POST /v1/batch HTTP/1.1\r\nHost: ";
    request += options.host;
    request += "\r\nContent-Type: application/json\r\n";
    request += *auth_header;
    request += "Content-Length: " + std::to_string(payload->size()) + "\r\n\r\n";
    request += *payload;

    const auto sent_at = Clock::now();
    int status = 0;
    if (!connection.RoundTrip(request, status, body)) {
      ++stats.transport_errors;
      if (++consecutive_failures >= 3) {
        std::fprintf(stderr, "tessera-load: connection %d: three requests in a row failed; giving up\n",
                     index);
        return;
      }
      continue;
    }
    consecutive_failures = 0;
    const auto micros = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - sent_at).count();
    stats.latency.Record(static_cast<uint64_t>(micros));
    ++stats.statuses[status];
    ++stats.requests;
    stats.events_sent += events;
    stats.bytes_sent += request.size();
    if (status == 200) stats.events_accepted += AcceptedCount(body).value_or(events);
    shared.progress_requests.fetch_add(1, std::memory_order_relaxed);
    shared.progress_events.fetch_add(events, std::memory_order_relaxed);
  }
}

}  // namespace

int RunHttp(const Options& options, Shared& shared) {
  std::printf("tessera-load: %s:%u, %d connections, %zu events/batch, ~%zu B/event, seed %llu, ",
              options.host.c_str(), options.port, options.connections, options.batch, options.event_bytes,
              static_cast<unsigned long long>(shared.seed));
  PrintRunLength(options);

  shared.start = Clock::now();
  shared.end = options.duration ? shared.start + *options.duration : Clock::time_point::max();
  std::vector<Stats> stats(static_cast<size_t>(options.connections));
  const double elapsed =
      RunConnections(options.connections, shared.start, shared.progress_requests, shared.progress_events,
                     "requests", [&](int i) { RunConnection(i, shared, stats[static_cast<size_t>(i)]); });

  Stats total;
  for (const Stats& s : stats) total.Merge(s);
  std::printf("mode:      http (POST /v1/batch)\n");
  std::printf("elapsed:   %.2f s\n", elapsed);
  std::printf("requests:  %llu (%.1f/s)  statuses:", static_cast<unsigned long long>(total.requests),
              static_cast<double>(total.requests) / elapsed);
  for (const auto& [status, count] : total.statuses) {
    std::printf(" %d=%llu", status, static_cast<unsigned long long>(count));
  }
  std::printf("\n");
  std::printf("events:    %llu accepted (%.0f/s) of %llu sent\n",
              static_cast<unsigned long long>(total.events_accepted),
              static_cast<double>(total.events_accepted) / elapsed,
              static_cast<unsigned long long>(total.events_sent));
  PrintLatency(total.latency);
  std::printf("sent:      %.1f MB (%.2f MB/s)\n", static_cast<double>(total.bytes_sent) / 1e6,
              static_cast<double>(total.bytes_sent) / 1e6 / elapsed);
  std::printf("errors:    %llu transport errors, %llu failed connects\n",
              static_cast<unsigned long long>(total.transport_errors),
              static_cast<unsigned long long>(total.connect_failures));

  const bool acknowledged_any = total.statuses.contains(200);
  if (total.transport_errors > 0 || total.connect_failures > 0 || !acknowledged_any) {
    std::fprintf(stderr, "tessera-load: FAILED (%s)\n",
                 !acknowledged_any ? "no request was acknowledged" : "connections failed");
    return 1;
  }
  return 0;
}

}  // namespace tessera::tools
