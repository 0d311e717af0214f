// Master keys of encryption at rest (config/master_keys.h) and the encryption section: keys are
// read from exactly one source; a key file others could read, an unset variable, a failing
// command or text that is not keys is refused with the source named and no key text echoed.

#include "config/master_keys.h"

#include <sys/stat.h>

#include <cstdlib>
#include <fstream>
#include <string>

#include "config/config.h"
#include "gtest/gtest.h"
#include "tests/support/temp_dir.h"

namespace tessera::config {
namespace {

const std::string kHexA = "7e57c0ffee0123456789abcdeffedcba98765432100123456789abcdef7e57c0";
const std::string kHexB = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

std::string WriteFile(const std::string& path, const std::string& text, mode_t mode) {
  std::ofstream(path, std::ios::trunc) << text;
  ::chmod(path.c_str(), mode);
  return path;
}

TEST(MasterKeysTest, KeysAreParsedCurrentFirstWithCommentsAndSeparators) {
  auto keys = ParseMasterKeys("# current\n" + kHexA + "\n\n" + kHexB + ", ", "test");
  ASSERT_TRUE(keys.ok()) << keys.status();
  ASSERT_EQ(keys->size(), 2u);
  EXPECT_EQ(KeyToHex((*keys)[0]), kHexA);
  EXPECT_EQ(KeyToHex((*keys)[1]), kHexB);
}

TEST(MasterKeysTest, TextThatIsNotKeysIsRefusedWithoutEchoingIt) {
  for (const std::string& text : {std::string(""), std::string("# only a comment\n"), kHexA.substr(0, 62),
                                  kHexA + "zz", std::string("secretpassword")}) {
    auto keys = ParseMasterKeys(text, "the source");
    ASSERT_FALSE(keys.ok()) << text;
    EXPECT_TRUE(absl::IsInvalidArgument(keys.status()));
    EXPECT_NE(keys.status().message().find("the source"), std::string::npos) << keys.status();
    if (!text.empty() && text[0] != '#') {
      EXPECT_EQ(keys.status().message().find(text), std::string::npos) << "the text must not be echoed";
    }
  }
}

TEST(MasterKeysTest, AKeyFileMustBeOwnerOnly) {
  tessera::testing::ScopedTempDir dir;
  const std::string path = WriteFile(dir.path() + "/key", kHexA + "\n", 0644);
  auto keys = LoadMasterKeys({.key_file = path});
  ASSERT_FALSE(keys.ok());
  EXPECT_NE(keys.status().message().find("chmod 600 " + path), std::string::npos) << keys.status();
  EXPECT_EQ(keys.status().message().find(kHexA), std::string::npos);
  ::chmod(path.c_str(), 0600);
  keys = LoadMasterKeys({.key_file = path});
  ASSERT_TRUE(keys.ok()) << keys.status();
  EXPECT_EQ(KeyToHex(keys->front()), kHexA);
  ::chmod(path.c_str(), 0400);
  EXPECT_TRUE(LoadMasterKeys({.key_file = path}).ok()) << "read-only for the owner is fine";
  EXPECT_FALSE(LoadMasterKeys({.key_file = dir.path() + "/missing"}).ok());
  EXPECT_FALSE(LoadMasterKeys({.key_file = dir.path()}).ok()) << "a directory is not a key file";
}

TEST(MasterKeysTest, KeysComeFromAnEnvironmentVariableOrACommand) {
  ::setenv("TESSERA_TEST_MASTER_KEYS", (kHexA + "," + kHexB).c_str(), 1);
  auto keys = LoadMasterKeys({.key_env = "TESSERA_TEST_MASTER_KEYS"});
  ASSERT_TRUE(keys.ok()) << keys.status();
  EXPECT_EQ(keys->size(), 2u);
  ::unsetenv("TESSERA_TEST_MASTER_KEYS");
  keys = LoadMasterKeys({.key_env = "TESSERA_TEST_MASTER_KEYS"});
  ASSERT_FALSE(keys.ok());
  EXPECT_NE(keys.status().message().find("TESSERA_TEST_MASTER_KEYS"), std::string::npos);

  keys = LoadMasterKeys({.key_command = "echo " + kHexB});
  ASSERT_TRUE(keys.ok()) << keys.status();
  EXPECT_EQ(KeyToHex(keys->front()), kHexB);
  keys = LoadMasterKeys({.key_command = "echo " + kHexB + "; exit 3"});
  ASSERT_FALSE(keys.ok());
  EXPECT_NE(keys.status().message().find("exit 3"), std::string::npos) << keys.status();
  EXPECT_EQ(keys.status().message().find(kHexB), std::string::npos) << "a failing command's output is not echoed";
  EXPECT_FALSE(LoadMasterKeys({.key_command = "echo not-a-key"}).ok());
}

TEST(MasterKeysTest, GenerateWritesAnOwnerOnlyFileAndRotatePutsANewKeyFirst) {
  tessera::testing::ScopedTempDir dir;
  const std::string path = dir.path() + "/master.key";
  auto first = GenerateKeyFile(path);
  ASSERT_TRUE(first.ok()) << first.status();
  struct stat info {};
  ASSERT_EQ(::stat(path.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600u);
  EXPECT_FALSE(GenerateKeyFile(path).ok()) << "an existing key file is never overwritten";

  auto second = RotateKeyFile(path);
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_NE(*first, *second);
  auto keys = LoadMasterKeys({.key_file = path});
  ASSERT_TRUE(keys.ok()) << keys.status();
  ASSERT_EQ(keys->size(), 2u);
  EXPECT_EQ((*keys)[0], *second) << "the new key is the current one";
  EXPECT_EQ((*keys)[1], *first) << "the old key stays for the files wrapped with it";
  ASSERT_EQ(::stat(path.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600u);
}

TEST(EncryptionSectionTest, ExactlyOneKeySourceTurnsEncryptionOn) {
  auto config = ParseConfig(R"({"encryption":{"key_file":"/etc/tessera/master.key"}})");
  ASSERT_TRUE(config.ok()) << config.status();
  ASSERT_TRUE(config->encryption.has_value());
  EXPECT_EQ(config->encryption->key_file, "/etc/tessera/master.key");
  EXPECT_FALSE(ParseConfig("{}")->encryption.has_value());

  auto two = ParseConfig(R"({"encryption":{"key_file":"/k","key_env":"K"}})");
  ASSERT_FALSE(two.ok());
  EXPECT_NE(two.status().message().find("exactly one"), std::string::npos) << two.status();
  EXPECT_FALSE(ParseConfig(R"({"encryption":{}})").ok());
  EXPECT_FALSE(ParseConfig(R"({"encryption":{"key_env":"1BAD"}})").ok());
  EXPECT_FALSE(ParseConfig(R"({"encryption":{"key":"7e57"}})").ok()) << "a key is never put in the config";
}

}  // namespace
}  // namespace tessera::config
