// A store encrypted at rest (profile_store/store_encryption.h, StoreOptions::encryption_keys):
// its rows never appear in its files or its backups; it opens with its keys only; a plain store
// is converted in place and back without losing a row; a rewrap retires the old key; an altered
// table file is an error, not garbage.

#include "profile_store/store_encryption.h"

#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <string>

#include "gtest/gtest.h"
#include "profile_store/backup.h"
#include "profile_store/internal/encrypted_format.h"
#include "profile_store/store.h"
#include "tests/support/temp_dir.h"

namespace tessera::profile_store {
namespace {

namespace fs = std::filesystem;

const std::string kKeyA(32, 'a');
const std::string kKeyB(32, 'b');
constexpr std::string_view kSecret = "ada.lovelace@example.com";

std::shared_ptr<const KeyRing> Ring(std::vector<std::string> keys) {
  auto ring = KeyRing::FromKeys(keys);
  EXPECT_TRUE(ring.ok()) << ring.status();
  return *ring;
}

absl::StatusOr<std::unique_ptr<Store>> OpenAt(const std::string& path, std::shared_ptr<const KeyRing> keys) {
  return Store::Open({.path = path, .block_cache_bytes = 8 << 20, .encryption_keys = std::move(keys)});
}

// Rows in the state (profiles) and the intake (log): enough to fill several table files' slots.
void WriteRows(Store& store, int from, int count) {
  rocksdb::WriteBatch state;
  rocksdb::WriteBatch intake;
  for (int i = from; i < from + count; ++i) {
    const std::string key = "default" + std::string(1, '\0') + std::to_string(1000000 + i);
    state.Put(store.handle(ColumnFamily::kProfiles), key, std::string(kSecret) + " row " + std::to_string(i));
    intake.Put(store.handle(ColumnFamily::kLog), key, std::string(kSecret) + " event " + std::to_string(i));
  }
  ASSERT_TRUE(store.Write(state).ok());
  ASSERT_TRUE(store.WriteIntake(intake).ok());
}

std::map<std::string, std::string> Rows(Store& store, absl::Status* status = nullptr) {
  std::map<std::string, std::string> rows;
  for (ColumnFamily family : {ColumnFamily::kProfiles, ColumnFamily::kLog}) {
    std::unique_ptr<rocksdb::Iterator> it(store.db(family)->NewIterator(rocksdb::ReadOptions(), store.handle(family)));
    for (it->SeekToFirst(); it->Valid(); it->Next()) rows[it->key().ToString() + "|" + std::to_string(int(family))] = it->value().ToString();
    if (status != nullptr && !it->status().ok()) *status = ToAbslStatus(it->status(), "scan");
  }
  return rows;
}

// Whether any file under `dir` holds `needle`.
bool AnyFileHolds(const std::string& dir, std::string_view needle) {
  for (const auto& entry : fs::recursive_directory_iterator(dir)) {
    if (!entry.is_regular_file()) continue;
    std::ifstream in(entry.path(), std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (bytes.find(needle) != std::string::npos) return true;
  }
  return false;
}

class StoreEncryptionTest : public ::testing::Test {
 protected:
  std::string path() const { return dir_.path() + "/store"; }
  tessera::testing::ScopedTempDir dir_;
};

TEST_F(StoreEncryptionTest, AnEncryptedStoreHidesItsRowsAndOpensWithItsKeyOnly) {
  std::map<std::string, std::string> written;
  {
    auto store = OpenAt(path(), Ring({kKeyA}));
    ASSERT_TRUE(store.ok()) << store.status();
    WriteRows(**store, 0, 2000);
    ASSERT_TRUE((*store)->Close().ok());
  }
  {
    auto store = OpenAt(path(), Ring({kKeyA}));
    ASSERT_TRUE(store.ok()) << store.status();
    written = Rows(**store);
    EXPECT_EQ(written.size(), 4000u);
    EXPECT_NE((*store)->encryption_summary().find(KeyIdHex(MasterKeyId(kKeyA)) + " (current)"), std::string::npos)
        << (*store)->encryption_summary();
  }
  EXPECT_FALSE(AnyFileHolds(path(), kSecret)) << "a row is readable on disk";
  EXPECT_FALSE(AnyFileHolds(path(), "ada.lovelace")) << "a row is readable on disk";

  auto without = OpenAt(path(), nullptr);
  EXPECT_TRUE(absl::IsFailedPrecondition(without.status())) << without.status();
  EXPECT_NE(without.status().message().find("is encrypted"), std::string::npos) << without.status();
  auto wrong = OpenAt(path(), Ring({kKeyB}));
  EXPECT_TRUE(absl::IsFailedPrecondition(wrong.status())) << wrong.status();
  EXPECT_NE(wrong.status().message().find("needs master key " + KeyIdHex(MasterKeyId(kKeyA))), std::string::npos)
      << wrong.status();
  EXPECT_NE(wrong.status().message().find("file " + path()), std::string::npos) << wrong.status();
}

TEST_F(StoreEncryptionTest, AnAlteredTableFileIsAnErrorNotGarbage) {
  {
    auto store = OpenAt(path(), Ring({kKeyA}));
    ASSERT_TRUE(store.ok()) << store.status();
    WriteRows(**store, 0, 20000);
    ASSERT_TRUE((*store)->Close().ok());
  }
  // The largest table file of the state, one bit flipped in the middle of its data.
  std::string largest;
  for (const auto& entry : fs::directory_iterator(path())) {
    if (entry.path().extension() == ".sst" && (largest.empty() || entry.file_size() > fs::file_size(largest))) {
      largest = entry.path().string();
    }
  }
  ASSERT_FALSE(largest.empty());
  ASSERT_GT(fs::file_size(largest), 4 * internal::kSlotBytes);
  {
    std::fstream file(largest, std::ios::in | std::ios::out | std::ios::binary);
    const std::streamoff at = internal::kHeaderBytes + internal::kSlotBytes + 500;
    file.seekg(at);
    char byte = 0;
    file.get(byte);
    file.seekp(at);
    file.put(static_cast<char>(byte ^ 0x04));
  }
  auto store = OpenAt(path(), Ring({kKeyA}));
  if (!store.ok()) {
    EXPECT_TRUE(absl::IsDataLoss(store.status())) << store.status();
    return;
  }
  absl::Status scanned;
  const auto rows = Rows(**store, &scanned);
  EXPECT_TRUE(absl::IsDataLoss(scanned)) << "reading the altered block must fail: " << scanned;
  EXPECT_NE(scanned.message().find(largest), std::string::npos) << scanned;
  for (const auto& [key, value] : rows) {
    ASSERT_TRUE(value.starts_with(kSecret)) << "garbage returned for " << key;
  }
}

TEST_F(StoreEncryptionTest, APlainStoreIsConvertedInPlaceAndBackWithEveryRow) {
  std::map<std::string, std::string> before;
  {
    auto store = OpenAt(path(), nullptr);
    ASSERT_TRUE(store.ok()) << store.status();
    WriteRows(**store, 0, 3000);
    before = Rows(**store);
  }
  ASSERT_TRUE(AnyFileHolds(path(), kSecret)) << "the plain store shows its rows (the check can see them)";
  auto refused = OpenAt(path(), Ring({kKeyA}));
  EXPECT_TRUE(absl::IsFailedPrecondition(refused.status())) << refused.status();
  EXPECT_NE(refused.status().message().find("tessera encrypt"), std::string::npos) << refused.status();

  auto encrypted = EncryptStore(path(), Ring({kKeyA}));
  ASSERT_TRUE(encrypted.ok()) << encrypted.status();
  EXPECT_GT(encrypted->files, 5u);
  EXPECT_FALSE(AnyFileHolds(path(), kSecret));
  EXPECT_FALSE(fs::exists(path() + ".converting"));
  EXPECT_TRUE(absl::IsFailedPrecondition(EncryptStore(path(), Ring({kKeyA})).status())) << "already encrypted";
  {
    auto store = OpenAt(path(), Ring({kKeyA}));
    ASSERT_TRUE(store.ok()) << store.status();
    EXPECT_EQ(Rows(**store), before);
    EXPECT_TRUE(absl::IsFailedPrecondition(DecryptStore(path(), Ring({kKeyA})).status()))
        << "a store in use is not converted";
  }
  EXPECT_TRUE(absl::IsFailedPrecondition(DecryptStore(path(), Ring({kKeyB})).status())) << "a wrong key";
  auto decrypted = DecryptStore(path(), Ring({kKeyA}));
  ASSERT_TRUE(decrypted.ok()) << decrypted.status();
  auto store = OpenAt(path(), nullptr);
  ASSERT_TRUE(store.ok()) << store.status();
  EXPECT_EQ(Rows(**store), before);
}

TEST_F(StoreEncryptionTest, WhatAnInterruptedConversionLeftIsRemovedAndTheStoreIsWhole) {
  {
    auto store = OpenAt(path(), nullptr);
    ASSERT_TRUE(store.ok()) << store.status();
    WriteRows(**store, 0, 10);
  }
  // A crash part way through the copy: a half-written sibling (or, after the swap, the old store).
  fs::create_directories(path() + ".converting/intake");
  std::ofstream(path() + ".converting/000001.sst") << "half a copy of " << kSecret;
  auto store = OpenAt(path(), nullptr);
  ASSERT_TRUE(store.ok()) << store.status();
  EXPECT_EQ(Rows(**store).size(), 20u);
  EXPECT_FALSE(fs::exists(path() + ".converting")) << "the leftover copy must go (it may be plain)";
}

TEST_F(StoreEncryptionTest, ARotationNeedsBothKeysUntilARewrapAndThenOnlyTheNew) {
  {
    auto store = OpenAt(path(), Ring({kKeyA}));
    ASSERT_TRUE(store.ok()) << store.status();
    WriteRows(**store, 0, 1000);
  }
  {
    auto store = OpenAt(path(), Ring({kKeyB, kKeyA}));  // Rotated: B current, A still needed.
    ASSERT_TRUE(store.ok()) << store.status();
    WriteRows(**store, 1000, 1000);
  }
  auto census = TakeEncryptionCensus(path());
  ASSERT_TRUE(census.ok()) << census.status();
  EXPECT_TRUE(census->files_by_key.contains(KeyIdHex(MasterKeyId(kKeyA))));
  EXPECT_TRUE(census->files_by_key.contains(KeyIdHex(MasterKeyId(kKeyB))));
  EXPECT_FALSE(OpenAt(path(), Ring({kKeyB})).ok()) << "old files still need the old key";

  auto rewrapped = RewrapFiles(path(), *Ring({kKeyB, kKeyA}));
  ASSERT_TRUE(rewrapped.ok()) << rewrapped.status();
  EXPECT_GT(rewrapped->rewrapped, 0u);
  census = TakeEncryptionCensus(path());
  ASSERT_TRUE(census.ok());
  EXPECT_EQ(census->files_by_key.size(), 1u);
  EXPECT_TRUE(census->files_by_key.contains(KeyIdHex(MasterKeyId(kKeyB))));
  auto store = OpenAt(path(), Ring({kKeyB}));
  ASSERT_TRUE(store.ok()) << store.status();
  EXPECT_EQ(Rows(**store).size(), 4000u);
  store->reset();
  EXPECT_FALSE(OpenAt(path(), Ring({kKeyA})).ok()) << "the retired key opens nothing";
  auto again = RewrapFiles(path(), *Ring({kKeyB}));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->rewrapped, 0u);
}

TEST_F(StoreEncryptionTest, AReencryptionGivesEveryFileANewDataKeyUnderTheCurrentKey) {
  std::map<std::string, std::string> before;
  {
    auto store = OpenAt(path(), Ring({kKeyA}));
    ASSERT_TRUE(store.ok()) << store.status();
    WriteRows(**store, 0, 2000);
    before = Rows(**store);
  }
  auto header_of = [](const std::string& file) {
    std::ifstream in(file, std::ios::binary);
    std::string header(internal::kHeaderBytes, '\0');
    in.read(header.data(), header.size());
    return header;
  };
  std::string sst;
  for (const auto& entry : fs::directory_iterator(path())) {
    if (entry.path().extension() == ".sst") sst = entry.path().string();
  }
  ASSERT_FALSE(sst.empty());
  const std::string old_header = header_of(sst);

  auto reencrypted = ReencryptStore(path(), Ring({kKeyB, kKeyA}));
  ASSERT_TRUE(reencrypted.ok()) << reencrypted.status();
  auto census = TakeEncryptionCensus(path());
  ASSERT_TRUE(census.ok());
  EXPECT_EQ(census->plain_files, 0u) << "no plain byte is written";
  ASSERT_EQ(census->files_by_key.size(), 1u);
  EXPECT_TRUE(census->files_by_key.contains(KeyIdHex(MasterKeyId(kKeyB))));
  // A new file id (and data key): the old key with the old header no longer opens the new file.
  const std::string new_header = header_of(sst);
  EXPECT_NE(new_header.substr(internal::kEncryptedMagic.size(), internal::kFileIdBytes),
            old_header.substr(internal::kEncryptedMagic.size(), internal::kFileIdBytes));
  auto store = OpenAt(path(), Ring({kKeyB}));
  ASSERT_TRUE(store.ok()) << store.status();
  EXPECT_EQ(Rows(**store), before);
}

TEST_F(StoreEncryptionTest, BackupsOfAnEncryptedStoreAreEncryptedAndRestoreOnlyWithTheKey) {
  const std::string backups = dir_.path() + "/backups";
  std::map<std::string, std::string> before;
  {
    auto store = OpenAt(path(), Ring({kKeyA}));
    ASSERT_TRUE(store.ok()) << store.status();
    WriteRows(**store, 0, 2000);
    before = Rows(**store);
    auto backup = CreateBackup(**store, backups);
    ASSERT_TRUE(backup.ok()) << backup.status();
  }
  EXPECT_FALSE(AnyFileHolds(backups, kSecret)) << "a backup shows a row";
  EXPECT_TRUE(absl::IsFailedPrecondition(VerifyBackup(backups).status()));
  EXPECT_TRUE(VerifyBackup(backups, 0, Ring({kKeyA})).ok());

  const std::string elsewhere = dir_.path() + "/elsewhere";
  auto refused = RestoreBackup(backups, elsewhere);
  EXPECT_TRUE(absl::IsFailedPrecondition(refused.status())) << refused.status();
  EXPECT_FALSE(StoreExists(elsewhere));
  auto restored = RestoreBackup(backups, elsewhere, {.encryption_keys = Ring({kKeyA})});
  ASSERT_TRUE(restored.ok()) << restored.status();
  EXPECT_FALSE(AnyFileHolds(elsewhere, kSecret));
  auto store = OpenAt(elsewhere, Ring({kKeyA}));
  ASSERT_TRUE(store.ok()) << store.status();
  EXPECT_EQ(Rows(**store), before);
}

}  // namespace
}  // namespace tessera::profile_store
