#pragma once

// A store's encryption as a whole (the file format is encrypted_file_system.h's): what its files
// need, converting a store between plain and encrypted, and rewrapping its files' data keys with
// the current master key after a rotation.
//
// Conversion and rewrap are offline: they take the store's locks, so they refuse to run next to a
// server and no server starts while they run.

#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "profile_store/key_ring.h"

namespace tessera::profile_store {

// What the files under a directory are (read from their first bytes; no key needed).
struct EncryptionCensus {
  uint64_t plain_files = 0;      // Non-empty files without an encryption header (LOCK aside).
  std::string a_plain_file;      // One of them, for messages.
  uint64_t encrypted_files = 0;
  std::string an_encrypted_file;
  // Encrypted files by the master key their newest wrap record names (key id in hex).
  std::map<std::string, uint64_t> files_by_key;
  std::map<std::string, std::string> a_file_by_key;
};
absl::StatusOr<EncryptionCensus> TakeEncryptionCensus(const std::string& dir);

// Checks, before RocksDB opens anything, that the store at `path` can be read with `keys` (null:
// without encryption). Every encrypted file's header is opened, so a missing key, a wrong key or
// an altered header stops here with the file's name:
// - FailedPrecondition: the store is encrypted and no keys are given; the store is plain (or part
//   plain) and keys are given; a file needs a master key that is not loaded.
// - DataLoss: a header fails authentication or is cut short.
// On success `summary` says which master keys the files need ("" for a plain store).
absl::Status CheckStoreEncryption(const std::string& path, const KeyRing* keys, std::string* summary);

struct ConversionSummary {
  uint64_t files = 0;
  uint64_t bytes = 0;  // Plaintext bytes converted.
};

// Converts the store at `path` (closed) to encrypted with `keys`' current master key, or back to
// plain files when `keys` names the keys it is encrypted with and `to_plain` is set. The new store
// is written beside it (`<path>.converting`), checked to open, and swapped in with one atomic
// rename, so a crash at any point leaves the old store or the new one whole. FailedPrecondition
// when a process holds the store, when it is already in the asked-for form, or when it is mixed.
absl::StatusOr<ConversionSummary> EncryptStore(const std::string& path, std::shared_ptr<const KeyRing> keys);
absl::StatusOr<ConversionSummary> DecryptStore(const std::string& path, std::shared_ptr<const KeyRing> keys);
// Rewrites every file of an encrypted store with a new data key under the current master key (after
// a key was exposed: a rewrap keeps the data keys). Same guarantees as EncryptStore; no plain byte
// is written.
absl::StatusOr<ConversionSummary> ReencryptStore(const std::string& path, std::shared_ptr<const KeyRing> keys);

// Removes what a conversion interrupted by a crash left beside the store at `path` (a whole store
// is always at `path` itself). Called at every writable open.
absl::Status RemoveInterruptedConversion(const std::string& path);

struct RewrapSummary {
  uint64_t rewrapped = 0;  // Files whose data key is now wrapped with the current key only.
  uint64_t current = 0;    // Files that already were.
};

// Rewraps the data key of every encrypted file under `dir` (a store, or a backup directory) with
// `keys`' current master key, in both header records, one at a time with a sync between, so that
// a crash leaves every file readable. Offline for a store: FailedPrecondition when a process holds
// it. After it, older keys are needed by none of these files.
absl::StatusOr<RewrapSummary> RewrapFiles(const std::string& dir, const KeyRing& keys);

}  // namespace tessera::profile_store
