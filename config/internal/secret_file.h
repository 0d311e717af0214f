#pragma once

// Files that hold secrets (development keys, master keys): written whole or not at all, mode 0600.

#include <filesystem>
#include <string_view>

#include "absl/status/status.h"

namespace tessera::config::internal {

// Writes `contents` to `path` (replacing it) through a temporary file with mode 0600 in the same
// directory, fsynced, renamed over `path`, and the directory fsynced: a crash leaves the old file
// or the new one.
absl::Status WriteSecretFileAtomically(const std::filesystem::path& path, std::string_view contents);

}  // namespace tessera::config::internal
