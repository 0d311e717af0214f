#pragma once

// Backups, restores and checkpoints of the store, with RocksDB's BackupEngine and Checkpoint.
//
// An encrypted store's backups are encrypted with its keys (each backup file with its own data
// key, through the store's Env); restoring them needs the keys. A directory holds backups of one
// kind: plain backups are not mixed with encrypted ones.
//
// A backup directory holds any number of backups of one store, numbered from 1. Table files are
// shared between the backups of a directory (named by their checksum), so a second backup of a
// store copies only what changed since the first.
//
// Guarantees:
// - CreateBackup works on a store in use (the server takes new events meanwhile). A backup is a
//   pair: the state database's copy in `backup_dir`, then the intake's (log, dedup, log counter)
//   in `backup_dir/intake`, each as of one moment and consistent across its column families. The
//   state goes first, so the log's copy holds every event the derived state reflects (apart from
//   what retention or an erasure removed in between, which the state either already shows or, for
//   an erasure still pending in its copy, carries out again on the restored store), its counter
//   is past every resolver position, and a server started on a restore catches up from there.
// - A backup whose intake copy did not finish, or that did not verify, is not a backup: "the
//   latest" is the newest whole pair, and CreateBackup deletes unfinished ones (Tessera's only:
//   backups with other metadata in the directory are left alone). A pair is matched by a random
//   token in both metadata strings as well as the id, because RocksDB gives a deleted backup's id
//   out again.
// - A backup is verified (every file's size and checksum) before CreateBackup reports success,
//   and again before RestoreBackup copies it.
// - RestoreBackup never leaves a half-restored store: it restores into a sibling directory, checks
//   that the copy opens, then swaps it in with one rename. The store it replaces (only with
//   `force`) is deleted after the swap.
//
// Thread-safety: CreateBackup and CreateCheckpoint may run next to any other use of the store.
// Two backups into the same directory at once are not supported; the caller serializes them. Nor
// is a verify or restore from a directory while a backup into it runs: the backup may delete an
// unfinished backup there, and RocksDB does not define deletion next to a reader.

#include <chrono>
#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "profile_store/store.h"

namespace tessera::profile_store {

struct BackupSummary {
  std::string directory;    // The backup directory.
  uint32_t backup_id = 0;   // Number of the backup in its directory (1, 2, ...).
  uint64_t size_bytes = 0;  // Bytes of the backup's files (some may be shared with earlier backups).
  uint32_t files = 0;       // Files of the backup.
  std::chrono::system_clock::time_point created{};  // When the backup was taken.
  uint32_t backups_in_directory = 0;                // Valid backups in the directory, this one included.
  std::chrono::duration<double> elapsed{};          // Time the operation took (copy and verification).
};

// Takes a new backup of `store` into `backup_dir` (created if missing), then verifies it.
// InvalidArgument when `backup_dir` cannot hold backups: a file, a non-empty directory that is not
// a backup directory, or a place inside the store itself. PermissionDenied when it is not writable.
// DataLoss when the verification fails.
absl::StatusOr<BackupSummary> CreateBackup(Store& store, const std::string& backup_dir);

// Checks the files of backup `backup_id` (0: the latest) against their recorded sizes and
// checksums. NotFound when there is no such backup, DataLoss when it is damaged.
// Encrypted backups need `keys` (FailedPrecondition without them, naming a file and its key).
absl::StatusOr<BackupSummary> VerifyBackup(const std::string& backup_dir, uint32_t backup_id = 0,
                                           std::shared_ptr<const KeyRing> keys = nullptr);

struct RestoreOptions {
  uint32_t backup_id = 0;  // Which backup; 0: the latest valid one.
  bool force = false;      // Replace an existing, non-empty store (otherwise FailedPrecondition).
  // The keys of encrypted backups; the restored store is encrypted with them too. Null: plain.
  std::shared_ptr<const KeyRing> encryption_keys = nullptr;
};

// Restores a backup from `backup_dir` as the store at `store_path` (see the guarantees above).
// FailedPrecondition when `store_path` holds a store and `force` is false, or when a running
// process holds the store; NotFound / DataLoss as VerifyBackup. The store must not be open.
absl::StatusOr<BackupSummary> RestoreBackup(const std::string& backup_dir, const std::string& store_path,
                                            const RestoreOptions& options = {});

// Writes a consistent copy of `store` into `dir`, which must not exist yet (its parent must).
// Table files are hard-linked when `dir` is on the same file system, so this is fast and small.
absl::Status CreateCheckpoint(Store& store, const std::string& dir);

// Whether a process holds the lock of the store at `store_path` (a running server; RocksDB's LOCK
// file). False when there is no store there.
absl::StatusOr<bool> StoreIsLocked(const std::string& store_path);

// Whether a store (its CURRENT file) exists at `store_path`.
bool StoreExists(const std::string& store_path);

}  // namespace tessera::profile_store
