// tessera: the one binary. `tessera serve` runs the server; other subcommands operate on a store.

#include <cstdio>
#include <string_view>
#include <vector>

#include "tools/commands.h"

namespace {

constexpr std::string_view kUsage = R"(usage: tessera <command> [options]

commands:
  serve [--config FILE] [--data-dir DIR] [--address ADDR] [--port N]
        Serve the HTTP API. Without --config: defaults, with development keys kept in DIR/dev_keys.json.
  log   [--config FILE | --data-dir DIR] [--space SPACE] [--from SEQUENCE] [--limit N]
        Print the accepted-event log as NDJSON ({"sequence":N,"event":{...}} per line).
        The server must not be running on the same store.
  import --config FILE [--data-dir DIR] --source WRITE_KEY --format csv CSV_FILE
        Load a POS CSV export through the ingest pipeline with the source's connectors.csv mapping:
        bad rows are reported by line number and skipped; re-importing a file adds nothing.
        Exit 0 once the file was read, 1 on I/O or store errors, 2 on usage or configuration errors.
        The server must not be running on the same store.
  export AUDIENCE [--config FILE | --data-dir DIR] [--space NAME] [--format csv|ndjson] [--fields LIST]
         [--consent PURPOSES] [--out FILE]
        Write an audience's members as CSV (default) or NDJSON to FILE (or stdout when absent or "-").
        --fields: comma-separated id, enteredAt, identifier types (email, phone, user_id, ...),
        traits.<path>, computed.<name>, consent.<purpose>; default id,enteredAt,user_id,email,phone.
        --consent: only members who granted every listed purpose (e.g. marketing_email,sms).
        --space: default "default". Opens the store read-only, so it works while the server runs;
        writes FILE.tmp and renames it to FILE when complete. Exit 0 on success, 1 on I/O or store
        errors, 2 on usage errors, an unknown audience, a bad field or a bad purpose.
  rebuild [--config FILE | --data-dir DIR]
        Replay the accepted-event log into fresh identity graph and profiles (e.g. after changing
        the identity rules). The server must not be running on the same store.
  backup --to DIR [--config FILE | --data-dir DIR] [--server URL] [--admin-key KEY] [--timeout SECONDS]
        Back up the store into DIR (RocksDB BackupEngine: a numbered, incremental backup; each one is
        verified), and print its number, size, file count and time. Works while the server runs: the
        store is then locked, so the server is asked to make the backup (POST /v1/admin/backup) at
        --server (default: the configured listen address) with an admin key from --admin-key, the
        TESSERA_ADMIN_KEY environment variable, or the data directory's dev_keys.json when the server
        runs on development keys. Exit 0 on success, 1 on store, I/O or server errors, 2 on usage
        errors, a rejected key or an unusable backup directory.
  restore --from DIR [--config FILE | --data-dir DIR] [--backup-id N] [--force]
        Restore the latest (or backup N) from DIR as the store of the data directory, after verifying
        it. Restores into a sibling directory and swaps it in, so the store is never half restored.
        Refuses a data directory that already holds a store unless --force (which replaces it). The
        server must not be running on it. Exit 0 on success, 1 on errors (damaged backup, store
        present), 2 on usage errors.
  verify [--config FILE | --data-dir DIR] [--work-dir DIR] [--max-differences N]
        Check that the derived state (identity graph, profiles, merges, timelines, dead letters,
        resolver positions; audience memberships aside) equals a rebuild from the accepted-event log:
        on checkpoints of the store (its contents are not changed), catch the resolvers up with the
        log as a starting server would, rebuild a second copy, compare row by row and print the first
        differences. Exit 0 when equal, 1 when they differ or on errors, 2 on usage errors. The server
        must not be running on the same store.
  bench resolve [--events N] [--people N] [--multi F] [--cache-ratio R] [--seed N] [--dir DIR]
        Benchmark the identity resolver alone on a synthetic log in a fresh store (a measurement,
        not a test); without --cache-ratio, runs with caches that hold the graph and with caches
        ten times smaller than it. See docs/benchmarks.md.
)";

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string_view> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    std::fputs(kUsage.data(), args.empty() ? stderr : stdout);
    return args.empty() ? 2 : 0;
  }
  const std::string_view command = args[0];
  std::span<const std::string_view> rest(args.data() + 1, args.size() - 1);
  if (command == "serve") return tessera::tools::ServeCommand(rest);
  if (command == "log") return tessera::tools::LogCommand(rest);
  if (command == "import") return tessera::tools::ImportCommand(rest);
  if (command == "export") return tessera::tools::ExportCommand(rest);
  if (command == "rebuild") return tessera::tools::RebuildCommand(rest);
  if (command == "backup") return tessera::tools::BackupCommand(rest);
  if (command == "restore") return tessera::tools::RestoreCommand(rest);
  if (command == "verify") return tessera::tools::VerifyCommand(rest);
  if (command == "bench") return tessera::tools::BenchCommand(rest);
  std::fprintf(stderr, "tessera: unknown command \"%.*s\"\n\n%s", static_cast<int>(command.size()), command.data(),
               kUsage.data());
  return 2;
}
