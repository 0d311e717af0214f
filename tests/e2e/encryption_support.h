#pragma once

// Encryption at rest in end-to-end tests: a key file for a test server, the configuration member
// that turns encryption on with it, and the key ring to open its store directly after it exited.

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <memory>
#include <string>
#include <string_view>

#include "gtest/gtest.h"
#include "profile_store/key_ring.h"

namespace tessera::e2e {

// A fixed test key: tests are deterministic, and a test key protects nothing.
inline constexpr std::string_view kTestMasterKeyHex =
    "7e57c0ffee0123456789abcdeffedcba98765432100123456789abcdef7e57c0";

inline std::string RawKey(std::string_view hex) {
  std::string key;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) key.push_back(static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
  return key;
}

// Writes `hex_lines` (keys, one per line) to `path` with mode 0600.
inline void WriteKeyFile(const std::string& path, const std::string& hex_lines) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  ASSERT_GE(fd, 0) << "cannot create " << path;
  ASSERT_EQ(::write(fd, hex_lines.data(), hex_lines.size()), static_cast<ssize_t>(hex_lines.size()));
  ::fchmod(fd, 0600);
  ::close(fd);
}

// The `"encryption"` member of a test server's configuration, with the test key in a key file
// written to `dir` (outside the data directory, as a key should be).
inline std::string EncryptionJson(const std::string& dir) {
  const std::string path = dir + "/master.key";
  WriteKeyFile(path, std::string(kTestMasterKeyHex) + "\n");
  return R"("encryption":{"key_file":")" + path + R"("})";
}

inline std::shared_ptr<const profile_store::KeyRing> TestKeyRing() {
  auto ring = profile_store::KeyRing::FromKeys({RawKey(kTestMasterKeyHex)});
  EXPECT_TRUE(ring.ok()) << ring.status();
  return ring.ok() ? *ring : nullptr;
}

}  // namespace tessera::e2e
