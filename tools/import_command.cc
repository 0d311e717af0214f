// `tessera import`: load a legacy POS CSV export into the store through the same ingest pipeline
// the server uses, so imported events are durable, deduplicated (message ids come from receipt
// ids: importing a file twice adds nothing) and resolved into profiles. Run with the server
// stopped: the store belongs to one process at a time.
//
// The file streams through connectors::CsvImporter in chunks; events go to the pipeline in
// batches, each waited for, so memory stays bounded whatever the file's size. Bad rows are
// printed ("line N: code: message (field)") and skipped; progress goes to stderr about once a
// second; a summary goes to stdout at the end.

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <future>
#include <iterator>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "api/connector_handler.h"
#include "config/key_digest.h"
#include "connectors/pos_csv.h"
#include "ingest/ingest_pipeline.h"
#include "profile_store/store.h"
#include "tools/commands.h"
#include "tools/options_parsing.h"

namespace tessera::tools {
namespace {

constexpr size_t kChunkBytes = 1 << 20;       // Read from the file at a time.
constexpr size_t kBatchEvents = 1000;         // Events per pipeline.Accept.
constexpr auto kProgressInterval = std::chrono::seconds(1);

int Fail(int code, absl::string_view message) {
  std::fprintf(stderr, "tessera import: %s\n", std::string(message).c_str());
  return code;
}

// `--name value` flags and the one positional argument (the file), in any order.
struct ImportArguments {
  std::vector<std::string_view> flag_args;
  std::vector<std::string_view> files;
};

ImportArguments SplitArguments(std::span<const std::string_view> args) {
  ImportArguments split;
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i].starts_with("--")) {
      split.flag_args.push_back(args[i]);
      if (args[i].find('=') == std::string_view::npos && i + 1 < args.size()) split.flag_args.push_back(args[++i]);
    } else {
      split.files.push_back(args[i]);
    }
  }
  return split;
}

struct Counts {
  uint64_t rows = 0;
  uint64_t accepted = 0;
  uint64_t duplicates = 0;
  uint64_t rejected = 0;
};

void PrintRejected(const std::vector<ingest::RejectedEvent>& rejected) {
  for (const ingest::RejectedEvent& row : rejected) {
    std::string line = absl::StrCat("line ", row.index, ": ", row.error.code, ": ", row.error.message);
    if (!row.error.field.empty()) absl::StrAppend(&line, " (", row.error.field, ")");
    std::fprintf(stderr, "%s\n", line.c_str());
  }
}

std::string Mebibytes(uint64_t bytes) {
  char text[32];
  std::snprintf(text, sizeof(text), "%.1f MiB", static_cast<double>(bytes) / (1 << 20));
  return text;
}

// Hands the events in `rows` to the pipeline, kBatchEvents at a time, waiting for each batch to be
// durable. Rejected rows were already reported by the caller. Returns the pipeline's error, if any.
absl::Status Submit(ingest::IngestPipeline& pipeline, const ingest::SourceRef& source, ingest::ParsedRequest& rows,
                    Counts& counts) {
  for (size_t start = 0; start < rows.events.size(); start += kBatchEvents) {
    const size_t end = std::min(rows.events.size(), start + kBatchEvents);
    ingest::ParsedRequest batch;
    batch.events.assign(std::make_move_iterator(rows.events.begin() + static_cast<ptrdiff_t>(start)),
                        std::make_move_iterator(rows.events.begin() + static_cast<ptrdiff_t>(end)));
    batch.index_of.assign(rows.index_of.begin() + static_cast<ptrdiff_t>(start),
                          rows.index_of.begin() + static_cast<ptrdiff_t>(end));
    batch.event_count = end - start;
    std::promise<ingest::IngestResult> promise;
    std::future<ingest::IngestResult> done = promise.get_future();
    pipeline.Accept(source, std::move(batch), /*strict=*/false,
                    [&promise](ingest::IngestResult result) { promise.set_value(std::move(result)); });
    ingest::IngestResult result = done.get();
    if (!result.status.ok()) return result.status;
    counts.accepted += result.accepted.size();
    counts.duplicates += result.duplicates.size();
    counts.rejected += result.rejected.size();
    PrintRejected(result.rejected);
  }
  rows.events.clear();
  rows.index_of.clear();
  return absl::OkStatus();
}

}  // namespace

int ImportCommand(std::span<const std::string_view> args) {
  const ImportArguments split = SplitArguments(args);
  constexpr std::string_view kKnown[] = {"config", "data-dir", "source", "format"};
  auto flags = ParseFlags(split.flag_args, kKnown);
  if (!flags.ok()) return Fail(2, flags.status().message());
  if (split.files.size() != 1) {
    return Fail(2, "usage: tessera import --config FILE --source WRITE_KEY --format csv CSV_FILE (one file)");
  }
  const std::string path(split.files[0]);
  if (!flags->contains("config")) {
    return Fail(2, "--config is required: the column mapping is the source's connectors.csv");
  }
  if (!flags->contains("source")) return Fail(2, "--source is required (the write key of the source to import as)");
  if (auto format = flags->find("format"); format == flags->end() || format->second != "csv") {
    return Fail(2, "--format csv is required (the only format tessera import reads)");
  }
  bool uses_dev_keys = false;
  absl::StatusOr<config::Config> config = ConfigFromFlags(*flags, uses_dev_keys);
  if (!config.ok()) return Fail(2, absl::StrCat("invalid configuration: ", config.status().message()));

  // The key is a secret: messages name the source by its index and name, never by the key.
  const config::Source* source = nullptr;
  size_t source_index = 0;
  // Configured keys may be digests, so keys are compared as digests (ParseConfig checked them).
  const config::KeyDigest wanted = config::DigestOfKey(flags->at("source"));
  for (size_t i = 0; i < config->sources.size(); ++i) {
    if (config::DigestOfConfiguredKey(config->sources[i].write_key).value_or(config::KeyDigest{}) == wanted) {
      source = &config->sources[i];
      source_index = i;
    }
  }
  if (source == nullptr) return Fail(2, "--source: no source in the configuration has this write key");
  if (!source->connectors.csv) {
    return Fail(2, absl::StrCat("source \"", source->name, "\" (sources[", source_index,
                                "]) has no CSV mapping: add connectors.csv to it in the configuration"));
  }
  const ingest::Timestamp received_at =
      std::chrono::time_point_cast<std::chrono::microseconds>(std::chrono::system_clock::now());
  absl::StatusOr<connectors::CsvImporter> importer =
      connectors::CsvImporter::Create(api::CsvMappingFrom(*source->connectors.csv), received_at);
  if (!importer.ok()) return Fail(2, importer.status().message());  // ConfigFromFlags already checked it.

  std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::fopen(path.c_str(), "rb"), &std::fclose);
  if (file == nullptr) return Fail(1, absl::StrCat(path, ": ", std::strerror(errno)));
  std::optional<uint64_t> total_bytes;
  if (std::fseek(file.get(), 0, SEEK_END) == 0) {
    if (long size = std::ftell(file.get()); size >= 0) total_bytes = static_cast<uint64_t>(size);
    std::rewind(file.get());
  }

  absl::StatusOr<std::unique_ptr<profile_store::Store>> store = profile_store::Store::Open(StoreOptionsFrom(*config));
  if (!store.ok()) {
    const std::string message(store.status().message());
    if (message.find("lock") != std::string::npos || message.find("LOCK") != std::string::npos) {
      return Fail(1, absl::StrCat(message, "\nthe store is in use by another process: is the server running? "
                                           "Stop it before importing."));
    }
    return Fail(1, message);
  }
  ingest::IngestMetrics metrics;
  ingest::IngestPipeline pipeline(**store, PipelineOptionsFrom(*config), metrics);
  if (absl::Status status = pipeline.Start(); !status.ok()) return Fail(1, status.message());
  const ingest::SourceRef source_ref{.name = source->name, .space = source->space, .channel = source->channel};

  const auto start = std::chrono::steady_clock::now();
  auto last_progress = start;
  Counts counts;
  std::string chunk(kChunkBytes, '\0');
  ingest::ParsedRequest rows;
  std::optional<absl::Status> failure;
  auto take = [&]() -> bool {  // Reports and submits what the importer produced; false to stop.
    counts.rows = rows.event_count;
    if (rows.request_error) {
      const ingest::FieldError& error = *rows.request_error;
      failure = absl::InvalidArgumentError(
          absl::StrCat(path, ": ", error.code, ": ", error.message, error.field.empty() ? "" : " (",
                       error.field, error.field.empty() ? "" : ")"));
      return false;
    }
    counts.rejected += rows.rejected.size();
    PrintRejected(rows.rejected);
    rows.rejected.clear();
    if (absl::Status status = Submit(pipeline, source_ref, rows, counts); !status.ok()) {
      failure = absl::Status(status.code(), absl::StrCat("storing events: ", status.message()));
      return false;
    }
    return true;
  };
  auto print_progress = [&]() {
    std::string bytes = Mebibytes(importer->bytes_read());
    if (total_bytes) absl::StrAppend(&bytes, " / ", Mebibytes(*total_bytes));
    std::fprintf(stderr, "progress: %s, %llu rows: %llu accepted, %llu duplicates, %llu rejected\n", bytes.c_str(), static_cast<unsigned long long>(counts.rows),
                 static_cast<unsigned long long>(counts.accepted), static_cast<unsigned long long>(counts.duplicates),
                 static_cast<unsigned long long>(counts.rejected));
  };

  bool read_error = false;
  while (!failure) {
    const size_t n = std::fread(chunk.data(), 1, chunk.size(), file.get());
    if (n > 0) {
      importer->Feed(std::string_view(chunk.data(), n), rows);
      if (!take()) break;
    }
    if (n < chunk.size()) {
      read_error = std::ferror(file.get()) != 0;
      break;
    }
    if (const auto now = std::chrono::steady_clock::now(); now - last_progress >= kProgressInterval) {
      print_progress();
      last_progress = now;
    }
  }
  if (!failure && read_error) failure = absl::DataLossError(absl::StrCat(path, ": read error"));
  if (!failure) {
    importer->Finish(rows);
    take();
  }
  // Whatever was accepted is written and resolved before the store closes.
  pipeline.Stop();
  absl::Status closed = (*store)->Close();
  if (failure) return Fail(1, failure->message());
  if (!closed.ok()) return Fail(1, closed.message());

  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("imported %s as source \"%s\": %llu rows, %llu accepted, %llu duplicates, %llu rejected, in %.2f s\n",
              path.c_str(), source->name.c_str(), static_cast<unsigned long long>(counts.rows),
              static_cast<unsigned long long>(counts.accepted), static_cast<unsigned long long>(counts.duplicates),
              static_cast<unsigned long long>(counts.rejected), seconds);
  return 0;
}

}  // namespace tessera::tools
