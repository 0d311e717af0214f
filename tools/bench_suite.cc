// The steps of `tools/bench/run.sh`, the one-run benchmark of docs/benchmarks.md ("Tessera against
// its limits and a peer"). Each step is a subcommand that measures one thing on the same corpus of
// generated events and prints one `RESULT key=value ...` line for the script to collect:
//
//   tessera bench corpus   --out FILE [--events N] [--people N] [--multi-channel F] [--seed N]
//       Writes the corpus: one line per 100-event batch of one channel, "channel<TAB>batch body".
//   tessera bench parse    --corpus FILE
//       simdjson DOM parsing of every batch alone (the parse limit), then Tessera's Segment parser
//       (parse + validate into canonical events) on the same bodies.
//   tessera bench store    --corpus FILE --dir DIR [--group N]
//       Raw RocksDB: each event's bytes appended under a sequence key, one synced WriteBatch per
//       N events (the store limit: what any durable pipeline on this disk can do at most).
//   tessera bench pipeline --corpus FILE --config FILE [--threads 2] [--inflight 64]
//       Tessera in process: Segment parsing, validation, dedup, the synced log, identity
//       resolution and profile updates, with the source of each line's channel. Timed until the
//       resolver has applied every event; the store is then closed and measured on disk.
//   tessera bench graph    --config FILE --out FILE [--space default]
//       Writes the identity graph as "type:value<TAB>component" lines, sorted, where the component
//       is named by its smallest "type:value": a form two systems' graphs can be compared in.
//
// Every step exits 1 when what it measured is wrong (a rejected or missing event, an empty corpus),
// because a fast wrong answer measures nothing; run.sh then refuses to write the table.

#include <pthread.h>
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <semaphore>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "absl/strings/str_cat.h"
#include "ingest/segment_parser.h"
#include "pipeline/ingest_pipeline.h"
#include "profile_store/profile.h"
#include "profile_store/store.h"
#include "rocksdb/db.h"
#include "rocksdb/write_batch.h"
#include "simdjson.h"
#include "tools/commands.h"
#include "tools/load/event_generator.h"
#include "tools/options_parsing.h"

namespace tessera::tools {
namespace {

using Clock = std::chrono::steady_clock;

constexpr size_t kBatchEvents = 100;
constexpr size_t kTargetEventBytes = 600;

int Fail(int code, absl::string_view message) {
  std::fprintf(stderr, "tessera bench: %.*s\n", static_cast<int>(message.size()), message.data());
  return code;
}

uint64_t PeakRssKib() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<uint64_t>(usage.ru_maxrss);  // KiB on Linux.
}

double Seconds(Clock::duration duration) { return std::chrono::duration<double>(duration).count(); }

template <typename Int>
bool ParseNumber(const std::map<std::string, std::string>& flags, const std::string& name, Int& out) {
  auto it = flags.find(name);
  if (it == flags.end()) return true;
  try {
    if constexpr (std::is_floating_point_v<Int>) {
      out = static_cast<Int>(std::stod(it->second));
    } else {
      out = static_cast<Int>(std::stoull(it->second));
    }
  } catch (...) {
    return false;
  }
  return true;
}

// One corpus line: the channel and the batch body, or nullopt for a malformed line.
struct CorpusLine {
  std::string_view channel;
  std::string_view body;
};

std::optional<CorpusLine> SplitLine(std::string_view line) {
  const size_t tab = line.find('\t');
  if (tab == std::string_view::npos || tab == 0 || tab + 1 == line.size()) return std::nullopt;
  return CorpusLine{line.substr(0, tab), line.substr(tab + 1)};
}

// Reads the corpus line by line, shared by several threads.
class CorpusReader {
 public:
  explicit CorpusReader(const std::string& path) : in_(path) {}
  bool ok() const { return in_.good(); }
  // The next line into `line`; false at the end.
  bool Next(std::string& line) {
    std::lock_guard lock(mutex_);
    return static_cast<bool>(std::getline(in_, line));
  }

 private:
  std::mutex mutex_;
  std::ifstream in_;
};

int Corpus(const std::map<std::string, std::string>& flags) {
  // Defaults: with 1M events, 170k people are seen, 31% of them on two or more channels.
  uint64_t events = 1'000'000;
  uint64_t people = 200'000;
  uint64_t seed = 7;
  double multi_channel = 0.6;
  if (!ParseNumber(flags, "events", events) || !ParseNumber(flags, "people", people) ||
      !ParseNumber(flags, "seed", seed) || !ParseNumber(flags, "multi-channel", multi_channel) || events == 0 ||
      people == 0 || multi_channel < 0 || multi_channel > 1) {
    return Fail(2, "corpus: --events and --people are positive integers, --multi-channel is in 0..1");
  }
  if (!flags.contains("out")) return Fail(2, "corpus: --out FILE is required");
  std::ofstream out(flags.at("out"), std::ios::binary | std::ios::trunc);
  if (!out) return Fail(1, absl::StrCat("corpus: cannot write ", flags.at("out")));

  EventGenerator generator(seed, kTargetEventBytes, people, multi_channel);
  std::map<std::string, std::vector<std::string>, std::less<>> pending;  // By channel.
  std::unordered_map<uint64_t, uint8_t> channels_of_person;              // Bit per channel.
  std::map<std::string, uint64_t, std::less<>> by_type;
  std::map<std::string, uint64_t, std::less<>> by_channel;
  uint64_t bytes = 0;
  uint64_t lines = 0;
  auto flush = [&](std::string_view channel, std::vector<std::string>& batch) {
    if (batch.empty()) return;
    std::string line = absl::StrCat(std::string(channel), "\t{\"batch\":[");
    for (size_t i = 0; i < batch.size(); ++i) {
      if (i > 0) line += ',';
      line += batch[i];
    }
    line += "]}\n";
    out << line;
    batch.clear();
    ++lines;
  };
  for (uint64_t i = 0; i < events; ++i) {
    std::string event = generator.NextEvent();
    const std::string_view channel = generator.channel();
    bytes += event.size();
    // Every event starts with {"type":"<type>".
    const size_t type_end = event.find('"', 9);
    by_type[event.substr(9, type_end - 9)]++;
    by_channel[std::string(channel)]++;
    static constexpr std::string_view kChannelBits = "wape";  // web app pos email
    channels_of_person[generator.person()] |= static_cast<uint8_t>(1u << kChannelBits.find(channel[0]));
    std::vector<std::string>& batch = pending[std::string(channel)];
    batch.push_back(std::move(event));
    if (batch.size() == kBatchEvents) flush(channel, batch);
  }
  for (auto& [channel, batch] : pending) flush(channel, batch);
  out.close();
  if (!out) return Fail(1, absl::StrCat("corpus: writing ", flags.at("out"), " failed"));

  uint64_t multi_people = 0;
  for (const auto& [person, bits] : channels_of_person) multi_people += (bits & (bits - 1)) != 0 ? 1 : 0;
  auto share = [&](const std::map<std::string, uint64_t, std::less<>>& counts, std::string_view key) {
    auto it = counts.find(key);
    return it == counts.end() ? 0.0 : 100.0 * static_cast<double>(it->second) / static_cast<double>(events);
  };
  std::printf(
      "RESULT events=%llu batches=%llu bytes=%llu event_bytes=%.0f track_pct=%.1f page_pct=%.1f screen_pct=%.1f "
      "identify_pct=%.1f alias_pct=%.1f web_pct=%.1f app_pct=%.1f pos_pct=%.1f email_pct=%.1f people=%zu "
      "multi_channel_people_pct=%.1f\n",
      static_cast<unsigned long long>(events), static_cast<unsigned long long>(lines),
      static_cast<unsigned long long>(bytes), static_cast<double>(bytes) / static_cast<double>(events),
      share(by_type, "track"), share(by_type, "page"), share(by_type, "screen"), share(by_type, "identify"),
      share(by_type, "alias"), share(by_channel, "web"), share(by_channel, "app"), share(by_channel, "pos"),
      share(by_channel, "email"), channels_of_person.size(),
      100.0 * static_cast<double>(multi_people) / static_cast<double>(channels_of_person.size()));
  return 0;
}

int Parse(const std::map<std::string, std::string>& flags) {
  if (!flags.contains("corpus")) return Fail(2, "parse: --corpus FILE is required");
  // Both parsers read the same bodies; each pass is timed around the parse calls only.
  simdjson::dom::parser dom;
  ingest::SegmentParser segment;
  const ingest::Timestamp received_at =
      std::chrono::time_point_cast<std::chrono::microseconds>(std::chrono::system_clock::now());
  uint64_t events = 0;
  uint64_t bytes = 0;
  uint64_t segment_events = 0;
  Clock::duration dom_time{};
  Clock::duration segment_time{};
  CorpusReader reader(flags.at("corpus"));
  if (!reader.ok()) return Fail(1, absl::StrCat("parse: cannot read ", flags.at("corpus")));
  std::string line;
  std::string body;
  while (reader.Next(line)) {
    std::optional<CorpusLine> split = SplitLine(line);
    if (!split) return Fail(1, "parse: malformed corpus line");
    body.assign(split->body);
    ingest::EnsurePadding(body);
    const auto t0 = Clock::now();
    simdjson::dom::element root;
    const simdjson::error_code error = dom.parse(body.data(), body.size(), false).get(root);
    const auto t1 = Clock::now();
    dom_time += t1 - t0;
    simdjson::dom::array batch;
    if (error || root["batch"].get_array().get(batch)) return Fail(1, "parse: simdjson refused a corpus line");
    events += batch.size();
    bytes += body.size();

    const auto t2 = Clock::now();
    ingest::ParsedRequest parsed = segment.Parse(ingest::Endpoint::kBatch, body, received_at);
    segment_time += Clock::now() - t2;
    if (parsed.request_error || !parsed.rejected.empty()) {
      return Fail(1, absl::StrCat("parse: the Segment parser rejected corpus events",
                                  parsed.rejected.empty() ? "" : ": ", parsed.rejected.empty() ? "" : parsed.rejected[0].error.message));
    }
    segment_events += parsed.events.size();
  }
  if (events == 0 || segment_events != events) return Fail(1, "parse: empty corpus or events lost");
  const double dom_seconds = Seconds(dom_time);
  const double segment_seconds = Seconds(segment_time);
  std::printf(
      "RESULT events=%llu bytes=%llu simdjson_seconds=%.3f simdjson_events_per_s=%.0f simdjson_mb_per_s=%.1f "
      "segment_seconds=%.3f segment_events_per_s=%.0f segment_mb_per_s=%.1f peak_rss_kib=%llu\n",
      static_cast<unsigned long long>(events), static_cast<unsigned long long>(bytes), dom_seconds,
      static_cast<double>(events) / dom_seconds, static_cast<double>(bytes) / 1e6 / dom_seconds, segment_seconds,
      static_cast<double>(events) / segment_seconds, static_cast<double>(bytes) / 1e6 / segment_seconds,
      static_cast<unsigned long long>(PeakRssKib()));
  return 0;
}

int StoreLimit(const std::map<std::string, std::string>& flags) {
  size_t group = 1000;
  if (!ParseNumber(flags, "group", group) || group == 0) return Fail(2, "store: --group is a positive integer");
  if (!flags.contains("corpus") || !flags.contains("dir")) return Fail(2, "store: --corpus and --dir are required");
  const std::string dir = flags.at("dir");
  if (std::filesystem::exists(dir)) return Fail(2, absl::StrCat("store: ", dir, " exists; give a new directory"));

  // The events' bytes, split out of the batches before the clock starts.
  std::vector<std::string> events;
  {
    CorpusReader reader(flags.at("corpus"));
    if (!reader.ok()) return Fail(1, absl::StrCat("store: cannot read ", flags.at("corpus")));
    simdjson::dom::parser dom;
    std::string line;
    while (reader.Next(line)) {
      std::optional<CorpusLine> split = SplitLine(line);
      simdjson::dom::array batch;
      if (!split || dom.parse(split->body).get_object()["batch"].get_array().get(batch)) {
        return Fail(1, "store: malformed corpus line");
      }
      for (simdjson::dom::element event : batch) events.push_back(simdjson::minify(event));
    }
  }
  if (events.empty()) return Fail(1, "store: empty corpus");

  rocksdb::Options options;
  options.create_if_missing = true;
  rocksdb::DB* raw = nullptr;
  rocksdb::Status status = rocksdb::DB::Open(options, dir, &raw);
  if (!status.ok()) return Fail(1, absl::StrCat("store: ", status.ToString()));
  std::unique_ptr<rocksdb::DB> db(raw);
  rocksdb::WriteOptions synced;
  synced.sync = true;
  uint64_t bytes = 0;
  uint64_t writes = 0;
  const auto start = Clock::now();
  for (size_t first = 0; first < events.size(); first += group) {
    rocksdb::WriteBatch batch;
    for (size_t i = first; i < std::min(events.size(), first + group); ++i) {
      char key[8];
      for (int b = 0; b < 8; ++b) key[b] = static_cast<char>(static_cast<uint64_t>(i) >> (56 - 8 * b));
      batch.Put(rocksdb::Slice(key, sizeof(key)), events[i]);
      bytes += events[i].size();
    }
    status = db->Write(synced, &batch);
    if (!status.ok()) return Fail(1, absl::StrCat("store: ", status.ToString()));
    ++writes;
  }
  const double seconds = Seconds(Clock::now() - start);
  std::printf("RESULT events=%zu group=%zu synced_writes=%llu seconds=%.3f events_per_s=%.0f mb_per_s=%.1f "
              "peak_rss_kib=%llu\n",
              events.size(), group, static_cast<unsigned long long>(writes), seconds,
              static_cast<double>(events.size()) / seconds, static_cast<double>(bytes) / 1e6 / seconds,
              static_cast<unsigned long long>(PeakRssKib()));
  return 0;
}

uint64_t DirectoryBytes(const std::string& path) {
  uint64_t total = 0;
  std::error_code error;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(path, error)) {
    if (entry.is_regular_file(error)) total += entry.file_size(error);
  }
  return total;
}

int Pipeline(const std::map<std::string, std::string>& flags) {
  size_t threads = 2;
  size_t inflight = 64;
  if (!ParseNumber(flags, "threads", threads) || !ParseNumber(flags, "inflight", inflight) || threads == 0 ||
      inflight == 0) {
    return Fail(2, "pipeline: --threads and --inflight are positive integers");
  }
  if (!flags.contains("corpus") || !flags.contains("config")) {
    return Fail(2, "pipeline: --corpus and --config are required");
  }
  bool uses_dev_keys = false;
  absl::StatusOr<config::Config> config = ConfigFromFlags({{"config", flags.at("config")}}, uses_dev_keys);
  if (!config.ok()) return Fail(2, absl::StrCat("invalid configuration: ", config.status().message()));
  std::map<std::string, ingest::SourceRef, std::less<>> source_of_channel;
  for (const config::Source& source : config->sources) {
    source_of_channel.emplace(source.channel,
                              ingest::SourceRef{.name = source.name,
                                                .space = source.space,
                                                .channel = source.channel,
                                                .keep_free_text = source.keep_free_text});
  }
  if (std::filesystem::exists(StorePath(*config))) return Fail(2, "pipeline: the store must not exist yet");

  absl::StatusOr<std::unique_ptr<profile_store::Store>> store = OpenStore(*config);
  if (!store.ok()) return Fail(StoreOpenExitCode(store.status()), store.status().message());
  ingest::IngestMetrics metrics;
  auto pipeline = std::make_unique<pipeline::IngestPipeline>(**store, PipelineOptionsFrom(*config), metrics);
  if (absl::Status status = pipeline->Start(); !status.ok()) return Fail(1, status.message());

  CorpusReader reader(flags.at("corpus"));
  if (!reader.ok()) return Fail(1, absl::StrCat("pipeline: cannot read ", flags.at("corpus")));
  std::counting_semaphore<> slots(static_cast<std::ptrdiff_t>(inflight));
  std::atomic<uint64_t> submitted{0};
  std::atomic<uint64_t> accepted{0};
  std::atomic<uint64_t> refused{0};  // Rejected, duplicate, or a failed request: all wrong here.
  std::atomic<bool> failed{false};
  std::mutex failure_mutex;
  std::string failure;
  auto fail = [&](std::string message) {
    std::lock_guard lock(failure_mutex);
    if (!failed.exchange(true)) failure = std::move(message);
  };

  const ingest::Timestamp received_at =
      std::chrono::time_point_cast<std::chrono::microseconds>(std::chrono::system_clock::now());
  const auto start = Clock::now();
  std::vector<std::thread> workers;
  for (size_t t = 0; t < threads; ++t) {
    workers.emplace_back([&] {
      pthread_setname_np(pthread_self(), "bench-parse");  // Tells the stages apart in a profile.
      ingest::SegmentParser parser;
      std::string line;
      std::string body;
      while (!failed.load() && reader.Next(line)) {
        std::optional<CorpusLine> split = SplitLine(line);
        auto source = split ? source_of_channel.find(split->channel) : source_of_channel.end();
        if (source == source_of_channel.end()) return fail("a corpus line is malformed or its channel has no source");
        body.assign(split->body);
        ingest::EnsurePadding(body);
        ingest::ParsedRequest request = parser.Parse(ingest::Endpoint::kBatch, body, received_at);
        if (request.request_error || !request.rejected.empty()) return fail("the parser rejected corpus events");
        const uint64_t count = request.events.size();
        submitted += count;
        slots.acquire();
        pipeline->Accept(source->second, std::move(request), /*strict=*/false,
                         [&, count](pipeline::IngestResult result) {
                           if (!result.status.ok()) {
                             fail(absl::StrCat("a request failed: ", result.status.ToString()));
                           }
                           accepted += result.accepted.size();
                           refused += count - result.accepted.size();
                           slots.release();
                         });
      }
    });
  }
  for (std::thread& worker : workers) worker.join();
  for (size_t i = 0; i < inflight; ++i) slots.acquire();  // Every request answered.
  const double accept_seconds = Seconds(Clock::now() - start);
  pipeline->Stop();  // Lets the resolvers apply everything accepted.
  const double seconds = Seconds(Clock::now() - start);
  uint64_t dead_letters = 0;
  (void)(*store)->ScanPrefix(profile_store::ColumnFamily::kDeadLetter, "",
                             [&](std::string_view, std::string_view) { ++dead_letters; });
  pipeline.reset();
  const uint64_t peak = PeakRssKib();
  if (absl::Status closed = (*store)->Close(); !closed.ok()) return Fail(1, closed.message());
  if (failed) return Fail(1, absl::StrCat("pipeline: ", failure));
  if (accepted == 0 || refused != 0 || accepted != submitted || dead_letters != 0) {
    return Fail(1, absl::StrCat("pipeline: ", accepted.load(), " of ", submitted.load(), " events accepted, ",
                                refused.load(), " refused, ", dead_letters, " dead letters"));
  }
  const uint64_t store_bytes = DirectoryBytes(StorePath(*config));
  std::printf("RESULT events=%llu accept_seconds=%.3f seconds=%.3f events_per_s=%.0f accept_events_per_s=%.0f "
              "peak_rss_kib=%llu store_bytes=%llu store_bytes_per_event=%.0f\n",
              static_cast<unsigned long long>(accepted.load()), accept_seconds, seconds,
              static_cast<double>(accepted.load()) / seconds, static_cast<double>(accepted.load()) / accept_seconds,
              static_cast<unsigned long long>(peak), static_cast<unsigned long long>(store_bytes),
              static_cast<double>(store_bytes) / static_cast<double>(accepted.load()));
  return 0;
}

uint64_t ReadU64(std::string_view bytes) {
  uint64_t value = 0;
  for (size_t i = 0; i < 8 && i < bytes.size(); ++i) value = (value << 8) | static_cast<unsigned char>(bytes[i]);
  return value;
}

int Graph(const std::map<std::string, std::string>& flags) {
  if (!flags.contains("config") || !flags.contains("out")) return Fail(2, "graph: --config and --out are required");
  const std::string space = flags.contains("space") ? flags.at("space") : "default";
  bool uses_dev_keys = false;
  absl::StatusOr<config::Config> config = ConfigFromFlags({{"config", flags.at("config")}}, uses_dev_keys);
  if (!config.ok()) return Fail(2, absl::StrCat("invalid configuration: ", config.status().message()));
  absl::StatusOr<std::unique_ptr<profile_store::Store>> store = OpenStore(*config, /*read_only=*/true);
  if (!store.ok()) return Fail(StoreOpenExitCode(store.status()), store.status().message());

  const std::string prefix = space + '\0';
  std::vector<std::pair<std::string, uint64_t>> identifiers;  // "type:value", profile id.
  absl::Status scanned = (*store)->ScanPrefix(
      profile_store::ColumnFamily::kIdentifiers, prefix, [&](std::string_view key, std::string_view value) {
        std::string name(key.substr(prefix.size()));
        name[name.find('\0')] = ':';
        identifiers.emplace_back(std::move(name), ReadU64(value));
      });
  if (!scanned.ok()) return Fail(1, scanned.message());

  // A merged-away profile redirects to its winner; identifiers may still name it.
  std::unordered_map<uint64_t, uint64_t> live_of;
  std::function<absl::StatusOr<uint64_t>(uint64_t, int)> live = [&](uint64_t id,
                                                                    int depth) -> absl::StatusOr<uint64_t> {
    if (auto it = live_of.find(id); it != live_of.end()) return it->second;
    if (depth > 64) return absl::DataLossError(absl::StrCat("profile ", id, ": redirect loop"));
    std::string key = prefix;
    for (int b = 0; b < 8; ++b) key += static_cast<char>(id >> (56 - 8 * b));
    absl::StatusOr<std::string> record = (*store)->Get(profile_store::ColumnFamily::kProfiles, key);
    if (!record.ok()) return record.status();
    absl::StatusOr<profile_store::Profile> profile = profile_store::DecodeProfile(*record);
    if (!profile.ok()) return profile.status();
    uint64_t result = id;
    if (profile->merged_into) {
      absl::StatusOr<uint64_t> next = live(profile->merged_into->value, depth + 1);
      if (!next.ok()) return next.status();
      result = *next;
    }
    live_of[id] = result;
    return result;
  };
  std::unordered_map<uint64_t, std::string> smallest;  // Live profile -> its smallest identifier.
  for (auto& [name, id] : identifiers) {
    absl::StatusOr<uint64_t> root = live(id, 0);
    if (!root.ok()) return Fail(1, absl::StrCat("graph: ", root.status().message()));
    id = *root;
    auto [it, inserted] = smallest.try_emplace(id, name);
    if (!inserted && name < it->second) it->second = name;
  }
  std::vector<std::string> lines;
  lines.reserve(identifiers.size());
  for (const auto& [name, id] : identifiers) lines.push_back(absl::StrCat(name, "\t", smallest[id]));
  std::sort(lines.begin(), lines.end());
  std::ofstream out(flags.at("out"), std::ios::binary | std::ios::trunc);
  for (const std::string& line : lines) out << line << '\n';
  out.close();
  if (!out) return Fail(1, absl::StrCat("graph: writing ", flags.at("out"), " failed"));
  std::printf("RESULT identifiers=%zu components=%zu\n", identifiers.size(), smallest.size());
  return 0;
}

}  // namespace

int BenchSuiteStep(std::string_view step, std::span<const std::string_view> args) {
  static constexpr std::string_view kKnown[] = {"out",    "events", "people", "multi-channel", "seed",  "corpus",
                                                "dir",    "group",  "config", "threads",       "inflight", "space"};
  absl::StatusOr<std::map<std::string, std::string>> flags = ParseFlags(args, kKnown);
  if (!flags.ok()) return Fail(2, flags.status().message());
  if (step == "corpus") return Corpus(*flags);
  if (step == "parse") return Parse(*flags);
  if (step == "store") return StoreLimit(*flags);
  if (step == "pipeline") return Pipeline(*flags);
  if (step == "graph") return Graph(*flags);
  return Fail(2, absl::StrCat("unknown step \"", std::string(step), "\""));
}

}  // namespace tessera::tools
