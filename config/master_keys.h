#pragma once

// The master keys of encryption at rest, read from the one source the configuration names
// (EncryptionOptions): a key file, an environment variable or a command's output. A key is 32
// random bytes written as 64 hex characters; a source holds one or more, the current key first.
//
// Errors name the source and the reason, never a key or any of the source's text: a key must
// not end up in a log through an error message.

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "config/config.h"

namespace tessera::config {

// The raw keys (32 bytes each), current first. InvalidArgument for a key file that is not a
// regular file, is readable or writable by group or others, or is not owned by the user running
// Tessera; an unset variable; a command that fails, prints nothing or runs over 30 seconds; any
// text that is not keys.
absl::StatusOr<std::vector<std::string>> LoadMasterKeys(const EncryptionOptions& options);

// Keys from text: separated by newlines, commas or spaces; lines starting with '#' are comments.
absl::StatusOr<std::vector<std::string>> ParseMasterKeys(std::string_view text, std::string_view source);

// Writes a new random key to `path`, which must not exist, with mode 0600. Returns the raw key.
absl::StatusOr<std::string> GenerateKeyFile(const std::string& path);

// Puts a new random key first in the key file at `path`, the keys it held after it (replacing the
// file whole, mode 0600). Returns the raw new key.
absl::StatusOr<std::string> RotateKeyFile(const std::string& path);

// 64 hex characters for a raw key.
std::string KeyToHex(std::string_view key);

}  // namespace tessera::config
