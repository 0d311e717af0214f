#include "profile_store/internal/sync_directory.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace tessera::profile_store::internal {

absl::Status SyncDirectory(const std::string& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return absl::InternalError(absl::StrCat("cannot open ", dir, ": ", std::strerror(errno)));
  const int result = ::fsync(fd);
  const int saved = errno;
  ::close(fd);
  if (result != 0) return absl::InternalError(absl::StrCat("cannot sync ", dir, ": ", std::strerror(saved)));
  return absl::OkStatus();
}

}  // namespace tessera::profile_store::internal
