// `tessera backup` and `tessera restore`.
//
// backup: with the server stopped, opens the store and backs it up itself. While a server holds
// the store (RocksDB allows one writer process), it asks that server to make the backup instead
// (POST /v1/admin/backup with an admin key), so a backup never needs downtime.
// restore: with the server stopped, restores a backup as the store of the data directory.

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "base/json_writer.h"
#include "base/time.h"
#include "config/dev_keys.h"
#include "profile_store/backup.h"
#include "profile_store/store.h"
#include "simdjson.h"
#include "tools/commands.h"
#include "tools/http_client.h"
#include "tools/options_parsing.h"
#include "tools/running_server.h"

namespace tessera::tools {
namespace {

namespace fs = std::filesystem;

int Fail(std::string_view command, int code, const std::string& message) {
  std::fprintf(stderr, "tessera %.*s: %s\n", static_cast<int>(command.size()), command.data(),
               message.c_str());
  return code;
}
int Fail(std::string_view command, int code, absl::string_view message) {
  return Fail(command, code, std::string(message));
}
int Fail(std::string_view command, int code, const char* message) {
  return Fail(command, code, std::string(message));
}

std::string FormatBytes(uint64_t bytes) {
  if (bytes < 1024) return absl::StrCat(bytes, " B");
  if (bytes < (1u << 20)) return absl::StrFormat("%.1f KiB", static_cast<double>(bytes) / 1024);
  if (bytes < (1ull << 30)) return absl::StrFormat("%.1f MiB", static_cast<double>(bytes) / (1 << 20));
  return absl::StrFormat("%.2f GiB", static_cast<double>(bytes) / (1ull << 30));
}

std::string FormatTime(std::chrono::system_clock::time_point time) {
  return base::FormatIso8601(std::chrono::time_point_cast<std::chrono::microseconds>(time));
}

void PrintBackupSummary(const profile_store::BackupSummary& summary, const std::string& store_path,
                        const std::string& via) {
  std::printf(
      "backup %u of %s in %s: %s in %u files, verified; taken %s in %.2f s%s; %u backup(s) in the "
      "directory\n",
      summary.backup_id, store_path.c_str(), summary.directory.c_str(),
      FormatBytes(summary.size_bytes).c_str(), summary.files, FormatTime(summary.created).c_str(),
      summary.elapsed.count(), via.c_str(), summary.backups_in_directory);
}

// The server's answer to POST /v1/admin/backup, as a summary (see api/admin_handler.h).
absl::StatusOr<profile_store::BackupSummary> SummaryFromJson(const std::string& body) {
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (parser.parse(body).get(root) != simdjson::SUCCESS) {
    return absl::DataLossError(absl::StrCat("the server's answer is not JSON: ", body));
  }
  profile_store::BackupSummary summary;
  uint64_t id = 0;
  uint64_t files = 0;
  uint64_t backups = 0;
  std::string_view directory;
  std::string_view created;
  double seconds = 0;
  if (root["backupId"].get(id) || root["sizeBytes"].get(summary.size_bytes) || root["files"].get(files) ||
      root["backups"].get(backups) || root["directory"].get(directory) || root["createdAt"].get(created) ||
      root["seconds"].get(seconds)) {
    return absl::DataLossError(absl::StrCat("unexpected answer from the server: ", body));
  }
  summary.backup_id = static_cast<uint32_t>(id);
  summary.files = static_cast<uint32_t>(files);
  summary.backups_in_directory = static_cast<uint32_t>(backups);
  summary.directory = std::string(directory);
  if (std::optional<ingest::Timestamp> time = base::ParseIso8601(created)) summary.created = *time;
  summary.elapsed = std::chrono::duration<double>(seconds);
  return summary;
}


// How to reach the server, from --server and --timeout; checked before anything else is done.
struct ServerRequestOptions {
  std::optional<HttpEndpoint> endpoint;  // --server; otherwise the configured listen address.
  std::chrono::seconds timeout{3600};    // A large store takes a while to copy.
};

absl::StatusOr<ServerRequestOptions> ServerRequestOptionsFrom(
    const std::map<std::string, std::string>& flags) {
  ServerRequestOptions options;
  if (auto it = flags.find("server"); it != flags.end()) {
    absl::StatusOr<HttpEndpoint> parsed = ParseHttpUrl(it->second);
    if (!parsed.ok())
      return absl::InvalidArgumentError(absl::StrCat("--server: ", parsed.status().message()));
    options.endpoint = *parsed;
  }
  if (auto it = flags.find("timeout"); it != flags.end()) {
    int64_t seconds = 0;
    if (!absl::SimpleAtoi(it->second, &seconds) || seconds <= 0) {
      return absl::InvalidArgumentError("--timeout takes a positive number of seconds");
    }
    options.timeout = std::chrono::seconds(seconds);
  }
  return options;
}

int BackupThroughServer(const std::map<std::string, std::string>& flags, const ServerRequestOptions& request,
                        const config::Config& config, bool uses_dev_keys, const std::string& target,
                        const std::string& store_path) {
  constexpr std::string_view kCommand = "backup";
  absl::StatusOr<HttpEndpoint> found = RunningServerEndpoint(request.endpoint, config);
  if (!found.ok()) return Fail(kCommand, 2, found.status().message());
  const HttpEndpoint endpoint = *found;
  const std::string admin_key = AdminKeyFromFlags(flags, config, uses_dev_keys);
  if (admin_key.empty()) {
    return Fail(
        kCommand, 2,
        absl::StrCat("a server holds the store at ", store_path,
                     ", so the backup is made through it, which needs an admin key: pass --admin-key KEY "
                     "or set TESSERA_ADMIN_KEY"));
  }
  std::string body;
  base::JsonWriter json(body);
  json.BeginObject().Key("to").String(target).EndObject();
  absl::StatusOr<HttpAnswer> answer =
      PostJson(endpoint, "/v1/admin/backup", body, {{"Authorization", absl::StrCat("Bearer ", admin_key)}},
               std::chrono::duration_cast<std::chrono::milliseconds>(request.timeout));
  if (!answer.ok()) {
    return Fail(
        kCommand, 1,
        absl::StrCat(
            "a server holds the store at ", store_path,
            ", but asking it for the backup failed: ", answer.status().message(),
            flags.contains("server") ? "" : " (pass --server http://HOST:PORT if it listens elsewhere)"));
  }
  if (answer->status != 200) {
    // A bad key or a bad directory is the caller's to fix (usage); anything else is a failure.
    const bool usage = answer->status == 400 || answer->status == 401 || answer->status == 403;
    return Fail(kCommand, usage ? 2 : 1,
                absl::StrCat("the server at ", endpoint.Url(), " answered ", answer->status, ": ",
                             ServerErrorMessage(answer->body)));
  }
  absl::StatusOr<profile_store::BackupSummary> summary = SummaryFromJson(answer->body);
  if (!summary.ok()) return Fail(kCommand, 1, summary.status().message());
  PrintBackupSummary(*summary, store_path, absl::StrCat(" by the server at ", endpoint.Url()));
  return 0;
}

}  // namespace

int BackupCommand(std::span<const std::string_view> args) {
  constexpr std::string_view kCommand = "backup";
  constexpr std::string_view kKnown[] = {"config", "data-dir", "to", "server", "admin-key", "timeout"};
  auto flags = ParseFlags(args, kKnown);
  if (!flags.ok()) return Fail(kCommand, 2, flags.status().message());
  if (!flags->contains("to")) return Fail(kCommand, 2, "--to DIR is required (the backup directory)");
  bool uses_dev_keys = false;
  absl::StatusOr<config::Config> config = ConfigFromFlags(*flags, uses_dev_keys);
  if (!config.ok())
    return Fail(kCommand, 2, absl::StrCat("invalid configuration: ", config.status().message()));
  absl::StatusOr<ServerRequestOptions> request = ServerRequestOptionsFrom(*flags);
  if (!request.ok()) return Fail(kCommand, 2, request.status().message());
  // Absolute, since a server may make the backup, and its working directory is not ours.
  std::error_code error;
  const std::string target = fs::absolute(fs::path(flags->at("to")), error).lexically_normal().string();
  if (error) return Fail(kCommand, 2, absl::StrCat("--to: ", error.message()));

  const std::string store_path = StorePath(*config);
  if (!profile_store::StoreExists(store_path)) {
    return Fail(kCommand, 1,
                absl::StrCat("no store at ", store_path, " (check --data-dir or data_dir in --config)"));
  }
  absl::StatusOr<bool> locked = profile_store::StoreIsLocked(store_path);
  if (!locked.ok()) return Fail(kCommand, 1, locked.status().message());
  if (*locked) return BackupThroughServer(*flags, *request, *config, uses_dev_keys, target, store_path);

  auto store = OpenStore(*config);
  if (!store.ok()) return Fail(kCommand, StoreOpenExitCode(store.status()), store.status().message());
  absl::StatusOr<profile_store::BackupSummary> summary = profile_store::CreateBackup(**store, target);
  if (!summary.ok()) {
    const bool usage =
        absl::IsInvalidArgument(summary.status()) || absl::IsPermissionDenied(summary.status());
    return Fail(kCommand, usage ? 2 : 1, summary.status().message());
  }
  if (absl::Status closed = (*store)->Close(); !closed.ok()) return Fail(kCommand, 1, closed.message());
  PrintBackupSummary(*summary, store_path, "");
  return 0;
}

int RestoreCommand(std::span<const std::string_view> args) {
  constexpr std::string_view kCommand = "restore";
  // --force is a switch; every other option takes a value.
  std::vector<std::string_view> rest;
  bool force = false;
  for (std::string_view arg : args) {
    if (arg == "--force") {
      force = true;
    } else {
      rest.push_back(arg);
    }
  }
  constexpr std::string_view kKnown[] = {"config", "data-dir", "from", "backup-id"};
  auto flags = ParseFlags(rest, kKnown);
  if (!flags.ok()) return Fail(kCommand, 2, flags.status().message());
  if (!flags->contains("from")) return Fail(kCommand, 2, "--from DIR is required (the backup directory)");
  profile_store::RestoreOptions options;
  options.force = force;
  if (auto it = flags->find("backup-id"); it != flags->end()) {
    if (!absl::SimpleAtoi(it->second, &options.backup_id) || options.backup_id == 0) {
      return Fail(kCommand, 2, "--backup-id takes a backup number (1, 2, ...)");
    }
  }
  bool uses_dev_keys = false;
  absl::StatusOr<config::Config> config = ConfigFromFlags(*flags, uses_dev_keys);
  if (!config.ok())
    return Fail(kCommand, 2, absl::StrCat("invalid configuration: ", config.status().message()));

  const std::string store_path = StorePath(*config);
  absl::StatusOr<std::shared_ptr<const profile_store::KeyRing>> keys = EncryptionKeysFrom(*config);
  if (!keys.ok()) return Fail(kCommand, 2, keys.status().message());
  options.encryption_keys = *std::move(keys);
  absl::StatusOr<profile_store::BackupSummary> summary =
      profile_store::RestoreBackup(flags->at("from"), store_path, options);
  if (absl::IsAlreadyExists(summary.status())) {
    return Fail(kCommand, 1,
                absl::StrCat(store_path,
                             " already holds a store; restore into an empty data directory, or pass "
                             "--force to replace it"));
  }
  if (!summary.ok()) return Fail(kCommand, StoreOpenExitCode(summary.status()), summary.status().message());
  std::printf("restored backup %u (taken %s, %s in %u files, verified) from %s into %s in %.2f s\n",
              summary->backup_id, FormatTime(summary->created).c_str(),
              FormatBytes(summary->size_bytes).c_str(), summary->files, summary->directory.c_str(),
              store_path.c_str(), summary->elapsed.count());
  return 0;
}

}  // namespace tessera::tools
