#include "config/internal/secret_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>

#include "absl/strings/str_cat.h"

namespace tessera::config::internal {

// Writes `contents` to `path` so that a crash leaves either no file or the whole file: write a
// temporary file in the same directory, fsync it, rename it over `path`, then fsync the
// directory so the rename itself survives a power cut.
absl::Status WriteSecretFileAtomically(const std::filesystem::path& path, std::string_view contents) {
  std::string temp_path = path.string() + ".tmp.XXXXXX";
  int fd = ::mkstemp(temp_path.data());
  if (fd < 0)
    return absl::ErrnoToStatus(errno, absl::StrCat("cannot create a temporary file next to ", path.string()));
  auto fail = [&](int error, absl::string_view what) {
    ::close(fd);
    ::unlink(temp_path.c_str());
    return absl::ErrnoToStatus(error, absl::StrCat("cannot ", what, " ", temp_path));
  };
  // mkstemp already uses 0600; set it explicitly because the file holds secrets.
  if (::fchmod(fd, S_IRUSR | S_IWUSR) != 0) return fail(errno, "set permissions of");
  size_t written = 0;
  while (written < contents.size()) {
    ssize_t n = ::write(fd, contents.data() + written, contents.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return fail(errno, "write");
    written += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0) return fail(errno, "fsync");
  if (::close(fd) != 0) {
    int error = errno;
    ::unlink(temp_path.c_str());
    return absl::ErrnoToStatus(error, absl::StrCat("cannot close ", temp_path));
  }
  if (::rename(temp_path.c_str(), path.c_str()) != 0) {
    int error = errno;
    ::unlink(temp_path.c_str());
    return absl::ErrnoToStatus(error, absl::StrCat("cannot rename ", temp_path, " to ", path.string()));
  }
  std::string directory = path.parent_path().empty() ? "." : path.parent_path().string();
  int dir_fd = ::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd < 0) return absl::ErrnoToStatus(errno, absl::StrCat("cannot open directory ", directory));
  int sync_result = ::fsync(dir_fd);
  int sync_error = errno;
  ::close(dir_fd);
  if (sync_result != 0)
    return absl::ErrnoToStatus(sync_error, absl::StrCat("cannot fsync directory ", directory));
  return absl::OkStatus();
}

}  // namespace tessera::config::internal
