#pragma once

// The files of the encrypted file system (encrypted_file_system.h): a writer that seals 4 KiB
// slots, and a reader that opens them, over plain POSIX descriptors and the base file system's
// readers. Conversion and rewrap (store_encryption.h) use them directly.

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

#include "profile_store/internal/encrypted_format.h"
#include "profile_store/key_ring.h"
#include "rocksdb/file_system.h"

namespace tessera::profile_store::internal {

// Writes an encrypted file. RocksDB appends from one thread at a time; Sync may come from another
// thread meanwhile (DB::SyncWAL), so the tail is guarded by a mutex and Sync is thread-safe.
class EncryptedWritableFile : public rocksdb::FSWritableFile {
 public:
  // Creates `path` (replacing a file there) with a new data key wrapped by the ring's current key.
  static rocksdb::IOStatus Create(const std::string& path, const KeyRing& keys,
                                  std::unique_ptr<rocksdb::FSWritableFile>* file);
  // Opens an existing encrypted file to append to it.
  static rocksdb::IOStatus Reopen(const std::string& path, const KeyRing& keys,
                                  std::unique_ptr<rocksdb::FSWritableFile>* file);
  ~EncryptedWritableFile() override;

  using rocksdb::FSWritableFile::Append;
  rocksdb::IOStatus Append(const rocksdb::Slice& data, const rocksdb::IOOptions& options,
                           rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus Flush(const rocksdb::IOOptions& options, rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus Sync(const rocksdb::IOOptions& options, rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus Fsync(const rocksdb::IOOptions& options, rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus Close(const rocksdb::IOOptions& options, rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus Truncate(uint64_t size, const rocksdb::IOOptions& options, rocksdb::IODebugContext* dbg) override;
  uint64_t GetFileSize(const rocksdb::IOOptions& options, rocksdb::IODebugContext* dbg) override;
  bool IsSyncThreadSafe() const override { return true; }
  // Starts writeback of the whole slots under [offset, offset + nbytes), as RocksDB's
  // bytes_per_sync asks, so that a large file's final sync does not write it all at once.
  rocksdb::IOStatus RangeSync(uint64_t offset, uint64_t nbytes, const rocksdb::IOOptions& options,
                              rocksdb::IODebugContext* dbg) override;
  // Reserves the slots under [offset, offset + len) ahead of the writes (RocksDB preallocates
  // its logs and table files), without changing the file's size: a synced append then writes
  // into blocks the file system has already allocated, as a plain file's does.
  rocksdb::IOStatus Allocate(uint64_t offset, uint64_t len, const rocksdb::IOOptions& options,
                             rocksdb::IODebugContext* dbg) override;

 private:
  EncryptedWritableFile(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}
  // Seals slot `index` at the end of the pending bytes (which cover consecutive slots).
  void SealIntoPending(uint64_t index, std::string_view plaintext);
  rocksdb::IOStatus WritePending();
  rocksdb::IOStatus FlushLocked();
  rocksdb::IOStatus AppendLocked(std::string_view data);
  rocksdb::IOStatus WriteAt(const char* data, size_t n, uint64_t offset);
  rocksdb::IOStatus SyncFile(bool metadata);

  std::string path_;
  std::mutex mutex_;
  int fd_;
  DataKey key_;
  std::unique_ptr<SlotCipher> cipher_;
  uint64_t full_slots_ = 0;  // Slots written whole; the tail is slot full_slots_.
  std::string tail_;         // Plaintext of the partial last slot.
  bool tail_dirty_ = false;  // Whether the tail differs from what is on disk.
  // Sealed slots not yet written, from slot pending_first_slot_ on; written by Flush, Sync, Close,
  // and by Append past kMaxPendingBytes.
  static constexpr size_t kMaxPendingBytes = 1 << 20;
  std::string pending_;
  uint64_t pending_first_slot_ = 0;
};

// Reads an encrypted file through a reader of the base file system. Thread-safe.
class EncryptedReader {
 public:
  // Opens `path` and its header. Corruption naming the file when it is not encrypted, is cut
  // short, or its header does not open (see OpenHeader for the key errors).
  static rocksdb::IOStatus Open(rocksdb::FileSystem& base, const std::string& path, const KeyRing& keys,
                                std::unique_ptr<EncryptedReader>* reader);

  // Reads up to `n` bytes at logical `offset` into `scratch`; fewer at the end of the file.
  rocksdb::IOStatus Read(uint64_t offset, size_t n, rocksdb::Slice* result, char* scratch) const;

 private:
  EncryptedReader() = default;
  rocksdb::IOStatus ReadOnce(uint64_t offset, size_t n, rocksdb::Slice* result, char* scratch, bool* failed) const;

  std::string path_;
  std::unique_ptr<rocksdb::FSRandomAccessFile> base_;
  bool empty_ = false;  // A file of no bytes at all (created, crashed before its header).
  DataKey key_;
};

// Converts a status of the key or format checks into a RocksDB status naming `path`.
rocksdb::IOStatus EncryptionError(const std::string& path, const absl::Status& status);

}  // namespace tessera::profile_store::internal
