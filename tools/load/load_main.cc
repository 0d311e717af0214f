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
//
// This file resolves the host, reads the corpus, installs the signal handlers and starts one of the
// two modes: the options are in load_options.h, the corpus in load_corpus.h, what a run shares in
// load_run.h, the modes in http_mode.cc and websocket_mode.cc, the printed figures in load_report.h.

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>

#include <cstdio>
#include <optional>
#include <random>
#include <string>

#include "tools/load/load_corpus.h"
#include "tools/load/load_options.h"
#include "tools/load/load_run.h"

namespace tessera::tools {
namespace {

void OnSignal(int) { g_stop.store(true); }

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
      shared.corpus_auth_headers.push_back("Authorization: Basic " + Base64(options.keys.at(channel) + ":") +
                                           "\r\n");
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
