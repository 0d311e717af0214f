#pragma once

// The on-disk format of an encrypted file (see encrypted_file_system.h for why it looks like this).
//
//   header, 4096 bytes:
//     [0, 16)      magic "TESSERA-ENC-v1\0\0"
//     [16, 32)     file id: 16 random bytes, bound into every slot's authentication
//     [64, 140)    wrap record 0 \  each: sequence (8, big-endian), master key id (8), nonce (12),
//     [2112, 2188) wrap record 1 /  the data key sealed with the master key (32 + 16-byte tag)
//   slots, 4096 bytes each (the last may be shorter), slot i at 4096 * (i + 1):
//     nonce (12) | AES-256-GCM ciphertext of up to 4068 plaintext bytes | tag (16)
//
// A slot's additional authenticated data is the file id and the slot's index, so a slot moved
// within a file or into another file fails authentication; its nonce is random and new each time
// the slot is written. A record's authenticated data is the magic, the file id, its sequence and
// its key id. The record with the higher sequence that opens is the file's; two records let
// `keys rewrap` replace one at a time, so a crash in between leaves the other one whole.

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "profile_store/key_ring.h"

typedef struct evp_cipher_ctx_st EVP_CIPHER_CTX;

namespace tessera::profile_store::internal {

inline constexpr size_t kHeaderBytes = 4096;
inline constexpr size_t kSlotBytes = 4096;
inline constexpr size_t kNonceBytes = 12;
inline constexpr size_t kTagBytes = 16;
inline constexpr size_t kSlotOverhead = kNonceBytes + kTagBytes;
inline constexpr size_t kSlotPlaintextBytes = kSlotBytes - kSlotOverhead;
inline constexpr std::string_view kEncryptedMagic{"TESSERA-ENC-v1\0\0", 16};
inline constexpr size_t kFileIdBytes = 16;
inline constexpr size_t kWrapRecordBytes = 8 + 8 + kNonceBytes + kMasterKeyBytes + kTagBytes;
inline constexpr size_t kWrapRecordOffsets[2] = {64, 2048 + 64};

using FileId = std::array<uint8_t, kFileIdBytes>;

// One file's data key and id. Wiped when destroyed.
struct DataKey {
  std::array<uint8_t, 32> key{};
  FileId file_id{};
  ~DataKey();
};

// What the first bytes of a file say it is.
enum class FileKind { kEmpty, kPlain, kEncrypted, kTruncatedHeader };
FileKind ClassifyFile(std::string_view first_bytes, uint64_t file_size);

// A fresh random data key and file id, and the header that holds it wrapped with `master`.
std::string NewHeader(const KeyRing::MasterKey& master, DataKey& key);

struct OpenedHeader {
  DataKey key;
  KeyId key_id{};          // The master key the file's data key is wrapped with (its newest record).
  uint64_t sequence = 0;   // That record's sequence.
  // Whether each record opened, and the key each names (all zeros when the record is empty).
  std::array<bool, 2> opened{};
  std::array<KeyId, 2> record_key_ids{};
  std::array<uint64_t, 2> sequences{};
};

// Unwraps the data key of a 4096-byte header. FailedPrecondition naming the key id when no record
// is wrapped with a key of `ring`; DataLoss when a record with a known key fails authentication
// and no other opens (a tampered header, or a wrong key whose id collides).
absl::StatusOr<OpenedHeader> OpenHeader(std::string_view header, const KeyRing& ring);

// The key ids and sequences a header's records name, read without opening them (for reports
// without the keys; not authenticated).
struct HeaderRecords {
  std::array<KeyId, 2> key_ids{};
  std::array<uint64_t, 2> sequences{};
  const KeyId& newest() const { return sequences[1] > sequences[0] ? key_ids[1] : key_ids[0]; }
};
HeaderRecords ReadHeaderRecords(std::string_view header);

// A wrap record of `key` under `master` with `sequence`, to be written at kWrapRecordOffsets[i].
std::string WrapRecord(const DataKey& key, const KeyRing::MasterKey& master, uint64_t sequence);

// Seals and opens slots of one file. Not thread-safe: one per thread (or per call).
class SlotCipher {
 public:
  explicit SlotCipher(const DataKey& key);
  ~SlotCipher();
  SlotCipher(const SlotCipher&) = delete;
  SlotCipher& operator=(const SlotCipher&) = delete;

  // Writes slot `index` for `plaintext` (at most kSlotPlaintextBytes) to `out`, which has room for
  // plaintext.size() + kSlotOverhead bytes.
  void Seal(uint64_t index, std::string_view plaintext, char* out);
  // Opens slot `index` (its bytes, more than kSlotOverhead) into `out` (slot.size() - kSlotOverhead
  // bytes). False when it fails authentication.
  bool Open(uint64_t index, std::string_view slot, char* out);

 private:
  const DataKey& key_;
  EVP_CIPHER_CTX* seal_ = nullptr;
  EVP_CIPHER_CTX* open_ = nullptr;
};

// Sizes: the physical size of a file holding `logical` plaintext bytes, and back (nullopt when the
// physical size cannot be one: a header cut short or a slot of no more than its overhead).
uint64_t PhysicalSize(uint64_t logical);
std::optional<uint64_t> LogicalSize(uint64_t physical);

}  // namespace tessera::profile_store::internal
