#include "config/dev_keys.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "absl/status/status.h"

namespace tessera::config {
namespace {

// prefix + 32 lowercase hex digits. (No std::regex: GCC 12 warns inside it under the sanitizers.)
bool IsKeyWithPrefix(const std::string& key, const std::string& prefix) {
  if (key.size() != prefix.size() + 32 || key.compare(0, prefix.size(), prefix) != 0) return false;
  return key.find_first_not_of("0123456789abcdef", prefix.size()) == std::string::npos;
}

class DevKeysTest : public testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (std::filesystem::temp_directory_path() / "tessera_dev_keys_test.XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr) << "mkdtemp failed";
    root_ = pattern;
    // A directory that does not exist yet, as on a first start.
    data_dir_ = (root_ / "data" / "nested").string();
    keys_path_ = (std::filesystem::path(data_dir_) / "dev_keys.json").string();
  }
  void TearDown() override {
    std::error_code ignored;
    std::filesystem::remove_all(root_, ignored);
  }

  void OverwriteKeysFile(const std::string& contents) {
    std::filesystem::create_directories(data_dir_);
    std::ofstream(keys_path_, std::ios::trunc) << contents;
  }

  std::filesystem::path root_;
  std::string data_dir_;
  std::string keys_path_;
};

TEST_F(DevKeysTest, CreatesDirectoryAndWellFormedKeys) {
  absl::StatusOr<DevKeys> keys = LoadOrCreateDevKeys(data_dir_);
  ASSERT_TRUE(keys.ok()) << keys.status();

  EXPECT_TRUE(IsKeyWithPrefix(keys->write_key, "wk_")) << keys->write_key;
  EXPECT_TRUE(IsKeyWithPrefix(keys->read_key, "rk_")) << keys->read_key;
  EXPECT_TRUE(IsKeyWithPrefix(keys->admin_key, "ak_")) << keys->admin_key;
  EXPECT_NE(keys->write_key.substr(3), keys->read_key.substr(3)) << "each key has its own randomness";
  EXPECT_NE(keys->read_key.substr(3), keys->admin_key.substr(3)) << "each key has its own randomness";

  ASSERT_TRUE(std::filesystem::exists(keys_path_));
  std::ifstream file(keys_path_);
  std::stringstream contents;
  contents << file.rdbuf();
  EXPECT_NE(contents.str().find("\"write_key\": \"" + keys->write_key + "\""), std::string::npos)
      << contents.str();

  // Only the file itself is expected in the directory: the temporary file was renamed away.
  size_t entries = 0;
  for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator(data_dir_)) ++entries;
  EXPECT_EQ(entries, 1u) << "a temporary file was left behind";
}

TEST_F(DevKeysTest, SecondCallReturnsTheSameKeys) {
  absl::StatusOr<DevKeys> first = LoadOrCreateDevKeys(data_dir_);
  ASSERT_TRUE(first.ok()) << first.status();
  absl::StatusOr<DevKeys> second = LoadOrCreateDevKeys(data_dir_);
  ASSERT_TRUE(second.ok()) << second.status();

  EXPECT_EQ(second->write_key, first->write_key);
  EXPECT_EQ(second->read_key, first->read_key);
  EXPECT_EQ(second->admin_key, first->admin_key);
}

TEST_F(DevKeysTest, DifferentDirectoriesGetDifferentKeys) {
  absl::StatusOr<DevKeys> first = LoadOrCreateDevKeys((root_ / "one").string());
  absl::StatusOr<DevKeys> second = LoadOrCreateDevKeys((root_ / "two").string());
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_NE(first->write_key, second->write_key);
}

TEST_F(DevKeysTest, FileIsReadableByOwnerOnly) {
  ASSERT_TRUE(LoadOrCreateDevKeys(data_dir_).ok());
  struct stat info {};
  ASSERT_EQ(stat(keys_path_.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600u) << "mode is " << std::oct << (info.st_mode & 0777);
}

TEST_F(DevKeysTest, ReadsAnExistingValidFile) {
  OverwriteKeysFile(R"({"admin_key": "ak_00000000000000000000000000000003",
                        "write_key": "wk_00000000000000000000000000000001",
                        "read_key": "rk_00000000000000000000000000000002"})");
  absl::StatusOr<DevKeys> keys = LoadOrCreateDevKeys(data_dir_);
  ASSERT_TRUE(keys.ok()) << keys.status();
  EXPECT_EQ(keys->write_key, "wk_00000000000000000000000000000001");
  EXPECT_EQ(keys->read_key, "rk_00000000000000000000000000000002");
  EXPECT_EQ(keys->admin_key, "ak_00000000000000000000000000000003");
}

class DamagedDevKeysTest : public DevKeysTest, public testing::WithParamInterface<const char*> {};

TEST_P(DamagedDevKeysTest, IsAnErrorNamingTheFile) {
  OverwriteKeysFile(GetParam());
  absl::StatusOr<DevKeys> keys = LoadOrCreateDevKeys(data_dir_);
  ASSERT_FALSE(keys.ok()) << "accepted: " << GetParam();
  EXPECT_EQ(keys.status().code(), absl::StatusCode::kDataLoss) << keys.status();
  EXPECT_NE(keys.status().message().find(keys_path_), absl::string_view::npos) << keys.status();

  // A damaged file is reported, never silently replaced: clients may hold the old keys.
  std::ifstream file(keys_path_);
  std::stringstream contents;
  contents << file.rdbuf();
  EXPECT_EQ(contents.str(), GetParam());
}

INSTANTIATE_TEST_SUITE_P(
    Damage, DamagedDevKeysTest,
    testing::Values("",                           // Empty (e.g. a crash before this code wrote atomically).
                    R"({"write_key": "wk_0000)",  // Truncated.
                    "[]",                         // Not an object.
                    R"({"write_key": "wk_00000000000000000000000000000001",
                        "read_key": "rk_00000000000000000000000000000002"})",   // Missing admin_key.
                    R"({"write_key": "wk_00000000000000000000000000000001",
                        "read_key": "rk_00000000000000000000000000000002",
                        "admin_key": "ak_0000000000000000000000000000000G"})",  // Not hex.
                    R"({"write_key": "rk_00000000000000000000000000000001",
                        "read_key": "rk_00000000000000000000000000000002",
                        "admin_key": "ak_00000000000000000000000000000003"})",  // Wrong prefix.
                    R"({"write_key": "wk_00000000000000000000000000000001",
                        "read_key": "rk_00000000000000000000000000000002",
                        "admin_key": "ak_00000000000000000000000000000003",
                        "extra": 1})",                                          // Unknown key.
                    R"({"write_key": 1, "read_key": 2, "admin_key": 3})"));     // Not strings.

TEST_F(DevKeysTest, DataDirThatIsAFileIsAnError) {
  std::string file_path = (root_ / "plain_file").string();
  std::ofstream(file_path) << "x";
  absl::StatusOr<DevKeys> keys = LoadOrCreateDevKeys(file_path);
  ASSERT_FALSE(keys.ok());
  EXPECT_NE(keys.status().message().find(file_path), absl::string_view::npos) << keys.status();
}

TEST(ApplyDevKeysTest, AddsOneServerSourceAndTheReadAndAdminKeys) {
  Config config;
  config.read_keys.push_back("rk_existing");
  DevKeys keys{"wk_1", "rk_2", "ak_3"};

  ApplyDevKeys(keys, config);

  ASSERT_EQ(config.sources.size(), 1u);
  EXPECT_EQ(config.sources[0].name, "dev");
  EXPECT_EQ(config.sources[0].write_key, "wk_1");
  EXPECT_EQ(config.sources[0].space, "default");
  EXPECT_EQ(config.sources[0].channel, "server");
  EXPECT_EQ(config.read_keys, (std::vector<std::string>{"rk_existing", "rk_2"}));
  EXPECT_EQ(config.admin_keys, (std::vector<std::string>{"ak_3"}));
}

}  // namespace
}  // namespace tessera::config
