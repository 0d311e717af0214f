#pragma once

// Keys are compared as SHA-256 digests. The configuration may therefore hold either a key itself or
// its digest, written "sha256:<64 lowercase hex digits>" (`printf %s "$KEY" | sha256sum`), so that a
// configuration file need not contain any secret; the server keeps only digests in memory.

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace tessera::config {

// Marks a configured key that is given as its SHA-256 digest.
inline constexpr std::string_view kHashedKeyPrefix = "sha256:";

using KeyDigest = std::array<uint8_t, 32>;

// The SHA-256 of `key` (OpenSSL).
KeyDigest DigestOfKey(std::string_view key);

// True when a configured key is given as a digest (starts with "sha256:"), well-formed or not.
bool IsHashedKey(std::string_view configured);

// The digest a configured key stands for: "sha256:" followed by 64 lowercase hex digits is that
// digest; any other text is the key itself, which is hashed. InvalidArgument when the text starts
// with "sha256:" but the rest is not 64 lowercase hex digits; the message never repeats the text.
absl::StatusOr<KeyDigest> DigestOfConfiguredKey(std::string_view configured);

// 64 lowercase hex digits.
std::string HexOfDigest(const KeyDigest& digest);

}  // namespace tessera::config
