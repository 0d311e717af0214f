// End-to-end tests of encryption at rest (docs/encryption.md): the real server, with a key file,
// takes events with distinctive emails, phones and names; afterwards no byte of its data directory
// or of a backup holds any of them in any common encoding; the profiles read back with the key,
// and not without it or with a wrong one; a rotation and a rewrap keep everything readable; and a
// converted store, restored backup or altered file behaves as the issue asks.

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "profile_store/store_encryption.h"
#include "tests/e2e/e2e_support.h"
#include "tests/e2e/encryption_support.h"
#include "tests/e2e/log_reader.h"

namespace tessera::e2e {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

// What the customers told us; none of it may be readable on disk.
struct Person {
  std::string user_id;
  std::string email;
  std::string name;
  std::string phone;
};

const std::vector<Person> kPeople = {
    {"u-xylo-1", "Xylophone.Quixotic@Example.org", "Zebulon Quokkaface", "+82 10-9876-5432"},
    {"u-xylo-2", "marzipan.vortex@example.net", "Perpetua Wombatine", "010-2468-1357"},
    {"u-xylo-3", "jabberwock.ostrich@example.com", "Ignatius Flamingoes", "+1 415-555-0199"},
};

// The strings to look for: each value, its lower- and upper-case forms, the normalized forms the
// store keeps, and all of those in UTF-16 (both byte orders).
std::vector<std::string> Needles() {
  std::vector<std::string> plain;
  for (const Person& person : kPeople) {
    for (const std::string& value : {person.email, person.name, person.phone, person.user_id}) plain.push_back(value);
  }
  plain.push_back("+821098765432");  // normalized phones (E.164)
  plain.push_back("+821024681357");
  plain.push_back("Quokkaface");
  plain.push_back("Wombatine");
  std::vector<std::string> needles;
  for (const std::string& value : plain) {
    std::string lower = value;
    std::string upper = value;
    std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
    std::transform(upper.begin(), upper.end(), upper.begin(), [](unsigned char c) { return std::toupper(c); });
    for (const std::string& form : {value, lower, upper}) {
      needles.push_back(form);
      std::string le;
      std::string be;
      for (char c : form) {
        le += c;
        le += '\0';
        be += '\0';
        be += c;
      }
      needles.push_back(le);
      needles.push_back(be);
    }
  }
  return needles;
}

std::string ReadAll(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// "file: needle" for every needle found in a file under `dir` (every byte of every file).
std::vector<std::string> FindNeedles(const std::string& dir, const std::vector<std::string>& needles,
                                     size_t* files_scanned = nullptr) {
  std::vector<std::string> found;
  size_t files = 0;
  for (const auto& entry : fs::recursive_directory_iterator(dir)) {
    if (!entry.is_regular_file()) continue;
    ++files;
    const std::string bytes = ReadAll(entry.path());
    for (const std::string& needle : needles) {
      if (bytes.find(needle) != std::string::npos) found.push_back(entry.path().string() + ": " + needle);
    }
  }
  if (files_scanned != nullptr) *files_scanned = files;
  return found;
}

// Path, size and modification time of every file under `dir`: to show a refused start wrote nothing.
std::map<std::string, std::pair<uintmax_t, fs::file_time_type>> Snapshot(const std::string& dir) {
  std::map<std::string, std::pair<uintmax_t, fs::file_time_type>> files;
  for (const auto& entry : fs::recursive_directory_iterator(dir)) {
    if (entry.is_regular_file()) files[entry.path().string()] = {entry.file_size(), entry.last_write_time()};
  }
  return files;
}

std::map<std::string, std::string> Bearer(std::string_view key) {
  return {{"Authorization", "Bearer " + std::string(key)}};
}

std::string Tessera(const std::string& arguments) { return std::string(TESSERA_BINARY) + " " + arguments; }

class EncryptionE2eTest : public testing::Test {
 protected:
  void SetUp() override {
    key_file_ = temp_.path() + "/master.key";
    const CommandResult generated = RunCommand(temp_.path(), Tessera("keys generate " + key_file_));
    ASSERT_EQ(generated.exit_code, 0) << generated.output;
    struct stat info {};
    ASSERT_EQ(::stat(key_file_.c_str(), &info), 0);
    EXPECT_EQ(info.st_mode & 0777, 0600u) << "keys generate must write the key file with mode 0600";
    key_hex_ = ReadAll(key_file_).substr(0, 64);
    ASSERT_EQ(key_hex_.size(), 64u);
    EXPECT_EQ(generated.output.find(key_hex_), std::string::npos) << "the key itself must never be printed";
  }

  std::string EncryptionMember(const std::string& key_file) const {
    return R"("store":{"sync_writes":true},"encryption":{"key_file":")" + key_file + R"("})";
  }

  std::unique_ptr<ServerProcess> Start(const std::string& data_dir, const std::string& key_file) {
    auto server = ServerProcess::Start({.data_dir = data_dir, .extra_json = EncryptionMember(key_file)});
    EXPECT_TRUE(server.ok()) << server.status();
    return server.ok() ? std::move(*server) : nullptr;
  }

  // Writes the configuration of `data_dir` with `extra_json` (as ServerProcess would) and runs
  // `tessera serve` on it to its end: for starts that must be refused.
  CommandResult Serve(const std::string& data_dir, const std::string& extra_json) {
    auto server = ServerProcess::Start({.data_dir = data_dir, .extra_json = extra_json});
    EXPECT_FALSE(server.ok()) << "the server must not start";
    return RunCommand(temp_.path(), Tessera("serve --config " + data_dir + "/test-config.json"), 60);
  }

  void SendPeople(ServerProcess& server) {
    HttpClient client(server.port(), 10s);
    for (const Person& person : kPeople) {
      const std::string body = R"({"type":"identify","userId":")" + person.user_id + R"(","traits":{"email":")" +
                               person.email + R"(","name":")" + person.name + R"(","phone":")" + person.phone +
                               R"("},"messageId":"id-)" + person.user_id + R"("})";
      auto response = client.PostJson("/v1/identify", body, kWriteKey);
      ASSERT_TRUE(response.ok()) << response.status();
      ASSERT_EQ(response->status, 200) << response->body;
      const std::string track = R"({"type":"track","userId":")" + person.user_id +
                                R"(","event":"Order Completed","properties":{"note":"for )" + person.name +
                                R"("},"messageId":"order-)" + person.user_id + R"("})";
      response = client.PostJson("/v1/track", track, kWriteKey);
      ASSERT_TRUE(response.ok()) << response.status();
      ASSERT_EQ(response->status, 200) << response->body;
    }
  }

  // An encrypted server on `data_dir` that took the people's events and resolved them, stopped.
  void RunWithPeople(const std::string& data_dir) {
    auto server = Start(data_dir, key_file_);
    ASSERT_NE(server, nullptr);
    SendPeople(*server);
    ExpectProfiles(*server);
    auto stopped = server->Terminate();
    ASSERT_TRUE(stopped.ok()) << stopped.status();
  }

  // Waits until every person's profile is found by email, with their name in it.
  void ExpectProfiles(ServerProcess& server) {
    HttpClient client(server.port(), 10s);
    for (const Person& person : kPeople) {
      std::string email = person.email;
      std::transform(email.begin(), email.end(), email.begin(), [](unsigned char c) { return std::tolower(c); });
      const std::string target = "/v1/profiles/email:" + email.replace(email.find('@'), 1, "%40");
      std::string last;
      const bool found = WaitFor(
          [&] {
            auto response = client.Request("GET", target, {}, Bearer(kReadKey));
            last = response.ok() ? response->body : std::string(response.status().message());
            return response.ok() && response->status == 200 && response->body.find(person.name) != std::string::npos;
          },
          20s);
      EXPECT_TRUE(found) << person.email << " not found with the key: " << last;
    }
  }

  TempDir temp_;
  std::string key_file_;
  std::string key_hex_;
};

TEST_F(EncryptionE2eTest, NoCustomerStringIsReadableInTheDataDirectoryOrABackupAndTheKeyReadsThemBack) {
  const std::string data_dir = temp_.path() + "/data";
  const std::string backup_dir = temp_.path() + "/backups";
  auto server = Start(data_dir, key_file_);
  ASSERT_NE(server, nullptr);
  SendPeople(*server);
  ExpectProfiles(*server);
  {
    HttpClient client(server->port(), 30s);
    auto backup = client.Request("POST", "/v1/admin/backup", R"({"to":")" + backup_dir + R"("})", Bearer(kAdminKey));
    ASSERT_TRUE(backup.ok()) << backup.status();
    ASSERT_EQ(backup->status, 200) << backup->body;
    auto metrics = client.Request("GET", "/metrics", {}, Bearer(kAdminKey));
    ASSERT_TRUE(metrics.ok()) << metrics.status();
    EXPECT_EQ(metrics->body.find(key_hex_), std::string::npos) << "the key must not appear in metrics";
  }
  auto stopped = server->Terminate();
  ASSERT_TRUE(stopped.ok()) << stopped.status();
  EXPECT_EQ(*stopped, 0) << server->Output();
  EXPECT_NE(server->Output().find("encryption at rest: on"), std::string::npos) << server->Output();
  EXPECT_EQ(server->Output().find(key_hex_), std::string::npos) << "the key must never be logged";

  const std::vector<std::string> needles = Needles();
  size_t data_files = 0;
  size_t backup_files = 0;
  const std::vector<std::string> in_data = FindNeedles(data_dir + "/store", needles, &data_files);
  const std::vector<std::string> in_backup = FindNeedles(backup_dir, needles, &backup_files);
  EXPECT_GT(data_files, 5u);
  EXPECT_GT(backup_files, 5u);
  for (const std::string& hit : in_data) ADD_FAILURE() << "readable in the data directory: " << hit;
  for (const std::string& hit : in_backup) ADD_FAILURE() << "readable in a backup: " << hit;
  EXPECT_TRUE(FindNeedles(data_dir, {key_hex_}).empty()) << "the key must not be stored in the data directory";

  // The scan can find what it looks for: the same store decrypted (a copy) shows the emails.
  const std::string copy_dir = temp_.path() + "/copy";
  fs::copy(data_dir, copy_dir, fs::copy_options::recursive);
  {
    std::string config = ReadAll(data_dir + "/test-config.json");
    config.replace(config.find(data_dir), data_dir.size(), copy_dir);
    std::ofstream(copy_dir + "/test-config.json", std::ios::trunc) << config;
  }
  const CommandResult decrypted = RunCommand(temp_.path(), Tessera("decrypt --config " + copy_dir + "/test-config.json"));
  ASSERT_EQ(decrypted.exit_code, 0) << decrypted.output;
  EXPECT_FALSE(FindNeedles(copy_dir + "/store", needles).empty())
      << "the plain copy must show the strings the encrypted store hides (else the scan proves nothing)";

  // With the key the profiles are all there, and every command reads the store with it.
  auto restarted = Start(data_dir, key_file_);
  ASSERT_NE(restarted, nullptr);
  ExpectProfiles(*restarted);
  ASSERT_TRUE(restarted->Terminate().ok());
  const CommandResult log = RunCommand(temp_.path(), Tessera("log --config " + data_dir + "/test-config.json"));
  ASSERT_EQ(log.exit_code, 0) << log.output;
  EXPECT_NE(log.output.find(kPeople[0].user_id), std::string::npos) << log.output;
  const CommandResult verify = RunCommand(temp_.path(), Tessera("verify --config " + data_dir + "/test-config.json"));
  EXPECT_EQ(verify.exit_code, 0) << verify.output;

  // A backup restored on another machine (a fresh data directory) works with the key file...
  const std::string other_dir = temp_.path() + "/other";
  auto configured = ServerProcess::Start({.data_dir = other_dir, .extra_json = EncryptionMember(key_file_)});
  ASSERT_TRUE(configured.ok()) << configured.status();
  ASSERT_TRUE((*configured)->Terminate().ok());
  fs::remove_all(other_dir + "/store");
  const CommandResult restored = RunCommand(
      temp_.path(), Tessera("restore --from " + backup_dir + " --config " + other_dir + "/test-config.json"));
  ASSERT_EQ(restored.exit_code, 0) << restored.output;
  auto on_other = Start(other_dir, key_file_);
  ASSERT_NE(on_other, nullptr);
  ExpectProfiles(*on_other);
  ASSERT_TRUE(on_other->Terminate().ok());
  // ...and not without it.
  const std::string keyless_dir = temp_.path() + "/keyless";
  auto keyless = ServerProcess::Start({.data_dir = keyless_dir});
  ASSERT_TRUE(keyless.ok()) << keyless.status();
  ASSERT_TRUE((*keyless)->Terminate().ok());
  fs::remove_all(keyless_dir + "/store");
  const CommandResult refused = RunCommand(
      temp_.path(), Tessera("restore --from " + backup_dir + " --config " + keyless_dir + "/test-config.json"));
  EXPECT_EQ(refused.exit_code, 2) << refused.output;
  EXPECT_NE(refused.output.find("encrypted"), std::string::npos) << refused.output;
  EXPECT_FALSE(fs::exists(keyless_dir + "/store/CURRENT")) << "a refused restore must not leave a store";
}

TEST_F(EncryptionE2eTest, AMissingWrongOrExposedKeyOrAnAlteredFileStopsTheStartWithExitTwoNamingTheFile) {
  const std::string data_dir = temp_.path() + "/data";
  ASSERT_NO_FATAL_FAILURE(RunWithPeople(data_dir));
  const auto before = Snapshot(data_dir + "/store");

  // A wrong key.
  const std::string wrong_key = temp_.path() + "/wrong.key";
  WriteKeyFile(wrong_key, "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\n");
  CommandResult result = Serve(data_dir, EncryptionMember(wrong_key));
  EXPECT_EQ(result.exit_code, 2) << result.output;
  EXPECT_NE(result.output.find("file " + data_dir + "/store/"), std::string::npos) << result.output;
  EXPECT_NE(result.output.find("needs master key"), std::string::npos) << result.output;
  EXPECT_EQ(result.output.find(key_hex_), std::string::npos) << result.output;
  EXPECT_EQ(result.output.find("00112233445566778899aabbccddeeff"), std::string::npos) << result.output;

  // No key at all.
  result = Serve(data_dir, R"("store":{"sync_writes":true})");
  EXPECT_EQ(result.exit_code, 2) << result.output;
  EXPECT_NE(result.output.find("is encrypted"), std::string::npos) << result.output;

  // A key file others can read.
  ASSERT_EQ(::chmod(key_file_.c_str(), 0644), 0);
  result = Serve(data_dir, EncryptionMember(key_file_));
  EXPECT_EQ(result.exit_code, 2) << result.output;
  EXPECT_NE(result.output.find(key_file_), std::string::npos) << result.output;
  EXPECT_NE(result.output.find("chmod 600"), std::string::npos) << result.output;
  ASSERT_EQ(::chmod(key_file_.c_str(), 0600), 0);

  // A key from an environment variable that is not set.
  result = Serve(data_dir, R"("encryption":{"key_env":"TESSERA_TEST_UNSET_KEY_VARIABLE"})");
  EXPECT_EQ(result.exit_code, 2) << result.output;
  EXPECT_NE(result.output.find("TESSERA_TEST_UNSET_KEY_VARIABLE"), std::string::npos) << result.output;

  EXPECT_EQ(Snapshot(data_dir + "/store"), before) << "a refused start must not write to the store";

  // One altered byte in the file that lists the store's files (read at every start).
  std::string manifest_path;
  for (const auto& entry : fs::directory_iterator(data_dir + "/store")) {
    if (entry.path().filename().string().starts_with("MANIFEST-")) manifest_path = entry.path().string();
  }
  ASSERT_FALSE(manifest_path.empty());
  {
    std::fstream file(manifest_path, std::ios::in | std::ios::out | std::ios::binary);
    file.seekg(4096 + 40);
    char byte = 0;
    file.get(byte);
    file.seekp(4096 + 40);
    file.put(static_cast<char>(byte ^ 0x20));
  }
  result = Serve(data_dir, EncryptionMember(key_file_));
  EXPECT_EQ(result.exit_code, 2) << result.output;
  EXPECT_NE(result.output.find(manifest_path), std::string::npos) << result.output;
  EXPECT_NE(result.output.find("fails authentication"), std::string::npos) << result.output;
}

TEST_F(EncryptionE2eTest, AfterARotationAndARewrapEverythingReadsBackWithTheNewKeyAlone) {
  const std::string data_dir = temp_.path() + "/data";
  ASSERT_NO_FATAL_FAILURE(RunWithPeople(data_dir));
  const std::string config = data_dir + "/test-config.json";

  const CommandResult rotated = RunCommand(temp_.path(), Tessera("keys rotate --config " + config));
  ASSERT_EQ(rotated.exit_code, 0) << rotated.output;
  const std::string keys = ReadAll(key_file_);
  ASSERT_NE(keys.find(key_hex_), std::string::npos) << "the old key stays in the file after a rotation";

  // Both keys loaded: the old files read with the old key, new files are written with the new one.
  auto after_rotation = Start(data_dir, key_file_);
  ASSERT_NE(after_rotation, nullptr);
  ExpectProfiles(*after_rotation);
  EXPECT_NE(after_rotation->Output().find("(current)"), std::string::npos) << after_rotation->Output();
  {
    HttpClient client(after_rotation->port(), 10s);
    auto response = client.PostJson(
        "/v1/identify", R"({"type":"identify","userId":"u-after","traits":{"email":"after.rotation@example.com"}})",
        kWriteKey);
    ASSERT_TRUE(response.ok()) << response.status();
    EXPECT_EQ(response->status, 200) << response->body;
  }
  ASSERT_TRUE(after_rotation->Terminate().ok());

  const CommandResult rewrapped = RunCommand(temp_.path(), Tessera("keys rewrap --config " + config));
  ASSERT_EQ(rewrapped.exit_code, 0) << rewrapped.output;
  const CommandResult status = RunCommand(temp_.path(), Tessera("keys status --config " + config));
  ASSERT_EQ(status.exit_code, 0) << status.output;
  EXPECT_EQ(status.output.find(key_hex_), std::string::npos) << status.output;

  // Only the new key in the file now: everything still reads back.
  std::string new_key;
  for (size_t at = 0; at + 64 <= keys.size();) {
    const size_t end = keys.find('\n', at);
    const std::string line = keys.substr(at, end == std::string::npos ? std::string::npos : end - at);
    if (line.size() == 64 && line != key_hex_ && new_key.empty()) new_key = line;
    if (end == std::string::npos) break;
    at = end + 1;
  }
  ASSERT_EQ(new_key.size(), 64u) << keys.size();
  WriteKeyFile(key_file_, new_key + "\n");
  auto with_new_key = Start(data_dir, key_file_);
  ASSERT_NE(with_new_key, nullptr);
  ExpectProfiles(*with_new_key);
  ASSERT_TRUE(with_new_key->Terminate().ok());

  // The old key alone no longer opens the store.
  const std::string old_key_file = temp_.path() + "/old.key";
  WriteKeyFile(old_key_file, key_hex_ + "\n");
  const CommandResult refused = Serve(data_dir, EncryptionMember(old_key_file));
  EXPECT_EQ(refused.exit_code, 2) << refused.output;
}

TEST_F(EncryptionE2eTest, APlainStoreIsConvertedInPlaceAndBackAndExportsAreOwnerOnly) {
  const std::string data_dir = temp_.path() + "/data";
  {
    auto plain = ServerProcess::Start({.data_dir = data_dir, .extra_json = R"("store":{"sync_writes":true})"});
    ASSERT_TRUE(plain.ok()) << plain.status();
    SendPeople(**plain);
    ExpectProfiles(**plain);
    ASSERT_TRUE((*plain)->Terminate().ok());
  }
  EXPECT_FALSE(FindNeedles(data_dir + "/store", Needles()).empty()) << "a plain store shows its strings";

  // Encryption configured on a plain store: refused until it is converted.
  CommandResult result = Serve(data_dir, EncryptionMember(key_file_));
  EXPECT_EQ(result.exit_code, 2) << result.output;
  EXPECT_NE(result.output.find("tessera encrypt"), std::string::npos) << result.output;

  const std::string config = data_dir + "/test-config.json";
  result = RunCommand(temp_.path(), Tessera("encrypt --config " + config));
  ASSERT_EQ(result.exit_code, 0) << result.output;
  EXPECT_TRUE(FindNeedles(data_dir + "/store", Needles()).empty()) << "the converted store must hide its strings";
  EXPECT_FALSE(fs::exists(data_dir + "/store.converting")) << "the old plain copy must be gone";
  auto encrypted = Start(data_dir, key_file_);
  ASSERT_NE(encrypted, nullptr);
  ExpectProfiles(*encrypted);
  ASSERT_TRUE(encrypted->Terminate().ok());

  // Exports stay plain (they go to data teams) but only the owner may read them.
  {
    std::string definitions = R"("store":{"sync_writes":true},"encryption":{"key_file":")" + key_file_ +
                              R"("},"audiences":[{"name":"everyone","condition":{"event":"Order Completed"}}])";
    auto with_audience = ServerProcess::Start({.data_dir = data_dir, .extra_json = definitions});
    ASSERT_TRUE(with_audience.ok()) << with_audience.status();
    ASSERT_TRUE((*with_audience)->Terminate().ok());
  }
  const std::string export_file = temp_.path() + "/everyone.csv";
  result = RunCommand(temp_.path(), Tessera("export everyone --config " + config + " --out " + export_file));
  ASSERT_EQ(result.exit_code, 0) << result.output;
  struct stat info {};
  ASSERT_EQ(::stat(export_file.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600u) << "an export is created for its owner only";

  // And back to plain.
  result = RunCommand(temp_.path(), Tessera("decrypt --config " + config));
  ASSERT_EQ(result.exit_code, 0) << result.output;
  auto plain_again = ServerProcess::Start({.data_dir = data_dir, .extra_json = R"("store":{"sync_writes":true})"});
  ASSERT_TRUE(plain_again.ok()) << plain_again.status();
  ExpectProfiles(**plain_again);
  ASSERT_TRUE((*plain_again)->Terminate().ok());
}

TEST_F(EncryptionE2eTest, AKillNineAnywhereInAConversionLeavesTheOldStoreOrTheNewOneWhole) {
  const std::string data_dir = temp_.path() + "/data";
  const std::string test_key = temp_.path() + "/test.key";
  WriteKeyFile(test_key, std::string(kTestMasterKeyHex) + "\n");
  {
    auto plain = ServerProcess::Start({.data_dir = data_dir, .extra_json = R"("store":{"sync_writes":true})"});
    ASSERT_TRUE(plain.ok()) << plain.status();
    SendPeople(**plain);
    ExpectProfiles(**plain);
    ASSERT_TRUE((*plain)->Terminate().ok());
  }
  // The commands take the keys from a configuration with the encryption section.
  auto configured =
      ServerProcess::Start({.data_dir = temp_.path() + "/unused", .extra_json = EncryptionMember(test_key)});
  ASSERT_TRUE(configured.ok()) << configured.status();
  ASSERT_TRUE((*configured)->Terminate().ok());
  std::string config = ReadAll(temp_.path() + "/unused/test-config.json");
  config.replace(config.find(temp_.path() + "/unused"), (temp_.path() + "/unused").size(), data_dir);
  const std::string config_path = temp_.path() + "/convert.json";
  std::ofstream(config_path, std::ios::trunc) << config;

  const size_t events = ReadLog(data_dir).size();
  ASSERT_EQ(events, 2 * kPeople.size());
  // How long a whole conversion takes here, there and back: the kills are spread over that time.
  const auto start = std::chrono::steady_clock::now();
  CommandResult whole = RunCommand(temp_.path(), Tessera("encrypt --config " + config_path));
  ASSERT_EQ(whole.exit_code, 0) << whole.output;
  whole = RunCommand(temp_.path(), Tessera("decrypt --config " + config_path));
  ASSERT_EQ(whole.exit_code, 0) << whole.output;
  const auto one_way = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start) / 2;
  int converted = 0;
  int interrupted = 0;
  bool encrypted = false;
  // Sixteen kills spread over about two conversions' time; then, if the machine was slower than
  // when it was measured and no conversion got to its swap, kills ever later until one does.
  int attempts = 0;
  for (int attempt = 0; attempt < 40 && (attempt < 16 || converted == 0 || interrupted == 0); ++attempt) {
    ++attempts;
    const pid_t child = fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      const int null_fd = ::open("/dev/null", O_WRONLY);
      ::dup2(null_fd, STDOUT_FILENO);
      ::dup2(null_fd, STDERR_FILENO);
      ::execl(TESSERA_BINARY, TESSERA_BINARY, encrypted ? "decrypt" : "encrypt", "--config", config_path.c_str(),
              static_cast<char*>(nullptr));
      ::_exit(127);
    }
    // From at once (before the command even runs) to about two whole conversions, then doubling.
    std::this_thread::sleep_for(attempt < 16 ? one_way * attempt / 8 : one_way * (1 << std::min(attempt - 14, 10)));
    ::kill(child, SIGKILL);
    int status = 0;
    ::waitpid(child, &status, 0);
    const bool finished = WIFEXITED(status);
    EXPECT_TRUE(!finished || WEXITSTATUS(status) == 0) << "attempt " << attempt << ": exit " << WEXITSTATUS(status);

    // Whatever the moment, the store is wholly plain or wholly encrypted, and holds every event.
    auto census = profile_store::TakeEncryptionCensus(data_dir + "/store");
    ASSERT_TRUE(census.ok()) << census.status();
    ASSERT_TRUE(census->plain_files == 0 || census->encrypted_files == 0)
        << "attempt " << attempt << ": a half-converted store (" << census->a_plain_file << " is plain, "
        << census->an_encrypted_file << " is not)";
    const bool now_encrypted = census->encrypted_files > 0;
    (now_encrypted != encrypted ? converted : interrupted)++;
    encrypted = now_encrypted;
    EXPECT_EQ(ReadLog(data_dir, encrypted ? TestKeyRing() : nullptr).size(), events) << "attempt " << attempt;
    EXPECT_FALSE(fs::exists(data_dir + "/store.converting")) << "opening the store removes what the kill left";
  }
  std::cout << "[ info ] " << attempts << " conversions killed (a whole one took " << one_way.count()
            << " ms): " << converted << " had swapped the new store in, " << interrupted << " left the old one\n";
  EXPECT_GT(interrupted, 0) << "no kill came before a swap: the test did not test the interrupted case";
  EXPECT_GT(converted, 0) << "no conversion finished: the test did not test the finished case";
}

}  // namespace
}  // namespace tessera::e2e
