#include "profile_store/key_ring.h"

#include <algorithm>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "base/coding.h"
#include "openssl/crypto.h"
#include "openssl/evp.h"
#include "openssl/hmac.h"

namespace tessera::profile_store {

std::string KeyIdHex(const KeyId& id) {
  return base::LowerHex(std::string_view(reinterpret_cast<const char*>(id.data()), id.size()));
}

KeyId MasterKeyId(std::string_view key) {
  static constexpr std::string_view kLabel = "tessera master key id";
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(kLabel.data()),
       kLabel.size(), digest, &length);
  KeyId id;
  std::memcpy(id.data(), digest, id.size());
  OPENSSL_cleanse(digest, sizeof(digest));
  return id;
}

absl::StatusOr<std::shared_ptr<const KeyRing>> KeyRing::FromKeys(const std::vector<std::string>& keys) {
  if (keys.empty()) return absl::InvalidArgumentError("no master key");
  std::shared_ptr<KeyRing> ring(new KeyRing());
  ring->keys_.reserve(keys.size());  // No reallocation leaving key copies in freed memory.
  for (size_t i = 0; i < keys.size(); ++i) {
    if (keys[i].size() != kMasterKeyBytes) {
      return absl::InvalidArgumentError(absl::StrCat("master key ", i + 1, " is ", keys[i].size(), " bytes, not 32"));
    }
    MasterKey key;
    key.id = MasterKeyId(keys[i]);
    std::memcpy(key.bytes.data(), keys[i].data(), kMasterKeyBytes);
    if (ring->Find(key.id) != nullptr) {
      return absl::InvalidArgumentError(absl::StrCat("master key ", KeyIdHex(key.id), " is given twice"));
    }
    ring->keys_.push_back(key);
    OPENSSL_cleanse(key.bytes.data(), key.bytes.size());
  }
  return std::shared_ptr<const KeyRing>(std::move(ring));
}

KeyRing::~KeyRing() {
  for (MasterKey& key : keys_) OPENSSL_cleanse(key.bytes.data(), key.bytes.size());
}

const KeyRing::MasterKey* KeyRing::Find(const KeyId& id) const {
  auto it = std::find_if(keys_.begin(), keys_.end(), [&](const MasterKey& key) { return key.id == id; });
  return it == keys_.end() ? nullptr : &*it;
}

std::string KeyRing::Describe() const {
  std::string out;
  for (size_t i = 0; i < keys_.size(); ++i) {
    absl::StrAppend(&out, i == 0 ? "" : ", ", KeyIdHex(keys_[i].id), i == 0 ? " (current)" : "");
  }
  return out;
}

}  // namespace tessera::profile_store
