#include "profile_store/store_encryption.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <system_error>
#include <vector>

#include "absl/strings/str_cat.h"
#include "profile_store/backup.h"
#include "profile_store/internal/encrypted_files.h"
#include "profile_store/internal/encrypted_format.h"
#include "profile_store/internal/swap_directory.h"
#include "profile_store/internal/sync_directory.h"
#include "profile_store/store.h"
#include "rocksdb/env.h"

namespace tessera::profile_store {
namespace {

namespace fs = std::filesystem;
using internal::FileKind;

constexpr std::string_view kConvertingSuffix = ".converting";

absl::Status RemoveLeftovers(const std::string& path);

// An open descriptor, closed on every way out.
struct Descriptor {
  int fd = -1;
  ~Descriptor() {
    if (fd >= 0) ::close(fd);
  }
};

absl::Status ErrnoError(std::string_view what, const std::string& path) {
  return absl::ErrnoToStatus(errno, absl::StrCat(std::string(what), " ", path));
}

// The regular files under `dir`, the lock files aside (they stay empty and plain).
absl::StatusOr<std::vector<fs::path>> FilesUnder(const std::string& dir) {
  std::vector<fs::path> files;
  std::error_code error;
  for (fs::recursive_directory_iterator it(dir, error), end; !error && it != end; it.increment(error)) {
    std::error_code gone;  // A file deleted meanwhile is passed over, not an error.
    if (it->is_regular_file(gone) && it->path().filename() != "LOCK") files.push_back(it->path());
  }
  if (error) return absl::InternalError(absl::StrCat("cannot list ", dir, ": ", error.message()));
  return files;
}

// The first kHeaderBytes of a file (fewer when it is shorter) and its size. A file deleted since
// it was listed (a running server's compaction, next to a read-only open) counts as empty.
absl::Status ReadHead(const fs::path& path, std::string& head, uint64_t& size) {
  Descriptor file{::open(path.c_str(), O_RDONLY | O_CLOEXEC)};
  if (file.fd < 0 && errno == ENOENT) {
    head.clear();
    size = 0;
    return absl::OkStatus();
  }
  if (file.fd < 0) return ErrnoError("cannot open", path.string());
  struct stat info {};
  if (::fstat(file.fd, &info) != 0) return ErrnoError("cannot stat", path.string());
  size = static_cast<uint64_t>(info.st_size);
  head.assign(internal::kHeaderBytes, '\0');
  size_t got = 0;
  while (got < head.size()) {
    const ssize_t r = ::pread(file.fd, head.data() + got, head.size() - got, static_cast<off_t>(got));
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return ErrnoError("cannot read", path.string());
    if (r == 0) break;
    got += static_cast<size_t>(r);
  }
  head.resize(got);
  return absl::OkStatus();
}

// Holds the locks of a store's two databases, so no server opens it meanwhile.
class StoreLocks {
 public:
  ~StoreLocks() {
    for (rocksdb::FileLock* lock : locks_) rocksdb::Env::Default()->UnlockFile(lock).PermitUncheckedError();
  }
  absl::Status Take(const std::string& path) {
    for (const std::string& db : {path, path + "/intake"}) {
      std::error_code ignored;
      if (!fs::exists(db + "/CURRENT", ignored)) continue;
      rocksdb::FileLock* lock = nullptr;
      if (!rocksdb::Env::Default()->LockFile(db + "/LOCK", &lock).ok()) {
        return absl::FailedPreconditionError(
            absl::StrCat("a running process (a server?) holds the store at ", path, "; stop it first"));
      }
      locks_.push_back(lock);
    }
    return absl::OkStatus();
  }

 private:
  std::vector<rocksdb::FileLock*> locks_;
};

// Copies one file, decrypting it when `from_encrypted`, encrypting it with the ring's current key
// when `to_encrypted` (both: a new data key for the same bytes). Synced before it returns.
absl::Status ConvertFile(const fs::path& from, const fs::path& to, const KeyRing& keys, bool from_encrypted,
                         bool to_encrypted, uint64_t& bytes) {
  std::unique_ptr<internal::EncryptedReader> reader;
  Descriptor source;
  if (from_encrypted) {
    rocksdb::IOStatus opened =
        internal::EncryptedReader::Open(*rocksdb::FileSystem::Default(), from.string(), keys, &reader);
    if (!opened.ok()) return ToAbslStatus(opened, "decrypting");
  } else {
    source.fd = ::open(from.c_str(), O_RDONLY | O_CLOEXEC);
    if (source.fd < 0) return ErrnoError("cannot open", from.string());
  }
  std::unique_ptr<rocksdb::FSWritableFile> writer;
  Descriptor target;
  if (to_encrypted) {
    if (rocksdb::IOStatus status = internal::EncryptedWritableFile::Create(to.string(), keys, &writer); !status.ok()) {
      return ToAbslStatus(status, "encrypting");
    }
  } else {
    target.fd = ::open(to.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (target.fd < 0) return ErrnoError("cannot create", to.string());
  }
  std::string buffer(1 << 20, '\0');
  for (uint64_t offset = 0;;) {
    std::string_view chunk;
    if (reader != nullptr) {
      rocksdb::Slice read;
      if (rocksdb::IOStatus status = reader->Read(offset, buffer.size(), &read, buffer.data()); !status.ok()) {
        return ToAbslStatus(status, "decrypting");
      }
      chunk = std::string_view(read.data(), read.size());
    } else {
      const ssize_t r = ::read(source.fd, buffer.data(), buffer.size());
      if (r < 0 && errno == EINTR) continue;
      if (r < 0) return ErrnoError("cannot read", from.string());
      chunk = std::string_view(buffer.data(), static_cast<size_t>(r));
    }
    if (chunk.empty()) break;
    if (writer != nullptr) {
      rocksdb::IOStatus status = writer->Append(rocksdb::Slice(chunk.data(), chunk.size()), rocksdb::IOOptions(), nullptr);
      if (!status.ok()) return ToAbslStatus(status, "encrypting");
    } else {
      for (size_t done = 0; done < chunk.size();) {
        const ssize_t w = ::write(target.fd, chunk.data() + done, chunk.size() - done);
        if (w < 0 && errno == EINTR) continue;
        if (w < 0) return ErrnoError("cannot write", to.string());
        done += static_cast<size_t>(w);
      }
    }
    offset += chunk.size();
    bytes += chunk.size();
  }
  if (writer != nullptr) {
    rocksdb::IOStatus status = writer->Sync(rocksdb::IOOptions(), nullptr);
    if (status.ok()) status = writer->Close(rocksdb::IOOptions(), nullptr);
    return ToAbslStatus(status, "encrypting");
  }
  if (::fsync(target.fd) != 0) return ErrnoError("cannot sync", to.string());
  return absl::OkStatus();
}

enum class Conversion { kEncrypt, kDecrypt, kReencrypt };

absl::StatusOr<ConversionSummary> Convert(const std::string& path, std::shared_ptr<const KeyRing> keys,
                                          Conversion conversion) {
  const bool from_encrypted = conversion != Conversion::kEncrypt;
  const bool to_encrypted = conversion != Conversion::kDecrypt;
  if (!StoreExists(path)) return absl::NotFoundError(absl::StrCat("no store at ", path));
  StoreLocks locks;
  if (absl::Status status = locks.Take(path); !status.ok()) return status;
  if (absl::Status status = RemoveLeftovers(path); !status.ok()) return status;
  absl::StatusOr<EncryptionCensus> census = TakeEncryptionCensus(path);
  if (!census.ok()) return census.status();
  if (census->plain_files > 0 && census->encrypted_files > 0) {
    return absl::FailedPreconditionError(absl::StrCat("the store at ", path, " is part encrypted (", census->a_plain_file,
                                                      " is plain, ", census->an_encrypted_file,
                                                      " is not); restore it from a backup"));
  }
  if (from_encrypted ? census->encrypted_files == 0 : census->plain_files == 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("the store at ", path, " is ", from_encrypted ? "not encrypted" : "already encrypted"));
  }
  if (from_encrypted) {
    // Every header opens before anything is written: a missing key stops here, not half way.
    std::string summary;
    if (absl::Status status = CheckStoreEncryption(path, keys.get(), &summary); !status.ok()) return status;
  }
  const fs::path source(path);
  const fs::path building(path + std::string(kConvertingSuffix));
  std::error_code error;
  fs::create_directories(building, error);
  if (error) return absl::InternalError(absl::StrCat("cannot create ", building.string(), ": ", error.message()));
  auto fail = [&](absl::Status status) {
    std::error_code ignored;
    fs::remove_all(building, ignored);
    return status;
  };
  ConversionSummary summary;
  std::vector<fs::path> directories = {building};
  for (fs::recursive_directory_iterator it(source, error), end; !error && it != end; it.increment(error)) {
    const fs::path to = building / fs::relative(it->path(), source);
    if (it->is_directory(error)) {
      fs::create_directories(to, error);
      directories.push_back(to);
      continue;
    }
    if (!it->is_regular_file(error)) continue;
    absl::Status copied;
    if (it->path().filename() == "LOCK") {
      Descriptor lock{::open(to.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644)};
      if (lock.fd < 0) copied = ErrnoError("cannot create", to.string());
    } else {
      copied = ConvertFile(it->path(), to, *keys, from_encrypted, to_encrypted, summary.bytes);
      ++summary.files;
    }
    if (!copied.ok()) return fail(copied);
  }
  if (error) return fail(absl::InternalError(absl::StrCat("cannot copy ", path, ": ", error.message())));
  for (const fs::path& directory : directories) {
    if (absl::Status synced = internal::SyncDirectory(directory.string()); !synced.ok()) return fail(synced);
  }
  {
    // The copy must open as a store, with the keys it is to be opened with, before it replaces one.
    StoreOptions check;
    check.path = building.string();
    check.block_cache_bytes = 8 << 20;
    check.read_only = true;
    if (to_encrypted) check.encryption_keys = keys;
    absl::StatusOr<std::unique_ptr<Store>> converted = Store::Open(check);
    if (!converted.ok()) {
      return fail(absl::DataLossError(
          absl::StrCat("the converted copy of ", path, " does not open: ", converted.status().message())));
    }
  }
  if (absl::Status swapped = internal::SwapIn(building, source); !swapped.ok()) return fail(swapped);
  return summary;
}

}  // namespace

absl::StatusOr<EncryptionCensus> TakeEncryptionCensus(const std::string& dir) {
  absl::StatusOr<std::vector<fs::path>> files = FilesUnder(dir);
  if (!files.ok()) return files.status();
  EncryptionCensus census;
  for (const fs::path& file : *files) {
    std::string head;
    uint64_t size = 0;
    if (absl::Status status = ReadHead(file, head, size); !status.ok()) return status;
    switch (internal::ClassifyFile(head, size)) {
      case FileKind::kEmpty:
        break;
      case FileKind::kPlain:
        if (census.plain_files++ == 0) census.a_plain_file = file.string();
        break;
      case FileKind::kTruncatedHeader:
        return absl::DataLossError(absl::StrCat("file ", file.string(), ": its encryption header is cut short"));
      case FileKind::kEncrypted: {
        if (census.encrypted_files++ == 0) census.an_encrypted_file = file.string();
        const std::string key = KeyIdHex(internal::ReadHeaderRecords(head).newest());
        if (census.files_by_key[key]++ == 0) census.a_file_by_key[key] = file.string();
        break;
      }
    }
  }
  return census;
}

absl::Status CheckStoreEncryption(const std::string& path, const KeyRing* keys, std::string* summary) {
  absl::StatusOr<EncryptionCensus> census = TakeEncryptionCensus(path);
  if (!census.ok()) return census.status();
  summary->clear();
  if (keys == nullptr) {
    if (census->encrypted_files == 0) return absl::OkStatus();
    const auto& [key, file] = *census->a_file_by_key.begin();
    return absl::FailedPreconditionError(absl::StrCat(
        "the store at ", path, " is encrypted (", file, " needs master key ", key,
        ") and no key is configured: set encryption.key_file, encryption.key_env or encryption.key_command"));
  }
  if (census->plain_files > 0) {
    if (census->encrypted_files == 0) {
      return absl::FailedPreconditionError(absl::StrCat(
          "the store at ", path, " is not encrypted (", census->a_plain_file,
          " is plain) but encryption is configured: convert it with `tessera encrypt` (offline) first"));
    }
    return absl::FailedPreconditionError(absl::StrCat("the store at ", path, " is part encrypted: ",
                                                      census->a_plain_file, " is plain; restore it from a backup"));
  }
  absl::StatusOr<std::vector<fs::path>> files = FilesUnder(path);
  if (!files.ok()) return files.status();
  for (const fs::path& file : *files) {
    std::string head;
    uint64_t size = 0;
    if (absl::Status status = ReadHead(file, head, size); !status.ok()) return status;
    if (internal::ClassifyFile(head, size) != FileKind::kEncrypted) continue;
    absl::StatusOr<internal::OpenedHeader> opened = internal::OpenHeader(head, *keys);
    if (!opened.ok()) {
      return absl::Status(opened.status().code(), absl::StrCat("file ", file.string(), ": ", opened.status().message()));
    }
  }
  for (const auto& [key, count] : census->files_by_key) {
    const bool current = key == KeyIdHex(keys->current().id);
    absl::StrAppend(summary, summary->empty() ? "" : ", ", key, current ? " (current)" : "", ": ", count,
                    count == 1 ? " file" : " files");
  }
  return absl::OkStatus();
}

absl::StatusOr<ConversionSummary> EncryptStore(const std::string& path, std::shared_ptr<const KeyRing> keys) {
  return Convert(path, std::move(keys), Conversion::kEncrypt);
}

absl::StatusOr<ConversionSummary> DecryptStore(const std::string& path, std::shared_ptr<const KeyRing> keys) {
  return Convert(path, std::move(keys), Conversion::kDecrypt);
}

absl::StatusOr<ConversionSummary> ReencryptStore(const std::string& path, std::shared_ptr<const KeyRing> keys) {
  return Convert(path, std::move(keys), Conversion::kReencrypt);
}

absl::Status RemoveInterruptedConversion(const std::string& path) {
  const std::string building = path + std::string(kConvertingSuffix);
  const std::string replaced = building + ".replaced";
  std::error_code error;
  const bool left_over = fs::exists(building, error) || fs::exists(replaced, error);
  if (!left_over) return absl::OkStatus();
  // A conversion holds the store's locks while it runs: what is beside the store is a leftover
  // only if they can be taken.
  StoreLocks locks;
  if (absl::Status status = locks.Take(path); !status.ok()) return status;
  return RemoveLeftovers(path);
}

namespace {

absl::Status RemoveLeftovers(const std::string& path) {
  const std::string building = path + std::string(kConvertingSuffix);
  const std::string replaced = building + ".replaced";
  std::error_code error;
  if (!fs::exists(building, error) && !fs::exists(replaced, error)) return absl::OkStatus();
  if (!StoreExists(path)) {
    // Only the two-rename fallback leaves no store in place; both copies are whole, so say where.
    return absl::FailedPreconditionError(absl::StrCat("a conversion of the store at ", path,
                                                      " was interrupted between two renames: the old store is at ",
                                                      replaced, " and the new one at ", building,
                                                      "; move one of them to ", path));
  }
  fs::remove_all(building, error);
  if (!error) fs::remove_all(replaced, error);
  if (error) return absl::InternalError(absl::StrCat("cannot remove ", building, ": ", error.message()));
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<RewrapSummary> RewrapFiles(const std::string& dir, const KeyRing& keys) {
  StoreLocks locks;
  if (absl::Status status = locks.Take(dir); !status.ok()) return status;
  absl::StatusOr<std::vector<fs::path>> files = FilesUnder(dir);
  if (!files.ok()) return files.status();
  RewrapSummary summary;
  const KeyRing::MasterKey& current = keys.current();
  for (const fs::path& file : *files) {
    std::string head;
    uint64_t size = 0;
    if (absl::Status status = ReadHead(file, head, size); !status.ok()) return status;
    if (internal::ClassifyFile(head, size) != FileKind::kEncrypted) continue;
    absl::StatusOr<internal::OpenedHeader> opened = internal::OpenHeader(head, keys);
    if (!opened.ok()) {
      return absl::Status(opened.status().code(), absl::StrCat("file ", file.string(), ": ", opened.status().message()));
    }
    if (opened->opened[0] && opened->opened[1] && opened->record_key_ids[0] == current.id &&
        opened->record_key_ids[1] == current.id) {
      ++summary.current;
      continue;
    }
    Descriptor fd{::open(file.c_str(), O_WRONLY | O_CLOEXEC)};
    if (fd.fd < 0) return ErrnoError("cannot open", file.string());
    // The older record first: until the sync after it, the newer one still opens on its own.
    const int older = opened->sequences[0] <= opened->sequences[1] ? 0 : 1;
    const uint64_t newest = std::max(opened->sequences[0], opened->sequences[1]);
    for (int step = 0; step < 2; ++step) {
      const int record = step == 0 ? older : 1 - older;
      const std::string bytes = internal::WrapRecord(opened->key, current, newest + 1 + step);
      const ssize_t written =
          ::pwrite(fd.fd, bytes.data(), bytes.size(), static_cast<off_t>(internal::kWrapRecordOffsets[record]));
      if (written < 0) return ErrnoError("cannot write", file.string());
      if (written != static_cast<ssize_t>(bytes.size())) {
        return absl::InternalError(absl::StrCat("cannot write ", file.string(), ": a short write of its header"));
      }
      if (::fdatasync(fd.fd) != 0) return ErrnoError("cannot sync", file.string());
    }
    ++summary.rewrapped;
  }
  return summary;
}

}  // namespace tessera::profile_store
