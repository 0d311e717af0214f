// tessera-load: drives the tracking API with realistic Segment batches over keep-alive HTTP/1.1
// connections, or with --websocket over WebSocket streams (one thread per connection either way),
// and prints throughput and acknowledgement latency.
//
//   tessera-load --port P --write-key K [--host 127.0.0.1] [--connections 8] [--batch 100]
//                [--event-bytes 600] [--duration 30s | --requests N] [--rate R] [--seed S]
//                [--timeout 30s] [--websocket [--inflight 8 | --unbounded] [--slow-reader-ms 0]]
//   tessera-load --port P --corpus FILE --keys web=K,app=K,... [--connections 16] [--websocket ...]
//
// --rate is events per second over all connections (0 = as fast as the server acknowledges).
// With --websocket each connection streams frames of --batch events over GET /v1/stream
// (docs/streaming.md) with at most --inflight of them unacknowledged, or, with --unbounded, as fast
// as the socket takes them while acks are read in parallel; --requests then counts frames.
// With --corpus the batches come from a file written by `tessera bench corpus` (one line per batch,
// "channel<TAB>body"), each sent with the write key of its channel, until the file is exhausted
// (or --duration ends first): every event is sent exactly once. Over HTTP the connections take the
// lines in file order; over WebSocket, where a connection carries one key, connections are shared
// among the channels in proportion to their batches.
// Exit code: 0 when every request (frame) got an answer, 1 when connections failed or nothing was
// acknowledged, 2 for bad usage.

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "tools/load/event_generator.h"
#include "tools/load/latency_histogram.h"
#include "tools/load/websocket_driver.h"

namespace tessera::tools {
namespace {

using Clock = std::chrono::steady_clock;

struct Options {
  std::string host = "127.0.0.1";
  uint16_t port = 0;
  std::string write_key;
  int connections = 8;
  size_t batch = 100;
  size_t event_bytes = 600;
  std::optional<std::chrono::milliseconds> duration;
  std::optional<uint64_t> requests;
  double rate = 0;  // events/s over all connections; 0 = unlimited
  std::optional<uint64_t> seed;
  std::chrono::milliseconds timeout{30'000};
  bool websocket = false;                                // GET /v1/stream instead of POST /v1/batch.
  std::optional<size_t> inflight;                        // WebSocket window per connection (default 8).
  bool unbounded = false;                                // WebSocket without a window.
  std::optional<std::chrono::milliseconds> slow_reader;  // WebSocket: pause before reading each ack.
  std::string corpus;                                    // --corpus FILE: batches from a file.
  std::map<std::string, std::string> keys;               // --keys: write key by channel.
};

constexpr size_t kDefaultInflight = 8;

void Usage(const char* message) {
  std::fprintf(
      stderr,
      "tessera-load: %s\n"
      "usage: tessera-load --port P --write-key K [--host 127.0.0.1] [--connections 8] [--batch 100]\n"
      "                    [--event-bytes 600] [--duration 30s | --requests N] [--rate EVENTS_PER_S]\n"
      "                    [--seed S] [--timeout 30s]\n"
      "                    [--websocket [--inflight 8 | --unbounded] [--slow-reader-ms 0]]\n"
      "  --websocket         stream frames over GET /v1/stream instead of POST /v1/batch;\n"
      "                      --batch is events per frame, --requests counts frames\n"
      "  --inflight N        frames sent but not yet acknowledged, per connection (default 8)\n"
      "  --unbounded         send frames without waiting for acks, reading acks in parallel\n"
      "  --slow-reader-ms M  sleep M ms before reading each ack\n"
      "  --corpus FILE       send the batches of FILE (`tessera bench corpus`) once, each with the\n"
      "                      write key of its channel from --keys web=K,app=K,... (instead of --write-key)\n",
      message);
}

template <typename Int>
bool ParseInteger(std::string_view text, Int& out) {
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), out);
  return error == std::errc() && end == text.data() + text.size();
}

// "30s", "500ms", "2m", "1h" or a bare number of seconds.
std::optional<std::chrono::milliseconds> ParseDuration(std::string_view text) {
  size_t digits = 0;
  while (digits < text.size() && (std::isdigit(static_cast<unsigned char>(text[digits])) || text[digits] == '.')) {
    ++digits;
  }
  if (digits == 0) return std::nullopt;
  double value = 0;
  try {
    value = std::stod(std::string(text.substr(0, digits)));
  } catch (...) {
    return std::nullopt;
  }
  const std::string_view unit = text.substr(digits);
  double ms;
  if (unit.empty() || unit == "s") {
    ms = value * 1000;
  } else if (unit == "ms") {
    ms = value;
  } else if (unit == "m") {
    ms = value * 60'000;
  } else if (unit == "h") {
    ms = value * 3'600'000;
  } else {
    return std::nullopt;
  }
  return std::chrono::milliseconds(static_cast<int64_t>(ms));
}

std::optional<Options> ParseOptions(int argc, char** argv) {
  Options options;
  for (int i = 1; i < argc; ++i) {
    std::string_view flag = argv[i];
    std::string_view value;
    if (flag == "--websocket") {
      options.websocket = true;
      continue;
    } else if (flag == "--unbounded") {
      options.unbounded = true;
      continue;
    } else if (const size_t equals = flag.find('='); equals != std::string_view::npos) {
      value = flag.substr(equals + 1);
      flag = flag.substr(0, equals);
    } else if (flag == "--help" || flag == "-h") {
      Usage("drives POST /v1/batch (or GET /v1/stream) and reports throughput and latency");
      std::exit(0);
    } else if (i + 1 < argc) {
      value = argv[++i];
    } else {
      Usage(("missing value for " + std::string(flag)).c_str());
      return std::nullopt;
    }
    bool ok = true;
    if (flag == "--host") {
      options.host = std::string(value);
    } else if (flag == "--port") {
      ok = ParseInteger(value, options.port) && options.port != 0;
    } else if (flag == "--write-key") {
      options.write_key = std::string(value);
    } else if (flag == "--connections") {
      ok = ParseInteger(value, options.connections) && options.connections > 0;
    } else if (flag == "--batch") {
      ok = ParseInteger(value, options.batch) && options.batch > 0;
    } else if (flag == "--event-bytes") {
      ok = ParseInteger(value, options.event_bytes);
    } else if (flag == "--duration") {
      options.duration = ParseDuration(value);
      ok = options.duration.has_value() && options.duration->count() > 0;
    } else if (flag == "--requests") {
      uint64_t requests = 0;
      ok = ParseInteger(value, requests) && requests > 0;
      options.requests = requests;
    } else if (flag == "--rate") {
      try {
        options.rate = std::stod(std::string(value));
      } catch (...) {
        ok = false;
      }
      ok = ok && options.rate >= 0;
    } else if (flag == "--seed") {
      uint64_t seed = 0;
      ok = ParseInteger(value, seed);
      options.seed = seed;
    } else if (flag == "--timeout") {
      const auto timeout = ParseDuration(value);
      ok = timeout.has_value() && timeout->count() > 0;
      if (ok) options.timeout = *timeout;
    } else if (flag == "--inflight") {
      size_t inflight = 0;
      ok = ParseInteger(value, inflight) && inflight > 0;
      options.inflight = inflight;
    } else if (flag == "--websocket" || flag == "--unbounded") {
      Usage((std::string(flag) + " takes no value").c_str());
      return std::nullopt;
    } else if (flag == "--corpus") {
      options.corpus = std::string(value);
    } else if (flag == "--keys") {
      std::string_view rest = value;
      while (ok && !rest.empty()) {
        const size_t comma = rest.find(',');
        const std::string_view pair = rest.substr(0, comma);
        const size_t equals = pair.find('=');
        ok = equals != std::string_view::npos && equals > 0 && equals + 1 < pair.size();
        if (ok) options.keys[std::string(pair.substr(0, equals))] = std::string(pair.substr(equals + 1));
        rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
      }
    } else if (flag == "--slow-reader-ms") {
      int64_t millis = 0;
      ok = ParseInteger(value, millis) && millis >= 0;
      options.slow_reader = std::chrono::milliseconds(millis);
    } else {
      Usage(("unknown flag " + std::string(flag)).c_str());
      return std::nullopt;
    }
    if (!ok) {
      Usage(("bad value for " + std::string(flag) + ": " + std::string(value)).c_str());
      return std::nullopt;
    }
  }
  if (options.port == 0) {
    Usage("--port is required");
    return std::nullopt;
  }
  if (options.corpus.empty() != options.keys.empty()) {
    Usage("--corpus and --keys go together");
    return std::nullopt;
  }
  if (options.write_key.empty() == options.corpus.empty()) {
    Usage("give --write-key, or --corpus with --keys");
    return std::nullopt;
  }
  if (options.duration && options.requests) {
    Usage("give --duration or --requests, not both");
    return std::nullopt;
  }
  if (!options.websocket && (options.inflight || options.unbounded || options.slow_reader)) {
    Usage("--inflight, --unbounded and --slow-reader-ms need --websocket");
    return std::nullopt;
  }
  if (options.inflight && options.unbounded) {
    Usage("give --inflight or --unbounded, not both");
    return std::nullopt;
  }
  if (!options.duration && !options.requests && options.corpus.empty()) options.duration = std::chrono::seconds(30);
  return options;
}

std::string Base64(std::string_view bytes) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  uint32_t buffer = 0;
  int bits = 0;
  for (unsigned char c : bytes) {
    buffer = (buffer << 8) | c;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out.push_back(kAlphabet[(buffer >> bits) & 63]);
    }
  }
  if (bits > 0) out.push_back(kAlphabet[(buffer << (6 - bits)) & 63]);
  while (out.size() % 4 != 0) out.push_back('=');
  return out;
}

struct Stats {
  LatencyHistogram latency;
  std::map<int, uint64_t> statuses;
  uint64_t requests = 0;       // Requests that got a response.
  uint64_t events_sent = 0;    // Events in those requests.
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

std::atomic<bool> g_stop{false};
void OnSignal(int) { g_stop.store(true); }

// One keep-alive HTTP/1.1 connection.
class Connection {
 public:
  Connection(const sockaddr_in& address, std::chrono::milliseconds timeout) : address_(address), timeout_(timeout) {}
  ~Connection() { Close(); }

  bool Connect() {
    Close();
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) return false;
    const int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    timeval tv{static_cast<time_t>(timeout_.count() / 1000), static_cast<suseconds_t>(timeout_.count() % 1000 * 1000)};
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
    if (head.size() < 12 || !head.starts_with("http/1.") || !ParseInteger(std::string_view(head).substr(9, 3), status)) {
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
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
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

// The batches of a --corpus file, in file order, with the index of their channel.
struct Corpus {
  struct Batch {
    size_t channel = 0;
    std::string body;
    size_t events = 0;
  };
  std::vector<std::string> channels;
  std::vector<Batch> batches;
  std::atomic<size_t> next{0};  // Over HTTP: the next batch to send.
};

// Reads `path`; every channel must have a key. Prints the problem and returns false otherwise.
bool LoadCorpus(const Options& options, Corpus& corpus) {
  std::FILE* file = std::fopen(options.corpus.c_str(), "rb");
  if (file == nullptr) {
    std::fprintf(stderr, "tessera-load: cannot read %s: %s\n", options.corpus.c_str(), std::strerror(errno));
    return false;
  }
  char* line = nullptr;
  size_t capacity = 0;
  ssize_t length;
  bool ok = true;
  while (ok && (length = ::getline(&line, &capacity, file)) > 0) {
    std::string_view text(line, static_cast<size_t>(length));
    if (text.back() == '\n') text.remove_suffix(1);
    const size_t tab = text.find('\t');
    if (tab == std::string_view::npos || tab == 0) {
      std::fprintf(stderr, "tessera-load: %s: line %zu is not \"channel<TAB>body\"\n", options.corpus.c_str(),
                   corpus.batches.size() + 1);
      ok = false;
      break;
    }
    const std::string channel(text.substr(0, tab));
    auto known = std::find(corpus.channels.begin(), corpus.channels.end(), channel);
    if (known == corpus.channels.end()) {
      if (!options.keys.contains(channel)) {
        std::fprintf(stderr, "tessera-load: --keys has no key for channel \"%s\" of the corpus\n", channel.c_str());
        ok = false;
        break;
      }
      known = corpus.channels.insert(corpus.channels.end(), channel);
    }
    Corpus::Batch batch;
    batch.channel = static_cast<size_t>(known - corpus.channels.begin());
    batch.body.assign(text.substr(tab + 1));
    for (size_t at = batch.body.find("\"messageId\":"); at != std::string::npos;
         at = batch.body.find("\"messageId\":", at + 1)) {
      ++batch.events;
    }
    corpus.batches.push_back(std::move(batch));
  }
  std::free(line);
  std::fclose(file);
  if (ok && corpus.batches.empty()) {
    std::fprintf(stderr, "tessera-load: %s holds no batch\n", options.corpus.c_str());
    ok = false;
  }
  return ok;
}

struct Shared {
  const Options* options = nullptr;
  Corpus* corpus = nullptr;
  std::vector<std::string> corpus_auth_headers;  // By corpus channel.
  sockaddr_in address{};
  std::string auth_header;
  uint64_t seed = 0;
  Clock::time_point start;
  Clock::time_point end;                  // For --duration.
  std::atomic<uint64_t> next_request{0};  // For --requests.
  std::atomic<uint64_t> progress_requests{0};
  std::atomic<uint64_t> progress_events{0};
};

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
        std::fprintf(stderr, "tessera-load: connection %d: three requests in a row failed; giving up\n", index);
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

std::string Millis(uint64_t micros) {
  char buffer[32];
  std::snprintf(buffer, sizeof(buffer), "%.2f ms", static_cast<double>(micros) / 1000.0);
  return buffer;
}

// Prints a progress line per second on stderr until `running` drops to zero: the events and
// requests (or frames) acknowledged per second, read from the two counters.
void ReportProgress(Clock::time_point start, const std::atomic<int>& running,
                    const std::atomic<uint64_t>& requests, const std::atomic<uint64_t>& events,
                    const char* unit) {
  uint64_t last_requests = 0;
  uint64_t last_events = 0;
  auto last_tick = start;
  while (running.load() > 0) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    const auto now = Clock::now();
    if (now - last_tick < std::chrono::seconds(1)) continue;
    const double seconds = std::chrono::duration<double>(now - last_tick).count();
    const uint64_t requests_now = requests.load();
    const uint64_t events_now = events.load();
    std::fprintf(stderr, "  %5.0f s: %8.0f events/s %7.0f %s/s\n",
                 std::chrono::duration<double>(now - start).count(),
                 static_cast<double>(events_now - last_events) / seconds,
                 static_cast<double>(requests_now - last_requests) / seconds, unit);
    last_requests = requests_now;
    last_events = events_now;
    last_tick = now;
  }
}

// Runs `connection(i)` for i in [0, connections) on one thread each, reporting progress every
// second until they all end; returns the elapsed seconds since `start`.
template <typename Connection>
double RunConnections(int connections, Clock::time_point start, const std::atomic<uint64_t>& units,
                      const std::atomic<uint64_t>& events, const char* unit, Connection connection) {
  std::vector<std::thread> threads;
  std::atomic<int> running{connections};
  for (int i = 0; i < connections; ++i) {
    threads.emplace_back([&, i] {
      connection(i);
      running.fetch_sub(1);
    });
  }
  ReportProgress(start, running, units, events, unit);
  for (std::thread& thread : threads) thread.join();
  return std::chrono::duration<double>(Clock::now() - start).count();
}

void PrintRunLength(const Options& options) {
  if (options.requests) {
    std::printf("%llu %s", static_cast<unsigned long long>(*options.requests),
                options.websocket ? "frames" : "requests");
  } else if (options.duration) {
    std::printf("%.1f s", static_cast<double>(options.duration->count()) / 1000.0);
  } else {
    std::printf("the corpus %s once", options.corpus.c_str());
  }
  if (options.rate > 0) std::printf(", rate %.0f events/s", options.rate);
  std::printf("\n");
  std::fflush(stdout);
}

void PrintLatency(const LatencyHistogram& latency) {
  std::printf("ack latency: p50 %s  p90 %s  p99 %s  max %s\n", Millis(latency.Quantile(0.50)).c_str(),
              Millis(latency.Quantile(0.90)).c_str(), Millis(latency.Quantile(0.99)).c_str(),
              Millis(latency.max()).c_str());
}

int RunHttp(const Options& options, Shared& shared) {
  std::printf("tessera-load: %s:%u, %d connections, %zu events/batch, ~%zu B/event, seed %llu, ",
              options.host.c_str(), options.port, options.connections, options.batch, options.event_bytes,
              static_cast<unsigned long long>(shared.seed));
  PrintRunLength(options);

  shared.start = Clock::now();
  shared.end = options.duration ? shared.start + *options.duration : Clock::time_point::max();
  std::vector<Stats> stats(static_cast<size_t>(options.connections));
  const double elapsed =
      RunConnections(options.connections, shared.start, shared.progress_requests, shared.progress_events, "requests",
                     [&](int i) { RunConnection(i, shared, stats[static_cast<size_t>(i)]); });

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

int RunWebSocket(const Options& options, const Shared& shared) {
  WebSocketDriverOptions driver;
  char address[INET_ADDRSTRLEN] = {};
  ::inet_ntop(AF_INET, &shared.address.sin_addr, address, sizeof(address));
  driver.address = address;
  driver.port = options.port;
  driver.host = options.host + ":" + std::to_string(options.port);
  driver.authorization = "Basic " + Base64(options.write_key + ":");
  driver.batch = options.batch;
  driver.event_bytes = options.event_bytes;
  driver.timeout = options.timeout;
  driver.inflight = options.inflight.value_or(kDefaultInflight);
  driver.unbounded = options.unbounded;
  driver.slow_reader = options.slow_reader.value_or(std::chrono::milliseconds(0));
  // Pacing: each connection carries an equal share of --rate.
  const double per_connection_rate = options.rate / options.connections;
  if (per_connection_rate > 0) {
    driver.send_interval = std::chrono::duration_cast<Clock::duration>(
        std::chrono::duration<double>(static_cast<double>(options.batch) / per_connection_rate));
  }
  std::string window = options.unbounded ? std::string("unbounded (no window)")
                                         : "window " + std::to_string(driver.inflight) + " frames/connection";
  if (driver.slow_reader.count() > 0)
    window += ", slow reader " + std::to_string(driver.slow_reader.count()) + " ms";

  std::printf(
      "tessera-load: %s:%u over WebSocket, %d connections, %zu events/frame, ~%zu B/event, %s, seed %llu, ",
      options.host.c_str(), options.port, options.connections, options.batch, options.event_bytes,
      window.c_str(), static_cast<unsigned long long>(shared.seed));
  PrintRunLength(options);

  WebSocketRunControl control;
  control.start = Clock::now();
  if (options.duration) control.end = control.start + *options.duration;
  control.frame_limit = options.requests;
  control.stop = &g_stop;
  // One driver per connection: with a corpus, each connection streams one channel's batches with
  // that channel's key.
  std::vector<WebSocketDriverOptions> drivers(static_cast<size_t>(options.connections), driver);
  std::vector<std::vector<size_t>> batches_of_channel;
  std::vector<std::unique_ptr<std::atomic<size_t>>> next_of_channel;
  if (shared.corpus != nullptr) {
    const Corpus& corpus = *shared.corpus;
    batches_of_channel.resize(corpus.channels.size());
    for (size_t i = 0; i < corpus.batches.size(); ++i) batches_of_channel[corpus.batches[i].channel].push_back(i);
    for (size_t c = 0; c < corpus.channels.size(); ++c) next_of_channel.push_back(std::make_unique<std::atomic<size_t>>(0));
    if (static_cast<size_t>(options.connections) < corpus.channels.size()) {
      std::fprintf(stderr, "tessera-load: --connections must be at least the corpus's %zu channels\n",
                   corpus.channels.size());
      return 2;
    }
    // Connections per channel in proportion to its batches, at least one each.
    std::vector<size_t> channel_of_connection;
    const size_t spare = static_cast<size_t>(options.connections) - corpus.channels.size();
    std::vector<size_t> share(corpus.channels.size(), 1);
    size_t given = 0;
    for (size_t c = 0; c < corpus.channels.size(); ++c) {
      const size_t extra = spare * batches_of_channel[c].size() / corpus.batches.size();
      share[c] += extra;
      given += extra;
    }
    for (size_t c = 0; given < spare; c = (c + 1) % share.size(), ++given) ++share[c];
    for (size_t c = 0; c < share.size(); ++c) channel_of_connection.insert(channel_of_connection.end(), share[c], c);
    for (size_t i = 0; i < drivers.size(); ++i) {
      const size_t channel = channel_of_connection[i];
      drivers[i].authorization = "Basic " + Base64(options.keys.at(corpus.channels[channel]) + ":");
      drivers[i].next_batch = [&, channel](std::string& body, size_t& events) {
        const size_t next = next_of_channel[channel]->fetch_add(1);
        if (next >= batches_of_channel[channel].size()) return false;
        const Corpus::Batch& batch = shared.corpus->batches[batches_of_channel[channel][next]];
        body = batch.body;
        events = batch.events;
        return true;
      };
    }
  }
  std::vector<WebSocketStats> stats(static_cast<size_t>(options.connections));
  const double elapsed =
      RunConnections(options.connections, control.start, control.acked_frames, control.acked_events, "frames",
                     [&](int i) {
                       stats[static_cast<size_t>(i)] =
                           RunWebSocketConnection(i, shared.seed * 1'000'003 + static_cast<uint64_t>(i),
                                                  drivers[static_cast<size_t>(i)], control);
                     });

  WebSocketStats total;
  for (const WebSocketStats& s : stats) total.Merge(s);
  std::printf("mode:      websocket (GET /v1/stream), %s\n", window.c_str());
  std::printf("elapsed:   %.2f s\n", elapsed);
  std::printf(
      "frames:    %llu sent, %llu acked (%.1f/s), %llu unacknowledged\n",
      static_cast<unsigned long long>(total.frames_sent), static_cast<unsigned long long>(total.frames_acked),
      static_cast<double>(total.frames_acked) / elapsed,
      static_cast<unsigned long long>(total.frames_sent - std::min(total.frames_sent, total.frames_acked)));
  std::printf("events:    %llu accepted (%.0f/s) of %llu sent, %llu duplicates, %llu rejected\n",
              static_cast<unsigned long long>(total.events_accepted),
              static_cast<double>(total.events_accepted) / elapsed,
              static_cast<unsigned long long>(total.events_sent),
              static_cast<unsigned long long>(total.duplicates),
              static_cast<unsigned long long>(total.rejected));
  std::printf("frame errors: %llu", static_cast<unsigned long long>(total.frame_errors));
  for (const auto& [code, count] : total.frame_error_codes) {
    std::printf(" %s=%llu", code.c_str(), static_cast<unsigned long long>(count));
  }
  std::printf("\n");
  PrintLatency(total.latency);
  std::printf("sent:      %.1f MB (%.2f MB/s)\n", static_cast<double>(total.bytes_sent) / 1e6,
              static_cast<double>(total.bytes_sent) / 1e6 / elapsed);
  std::printf("errors:    %llu transport errors, %llu failed connects\n",
              static_cast<unsigned long long>(total.transport_errors),
              static_cast<unsigned long long>(total.connect_failures));

  const bool acknowledged_any = total.frames_acked > total.frame_errors;
  if (total.transport_errors > 0 || total.connect_failures > 0 || !acknowledged_any) {
    std::fprintf(stderr, "tessera-load: FAILED (%s)\n",
                 !acknowledged_any ? "no frame was acknowledged" : "connections failed");
    return 1;
  }
  return 0;
}

int Main(int argc, char** argv) {
  const std::optional<Options> parsed = ParseOptions(argc, argv);
  if (!parsed) return 2;
  const Options& options = *parsed;

  Shared shared;
  shared.options = &options;
  addrinfo hints{};
  hints.ai_family = AF_INET;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* resolved = nullptr;
  if (const int error = ::getaddrinfo(options.host.c_str(), nullptr, &hints, &resolved); error != 0) {
    std::fprintf(stderr, "tessera-load: cannot resolve %s: %s\n", options.host.c_str(), gai_strerror(error));
    return 2;
  }
  shared.address = *reinterpret_cast<const sockaddr_in*>(resolved->ai_addr);
  shared.address.sin_port = htons(options.port);
  ::freeaddrinfo(resolved);
  shared.auth_header = "Authorization: Basic " + Base64(options.write_key + ":") + "\r\n";
  Corpus corpus;
  if (!options.corpus.empty()) {
    if (!LoadCorpus(options, corpus)) return 2;
    shared.corpus = &corpus;
    for (const std::string& channel : corpus.channels) {
      shared.corpus_auth_headers.push_back("Authorization: Basic " + Base64(options.keys.at(channel) + ":") + "\r\n");
    }
  }
  // Without --seed, a fresh seed: a rerun must not resend the same messageIds (they would be
  // deduplicated and measure a different path). The seed is printed so a run can be repeated.
  shared.seed = options.seed.value_or(std::random_device{}() * 4'294'967'296ULL + std::random_device{}());

  struct sigaction action {};
  action.sa_handler = OnSignal;
  ::sigaction(SIGINT, &action, nullptr);
  ::sigaction(SIGTERM, &action, nullptr);
  ::signal(SIGPIPE, SIG_IGN);

  return options.websocket ? RunWebSocket(options, shared) : RunHttp(options, shared);
}

}  // namespace
}  // namespace tessera::tools

int main(int argc, char** argv) { return tessera::tools::Main(argc, argv); }
