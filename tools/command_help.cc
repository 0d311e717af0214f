#include "tools/command_help.h"

#include <array>

namespace tessera::tools {
namespace {

struct CommandHelp {
  std::string_view name;
  std::string_view text;  // Synopsis line(s), then the description, indented as printed.
};

constexpr std::array kCommands = {
    CommandHelp{"serve", R"(  serve [--config FILE] [--data-dir DIR] [--address ADDR] [--port N]
        Serve the HTTP API. Without --config: defaults, with development keys kept in DIR/dev_keys.json.
)"},
    CommandHelp{"log", R"(  log [--config FILE | --data-dir DIR] [--space SPACE] [--from SEQUENCE] [--limit N]
        Print the accepted-event log as NDJSON ({"sequence":N,"event":{...}} per line).
        The server must not be running on the same store.
)"},
    CommandHelp{
        "import",
        R"(  import --config FILE [--data-dir DIR] --source WRITE_KEY --format csv|contact-log [--server URL]
         CSV_FILE
        Load a CSV file as the source whose write key is given: --format csv, a POS export, with the
        source's connectors.csv mapping; --format contact-log, the call and chat log of a contact-
        centre system, with its connectors.contact_log mapping. Bad rows are reported by line number
        and skipped; re-importing a file adds nothing. With the server stopped, the command opens the
        store and runs the ingest pipeline itself. While a server holds the store (or with --server
        http://HOST:PORT), the file is sent to that server's POST /v1/connectors/pos/csv (or
        /v1/connectors/service/contact-log) in row-aligned pieces of at most 1 MiB, each durable
        before the next; a piece answered 503 or lost on the way is sent again. Progress goes to stderr once a
        second. Exit 0 once the file was read, 1 on I/O, store or server errors, 2 on usage or
        configuration errors (and a key or mapping the server refuses).
)"},
    CommandHelp{
        "export",
        R"(  export AUDIENCE [--config FILE | --data-dir DIR] [--space NAME] [--format csv|ndjson] [--fields LIST]
         [--consent PURPOSES] [--out FILE]
        Write an audience's members as CSV (default) or NDJSON to FILE (or stdout when absent or "-").
        --fields: comma-separated id, enteredAt, identifier types (email, phone, user_id, ...),
        traits.<path>, computed.<name>, consent.<purpose>; default id,enteredAt,user_id,email,phone.
        --consent: only members who granted every listed purpose (e.g. marketing_email,sms).
        --space: default "default". Opens the store read-only, so it works while the server runs;
        writes FILE.tmp and renames it to FILE when complete. Exit 0 on success, 1 on I/O or store
        errors, 2 on usage errors, an unknown audience, a bad field or a bad purpose.
)"},
    CommandHelp{"rebuild", R"(  rebuild [--config FILE | --data-dir DIR]
        Replay the accepted-event log into fresh identity graph and profiles (e.g. after changing
        the identity rules). The server must not be running on the same store.
)"},
    CommandHelp{
        "backup",
        R"(  backup --to DIR [--config FILE | --data-dir DIR] [--server URL] [--admin-key KEY] [--timeout SECONDS]
        Back up the store into DIR (RocksDB BackupEngine: a numbered, incremental backup; each one is
        verified), and print its number, size, file count and time. Works while the server runs: the
        store is then locked, so the server is asked to make the backup (POST /v1/admin/backup) at
        --server (default: the configured listen address) with an admin key from --admin-key, the
        TESSERA_ADMIN_KEY environment variable, or the data directory's dev_keys.json when the server
        runs on development keys. Exit 0 on success, 1 on store, I/O or server errors, 2 on usage
        errors, a rejected key or an unusable backup directory.
)"},
    CommandHelp{"restore", R"(  restore --from DIR [--config FILE | --data-dir DIR] [--backup-id N] [--force]
        Restore the latest (or backup N) from DIR as the store of the data directory, after verifying
        it. Restores into a sibling directory and swaps it in, so the store is never half restored.
        Refuses a data directory that already holds a store unless --force (which replaces it). The
        server must not be running on it. Exit 0 on success, 1 on errors (damaged backup, store
        present), 2 on usage errors.
)"},
    CommandHelp{"verify", R"(  verify [--config FILE | --data-dir DIR] [--work-dir DIR] [--max-differences N]
        Check that the derived state (identity graph, profiles, merges, timelines, dead letters,
        resolver positions; audience memberships aside) equals a rebuild from the accepted-event log:
        on checkpoints of the store (its contents are not changed), catch the resolvers up with the
        log as a starting server would, rebuild a second copy, compare row by row and print the first
        differences. Exit 0 when equal, 1 when they differ or on errors, 2 on usage errors. The server
        must not be running on the same store.
)"},
    CommandHelp{"destinations", R"(  destinations replay|pause|resume NAME [--config FILE | --data-dir DIR] [--server URL] [--admin-key KEY]
        Ask the running server to send destination NAME's dead letters again (oldest first, before
        what waits; those that fail again keep their place), or to pause or resume its delivery (kept
        across restarts). --server and the admin key as for backup. docs/activation.md. Exit 0 on
        success, 1 when the server cannot be reached or fails, 2 on usage errors, a rejected key or
        an unknown destination.
)"},
    CommandHelp{"cluster", R"(  cluster init|status --config FILE [--timeout-ms N]
        Cluster mode on NATS JetStream (docs/cluster.md), with the configuration's cluster section.
        init: create (or bring to the configured duplicate window) the event stream of every space
        of the configured sources, and the lease bucket; run once before the first gateway, and again
        after adding a space. status: per space, the stream's events, last sequence, bytes and
        replicas, and which process holds the space's resolver lease. Waits at most --timeout-ms
        (default 5000) for a NATS server. Exit 0 on success, 1 when NATS cannot be reached or refuses,
        2 on usage errors.
)"},
    CommandHelp{"match", R"(  match INPUT.csv --id COLUMN --pairs PAIRS.csv --clusters CLUSTERS.csv [--schema SCHEMA.json]
         [--threshold P] [--model MODEL.json] [--model-in MODEL.json] [--max-block-size N] [--seed N]
         [--threads N]
        Find the records of INPUT.csv that are the same person (Fellegi-Sunter, trained without
        labels; docs/matching.md). The schema ({"columns":{"<column>":"<kind>"}}, kinds first_name,
        surname, person_name, date_of_birth, email, phone, postcode, city, address, free_text) is
        inferred from the column names when absent. PAIRS.csv: id_l,id_r,match_probability,
        match_weight for every candidate pair; CLUSTERS.csv: id,cluster_id for every record, clustered
        at --threshold (default 0.9). The model (m and u per level, lambda) is printed, written to
        --model, and used instead of training with --model-in. --threads (default all hardware
        threads) never changes the outputs. Progress on stderr. Exit 0 on success,
        1 when an output cannot be written, 2 on usage errors, an unreadable input or a missing column.
)"},
    CommandHelp{"keys", R"(  keys generate FILE
  keys rotate --config FILE | --key-file KEYFILE
  keys rewrap --config FILE [--data-dir DIR] [--backup-dir DIR]
  keys reencrypt --config FILE [--data-dir DIR]
  keys status --config FILE [--data-dir DIR]
        Master keys of encryption at rest (docs/encryption.md); keys are shown by id only.
        generate: write one new random key (64 hex characters) to FILE, which must not exist, mode 0600.
        rotate: put a new key first in the key file (the current one from then on); the older keys stay
        after it, because files wrapped with them need them. Restart the server to use it.
        rewrap: with the server stopped, rewrap every file's data key of the store (and of the backups
        in --backup-dir) with the current key, header only, crash-safe; then older keys can be removed.
        reencrypt: with the server stopped, rewrite every file of the store with a new data key under the
        current key (after a key was exposed; a rewrap keeps data keys), crash-safe like encrypt.
        status: the loaded keys and which the store's files need. Exit 0 on success, 1 on I/O errors,
        2 on usage, configuration or key errors.
)"},
    CommandHelp{"encrypt", R"(  encrypt --config FILE [--data-dir DIR]
        With the server stopped, convert a plain store to encrypted files with the configuration's
        current master key: written beside the store, checked to open, swapped in with one rename, so
        a crash leaves the old store or the new one. Exit 0 on success, 1 on I/O errors, 2 on usage,
        key errors, or a store that is already encrypted or in use.
)"},
    CommandHelp{"decrypt", R"(  decrypt --config FILE [--data-dir DIR]
        The reverse of encrypt: convert an encrypted store back to plain files (then remove the
        configuration's encryption section). Same guarantees and exit codes.
)"},
    CommandHelp{
        "bench",
        R"(  bench resolve [--events N] [--people N] [--multi F] [--cache-ratio R] [--seed N] [--dir DIR]
        Benchmark the identity resolver alone on a synthetic log in a fresh store (a measurement,
        not a test); without --cache-ratio, runs with caches that hold the graph and with caches
        ten times smaller than it. See docs/benchmarks.md.
  bench audiences [--people N] [--seed N] [--dir DIR]
        Benchmark audience evaluation and export on synthetic profiles.
  bench corpus|parse|store|pipeline|graph ...
        The steps of tools/bench/run.sh, the one-run benchmark (docs/benchmarks.md).
)"},
};

constexpr std::string_view kHeader =
    "usage: tessera <command> [options]\n"
    "       tessera help <command>   (or: tessera <command> --help)\n\n"
    "commands:\n";

}  // namespace

std::string UsageOfAllCommands() {
  std::string usage(kHeader);
  for (const CommandHelp& command : kCommands) usage += command.text;
  return usage;
}

std::optional<std::string> UsageOfCommand(std::string_view command) {
  for (const CommandHelp& entry : kCommands) {
    if (entry.name == command) return "usage: tessera " + std::string(entry.text.substr(2));
  }
  return std::nullopt;
}

}  // namespace tessera::tools
