// The encrypted file system (profile_store/encrypted_file_system.h): what is written reads back
// byte for byte however it was appended, flushed, reopened or truncated; the bytes on disk are
// not the plaintext; and an altered, moved or foreign slot, an altered header, a wrong key or a
// plain file is refused with Corruption naming the file instead of being read as garbage.

#include "profile_store/encrypted_file_system.h"

#include <filesystem>
#include <fstream>
#include <memory>
#include <random>
#include <string>

#include "gtest/gtest.h"
#include "profile_store/internal/encrypted_format.h"
#include "profile_store/key_ring.h"
#include "tests/support/temp_dir.h"

namespace tessera::profile_store {
namespace {

using internal::kHeaderBytes;
using internal::kSlotBytes;
using internal::kSlotPlaintextBytes;

std::shared_ptr<const KeyRing> Ring(std::vector<std::string> keys) {
  auto ring = KeyRing::FromKeys(keys);
  EXPECT_TRUE(ring.ok()) << ring.status();
  return *ring;
}

const std::string kKeyA(32, 'a');
const std::string kKeyB(32, 'b');

std::string RandomBytes(size_t n, uint64_t seed) {
  std::mt19937_64 random(seed);
  std::string bytes(n, '\0');
  for (char& c : bytes) c = static_cast<char>(random());
  return bytes;
}

std::string ReadRaw(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

void WriteRaw(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}

class EncryptedFileSystemTest : public ::testing::Test {
 protected:
  std::shared_ptr<rocksdb::FileSystem> Fs(std::shared_ptr<const KeyRing> ring) {
    return NewEncryptedFileSystem(rocksdb::FileSystem::Default(), std::move(ring));
  }

  // Writes `data` in pieces of random sizes, flushing and syncing at random points.
  void Write(rocksdb::FileSystem& fs, const std::string& path, const std::string& data, uint64_t seed) {
    std::unique_ptr<rocksdb::FSWritableFile> file;
    ASSERT_TRUE(fs.NewWritableFile(path, rocksdb::FileOptions(), &file, nullptr).ok());
    std::mt19937_64 random(seed);
    for (size_t at = 0; at < data.size();) {
      const size_t n = std::min<size_t>(data.size() - at, 1 + random() % (3 * kSlotPlaintextBytes));
      ASSERT_TRUE(file->Append(rocksdb::Slice(data.data() + at, n), rocksdb::IOOptions(), nullptr).ok());
      at += n;
      if (random() % 3 == 0) {
        ASSERT_TRUE(file->Flush(rocksdb::IOOptions(), nullptr).ok());
      }
      if (random() % 7 == 0) {
        ASSERT_TRUE(file->Sync(rocksdb::IOOptions(), nullptr).ok());
      }
      EXPECT_EQ(file->GetFileSize(rocksdb::IOOptions(), nullptr), at);
    }
    ASSERT_TRUE(file->Close(rocksdb::IOOptions(), nullptr).ok());
  }

  rocksdb::IOStatus ReadAt(rocksdb::FileSystem& fs, const std::string& path, uint64_t offset, size_t n,
                           std::string* out) {
    std::unique_ptr<rocksdb::FSRandomAccessFile> file;
    rocksdb::IOStatus status = fs.NewRandomAccessFile(path, rocksdb::FileOptions(), &file, nullptr);
    if (!status.ok()) return status;
    std::string scratch(n, '\0');
    rocksdb::Slice result;
    status = file->Read(offset, n, rocksdb::IOOptions(), &result, scratch.data(), nullptr);
    if (status.ok()) out->assign(result.data(), result.size());
    return status;
  }

  std::string ReadSequentially(rocksdb::FileSystem& fs, const std::string& path) {
    std::unique_ptr<rocksdb::FSSequentialFile> file;
    EXPECT_TRUE(fs.NewSequentialFile(path, rocksdb::FileOptions(), &file, nullptr).ok());
    std::string all;
    std::string scratch(5000, '\0');
    for (;;) {
      rocksdb::Slice chunk;
      EXPECT_TRUE(file->Read(scratch.size(), rocksdb::IOOptions(), &chunk, scratch.data(), nullptr).ok());
      if (chunk.empty()) break;
      all.append(chunk.data(), chunk.size());
    }
    return all;
  }

  tessera::testing::ScopedTempDir dir_;
};

TEST(EncryptedFormatTest, LogicalAndPhysicalSizesAreInverse) {
  for (uint64_t logical = 0; logical < 3 * kSlotPlaintextBytes + 50; logical += 7) {
    const uint64_t physical = internal::PhysicalSize(logical);
    ASSERT_EQ(internal::LogicalSize(physical), logical) << logical;
  }
  EXPECT_EQ(internal::LogicalSize(0), 0u) << "an empty file (crashed before its header) is empty";
  EXPECT_FALSE(internal::LogicalSize(100).has_value()) << "a header cut short";
  EXPECT_FALSE(internal::LogicalSize(kHeaderBytes + 10).has_value()) << "a slot of no more than its overhead";
}

TEST_F(EncryptedFileSystemTest, WhatIsWrittenReadsBackAtEveryOffsetAndTheDiskHoldsNoPlaintext) {
  auto fs = Fs(Ring({kKeyA}));
  const std::string path = dir_.path() + "/file";
  std::string data = RandomBytes(5 * kSlotPlaintextBytes + 1234, 1);
  data.replace(100, 19, "tessera@example.com");  // A recognizable string inside the first slot.
  Write(*fs, path, data, 2);

  uint64_t size = 0;
  ASSERT_TRUE(fs->GetFileSize(path, rocksdb::IOOptions(), &size, nullptr).ok());
  EXPECT_EQ(size, data.size());
  EXPECT_EQ(std::filesystem::file_size(path), internal::PhysicalSize(data.size()));
  EXPECT_EQ(ReadRaw(path).find("tessera@example.com"), std::string::npos) << "plaintext on disk";
  EXPECT_EQ(ReadSequentially(*fs, path), data);

  std::mt19937_64 random(3);
  for (int i = 0; i < 200; ++i) {
    const uint64_t offset = random() % (data.size() + 10);
    const size_t n = 1 + random() % (2 * kSlotPlaintextBytes);
    std::string got;
    ASSERT_TRUE(ReadAt(*fs, path, offset, n, &got).ok());
    EXPECT_EQ(got, offset >= data.size() ? std::string() : data.substr(offset, n)) << offset << " " << n;
  }
}

TEST_F(EncryptedFileSystemTest, AReopenedFileAppendsAfterItsPartialLastSlotAndTruncatesInsideASlot) {
  auto fs = Fs(Ring({kKeyA}));
  const std::string path = dir_.path() + "/log";
  const std::string first = RandomBytes(kSlotPlaintextBytes + 100, 4);
  Write(*fs, path, first, 5);
  std::unique_ptr<rocksdb::FSWritableFile> file;
  ASSERT_TRUE(fs->ReopenWritableFile(path, rocksdb::FileOptions(), &file, nullptr).ok());
  EXPECT_EQ(file->GetFileSize(rocksdb::IOOptions(), nullptr), first.size());
  const std::string second = RandomBytes(2 * kSlotPlaintextBytes, 6);
  ASSERT_TRUE(file->Append(second, rocksdb::IOOptions(), nullptr).ok());
  ASSERT_TRUE(file->Sync(rocksdb::IOOptions(), nullptr).ok());
  EXPECT_EQ(ReadSequentially(*fs, path), first + second);

  const uint64_t cut = kSlotPlaintextBytes + 50;
  ASSERT_TRUE(file->Truncate(cut, rocksdb::IOOptions(), nullptr).ok());
  ASSERT_TRUE(file->Append("tail", rocksdb::IOOptions(), nullptr).ok());
  ASSERT_TRUE(file->Close(rocksdb::IOOptions(), nullptr).ok());
  EXPECT_EQ(ReadSequentially(*fs, path), (first + second).substr(0, cut) + "tail");
}

TEST_F(EncryptedFileSystemTest, TruncatingByPathCutsThePlaintextNotTheCiphertext) {
  auto fs = Fs(Ring({kKeyA}));
  const std::string path = dir_.path() + "/wal";
  const std::string data = RandomBytes(2 * kSlotPlaintextBytes + 300, 12);
  Write(*fs, path, data, 13);
  const uint64_t cut = kSlotPlaintextBytes + 7;
  ASSERT_TRUE(fs->Truncate(path, cut, rocksdb::IOOptions(), nullptr).ok());
  uint64_t size = 0;
  ASSERT_TRUE(fs->GetFileSize(path, rocksdb::IOOptions(), &size, nullptr).ok());
  EXPECT_EQ(size, cut);
  EXPECT_EQ(std::filesystem::file_size(path), internal::PhysicalSize(cut));
  EXPECT_EQ(ReadSequentially(*fs, path), data.substr(0, cut));
}

TEST_F(EncryptedFileSystemTest, RewritingThePartialLastSlotUsesAFreshNonce) {
  auto fs = Fs(Ring({kKeyA}));
  const std::string path = dir_.path() + "/wal";
  std::unique_ptr<rocksdb::FSWritableFile> file;
  ASSERT_TRUE(fs->NewWritableFile(path, rocksdb::FileOptions(), &file, nullptr).ok());
  ASSERT_TRUE(file->Append("abc", rocksdb::IOOptions(), nullptr).ok());
  ASSERT_TRUE(file->Flush(rocksdb::IOOptions(), nullptr).ok());
  const std::string once = ReadRaw(path).substr(kHeaderBytes);
  ASSERT_TRUE(file->Append("def", rocksdb::IOOptions(), nullptr).ok());
  ASSERT_TRUE(file->Flush(rocksdb::IOOptions(), nullptr).ok());
  const std::string twice = ReadRaw(path).substr(kHeaderBytes);
  EXPECT_NE(once.substr(0, internal::kNonceBytes), twice.substr(0, internal::kNonceBytes))
      << "a slot written again under the same key must not reuse its nonce";
  ASSERT_TRUE(file->Close(rocksdb::IOOptions(), nullptr).ok());
  EXPECT_EQ(ReadSequentially(*fs, path), "abcdef");
}

TEST_F(EncryptedFileSystemTest, AnAlteredMovedOrForeignSlotIsCorruptionNamingTheFile) {
  auto fs = Fs(Ring({kKeyA}));
  const std::string path = dir_.path() + "/sst";
  const std::string other = dir_.path() + "/other";
  const std::string data = RandomBytes(4 * kSlotPlaintextBytes, 7);
  Write(*fs, path, data, 8);
  Write(*fs, other, data, 9);
  const std::string original = ReadRaw(path);
  std::string got;

  std::string altered = original;
  altered[kHeaderBytes + 2 * kSlotBytes + 100] ^= 0x01;  // One bit in slot 2.
  WriteRaw(path, altered);
  rocksdb::IOStatus status = ReadAt(*fs, path, 2 * kSlotPlaintextBytes + 10, 20, &got);
  EXPECT_TRUE(status.IsCorruption()) << status.ToString();
  EXPECT_NE(status.ToString().find(path), std::string::npos) << status.ToString();
  EXPECT_NE(status.ToString().find("fails authentication"), std::string::npos) << status.ToString();
  ASSERT_TRUE(ReadAt(*fs, path, 10, 20, &got).ok()) << "the slots around it still read";
  EXPECT_EQ(got, data.substr(10, 20));

  std::string swapped = original;  // Slots 1 and 2 exchanged.
  swapped.replace(kHeaderBytes + kSlotBytes, kSlotBytes, original.substr(kHeaderBytes + 2 * kSlotBytes, kSlotBytes));
  swapped.replace(kHeaderBytes + 2 * kSlotBytes, kSlotBytes, original.substr(kHeaderBytes + kSlotBytes, kSlotBytes));
  WriteRaw(path, swapped);
  EXPECT_TRUE(ReadAt(*fs, path, kSlotPlaintextBytes, 10, &got).IsCorruption());

  std::string foreign = original;  // Slot 1 from another file written with the same data and key.
  foreign.replace(kHeaderBytes + kSlotBytes, kSlotBytes, ReadRaw(other).substr(kHeaderBytes + kSlotBytes, kSlotBytes));
  WriteRaw(path, foreign);
  EXPECT_TRUE(ReadAt(*fs, path, kSlotPlaintextBytes, 10, &got).IsCorruption());

  std::string cut = original.substr(0, original.size() - 5);  // The last slot cut short.
  WriteRaw(path, cut);
  EXPECT_TRUE(ReadAt(*fs, path, 3 * kSlotPlaintextBytes + 10, 10, &got).IsCorruption());
}

TEST_F(EncryptedFileSystemTest, AnAlteredHeaderAWrongKeyAndAPlainFileAreRefused) {
  const std::string path = dir_.path() + "/file";
  Write(*Fs(Ring({kKeyA})), path, "the data", 10);
  std::string got;

  rocksdb::IOStatus status = ReadAt(*Fs(Ring({kKeyB})), path, 0, 8, &got);
  EXPECT_FALSE(status.ok());
  EXPECT_NE(status.ToString().find("needs master key " + KeyIdHex(MasterKeyId(kKeyA))), std::string::npos)
      << status.ToString();
  EXPECT_NE(status.ToString().find(path), std::string::npos) << status.ToString();

  std::string header = ReadRaw(path);
  header[internal::kWrapRecordOffsets[0] + 40] ^= 0x01;  // The first record's wrapped key.
  header[internal::kWrapRecordOffsets[1] + 40] ^= 0x01;  // And the second's.
  WriteRaw(path, header);
  status = ReadAt(*Fs(Ring({kKeyA})), path, 0, 8, &got);
  EXPECT_TRUE(status.IsCorruption()) << status.ToString();
  EXPECT_NE(status.ToString().find("fails authentication"), std::string::npos) << status.ToString();

  WriteRaw(path, "a plain file with an email@example.com");
  status = ReadAt(*Fs(Ring({kKeyA})), path, 0, 8, &got);
  EXPECT_TRUE(status.IsCorruption()) << status.ToString();
  EXPECT_NE(status.ToString().find("not encrypted"), std::string::npos) << status.ToString();
}

TEST_F(EncryptedFileSystemTest, AHeaderWithOneRecordRewrappedAndTheOtherTornStillOpens) {
  const std::string path = dir_.path() + "/file";
  Write(*Fs(Ring({kKeyA})), path, "the data", 11);
  // What a rewrap to key B does first: the older record (index 1, sequence 1) rewritten under B.
  std::string bytes = ReadRaw(path);
  auto opened = internal::OpenHeader(bytes.substr(0, kHeaderBytes), *Ring({kKeyA}));
  ASSERT_TRUE(opened.ok()) << opened.status();
  const std::string record = internal::WrapRecord(opened->key, Ring({kKeyB})->current(), 3);
  bytes.replace(internal::kWrapRecordOffsets[1], record.size(), record);
  // Then the crash tears the other record.
  bytes[internal::kWrapRecordOffsets[0] + 30] ^= 0x7f;
  WriteRaw(path, bytes);
  std::string got;
  ASSERT_TRUE(ReadAt(*Fs(Ring({kKeyB, kKeyA})), path, 0, 8, &got).ok());
  EXPECT_EQ(got, "the data");
  ASSERT_TRUE(ReadAt(*Fs(Ring({kKeyB})), path, 0, 8, &got).ok()) << "the new key alone opens the new record";
}

TEST(KeyRingTest, KeysAreNamedByIdsThatDoNotRevealThem) {
  auto ring = KeyRing::FromKeys({kKeyA, kKeyB});
  ASSERT_TRUE(ring.ok());
  EXPECT_EQ((*ring)->current().id, MasterKeyId(kKeyA));
  EXPECT_NE(MasterKeyId(kKeyA), MasterKeyId(kKeyB));
  EXPECT_EQ((*ring)->Describe(), KeyIdHex(MasterKeyId(kKeyA)) + " (current), " + KeyIdHex(MasterKeyId(kKeyB)));
  EXPECT_EQ((*ring)->Describe().find("6161"), std::string::npos) << "no key bytes in the description";
  EXPECT_FALSE(KeyRing::FromKeys({}).ok());
  EXPECT_FALSE(KeyRing::FromKeys({"short"}).ok());
  EXPECT_FALSE(KeyRing::FromKeys({kKeyA, kKeyA}).ok());
}

}  // namespace
}  // namespace tessera::profile_store
