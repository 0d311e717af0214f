#include "profile_store/encrypted_file_system.h"

#include <sys/time.h>

#include <cstdarg>
#include <cstdio>
#include <ctime>
#include <mutex>
#include <thread>
#include <utility>

#include "profile_store/internal/encrypted_files.h"
#include "profile_store/internal/encrypted_format.h"

namespace tessera::profile_store {
namespace {

using internal::EncryptedReader;
using internal::EncryptedWritableFile;
using rocksdb::FileOptions;
using rocksdb::IODebugContext;
using rocksdb::IOOptions;
using rocksdb::IOStatus;
using rocksdb::Slice;

class EncryptedSequentialFile : public rocksdb::FSSequentialFile {
 public:
  explicit EncryptedSequentialFile(std::unique_ptr<EncryptedReader> reader) : reader_(std::move(reader)) {}
  IOStatus Read(size_t n, const IOOptions& /*options*/, Slice* result, char* scratch,
                IODebugContext* /*dbg*/) override {
    IOStatus status = reader_->Read(position_, n, result, scratch);
    if (status.ok()) position_ += result->size();
    return status;
  }
  IOStatus Skip(uint64_t n) override {
    position_ += n;
    return IOStatus::OK();
  }

 private:
  std::unique_ptr<EncryptedReader> reader_;
  uint64_t position_ = 0;
};

class EncryptedRandomAccessFile : public rocksdb::FSRandomAccessFile {
 public:
  explicit EncryptedRandomAccessFile(std::unique_ptr<EncryptedReader> reader) : reader_(std::move(reader)) {}
  IOStatus Read(uint64_t offset, size_t n, const IOOptions& /*options*/, Slice* result, char* scratch,
                IODebugContext* /*dbg*/) const override {
    return reader_->Read(offset, n, result, scratch);
  }

 private:
  std::unique_ptr<EncryptedReader> reader_;
};

// RocksDB's info LOG, written through an encrypted file (RocksDB's own logger writes plain).
class EncryptedLogger : public rocksdb::Logger {
 public:
  explicit EncryptedLogger(std::unique_ptr<rocksdb::FSWritableFile> file) : file_(std::move(file)) {}
  ~EncryptedLogger() override { CloseImpl().PermitUncheckedError(); }

  using rocksdb::Logger::Logv;
  void Logv(const char* format, va_list ap) override {
    char line[2048];
    struct timeval now {};
    gettimeofday(&now, nullptr);
    struct tm parts {};
    localtime_r(&now.tv_sec, &parts);
    int used = std::snprintf(line, sizeof(line), "%04d/%02d/%02d-%02d:%02d:%02d.%06ld ", parts.tm_year + 1900,
                             parts.tm_mon + 1, parts.tm_mday, parts.tm_hour, parts.tm_min, parts.tm_sec,
                             static_cast<long>(now.tv_usec));
    va_list copy;
    va_copy(copy, ap);
    const int body = std::vsnprintf(line + used, sizeof(line) - used, format, copy);
    va_end(copy);
    used = std::min<int>(used + std::max(body, 0), sizeof(line) - 2);
    line[used++] = '\n';
    std::lock_guard<std::mutex> lock(mutex_);
    if (file_ == nullptr) return;
    file_->Append(Slice(line, used), IOOptions(), nullptr).PermitUncheckedError();
    file_->Flush(IOOptions(), nullptr).PermitUncheckedError();
  }
  void Flush() override {
    std::lock_guard<std::mutex> lock(mutex_);
    if (file_ != nullptr) file_->Flush(IOOptions(), nullptr).PermitUncheckedError();
  }

 protected:
  rocksdb::Status CloseImpl() override {
    std::lock_guard<std::mutex> lock(mutex_);
    if (file_ == nullptr) return rocksdb::Status::OK();
    IOStatus status = file_->Close(IOOptions(), nullptr);
    file_.reset();
    return status;
  }

 private:
  std::mutex mutex_;
  std::unique_ptr<rocksdb::FSWritableFile> file_;
};

class EncryptedFileSystem : public rocksdb::FileSystemWrapper {
 public:
  EncryptedFileSystem(std::shared_ptr<rocksdb::FileSystem> base, std::shared_ptr<const KeyRing> keys)
      : FileSystemWrapper(std::move(base)), keys_(std::move(keys)) {}

  static const char* kClassName() { return "TesseraEncryptedFileSystem"; }
  const char* Name() const override { return kClassName(); }

  IOStatus NewSequentialFile(const std::string& fname, const FileOptions& /*options*/,
                             std::unique_ptr<rocksdb::FSSequentialFile>* result, IODebugContext* /*dbg*/) override {
    std::unique_ptr<EncryptedReader> reader;
    if (IOStatus status = EncryptedReader::Open(*target(), fname, *keys_, &reader); !status.ok()) return status;
    *result = std::make_unique<EncryptedSequentialFile>(std::move(reader));
    return IOStatus::OK();
  }

  IOStatus NewRandomAccessFile(const std::string& fname, const FileOptions& /*options*/,
                               std::unique_ptr<rocksdb::FSRandomAccessFile>* result,
                               IODebugContext* /*dbg*/) override {
    std::unique_ptr<EncryptedReader> reader;
    if (IOStatus status = EncryptedReader::Open(*target(), fname, *keys_, &reader); !status.ok()) return status;
    *result = std::make_unique<EncryptedRandomAccessFile>(std::move(reader));
    return IOStatus::OK();
  }

  IOStatus NewWritableFile(const std::string& fname, const FileOptions& /*options*/,
                           std::unique_ptr<rocksdb::FSWritableFile>* result, IODebugContext* /*dbg*/) override {
    return EncryptedWritableFile::Create(fname, *keys_, result);
  }

  IOStatus ReopenWritableFile(const std::string& fname, const FileOptions& /*options*/,
                              std::unique_ptr<rocksdb::FSWritableFile>* result, IODebugContext* /*dbg*/) override {
    return EncryptedWritableFile::Reopen(fname, *keys_, result);
  }

  IOStatus ReuseWritableFile(const std::string& fname, const std::string& old_fname, const FileOptions& options,
                             std::unique_ptr<rocksdb::FSWritableFile>* result, IODebugContext* dbg) override {
    // Recycled logs keep old bytes past the new end; an encrypted file starts afresh instead.
    if (IOStatus status = target()->RenameFile(old_fname, fname, IOOptions(), dbg); !status.ok()) return status;
    return NewWritableFile(fname, options, result, dbg);
  }

  IOStatus NewRandomRWFile(const std::string& fname, const FileOptions& /*options*/,
                           std::unique_ptr<rocksdb::FSRandomRWFile>* /*result*/, IODebugContext* /*dbg*/) override {
    return IOStatus::NotSupported("random read-write files are not encrypted", fname);
  }

  IOStatus NewMemoryMappedFileBuffer(const std::string& fname,
                                     std::unique_ptr<rocksdb::MemoryMappedFileBuffer>* /*result*/) override {
    return IOStatus::NotSupported("memory-mapped files are not encrypted", fname);
  }

  IOStatus NewLogger(const std::string& fname, const IOOptions& /*options*/, std::shared_ptr<rocksdb::Logger>* result,
                     IODebugContext* /*dbg*/) override {
    std::unique_ptr<rocksdb::FSWritableFile> file;
    if (IOStatus status = EncryptedWritableFile::Create(fname, *keys_, &file); !status.ok()) return status;
    *result = std::make_shared<EncryptedLogger>(std::move(file));
    return IOStatus::OK();
  }

  // A path's logical size, cut through the encrypted writer (the base file system would cut the
  // ciphertext at a plaintext offset).
  IOStatus Truncate(const std::string& fname, size_t size, const IOOptions& options, IODebugContext* dbg) override {
    std::unique_ptr<rocksdb::FSWritableFile> file;
    if (IOStatus status = EncryptedWritableFile::Reopen(fname, *keys_, &file); !status.ok()) return status;
    if (IOStatus status = file->Truncate(size, options, dbg); !status.ok()) return status;
    return file->Close(options, dbg);
  }

  IOStatus GetFileSize(const std::string& fname, const IOOptions& options, uint64_t* size,
                       IODebugContext* dbg) override {
    uint64_t physical = 0;
    if (IOStatus status = target()->GetFileSize(fname, options, &physical, dbg); !status.ok()) return status;
    const std::optional<uint64_t> logical = internal::LogicalSize(physical);
    if (!logical) return IOStatus::Corruption("file " + fname + " is cut short (its encrypted size is impossible)");
    *size = *logical;
    return IOStatus::OK();
  }

  IOStatus GetChildrenFileAttributes(const std::string& dir, const IOOptions& options,
                                     std::vector<rocksdb::FileAttributes>* result, IODebugContext* dbg) override {
    if (IOStatus status = target()->GetChildrenFileAttributes(dir, options, result, dbg); !status.ok()) {
      return status;
    }
    for (rocksdb::FileAttributes& attributes : *result) {
      attributes.size_bytes = internal::LogicalSize(attributes.size_bytes).value_or(0);
    }
    return IOStatus::OK();
  }

 private:
  std::shared_ptr<const KeyRing> keys_;
};

}  // namespace

std::shared_ptr<rocksdb::FileSystem> NewEncryptedFileSystem(std::shared_ptr<rocksdb::FileSystem> base,
                                                            std::shared_ptr<const KeyRing> keys) {
  return std::make_shared<EncryptedFileSystem>(std::move(base), std::move(keys));
}

std::unique_ptr<rocksdb::Env> NewEncryptedEnv(std::shared_ptr<const KeyRing> keys) {
  return rocksdb::NewCompositeEnv(NewEncryptedFileSystem(rocksdb::FileSystem::Default(), std::move(keys)));
}

}  // namespace tessera::profile_store
