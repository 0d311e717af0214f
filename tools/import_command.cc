// `tessera import`: load a CSV export into the store through the same ingest pipeline the server
// uses, so imported events are durable, deduplicated (message ids come from the rows' ids:
// importing a file twice adds nothing) and resolved into profiles. Two formats, each with its
// mapping in the source's configuration: `--format csv`, a legacy POS export (connectors.csv,
// connectors/pos_csv.h), and `--format contact-log`, the call and chat log of a contact-centre
// system (connectors.contact_log, connectors/contact_log_csv.h). Both behave the same way; only
// the importer and the server's connector differ (ImportFormat below).
//
// The store belongs to one process at a time. With the server stopped, the command opens it and
// runs the pipeline itself. While a server holds it (or with --server), the file goes to that
// server's connector of the format instead, cut into row-aligned pieces under its body limit
// (tools/csv_chunker.h), each acknowledged as durable before the next is sent; a piece answered
// 503 or lost on the way is sent again (row ids make that harmless).
//
// The file streams through the format's importer in chunks; events go to the pipeline in
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
#include <thread>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "api/connector_handler.h"
#include "config/key_digest.h"
#include "connectors/contact_log_csv.h"
#include "connectors/pos_csv.h"
#include "pipeline/ingest_pipeline.h"
#include "profile_store/backup.h"
#include "profile_store/store.h"
#include "simdjson.h"
#include "tools/commands.h"
#include "tools/csv_chunker.h"
#include "tools/http_client.h"
#include "tools/options_parsing.h"
#include "tools/running_server.h"

namespace tessera::tools {
namespace {

constexpr size_t kChunkBytes = 1 << 20;  // Read from the file at a time.
constexpr size_t kBatchEvents = 1000;    // Events per pipeline.Accept.
constexpr auto kProgressInterval = std::chrono::seconds(1);
// Through a server: the largest piece sent in one request (or half the body limit, if smaller),
// how long one request may take, and how often a piece is tried before the import gives up.
constexpr size_t kMaxPieceBytes = 1 << 20;
constexpr auto kRequestTimeout = std::chrono::seconds(120);
constexpr int kAttempts = 6;

// What differs between the formats: the option value, the source's mapping, and the server's
// connector that takes the file.
struct ImportFormat {
  std::string_view name;            // --format value.
  std::string_view connector_path;  // Through a server: where the pieces are posted.
  std::string_view mapping_key;     // The source's configuration key, for messages.
  std::string_view mapping_name;    // "CSV mapping", for messages.
};

constexpr ImportFormat kPosCsvFormat{"csv", "/v1/connectors/pos/csv", "connectors.csv", "CSV mapping"};
constexpr ImportFormat kContactLogFormat{"contact-log", "/v1/connectors/service/contact-log",
                                         "connectors.contact_log", "contact-log mapping"};

// A format's importer (connectors::CsvImporter, connectors::ContactLogImporter) behind one interface,
// so that the in-process import is written once.
class RowImporter {
 public:
  virtual ~RowImporter() = default;
  virtual void Feed(std::string_view chunk, ingest::ParsedRequest& out) = 0;
  virtual void Finish(ingest::ParsedRequest& out) = 0;
  virtual size_t bytes_read() const = 0;
};

template <typename Importer>
class RowImporterOf final : public RowImporter {
 public:
  explicit RowImporterOf(Importer importer) : importer_(std::move(importer)) {}
  void Feed(std::string_view chunk, ingest::ParsedRequest& out) override { importer_.Feed(chunk, out); }
  void Finish(ingest::ParsedRequest& out) override { importer_.Finish(out); }
  size_t bytes_read() const override { return importer_.bytes_read(); }

 private:
  Importer importer_;
};

template <typename Importer>
absl::StatusOr<std::unique_ptr<RowImporter>> Wrap(absl::StatusOr<Importer> importer) {
  if (!importer.ok()) return importer.status();
  return std::make_unique<RowImporterOf<Importer>>(*std::move(importer));
}

// The importer of `format` for `source`; NotFound when the source has no mapping for it, and
// InvalidArgument when the mapping is unusable (ConfigFromFlags has checked it already).
absl::StatusOr<std::unique_ptr<RowImporter>> MakeImporter(const ImportFormat& format,
                                                          const config::Source& source,
                                                          ingest::Timestamp received_at) {
  if (format.name == kContactLogFormat.name) {
    if (!source.connectors.contact_log) return absl::NotFoundError("no mapping");
    return Wrap(connectors::ContactLogImporter::Create(
        api::ContactLogMappingFrom(*source.connectors.contact_log), received_at));
  }
  if (!source.connectors.csv) return absl::NotFoundError("no mapping");
  return Wrap(connectors::CsvImporter::Create(api::CsvMappingFrom(*source.connectors.csv), received_at));
}

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
      if (args[i].find('=') == std::string_view::npos && i + 1 < args.size())
        split.flag_args.push_back(args[++i]);
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
absl::Status Submit(pipeline::IngestPipeline& pipeline, const ingest::SourceRef& source,
                    ingest::ParsedRequest& rows, Counts& counts) {
  for (size_t start = 0; start < rows.events.size(); start += kBatchEvents) {
    const size_t end = std::min(rows.events.size(), start + kBatchEvents);
    ingest::ParsedRequest batch;
    batch.events.assign(std::make_move_iterator(rows.events.begin() + static_cast<ptrdiff_t>(start)),
                        std::make_move_iterator(rows.events.begin() + static_cast<ptrdiff_t>(end)));
    batch.index_of.assign(rows.index_of.begin() + static_cast<ptrdiff_t>(start),
                          rows.index_of.begin() + static_cast<ptrdiff_t>(end));
    batch.event_count = end - start;
    std::promise<pipeline::IngestResult> promise;
    std::future<pipeline::IngestResult> done = promise.get_future();
    pipeline.Accept(source, std::move(batch), /*strict=*/false,
                    [&promise](pipeline::IngestResult result) { promise.set_value(std::move(result)); });
    pipeline::IngestResult result = done.get();
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

void PrintProgress(uint64_t bytes_read, std::optional<uint64_t> total_bytes, const Counts& counts) {
  std::string bytes = Mebibytes(bytes_read);
  if (total_bytes) absl::StrAppend(&bytes, " / ", Mebibytes(*total_bytes));
  std::fprintf(
      stderr, "progress: %s, %llu rows: %llu accepted, %llu duplicates, %llu rejected\n", bytes.c_str(),
      static_cast<unsigned long long>(counts.rows), static_cast<unsigned long long>(counts.accepted),
      static_cast<unsigned long long>(counts.duplicates), static_cast<unsigned long long>(counts.rejected));
}

void PrintSummary(const std::string& path, const std::string& source_name, const Counts& counts,
                  double seconds, std::string_view how) {
  std::printf(
      "imported %s as source \"%s\"%s: %llu rows, %llu accepted, %llu duplicates, %llu rejected, in %.2f s\n",
      path.c_str(), source_name.c_str(), std::string(how).c_str(),
      static_cast<unsigned long long>(counts.rows), static_cast<unsigned long long>(counts.accepted),
      static_cast<unsigned long long>(counts.duplicates), static_cast<unsigned long long>(counts.rejected),
      seconds);
}

// Counts and prints the rows of a connector answer's "rejected" list, with the file's line numbers.
void ReportRejected(simdjson::dom::element reply, const CsvPiece& piece, Counts& counts) {
  simdjson::dom::array rejected;
  if (reply["rejected"].get(rejected) != simdjson::SUCCESS) return;
  for (simdjson::dom::element row : rejected) {
    uint64_t line = 0;
    std::string_view code;
    std::string_view message;
    std::string_view field;
    if (row["index"].get(line) || row["code"].get(code) || row["message"].get(message)) continue;
    if (row["field"].get(field) != simdjson::SUCCESS) field = {};
    ++counts.rejected;
    std::string text =
        absl::StrCat("line ", piece.FileLine(line), ": ", std::string(code), ": ", std::string(message));
    if (!field.empty()) absl::StrAppend(&text, " (", std::string(field), ")");
    std::fprintf(stderr, "%s\n", text.c_str());
  }
}

// Sends one piece to the connector until it is acknowledged; counts and prints its outcome. Bad
// rows are reported and skipped, as by the pipeline in-process: a piece whose rows are all bad
// (400 with "rejected") and a single row too large for the server (413) go on to the next piece.
// Errors: Unauthenticated, PermissionDenied or InvalidArgument for what the caller must fix (the
// key, the source's mapping, the file's header); Unavailable or another code otherwise.
absl::Status SendPiece(const HttpEndpoint& endpoint, std::string_view connector_path,
                       const std::string& authorization, const CsvPiece& piece, Counts& counts) {
  const std::string lines =
      absl::StrCat("lines ", piece.first_row_line, " to ", piece.FileLine(piece.header_lines + piece.rows));
  std::chrono::seconds backoff(1);
  absl::StatusOr<HttpAnswer> answer;
  for (int attempt = 1; attempt <= kAttempts; ++attempt) {
    answer = Post(endpoint, std::string(connector_path), "text/csv", piece.text,
                  {{"Authorization", authorization}}, kRequestTimeout);
    // Overloaded, shutting down for a restart, or the connection lost: the piece may or may not be
    // stored, and sending it again adds nothing twice.
    const bool retry = !answer.ok() ? !absl::IsInvalidArgument(answer.status()) : answer->status == 503;
    if (!retry || attempt == kAttempts) break;
    std::fprintf(stderr, "%s: %s; sending them again in %lld s\n", lines.c_str(),
                 answer.ok() ? absl::StrCat("the server answered ", answer->status).c_str()
                             : std::string(answer.status().message()).c_str(),
                 static_cast<long long>(backoff.count()));
    std::this_thread::sleep_for(backoff);
    backoff = std::min(backoff * 2, std::chrono::seconds(16));
  }
  if (!answer.ok()) return answer.status();
  simdjson::dom::parser parser;
  simdjson::dom::element reply;
  const bool json = parser.parse(answer->body).get(reply) == simdjson::SUCCESS;
  if (answer->status == 400 && json && reply["rejected"].is_array()) {
    counts.rows += piece.rows;
    ReportRejected(reply, piece, counts);
    return absl::OkStatus();
  }
  if (answer->status == 413 && piece.rows == 1) {
    counts.rows += 1;
    ++counts.rejected;
    std::fprintf(stderr, "line %zu: payload_too_large: %s\n", piece.first_row_line,
                 ServerErrorMessage(answer->body).c_str());
    return absl::OkStatus();
  }
  if (answer->status != 200) {
    const std::string message = absl::StrCat("the server at ", endpoint.Url(), " refused ", lines, " with ",
                                             answer->status, ": ", ServerErrorMessage(answer->body));
    if (answer->status == 401) return absl::UnauthenticatedError(message);
    if (answer->status == 403) return absl::PermissionDeniedError(message);
    // A header the importer cannot use is the file's fault, as in-process (exit 1); any other 400
    // (a source without a CSV mapping) is the configuration's.
    if (answer->status == 400 && json && reply["error"]["code"].is_string() &&
        std::string_view(reply["error"]["code"].get_string().value_unsafe()) == "invalid_csv") {
      return absl::FailedPreconditionError(message);
    }
    if (answer->status == 400) return absl::InvalidArgumentError(message);
    return absl::UnavailableError(message);
  }
  uint64_t accepted = 0;
  uint64_t duplicates = 0;
  if (!json || reply["accepted"].get(accepted) || reply["duplicates"].get(duplicates)) {
    return absl::DataLossError(absl::StrCat("unexpected answer from the server: ", answer->body));
  }
  counts.accepted += accepted;
  counts.duplicates += duplicates;
  counts.rows += piece.rows;
  ReportRejected(reply, piece, counts);
  return absl::OkStatus();
}

// The import while a server holds the store: the file goes to the format's connector, piece by piece.
int ImportThroughServer(const HttpEndpoint& endpoint, const ImportFormat& format,
                        const std::string& write_key, const config::Config& config, const std::string& source_name, std::FILE* file,
                        const std::string& path, std::optional<uint64_t> total_bytes) {
  const std::string authorization = absl::StrCat("Basic ", absl::Base64Escape(absl::StrCat(write_key, ":")));
  CsvChunker chunker(std::min(kMaxPieceBytes, config.limits.max_webhook_bytes / 2));
  const auto start = std::chrono::steady_clock::now();
  auto last_progress = start;
  Counts counts;
  uint64_t bytes_read = 0;
  std::string chunk(kChunkBytes, '\0');
  std::vector<CsvPiece> pieces;
  bool sent_any = false;
  auto send = [&]() -> int {  // Sends what the chunker cut; 0, or the exit code of a failure.
    for (const CsvPiece& piece : pieces) {
      if (absl::Status sent = SendPiece(endpoint, format.connector_path, authorization, piece, counts);
          !sent.ok()) {
        // A wrong key, a source without the format's mapping or a bad header is the caller's to fix.
        const bool usage =
            absl::IsUnauthenticated(sent) || absl::IsPermissionDenied(sent) || absl::IsInvalidArgument(sent);
        return Fail(usage ? 2 : 1, sent.message());
      }
      sent_any = true;
    }
    pieces.clear();
    return 0;
  };
  while (true) {
    const size_t n = std::fread(chunk.data(), 1, chunk.size(), file);
    bytes_read += n;
    if (n > 0) chunker.Feed(std::string_view(chunk.data(), n), pieces);
    if (n < chunk.size()) {
      if (std::ferror(file) != 0) return Fail(1, absl::StrCat(path, ": read error"));
      break;
    }
    if (const int failed = send(); failed != 0) return failed;
    if (const auto now = std::chrono::steady_clock::now(); now - last_progress >= kProgressInterval) {
      PrintProgress(bytes_read, total_bytes, counts);
      last_progress = now;
    }
  }
  chunker.Finish(pieces);
  if (const int failed = send(); failed != 0) return failed;
  // As the in-process import says of it: a file without a header row is an error.
  if (!sent_any && !chunker.saw_header())
    return Fail(1, absl::StrCat(path, ": invalid_csv: the file has no header row"));
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  PrintSummary(path, source_name, counts, seconds, absl::StrCat(" through the server at ", endpoint.Url()));
  return 0;
}

}  // namespace

int ImportCommand(std::span<const std::string_view> args) {
  const ImportArguments split = SplitArguments(args);
  constexpr std::string_view kKnown[] = {"config", "data-dir", "source", "format", "server"};
  auto flags = ParseFlags(split.flag_args, kKnown);
  if (!flags.ok()) return Fail(2, flags.status().message());
  if (split.files.size() != 1) {
    return Fail(2,
                "usage: tessera import --config FILE --source WRITE_KEY --format csv|contact-log CSV_FILE (one "
                "file)");
  }
  const std::string path(split.files[0]);
  if (!flags->contains("config")) {
    return Fail(2,
                "--config is required: the column mapping is the source's connectors.csv (or "
                "connectors.contact_log)");
  }
  if (!flags->contains("source"))
    return Fail(2, "--source is required (the write key of the source to import as)");
  const ImportFormat* format = nullptr;
  if (auto it = flags->find("format"); it != flags->end()) {
    for (const ImportFormat* known : {&kPosCsvFormat, &kContactLogFormat}) {
      if (it->second == known->name) format = known;
    }
  }
  if (format == nullptr) {
    return Fail(2,
                "--format csv (a POS export) or --format contact-log (a contact-centre call and chat log) is "
                "required");
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
  const ingest::Timestamp received_at =
      std::chrono::time_point_cast<std::chrono::microseconds>(std::chrono::system_clock::now());
  absl::StatusOr<std::unique_ptr<RowImporter>> importer = MakeImporter(*format, *source, received_at);
  if (absl::IsNotFound(importer.status())) {
    return Fail(2, absl::StrCat("source \"", source->name, "\" (sources[", source_index, "]) has no ",
                                std::string(format->mapping_name), ": add ", std::string(format->mapping_key),
                                " to it in the configuration"));
  }
  if (!importer.ok()) return Fail(2, importer.status().message());  // ConfigFromFlags already checked it.

  std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::fopen(path.c_str(), "rb"), &std::fclose);
  if (file == nullptr) return Fail(1, absl::StrCat(path, ": ", std::strerror(errno)));
  std::optional<uint64_t> total_bytes;
  if (std::fseek(file.get(), 0, SEEK_END) == 0) {
    if (long size = std::ftell(file.get()); size >= 0) total_bytes = static_cast<uint64_t>(size);
    std::rewind(file.get());
  }

  // A running server holds the store: the import goes through it (as with --server).
  std::optional<HttpEndpoint> server;
  if (auto it = flags->find("server"); it != flags->end()) {
    absl::StatusOr<HttpEndpoint> parsed = ParseHttpUrl(it->second);
    if (!parsed.ok()) return Fail(2, absl::StrCat("--server: ", parsed.status().message()));
    server = *parsed;
  }
  const std::string store_path = StorePath(*config);
  bool through_server = server.has_value();
  if (!through_server && profile_store::StoreExists(store_path)) {
    absl::StatusOr<bool> locked = profile_store::StoreIsLocked(store_path);
    if (!locked.ok()) return Fail(1, locked.status().message());
    through_server = *locked;
  }
  if (through_server) {
    absl::StatusOr<HttpEndpoint> endpoint = RunningServerEndpoint(server, *config);
    if (!endpoint.ok()) return Fail(2, endpoint.status().message());
    if (!server)
      std::fprintf(stderr, "a server holds the store: importing through %s\n", endpoint->Url().c_str());
    return ImportThroughServer(*endpoint, *format, flags->at("source"), *config, source->name, file.get(),
                               path, total_bytes);
  }

  absl::StatusOr<std::unique_ptr<profile_store::Store>> store = OpenStore(*config);
  if (!store.ok()) {
    const std::string message(store.status().message());
    if (message.find("lock") != std::string::npos || message.find("LOCK") != std::string::npos) {
      return Fail(1, absl::StrCat(message,
                                  "\nthe store is in use by another process: is the server running? "
                                  "Stop it before importing."));
    }
    return Fail(StoreOpenExitCode(store.status()), message);
  }
  ingest::IngestMetrics metrics;
  pipeline::IngestPipeline pipeline(**store, PipelineOptionsFrom(*config), metrics);
  if (absl::Status status = pipeline.Start(); !status.ok()) return Fail(1, status.message());
  const ingest::SourceRef source_ref{.name = source->name,
                                     .space = source->space,
                                     .channel = source->channel,
                                     .keep_free_text = source->keep_free_text};

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
      failure = absl::InvalidArgumentError(absl::StrCat(path, ": ", error.code, ": ", error.message,
                                                        error.field.empty() ? "" : " (", error.field,
                                                        error.field.empty() ? "" : ")"));
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
  RowImporter& rows_of_file = **importer;
  auto print_progress = [&]() { PrintProgress(rows_of_file.bytes_read(), total_bytes, counts); };

  bool read_error = false;
  while (!failure) {
    const size_t n = std::fread(chunk.data(), 1, chunk.size(), file.get());
    if (n > 0) {
      rows_of_file.Feed(std::string_view(chunk.data(), n), rows);
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
    rows_of_file.Finish(rows);
    take();
  }
  // Whatever was accepted is written and resolved before the store closes.
  pipeline.Stop();
  absl::Status closed = (*store)->Close();
  if (failure) return Fail(1, failure->message());
  if (!closed.ok()) return Fail(1, closed.message());

  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  PrintSummary(path, source->name, counts, seconds, "");
  return 0;
}

}  // namespace tessera::tools
