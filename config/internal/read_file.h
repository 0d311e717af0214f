#pragma once

// Reading a small file whole, with errno-derived error codes (NotFound, PermissionDenied, ...), so
// callers can tell a missing file from a broken one.

#include <string>

#include "absl/status/statusor.h"

namespace tessera::config::internal {

// `what` names the file in messages, e.g. "config file" gives "cannot open config file PATH: ...".
absl::StatusOr<std::string> ReadWholeFile(const std::string& path, const std::string& what);

}  // namespace tessera::config::internal
