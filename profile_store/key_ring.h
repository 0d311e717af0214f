#pragma once

// KeyRing holds the master keys a store is encrypted with (see encrypted_file_system.h). A master
// key is 32 random bytes; its id is the first 8 bytes of HMAC-SHA256(key, "tessera master key id"),
// shown as 16 hex characters. The id names a key in headers, logs and errors without revealing it.
//
// The first key is the current one: every new file's data key is wrapped with it. The others are
// older keys still needed to read files written before a rotation, until `tessera keys rewrap`
// rewraps those files with the current key.
//
// Thread-safety: immutable after construction. The key bytes are wiped when the ring is destroyed.

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace tessera::profile_store {

inline constexpr size_t kMasterKeyBytes = 32;

// A master key's id (8 bytes).
using KeyId = std::array<uint8_t, 8>;
std::string KeyIdHex(const KeyId& id);

class KeyRing {
 public:
  struct MasterKey {
    KeyId id;
    std::array<uint8_t, kMasterKeyBytes> bytes;
  };

  // Builds a ring from raw 32-byte keys, the current one first. InvalidArgument when there are
  // none, one is not 32 bytes, or the same key appears twice.
  static absl::StatusOr<std::shared_ptr<const KeyRing>> FromKeys(const std::vector<std::string>& keys);

  ~KeyRing();
  KeyRing(const KeyRing&) = delete;
  KeyRing& operator=(const KeyRing&) = delete;

  const MasterKey& current() const { return keys_.front(); }
  // The key with `id`, or null when the ring does not hold it.
  const MasterKey* Find(const KeyId& id) const;
  const std::vector<MasterKey>& keys() const { return keys_; }
  // "id1 (current), id2": for start-up lines and errors.
  std::string Describe() const;

 private:
  KeyRing() = default;
  std::vector<MasterKey> keys_;
};

// The id of a raw 32-byte key.
KeyId MasterKeyId(std::string_view key);

}  // namespace tessera::profile_store
