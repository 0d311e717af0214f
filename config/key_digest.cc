#include "config/key_digest.h"

#include <openssl/sha.h>

#include "absl/status/status.h"

namespace tessera::config {
namespace {

constexpr char kHexDigits[] = "0123456789abcdef";

// The value of a lowercase hex digit, or -1. Uppercase is refused: sha256sum prints lowercase, and
// one spelling per digest keeps "the same key given twice" a plain comparison.
int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

}  // namespace

KeyDigest DigestOfKey(std::string_view key) {
  KeyDigest digest;
  SHA256(reinterpret_cast<const unsigned char*>(key.data()), key.size(), digest.data());
  return digest;
}

bool IsHashedKey(std::string_view configured) { return configured.starts_with(kHashedKeyPrefix); }

absl::StatusOr<KeyDigest> DigestOfConfiguredKey(std::string_view configured) {
  if (!IsHashedKey(configured)) return DigestOfKey(configured);
  const std::string_view hex = configured.substr(kHashedKeyPrefix.size());
  KeyDigest digest;
  bool valid = hex.size() == 2 * digest.size();
  for (size_t i = 0; valid && i < digest.size(); ++i) {
    const int high = HexValue(hex[2 * i]);
    const int low = HexValue(hex[2 * i + 1]);
    valid = high >= 0 && low >= 0;
    digest[i] = static_cast<uint8_t>(high * 16 + low);
  }
  if (!valid) {
    return absl::InvalidArgumentError(
        "expected \"sha256:\" followed by 64 hex digits (lowercase, as sha256sum prints them)");
  }
  return digest;
}

std::string HexOfDigest(const KeyDigest& digest) {
  std::string hex;
  hex.reserve(2 * digest.size());
  for (uint8_t byte : digest) {
    hex.push_back(kHexDigits[byte >> 4]);
    hex.push_back(kHexDigits[byte & 15]);
  }
  return hex;
}

}  // namespace tessera::config
