#include "config/internal/read_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

#include "absl/strings/str_cat.h"

namespace tessera::config::internal {

absl::StatusOr<std::string> ReadWholeFile(const std::string& path, const std::string& what) {
  const std::string name = what.empty() ? path : absl::StrCat(what, " ", path);
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return absl::ErrnoToStatus(errno, absl::StrCat("cannot open ", name));
  std::string contents;
  char buffer[64 * 1024];
  while (true) {
    ssize_t n = ::read(fd, buffer, sizeof(buffer));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int error = errno;
      ::close(fd);
      return absl::ErrnoToStatus(error, absl::StrCat("cannot read ", name));
    }
    if (n == 0) break;
    contents.append(buffer, static_cast<size_t>(n));
  }
  ::close(fd);
  return contents;
}

}  // namespace tessera::config::internal
