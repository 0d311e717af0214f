#include "profile_store/internal/encrypted_format.h"

#include <cstring>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "openssl/crypto.h"
#include "openssl/evp.h"
#include "openssl/rand.h"

namespace tessera::profile_store::internal {
namespace {

// Sealing cannot fail with valid inputs; when OpenSSL still fails (no provider for AES-GCM, no
// memory, no randomness) going on would write garbage or reuse a nonce and report success, so the
// process stops instead, saying why.
[[noreturn]] void CryptoFailure(const char* what) {
  std::fprintf(stderr, "tessera: OpenSSL failed: %s\n", what);
  std::abort();
}

const EVP_CIPHER* AesGcm() {
  // Fetched once: an implicit fetch on every init would look the provider up each time.
  static EVP_CIPHER* cipher = [] {
    EVP_CIPHER* fetched = EVP_CIPHER_fetch(nullptr, "AES-256-GCM", nullptr);
    if (fetched == nullptr) CryptoFailure("no AES-256-GCM cipher");
    return fetched;
  }();
  return cipher;
}

void RandomBytes(uint8_t* out, size_t n) {
  if (RAND_bytes(out, static_cast<int>(n)) != 1) CryptoFailure("the random generator");
}

void PutBigEndian64(uint8_t* out, uint64_t value) {
  for (int i = 7; i >= 0; --i) {
    out[i] = static_cast<uint8_t>(value & 0xff);
    value >>= 8;
  }
}

uint64_t GetBigEndian64(const uint8_t* in) {
  uint64_t value = 0;
  for (int i = 0; i < 8; ++i) value = (value << 8) | in[i];
  return value;
}

// Seals or opens one message with AES-256-GCM; false when opening fails authentication.
bool Gcm(bool seal, const uint8_t* key, const uint8_t* nonce, std::string_view aad, const uint8_t* in, size_t n,
         uint8_t* out, uint8_t* tag) {
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  int length = 0;
  bool ok = EVP_CipherInit_ex(ctx, AesGcm(), nullptr, key, nonce, seal ? 1 : 0) == 1 &&
            EVP_CipherUpdate(ctx, nullptr, &length, reinterpret_cast<const uint8_t*>(aad.data()),
                             static_cast<int>(aad.size())) == 1 &&
            EVP_CipherUpdate(ctx, out, &length, in, static_cast<int>(n)) == 1;
  if (ok && !seal) ok = EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, kTagBytes, tag) == 1;
  if (ok) ok = EVP_CipherFinal_ex(ctx, out + length, &length) == 1;
  if (ok && seal) ok = EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, kTagBytes, tag) == 1;
  EVP_CIPHER_CTX_free(ctx);
  return ok;
}

std::string RecordAad(const FileId& file_id, uint64_t sequence, const KeyId& key_id) {
  std::string aad(kEncryptedMagic);
  aad.append(reinterpret_cast<const char*>(file_id.data()), file_id.size());
  uint8_t number[8];
  PutBigEndian64(number, sequence);
  aad.append(reinterpret_cast<const char*>(number), 8);
  aad.append(reinterpret_cast<const char*>(key_id.data()), key_id.size());
  return aad;
}

}  // namespace

DataKey::~DataKey() { OPENSSL_cleanse(key.data(), key.size()); }

FileKind ClassifyFile(std::string_view first_bytes, uint64_t file_size) {
  if (file_size == 0) return FileKind::kEmpty;
  if (first_bytes.size() < kEncryptedMagic.size() || !first_bytes.starts_with(kEncryptedMagic)) {
    // A prefix of the magic in a file shorter than it is a header cut short, not a plain file.
    if (file_size < kEncryptedMagic.size() && kEncryptedMagic.starts_with(first_bytes)) {
      return FileKind::kTruncatedHeader;
    }
    return FileKind::kPlain;
  }
  return file_size < kHeaderBytes ? FileKind::kTruncatedHeader : FileKind::kEncrypted;
}

std::string WrapRecord(const DataKey& key, const KeyRing::MasterKey& master, uint64_t sequence) {
  std::string record(kWrapRecordBytes, '\0');
  auto* bytes = reinterpret_cast<uint8_t*>(record.data());
  PutBigEndian64(bytes, sequence);
  std::memcpy(bytes + 8, master.id.data(), 8);
  uint8_t* nonce = bytes + 16;
  RandomBytes(nonce, kNonceBytes);
  uint8_t* sealed = nonce + kNonceBytes;
  if (!Gcm(true, master.bytes.data(), nonce, RecordAad(key.file_id, sequence, master.id), key.key.data(),
           key.key.size(), sealed, sealed + kMasterKeyBytes)) {
    CryptoFailure("wrapping a data key");
  }
  return record;
}

std::string NewHeader(const KeyRing::MasterKey& master, DataKey& key) {
  RandomBytes(key.key.data(), key.key.size());
  RandomBytes(key.file_id.data(), key.file_id.size());
  std::string header(kHeaderBytes, '\0');
  std::memcpy(header.data(), kEncryptedMagic.data(), kEncryptedMagic.size());
  std::memcpy(header.data() + kEncryptedMagic.size(), key.file_id.data(), key.file_id.size());
  // Both records hold the key from the start, so the file never depends on one record alone.
  const std::string second = WrapRecord(key, master, 1);
  const std::string first = WrapRecord(key, master, 2);
  std::memcpy(header.data() + kWrapRecordOffsets[0], first.data(), first.size());
  std::memcpy(header.data() + kWrapRecordOffsets[1], second.data(), second.size());
  return header;
}

HeaderRecords ReadHeaderRecords(std::string_view header) {
  HeaderRecords records;
  for (int i = 0; i < 2; ++i) {
    if (header.size() < kWrapRecordOffsets[i] + kWrapRecordBytes) continue;
    const auto* record = reinterpret_cast<const uint8_t*>(header.data() + kWrapRecordOffsets[i]);
    records.sequences[i] = GetBigEndian64(record);
    std::memcpy(records.key_ids[i].data(), record + 8, 8);
  }
  return records;
}

absl::StatusOr<OpenedHeader> OpenHeader(std::string_view header, const KeyRing& ring) {
  if (header.size() < kHeaderBytes || !header.starts_with(kEncryptedMagic)) {
    return absl::DataLossError("the encryption header is cut short or not there");
  }
  OpenedHeader opened;
  std::memcpy(opened.key.file_id.data(), header.data() + kEncryptedMagic.size(), kFileIdBytes);
  bool known_key_failed = false;
  bool any = false;
  for (int i = 0; i < 2; ++i) {
    const auto* record = reinterpret_cast<const uint8_t*>(header.data() + kWrapRecordOffsets[i]);
    opened.sequences[i] = GetBigEndian64(record);
    std::memcpy(opened.record_key_ids[i].data(), record + 8, 8);
    const KeyRing::MasterKey* master = ring.Find(opened.record_key_ids[i]);
    if (master == nullptr) continue;
    std::array<uint8_t, kMasterKeyBytes> data_key{};
    uint8_t tag[kTagBytes];
    std::memcpy(tag, record + 16 + kNonceBytes + kMasterKeyBytes, kTagBytes);
    const bool ok = Gcm(false, master->bytes.data(), record + 16,
                        RecordAad(opened.key.file_id, opened.sequences[i], master->id), record + 16 + kNonceBytes,
                        kMasterKeyBytes, data_key.data(), tag);
    opened.opened[i] = ok;
    if (!ok) {
      known_key_failed = true;
    } else if (!any || opened.sequences[i] > opened.sequence) {
      any = true;
      opened.sequence = opened.sequences[i];
      opened.key_id = master->id;
      opened.key.key = data_key;
    }
    OPENSSL_cleanse(data_key.data(), data_key.size());
  }
  if (any) return opened;
  if (known_key_failed) {
    return absl::DataLossError("the encryption header fails authentication (the file was altered)");
  }
  std::string needs;
  for (int i = 0; i < 2; ++i) {
    const std::string id = KeyIdHex(opened.record_key_ids[i]);
    if (needs.find(id) == std::string::npos) absl::StrAppend(&needs, needs.empty() ? "" : " or ", id);
  }
  return absl::FailedPreconditionError(
      absl::StrCat("needs master key ", needs, ", which is not loaded (loaded: ", ring.Describe(), ")"));
}

SlotCipher::SlotCipher(const DataKey& key) : key_(key) {}

SlotCipher::~SlotCipher() {
  EVP_CIPHER_CTX_free(seal_);
  EVP_CIPHER_CTX_free(open_);
}

namespace {

// The slot's authenticated data: the file id and the slot's index.
std::array<uint8_t, kFileIdBytes + 8> SlotAad(const FileId& file_id, uint64_t index) {
  std::array<uint8_t, kFileIdBytes + 8> aad;
  std::memcpy(aad.data(), file_id.data(), kFileIdBytes);
  PutBigEndian64(aad.data() + kFileIdBytes, index);
  return aad;
}

}  // namespace

void SlotCipher::Seal(uint64_t index, std::string_view plaintext, char* out) {
  if (seal_ == nullptr) {
    // The key schedule is computed once per cipher; each slot only sets its nonce.
    seal_ = EVP_CIPHER_CTX_new();
    if (seal_ == nullptr || EVP_EncryptInit_ex(seal_, AesGcm(), nullptr, key_.key.data(), nullptr) != 1) {
      CryptoFailure("setting up a slot cipher");
    }
  }
  auto* nonce = reinterpret_cast<uint8_t*>(out);
  RandomBytes(nonce, kNonceBytes);
  const auto aad = SlotAad(key_.file_id, index);
  uint8_t* sealed = nonce + kNonceBytes;
  int length = 0;
  int final_length = 0;
  const bool ok = EVP_EncryptInit_ex(seal_, nullptr, nullptr, nullptr, nonce) == 1 &&
                  EVP_EncryptUpdate(seal_, nullptr, &length, aad.data(), static_cast<int>(aad.size())) == 1 &&
                  EVP_EncryptUpdate(seal_, sealed, &length, reinterpret_cast<const uint8_t*>(plaintext.data()),
                                    static_cast<int>(plaintext.size())) == 1 &&
                  EVP_EncryptFinal_ex(seal_, sealed + length, &final_length) == 1 &&
                  EVP_CIPHER_CTX_ctrl(seal_, EVP_CTRL_GCM_GET_TAG, kTagBytes, sealed + plaintext.size()) == 1;
  if (!ok) CryptoFailure("sealing a slot");
}

bool SlotCipher::Open(uint64_t index, std::string_view slot, char* out) {
  if (slot.size() <= kSlotOverhead || slot.size() > kSlotBytes) return false;
  if (open_ == nullptr) {
    open_ = EVP_CIPHER_CTX_new();
    if (open_ == nullptr || EVP_DecryptInit_ex(open_, AesGcm(), nullptr, key_.key.data(), nullptr) != 1) {
      CryptoFailure("setting up a slot cipher");
    }
  }
  const auto* nonce = reinterpret_cast<const uint8_t*>(slot.data());
  const size_t n = slot.size() - kSlotOverhead;
  const uint8_t* sealed = nonce + kNonceBytes;
  uint8_t tag[kTagBytes];
  std::memcpy(tag, sealed + n, kTagBytes);
  const auto aad = SlotAad(key_.file_id, index);
  int length = 0;
  auto* plain = reinterpret_cast<uint8_t*>(out);
  return EVP_DecryptInit_ex(open_, nullptr, nullptr, nullptr, nonce) == 1 &&
         EVP_DecryptUpdate(open_, nullptr, &length, aad.data(), static_cast<int>(aad.size())) == 1 &&
         EVP_DecryptUpdate(open_, plain, &length, sealed, static_cast<int>(n)) == 1 &&
         EVP_CIPHER_CTX_ctrl(open_, EVP_CTRL_GCM_SET_TAG, kTagBytes, tag) == 1 &&
         EVP_DecryptFinal_ex(open_, plain + length, &length) == 1;
}

uint64_t PhysicalSize(uint64_t logical) {
  const uint64_t full = logical / kSlotPlaintextBytes;
  const uint64_t rest = logical % kSlotPlaintextBytes;
  return kHeaderBytes + full * kSlotBytes + (rest == 0 ? 0 : rest + kSlotOverhead);
}

std::optional<uint64_t> LogicalSize(uint64_t physical) {
  if (physical == 0) return 0;
  if (physical < kHeaderBytes) return std::nullopt;
  const uint64_t body = physical - kHeaderBytes;
  const uint64_t full = body / kSlotBytes;
  const uint64_t rest = body % kSlotBytes;
  if (rest != 0 && rest <= kSlotOverhead) return std::nullopt;
  return full * kSlotPlaintextBytes + (rest == 0 ? 0 : rest - kSlotOverhead);
}

}  // namespace tessera::profile_store::internal
