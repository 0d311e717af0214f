#include "profile_store/internal/encrypted_files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace tessera::profile_store::internal {
namespace {

using rocksdb::IOStatus;

IOStatus ErrnoStatus(const std::string& what, const std::string& path, int error) {
  return IOStatus::IOError(absl::StrCat(what, " ", path, ": ", std::strerror(error)));
}

uint64_t SlotOffset(uint64_t index) { return kHeaderBytes + index * kSlotBytes; }

IOStatus ReadAt(int fd, const std::string& path, char* out, size_t n, uint64_t offset, size_t* got) {
  *got = 0;
  while (*got < n) {
    const ssize_t r = ::pread(fd, out + *got, n - *got, static_cast<off_t>(offset + *got));
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return ErrnoStatus("cannot read", path, errno);
    if (r == 0) break;
    *got += static_cast<size_t>(r);
  }
  return IOStatus::OK();
}

}  // namespace

IOStatus EncryptionError(const std::string& path, const absl::Status& status) {
  const std::string message = absl::StrCat("file ", path, ": ", status.message());
  if (absl::IsFailedPrecondition(status)) return IOStatus::InvalidArgument(message);
  return IOStatus::Corruption(message);
}

// --- writer -----------------------------------------------------------------------------------

IOStatus EncryptedWritableFile::Create(const std::string& path, const KeyRing& keys,
                                       std::unique_ptr<rocksdb::FSWritableFile>* file) {
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return ErrnoStatus("cannot create", path, errno);
  std::unique_ptr<EncryptedWritableFile> writer(new EncryptedWritableFile(path, fd));
  const std::string header = NewHeader(keys.current(), writer->key_);
  writer->cipher_ = std::make_unique<SlotCipher>(writer->key_);
  if (IOStatus status = writer->WriteAt(header.data(), header.size(), 0); !status.ok()) return status;
  *file = std::move(writer);
  return IOStatus::OK();
}

IOStatus EncryptedWritableFile::Reopen(const std::string& path, const KeyRing& keys,
                                       std::unique_ptr<rocksdb::FSWritableFile>* file) {
  const int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus("cannot open", path, errno);
  std::unique_ptr<EncryptedWritableFile> writer(new EncryptedWritableFile(path, fd));
  struct stat info {};
  if (::fstat(fd, &info) != 0) return ErrnoStatus("cannot stat", path, errno);
  if (info.st_size == 0) {
    // Created but never given its header (a crash right after creation): start it afresh.
    const std::string header = NewHeader(keys.current(), writer->key_);
    writer->cipher_ = std::make_unique<SlotCipher>(writer->key_);
    if (IOStatus status = writer->WriteAt(header.data(), header.size(), 0); !status.ok()) return status;
    *file = std::move(writer);
    return IOStatus::OK();
  }
  std::string header(kHeaderBytes, '\0');
  size_t got = 0;
  if (IOStatus status = ReadAt(fd, path, header.data(), header.size(), 0, &got); !status.ok()) return status;
  header.resize(got);
  if (ClassifyFile(header, static_cast<uint64_t>(info.st_size)) != FileKind::kEncrypted) {
    return EncryptionError(path, absl::DataLossError("is not encrypted, or its header is cut short"));
  }
  absl::StatusOr<OpenedHeader> opened = OpenHeader(header, keys);
  if (!opened.ok()) return EncryptionError(path, opened.status());
  writer->key_.key = opened->key.key;
  writer->key_.file_id = opened->key.file_id;
  writer->cipher_ = std::make_unique<SlotCipher>(writer->key_);
  const std::optional<uint64_t> logical = LogicalSize(static_cast<uint64_t>(info.st_size));
  if (!logical) return EncryptionError(path, absl::DataLossError("its last slot is cut short"));
  writer->full_slots_ = *logical / kSlotPlaintextBytes;
  const size_t rest = *logical % kSlotPlaintextBytes;
  if (rest != 0) {
    std::string slot(rest + kSlotOverhead, '\0');
    if (IOStatus status = ReadAt(fd, path, slot.data(), slot.size(), SlotOffset(writer->full_slots_), &got);
        !status.ok()) {
      return status;
    }
    writer->tail_.resize(rest);
    if (got != slot.size() || !writer->cipher_->Open(writer->full_slots_, slot, writer->tail_.data())) {
      return EncryptionError(path, absl::DataLossError("its last slot fails authentication (the file was altered)"));
    }
  }
  *file = std::move(writer);
  return IOStatus::OK();
}

EncryptedWritableFile::~EncryptedWritableFile() {
  if (fd_ >= 0) Close(rocksdb::IOOptions(), nullptr).PermitUncheckedError();
}

IOStatus EncryptedWritableFile::WriteAt(const char* data, size_t n, uint64_t offset) {
  size_t done = 0;
  while (done < n) {
    const ssize_t w = ::pwrite(fd_, data + done, n - done, static_cast<off_t>(offset + done));
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) return ErrnoStatus("cannot write", path_, errno);
    done += static_cast<size_t>(w);
  }
  return IOStatus::OK();
}

IOStatus EncryptedWritableFile::Append(const rocksdb::Slice& data, const rocksdb::IOOptions& /*options*/,
                                       rocksdb::IODebugContext* /*dbg*/) {
  std::lock_guard<std::mutex> lock(mutex_);
  return AppendLocked(std::string_view(data.data(), data.size()));
}

IOStatus EncryptedWritableFile::AppendLocked(std::string_view rest) {
  while (!rest.empty()) {
    if (tail_.empty() && rest.size() >= kSlotPlaintextBytes) {
      // Whole slots straight from the caller's bytes.
      const size_t slots = rest.size() / kSlotPlaintextBytes;
      for (size_t i = 0; i < slots; ++i) {
        SealIntoPending(full_slots_, rest.substr(i * kSlotPlaintextBytes, kSlotPlaintextBytes));
        ++full_slots_;
      }
      rest.remove_prefix(slots * kSlotPlaintextBytes);
      continue;
    }
    const size_t take = std::min(kSlotPlaintextBytes - tail_.size(), rest.size());
    tail_.append(rest.data(), take);
    rest.remove_prefix(take);
    tail_dirty_ = true;
    if (tail_.size() == kSlotPlaintextBytes) {
      SealIntoPending(full_slots_, tail_);
      ++full_slots_;
      tail_.clear();
      tail_dirty_ = false;
    }
  }
  // Bounded: a long run of appends without a flush (a table file) is written as it goes.
  return pending_.size() >= kMaxPendingBytes ? WritePending() : IOStatus::OK();
}

void EncryptedWritableFile::SealIntoPending(uint64_t index, std::string_view plaintext) {
  if (pending_.empty()) pending_first_slot_ = index;
  const size_t at = pending_.size();
  pending_.resize(at + plaintext.size() + kSlotOverhead);
  cipher_->Seal(index, plaintext, pending_.data() + at);
}

IOStatus EncryptedWritableFile::WritePending() {
  if (pending_.empty()) return IOStatus::OK();
  IOStatus status = WriteAt(pending_.data(), pending_.size(), SlotOffset(pending_first_slot_));
  // Kept when the write failed: the next flush writes the same slots again, never past a hole.
  if (status.ok()) pending_.clear();
  return status;
}

IOStatus EncryptedWritableFile::Flush(const rocksdb::IOOptions& /*options*/, rocksdb::IODebugContext* /*dbg*/) {
  std::lock_guard<std::mutex> lock(mutex_);
  return FlushLocked();
}

IOStatus EncryptedWritableFile::FlushLocked() {
  // The sealed whole slots and the partial tail after them go out in one write, as a plain file's
  // appended bytes would: one system call per flush of a log, whatever the slots.
  if (tail_dirty_ && !tail_.empty()) SealIntoPending(full_slots_, tail_);
  IOStatus status = WritePending();
  if (status.ok()) tail_dirty_ = false;
  return status;
}

IOStatus EncryptedWritableFile::SyncFile(bool metadata) {
  int fd = -1;
  {
    // What is written before the sync starts is what the sync makes durable; appends may go on.
    // The sync uses its own descriptor, so a Close meanwhile cannot hand the number to another file.
    std::lock_guard<std::mutex> lock(mutex_);
    if (IOStatus status = FlushLocked(); !status.ok()) return status;
    if (fd_ < 0) return IOStatus::IOError("sync of a closed file " + path_);
    fd = ::fcntl(fd_, F_DUPFD_CLOEXEC, 0);
    if (fd < 0) return ErrnoStatus("cannot sync", path_, errno);
  }
  const int synced = metadata ? ::fsync(fd) : ::fdatasync(fd);
  const int error = errno;
  ::close(fd);
  if (synced != 0) return ErrnoStatus("cannot sync", path_, error);
  return IOStatus::OK();
}

IOStatus EncryptedWritableFile::Sync(const rocksdb::IOOptions& /*options*/, rocksdb::IODebugContext* /*dbg*/) {
  return SyncFile(false);
}

IOStatus EncryptedWritableFile::Fsync(const rocksdb::IOOptions& /*options*/, rocksdb::IODebugContext* /*dbg*/) {
  return SyncFile(true);
}

IOStatus EncryptedWritableFile::Close(const rocksdb::IOOptions& /*options*/, rocksdb::IODebugContext* /*dbg*/) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (fd_ < 0) return IOStatus::OK();
  IOStatus status = FlushLocked();
  // Space Allocate reserved past the end is given back (the size stays what was written).
  struct stat info {};
  if (status.ok() && ::fstat(fd_, &info) == 0 && ::ftruncate(fd_, info.st_size) != 0) {
    status = ErrnoStatus("cannot trim", path_, errno);
  }
  if (::close(fd_) != 0 && status.ok()) status = ErrnoStatus("cannot close", path_, errno);
  fd_ = -1;
  return status;
}

IOStatus EncryptedWritableFile::RangeSync(uint64_t offset, uint64_t nbytes, const rocksdb::IOOptions& /*options*/,
                                          rocksdb::IODebugContext* /*dbg*/) {
  std::lock_guard<std::mutex> lock(mutex_);
  const uint64_t from = SlotOffset(offset / kSlotPlaintextBytes);
  const uint64_t to = SlotOffset(std::min<uint64_t>((offset + nbytes) / kSlotPlaintextBytes, full_slots_));
  if (fd_ < 0 || to <= from) return IOStatus::OK();
  if (::sync_file_range(fd_, static_cast<off64_t>(from), static_cast<off64_t>(to - from), SYNC_FILE_RANGE_WRITE) != 0) {
    return ErrnoStatus("cannot start writeback of", path_, errno);
  }
  return IOStatus::OK();
}

IOStatus EncryptedWritableFile::Allocate(uint64_t offset, uint64_t len, const rocksdb::IOOptions& /*options*/,
                                         rocksdb::IODebugContext* /*dbg*/) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (fd_ < 0 || len == 0) return IOStatus::OK();
  const uint64_t from = SlotOffset(offset / kSlotPlaintextBytes);
  const uint64_t to = SlotOffset((offset + len - 1) / kSlotPlaintextBytes + 1);
  if (::fallocate(fd_, FALLOC_FL_KEEP_SIZE, static_cast<off_t>(from), static_cast<off_t>(to - from)) != 0 &&
      errno != EOPNOTSUPP && errno != ENOSYS) {
    return ErrnoStatus("cannot allocate space for", path_, errno);
  }
  return IOStatus::OK();
}

uint64_t EncryptedWritableFile::GetFileSize(const rocksdb::IOOptions& /*options*/, rocksdb::IODebugContext* /*dbg*/) {
  std::lock_guard<std::mutex> lock(mutex_);
  return full_slots_ * kSlotPlaintextBytes + tail_.size();
}

IOStatus EncryptedWritableFile::Truncate(uint64_t size, const rocksdb::IOOptions& /*options*/,
                                         rocksdb::IODebugContext* /*dbg*/) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (size >= full_slots_ * kSlotPlaintextBytes + tail_.size()) return IOStatus::OK();
  if (IOStatus status = FlushLocked(); !status.ok()) return status;
  const uint64_t slot = size / kSlotPlaintextBytes;
  const size_t keep = size % kSlotPlaintextBytes;
  std::string kept;
  if (keep != 0) {
    if (slot == full_slots_) {
      kept = tail_.substr(0, keep);
    } else {
      std::string sealed(kSlotBytes, '\0');
      size_t got = 0;
      if (IOStatus status = ReadAt(fd_, path_, sealed.data(), sealed.size(), SlotOffset(slot), &got); !status.ok()) {
        return status;
      }
      sealed.resize(got);
      kept.resize(got > kSlotOverhead ? got - kSlotOverhead : 0);
      if (kept.size() < keep || !cipher_->Open(slot, sealed, kept.data())) {
        return EncryptionError(path_, absl::DataLossError("a slot fails authentication (the file was altered)"));
      }
      kept.resize(keep);
    }
  }
  // The kept part of the cut slot is written in its place first, and only then is the file cut
  // after it: a crash in between leaves the longer file, never one without the kept bytes.
  full_slots_ = slot;
  tail_ = std::move(kept);
  tail_dirty_ = !tail_.empty();
  if (IOStatus status = FlushLocked(); !status.ok()) return status;
  const uint64_t end = SlotOffset(slot) + (tail_.empty() ? 0 : tail_.size() + kSlotOverhead);
  if (::ftruncate(fd_, static_cast<off_t>(end)) != 0) return ErrnoStatus("cannot truncate", path_, errno);
  return IOStatus::OK();
}

// --- reader -----------------------------------------------------------------------------------

IOStatus EncryptedReader::Open(rocksdb::FileSystem& base, const std::string& path, const KeyRing& keys,
                               std::unique_ptr<EncryptedReader>* reader) {
  std::unique_ptr<EncryptedReader> opened(new EncryptedReader());
  opened->path_ = path;
  if (IOStatus status = base.NewRandomAccessFile(path, rocksdb::FileOptions(), &opened->base_, nullptr);
      !status.ok()) {
    return status;
  }
  std::string buffer(kHeaderBytes, '\0');
  rocksdb::Slice header;
  if (IOStatus status = opened->base_->Read(0, kHeaderBytes, rocksdb::IOOptions(), &header, buffer.data(), nullptr);
      !status.ok()) {
    return status;
  }
  const std::string_view bytes(header.data(), header.size());
  // The size only matters here for telling an empty file from a short one.
  switch (ClassifyFile(bytes, bytes.size() < kHeaderBytes ? bytes.size() : kHeaderBytes)) {
    case FileKind::kEmpty:
      opened->empty_ = true;
      *reader = std::move(opened);
      return IOStatus::OK();
    case FileKind::kPlain:
      return EncryptionError(path, absl::DataLossError("is not encrypted, in a store that is"));
    case FileKind::kTruncatedHeader:
      return EncryptionError(path, absl::DataLossError("its encryption header is cut short"));
    case FileKind::kEncrypted:
      break;
  }
  absl::StatusOr<OpenedHeader> header_opened = OpenHeader(bytes, keys);
  if (!header_opened.ok()) return EncryptionError(path, header_opened.status());
  opened->key_.key = header_opened->key.key;
  opened->key_.file_id = header_opened->key.file_id;
  *reader = std::move(opened);
  return IOStatus::OK();
}

IOStatus EncryptedReader::Read(uint64_t offset, size_t n, rocksdb::Slice* result, char* scratch) const {
  *result = rocksdb::Slice(scratch, 0);
  if (n == 0 || empty_) return IOStatus::OK();
  // A writer may be rewriting the file's last partial slot while it is read (a backup copying a
  // live log): a slot read half-old, half-new fails; reading it again gets it whole.
  for (int attempt = 0;; ++attempt) {
    bool failed = false;
    IOStatus status = ReadOnce(offset, n, result, scratch, &failed);
    if (!failed || attempt == 2) return status;
  }
}

IOStatus EncryptedReader::ReadOnce(uint64_t offset, size_t n, rocksdb::Slice* result, char* scratch,
                                   bool* failed) const {
  const uint64_t first = offset / kSlotPlaintextBytes;
  const uint64_t last = (offset + n - 1) / kSlotPlaintextBytes;
  thread_local std::string raw_buffer;
  raw_buffer.resize((last - first + 1) * kSlotBytes);
  rocksdb::Slice raw;
  if (IOStatus status =
          base_->Read(SlotOffset(first), raw_buffer.size(), rocksdb::IOOptions(), &raw, raw_buffer.data(), nullptr);
      !status.ok()) {
    return status;
  }
  SlotCipher cipher(key_);
  char plain[kSlotPlaintextBytes];
  size_t produced = 0;
  for (uint64_t index = first; index <= last; ++index) {
    const size_t start = (index - first) * kSlotBytes;
    if (start >= raw.size()) break;
    const size_t length = std::min(kSlotBytes, raw.size() - start);
    if (length <= kSlotOverhead || !cipher.Open(index, std::string_view(raw.data() + start, length), plain)) {
      *failed = true;
      return EncryptionError(path_, absl::DataLossError(absl::StrCat(
                                        "slot ", index, " fails authentication (the file was altered or cut short)")));
    }
    const uint64_t slot_start = index * kSlotPlaintextBytes;
    const uint64_t from = std::max(offset, slot_start) - slot_start;
    const uint64_t to = std::min<uint64_t>(offset + n, slot_start + (length - kSlotOverhead)) - slot_start;
    if (from >= to) break;
    std::memcpy(scratch + produced, plain + from, to - from);
    produced += to - from;
    if (length < kSlotBytes) break;
  }
  *result = rocksdb::Slice(scratch, produced);
  return IOStatus::OK();
}

}  // namespace tessera::profile_store::internal
