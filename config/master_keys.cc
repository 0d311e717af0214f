#include "config/master_keys.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <thread>

#include "absl/strings/str_cat.h"
#include "base/coding.h"
#include "config/internal/secret_file.h"
#include "openssl/crypto.h"
#include "openssl/rand.h"

extern char** environ;

namespace tessera::config {
namespace {

constexpr size_t kKeyBytes = 32;
constexpr auto kCommandTimeout = std::chrono::seconds(30);
constexpr size_t kMaxCommandOutput = 64 << 10;

// Text that held keys is wiped before it is freed.
struct WipedText {
  std::string text;
  ~WipedText() { OPENSSL_cleanse(text.data(), text.size()); }
};

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

absl::StatusOr<std::vector<std::string>> LoadKeyFile(const std::string& path) {
  const std::string source = absl::StrCat("encryption.key_file ", path);
  // The checks and the read are of one open file, so it cannot be swapped in between.
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) return absl::InvalidArgumentError(absl::StrCat(source, ": ", std::strerror(errno)));
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  struct stat info {};
  if (::fstat(fd, &info) != 0) {
    return absl::InvalidArgumentError(absl::StrCat(source, ": ", std::strerror(errno)));
  }
  if (!S_ISREG(info.st_mode)) return absl::InvalidArgumentError(absl::StrCat(source, ": not a regular file"));
  if ((info.st_mode & 077) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof(mode), "%04o", static_cast<unsigned>(info.st_mode & 07777));
    return absl::InvalidArgumentError(absl::StrCat(source, ": mode ", mode,
                                                   " lets other users read or change it; chmod 600 ", path));
  }
  if (info.st_uid != ::geteuid()) {
    return absl::InvalidArgumentError(absl::StrCat(source, ": owned by uid ", info.st_uid,
                                                   ", not by the user running Tessera (uid ", ::geteuid(), ")"));
  }
  WipedText text;
  char buffer[4096];
  for (;;) {
    const ssize_t n = ::read(fd, buffer, sizeof(buffer));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return absl::InvalidArgumentError(absl::StrCat(source, ": ", std::strerror(errno)));
    if (n == 0) break;
    text.text.append(buffer, static_cast<size_t>(n));
    if (text.text.size() > kMaxCommandOutput) return absl::InvalidArgumentError(absl::StrCat(source, ": over 64 KiB"));
  }
  OPENSSL_cleanse(buffer, sizeof(buffer));
  return ParseMasterKeys(text.text, source);
}

absl::StatusOr<std::vector<std::string>> LoadKeyEnv(const std::string& name) {
  const std::string source = absl::StrCat("encryption.key_env ", name);
  const char* value = std::getenv(name.c_str());
  if (value == nullptr || *value == '\0') {
    return absl::InvalidArgumentError(absl::StrCat(source, ": the variable is not set"));
  }
  return ParseMasterKeys(value, source);
}

absl::StatusOr<std::vector<std::string>> LoadKeyCommand(const std::string& command) {
  const std::string source = "encryption.key_command";
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) return absl::InternalError(absl::StrCat(source, ": cannot make a pipe"));
  // Its own process group, so a timeout kills the client the shell started too; no stdin, so a
  // command that asks for input fails instead of waiting for a terminal.
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], STDOUT_FILENO);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawnattr_t attributes;
  posix_spawnattr_init(&attributes);
  posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETPGROUP);
  posix_spawnattr_setpgroup(&attributes, 0);
  const char* argv[] = {"/bin/sh", "-c", command.c_str(), nullptr};
  pid_t pid = 0;
  const int spawned = ::posix_spawn(&pid, "/bin/sh", &actions, &attributes, const_cast<char**>(argv), environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attributes);
  ::close(pipe_fds[1]);
  if (spawned != 0) {
    ::close(pipe_fds[0]);
    return absl::InvalidArgumentError(absl::StrCat(source, ": cannot run /bin/sh: ", std::strerror(spawned)));
  }
  WipedText output;
  const auto deadline = std::chrono::steady_clock::now() + kCommandTimeout;
  bool timed_out = false;
  bool too_long = false;
  char buffer[4096];
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      timed_out = true;
      break;
    }
    struct pollfd ready {pipe_fds[0], POLLIN, 0};
    const int polled = ::poll(&ready, 1, static_cast<int>(left.count()));
    if (polled < 0 && errno == EINTR) continue;
    if (polled == 0) continue;
    const ssize_t n = ::read(pipe_fds[0], buffer, sizeof(buffer));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    output.text.append(buffer, static_cast<size_t>(n));
    if (output.text.size() > kMaxCommandOutput) {
      too_long = true;
      break;
    }
  }
  OPENSSL_cleanse(buffer, sizeof(buffer));
  ::close(pipe_fds[0]);
  // The command may close its output and still run: its exit is waited for until the same deadline.
  int wait_status = 0;
  for (;;) {
    if (timed_out || too_long) ::kill(-pid, SIGKILL);
    const pid_t waited = ::waitpid(pid, &wait_status, (timed_out || too_long) ? 0 : WNOHANG);
    if (waited == pid) break;
    if (waited < 0 && errno != EINTR) break;
    if (waited == 0) {
      if (std::chrono::steady_clock::now() >= deadline) {
        timed_out = true;
      } else {
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
      }
    }
  }
  if (timed_out) return absl::InvalidArgumentError(absl::StrCat(source, ": the command ran over 30 seconds"));
  if (too_long) return absl::InvalidArgumentError(absl::StrCat(source, ": the command printed over 64 KiB"));
  if (!WIFEXITED(wait_status) || WEXITSTATUS(wait_status) != 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        source, ": the command failed (",
        WIFEXITED(wait_status) ? absl::StrCat("exit ", WEXITSTATUS(wait_status))
                               : absl::StrCat("signal ", WTERMSIG(wait_status)),
        ")"));
  }
  return ParseMasterKeys(output.text, source);
}

std::string NewRandomKey() {
  std::string key(kKeyBytes, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(key.data()), static_cast<int>(key.size())) != 1) {
    std::fputs("tessera: the system's random generator failed\n", stderr);
    std::abort();
  }
  return key;
}

}  // namespace

std::string KeyToHex(std::string_view key) { return base::LowerHex(key); }

absl::StatusOr<std::vector<std::string>> ParseMasterKeys(std::string_view text, std::string_view source) {
  std::vector<std::string> keys;
  size_t line = 1;
  size_t i = 0;
  while (i < text.size()) {
    const char c = text[i];
    if (c == '\n') ++line;
    if (c == '\n' || c == '\r' || c == ' ' || c == '\t' || c == ',') {
      ++i;
      continue;
    }
    if (c == '#') {
      while (i < text.size() && text[i] != '\n') ++i;
      continue;
    }
    size_t end = i;
    while (end < text.size() && HexDigit(text[end]) >= 0) ++end;
    const bool separated = end == text.size() || std::strchr("\n\r \t,", text[end]) != nullptr;
    if (end - i != 2 * kKeyBytes || !separated) {
      return absl::InvalidArgumentError(absl::StrCat(std::string(source), ": line ", line,
                                                     " is not a key (64 hexadecimal characters)"));
    }
    std::string key(kKeyBytes, '\0');
    for (size_t b = 0; b < kKeyBytes; ++b) {
      key[b] = static_cast<char>(HexDigit(text[i + 2 * b]) * 16 + HexDigit(text[i + 2 * b + 1]));
    }
    keys.push_back(std::move(key));
    i = end;
  }
  if (keys.empty()) return absl::InvalidArgumentError(absl::StrCat(std::string(source), ": holds no key"));
  return keys;
}

absl::StatusOr<std::vector<std::string>> LoadMasterKeys(const EncryptionOptions& options) {
  if (!options.key_file.empty()) return LoadKeyFile(options.key_file);
  if (!options.key_env.empty()) return LoadKeyEnv(options.key_env);
  if (!options.key_command.empty()) return LoadKeyCommand(options.key_command);
  return absl::InvalidArgumentError("encryption: no key source (key_file, key_env or key_command)");
}

absl::StatusOr<std::string> GenerateKeyFile(const std::string& path) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return absl::ErrnoToStatus(errno, absl::StrCat("cannot create ", path));
  std::string key = NewRandomKey();
  WipedText text{KeyToHex(key) + "\n"};
  size_t written = 0;
  int error = 0;
  while (written < text.text.size()) {
    const ssize_t n = ::write(fd, text.text.data() + written, text.text.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      error = errno;
      break;
    }
    written += static_cast<size_t>(n);
  }
  if (error == 0 && ::fsync(fd) != 0) error = errno;
  ::close(fd);
  if (error != 0) {
    ::unlink(path.c_str());
    return absl::ErrnoToStatus(error, absl::StrCat("cannot write ", path));
  }
  return key;
}

absl::StatusOr<std::string> RotateKeyFile(const std::string& path) {
  absl::StatusOr<std::vector<std::string>> old_keys = LoadKeyFile(path);
  if (!old_keys.ok()) return old_keys.status();
  std::string key = NewRandomKey();
  WipedText text{absl::StrCat("# current key first; older keys after it, needed until `tessera keys rewrap`\n",
                              KeyToHex(key), "\n")};
  for (std::string& old : *old_keys) {
    absl::StrAppend(&text.text, KeyToHex(old), "\n");
    OPENSSL_cleanse(old.data(), old.size());
  }
  if (absl::Status status = internal::WriteSecretFileAtomically(path, text.text); !status.ok()) return status;
  return key;
}

}  // namespace tessera::config
