#pragma once

// Puts a freshly built directory in the place of another in one step, for restores and
// conversions that must leave either the old store or the new one, never a half.

#include <filesystem>

#include "absl/status/status.h"

namespace tessera::profile_store::internal {

// Puts the directory `fresh` in the place of `target`. When `target` exists it is swapped out in
// one step (renameat2 RENAME_EXCHANGE), so that at every moment `target` is one whole store;
// `fresh` then holds the old store, which is deleted. On a file system without the exchange, two
// renames: a crash between them leaves the old store at `<fresh>.replaced` and the new one at
// `fresh`, both whole, and nothing at `target`.
absl::Status SwapIn(const std::filesystem::path& fresh, const std::filesystem::path& target);

}  // namespace tessera::profile_store::internal
