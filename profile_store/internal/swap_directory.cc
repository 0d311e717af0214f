#include "profile_store/internal/swap_directory.h"

#include <fcntl.h>
#include <stdio.h>  // renameat2, RENAME_EXCHANGE (glibc, _GNU_SOURCE)

#include <cerrno>
#include <cstring>
#include <system_error>

#include "absl/strings/str_cat.h"
#include "profile_store/internal/sync_directory.h"

namespace tessera::profile_store::internal {

namespace fs = std::filesystem;

absl::Status SwapIn(const fs::path& fresh, const fs::path& target) {
  std::error_code error;
  if (fs::exists(target, error) && fs::is_empty(target, error)) fs::remove(target, error);
  if (!fs::exists(target, error)) {
    fs::rename(fresh, target, error);
    if (error)
      return absl::InternalError(
          absl::StrCat("cannot move the new store into place: ", error.message()));
    return SyncDirectory(target.parent_path().string());
  }
  if (::renameat2(AT_FDCWD, fresh.c_str(), AT_FDCWD, target.c_str(), RENAME_EXCHANGE) != 0) {
    if (errno != EINVAL && errno != ENOSYS) {
      return absl::InternalError(
          absl::StrCat("cannot swap the new store into ", target.string(), ": ", std::strerror(errno)));
    }
    // A file system without atomic exchange: two renames. A crash between them leaves the old
    // store next to the target (named *.replaced) and the restored one in `fresh`, both whole.
    const fs::path old = fs::path(fresh.string() + ".replaced");
    fs::rename(target, old, error);
    if (!error) fs::rename(fresh, target, error);
    if (error)
      return absl::InternalError(
          absl::StrCat("cannot move the new store into place: ", error.message()));
    if (absl::Status synced = SyncDirectory(target.parent_path().string()); !synced.ok()) return synced;
    fs::remove_all(old, error);
    return absl::OkStatus();
  }
  if (absl::Status synced = SyncDirectory(target.parent_path().string()); !synced.ok()) return synced;
  fs::remove_all(fresh, error);  // The replaced store; failing to delete it loses nothing.
  return absl::OkStatus();
}

}  // namespace tessera::profile_store::internal
