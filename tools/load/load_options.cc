// Parsing of tessera-load's command line (load_options.h): the usage text, durations such as
// "30s", and the checks of flags that go together.

#include "tools/load/load_options.h"

#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace tessera::tools {
namespace {

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

// "30s", "500ms", "2m", "1h" or a bare number of seconds.
std::optional<std::chrono::milliseconds> ParseDuration(std::string_view text) {
  size_t digits = 0;
  while (digits < text.size() &&
         (std::isdigit(static_cast<unsigned char>(text[digits])) || text[digits] == '.')) {
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

}  // namespace

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
  if (!options.duration && !options.requests && options.corpus.empty())
    options.duration = std::chrono::seconds(30);
  return options;
}

}  // namespace tessera::tools
