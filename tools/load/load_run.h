#pragma once

// What the parts of one tessera-load run share: the clock, the state both modes read (Shared), the
// stop flag that SIGINT and SIGTERM set, Basic authorization, and the two modes themselves
// (http_mode.cc and websocket_mode.cc), which load_main.cc starts.

#include <netinet/in.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "tools/load/load_corpus.h"
#include "tools/load/load_options.h"

namespace tessera::tools {

using Clock = std::chrono::steady_clock;

// Set by SIGINT and SIGTERM: the connections send nothing more.
extern std::atomic<bool> g_stop;

// Padded base64 of `bytes`, for "Authorization: Basic base64(writeKey:)".
std::string Base64(std::string_view bytes);

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

// POSTs batches to /v1/batch over --connections keep-alive connections until the run ends, prints
// the summary, and returns the exit code (0, or 1 when connections failed or nothing was acknowledged).
int RunHttp(const Options& options, Shared& shared);

// Streams frames over GET /v1/stream (--websocket) until the run ends, prints the summary, and
// returns the exit code (0; 1 when connections failed or nothing was acknowledged; 2 for bad usage).
int RunWebSocket(const Options& options, const Shared& shared);

}  // namespace tessera::tools
