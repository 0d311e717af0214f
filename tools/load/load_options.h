#pragma once

// The command line of tessera-load (usage in load_main.cc): Options with their defaults,
// ParseOptions, and ParseInteger, which the HTTP mode also uses to read status lines.

#include <charconv>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>

namespace tessera::tools {

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

template <typename Int>
bool ParseInteger(std::string_view text, Int& out) {
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), out);
  return error == std::errc() && end == text.data() + text.size();
}

// Reads argv. On bad usage prints why, with the usage, on stderr and returns nullopt; --help prints
// the usage and exits 0. Without --duration, --requests or --corpus the run lasts 30 s.
std::optional<Options> ParseOptions(int argc, char** argv);

}  // namespace tessera::tools
