#pragma once

// fsync of a directory, so that a rename or a new file in it survives a power loss.

#include <string>

#include "absl/status/status.h"

namespace tessera::profile_store::internal {

absl::Status SyncDirectory(const std::string& dir);

}  // namespace tessera::profile_store::internal
