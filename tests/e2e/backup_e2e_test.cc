// Backup and restore, end to end: `tessera backup` while the server is serving and taking events
// (the CLI finds the store locked and asks the server, POST /v1/admin/backup), then `tessera
// restore` into a new data directory, and a server started there answers for every person exactly
// as the original did.

#include <sys/wait.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "tests/e2e/e2e_support.h"

namespace tessera::e2e {
namespace {

using namespace std::chrono_literals;

constexpr int kPeople = 30;

struct Finished {
  int exit_code = -1;
  std::string out;
};

// Runs `tessera <arguments>` to completion (killed after two minutes); stdout and stderr together.
Finished RunTessera(const std::string& scratch_dir, const std::string& arguments) {
  const std::string out = scratch_dir + "/command-output.txt";
  const int status = std::system(("env -u TESSERA_ADMIN_KEY timeout -s KILL 120 " +
                                  std::string(TESSERA_BINARY) + " " + arguments + " > " + out + " 2>&1")
                                     .c_str());
  std::ifstream in(out, std::ios::binary);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1,
          std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>())};
}

long MetricValue(const std::string& page, const std::string& series) {
  const size_t at = page.find(series + " ");
  if (at == std::string::npos) return -1;
  return std::strtol(page.c_str() + at + series.size() + 1, nullptr, 10);
}

std::string PersonBatch(int person) {
  const std::string p = std::to_string(person);
  return R"({"batch":[{"type":"page","anonymousId":"anon-)" + p + R"(","name":"Home","messageId":"page-)" +
         p +
         R"("},)"
         R"({"type":"identify","anonymousId":"anon-)" +
         p + R"(","userId":"user-)" + p + R"(","traits":{"email":"person)" + p +
         R"(@example.com","name":"Person )" + p + R"("},"messageId":"identify-)" + p +
         R"("},)"
         R"({"type":"track","userId":"user-)" +
         p + R"(","event":"Order Completed","properties":{"total":)" + std::to_string(10 + person) +
         R"(},"messageId":"order-)" + p + R"("}]})";
}

std::map<std::string, std::string> Bearer(std::string_view key) {
  return {{"Authorization", "Bearer " + std::string(key)}};
}

TEST(BackupE2eTest, ABackupTakenWhileServingRestoresTheSameProfiles) {
  TempDir temp;
  const std::string original_dir = temp.path() + "/original";
  const std::string restored_dir = temp.path() + "/restored";
  const std::string backup_dir = temp.path() + "/backups";
  auto started = ServerProcess::Start({.data_dir = original_dir});
  ASSERT_TRUE(started.ok()) << started.status();
  std::unique_ptr<ServerProcess> original = std::move(*started);
  HttpClient client(original->port());

  // The people whose profiles are compared, applied by the resolver before the backup.
  for (int person = 0; person < kPeople; ++person) {
    auto response = client.PostJson("/v1/batch", PersonBatch(person), kWriteKey);
    ASSERT_TRUE(response.ok()) << response.status();
    ASSERT_EQ(response->status, 200) << response->body;
  }
  std::string metrics;
  ASSERT_TRUE(WaitFor(
      [&] {
        auto response = client.Request("GET", "/metrics");
        metrics = response.ok() ? response->body : "";
        return MetricValue(metrics, R"(tessera_resolver_position{space="default"})") == 3 * kPeople;
      },
      30s))
      << metrics;

  // Others keep arriving during the backup.
  std::atomic<bool> stop{false};
  std::atomic<int> sent_during_backup{0};
  std::thread ingestion([&] {
    HttpClient writer(original->port());
    for (int person = 1000; !stop.load(); ++person) {
      auto response = writer.PostJson("/v1/batch", PersonBatch(person), kWriteKey);
      if (response.ok() && response->status == 200) sent_during_backup.fetch_add(1);
    }
  });
  ASSERT_TRUE(WaitFor([&] { return sent_during_backup.load() >= 5; }, 30s));

  // The endpoint wants an admin key and an absolute, usable directory.
  const std::string body = R"({"to":")" + backup_dir + R"("})";
  auto no_key = client.Request("POST", "/v1/admin/backup", body);
  ASSERT_TRUE(no_key.ok()) << no_key.status();
  EXPECT_EQ(no_key->status, 401) << no_key->body;
  auto read_key = client.Request("POST", "/v1/admin/backup", body, Bearer(kReadKey));
  ASSERT_TRUE(read_key.ok()) << read_key.status();
  EXPECT_EQ(read_key->status, 403) << read_key->body;
  auto relative = client.Request("POST", "/v1/admin/backup", R"({"to":"backups"})", Bearer(kAdminKey));
  ASSERT_TRUE(relative.ok()) << relative.status();
  EXPECT_EQ(relative->status, 400) << relative->body;
  EXPECT_NE(relative->body.find(R"("field":"to")"), std::string::npos) << relative->body;
  auto inside_store = client.Request("POST", "/v1/admin/backup",
                                     R"({"to":")" + original_dir + R"(/store/b"})", Bearer(kAdminKey));
  ASSERT_TRUE(inside_store.ok()) << inside_store.status();
  EXPECT_EQ(inside_store->status, 400) << inside_store->body;

  // The CLI finds the store locked by the server and asks it; without an admin key it cannot.
  const std::string config = " --config " + original_dir + "/test-config.json --server http://127.0.0.1:" +
                             std::to_string(original->port());
  const Finished keyless = RunTessera(temp.path(), "backup --to " + backup_dir + config);
  EXPECT_EQ(keyless.exit_code, 2) << keyless.out;
  EXPECT_NE(keyless.out.find("admin key"), std::string::npos) << keyless.out;
  const Finished backup = RunTessera(
      temp.path(), "backup --to " + backup_dir + config + " --admin-key " + std::string(kAdminKey));
  ASSERT_EQ(backup.exit_code, 0) << backup.out;
  EXPECT_NE(backup.out.find("backup 1 of "), std::string::npos) << backup.out;
  EXPECT_NE(backup.out.find("verified"), std::string::npos) << backup.out;
  EXPECT_NE(backup.out.find("by the server at"), std::string::npos) << backup.out;

  stop.store(true);
  ingestion.join();
  std::map<int, std::string> answers;
  for (int person = 0; person < kPeople; ++person) {
    auto profile =
        client.Request("GET", "/v1/profiles/user_id:user-" + std::to_string(person), {}, Bearer(kReadKey));
    ASSERT_TRUE(profile.ok()) << profile.status();
    ASSERT_EQ(profile->status, 200) << profile->body;
    answers[person] = profile->body;
  }
  auto stopped = original->Terminate();
  ASSERT_TRUE(stopped.ok()) << stopped.status();

  // Restore into a new data directory; a second restore there is refused.
  const Finished restore =
      RunTessera(temp.path(), "restore --from " + backup_dir + " --data-dir " + restored_dir);
  ASSERT_EQ(restore.exit_code, 0) << restore.out;
  EXPECT_NE(restore.out.find("restored backup 1"), std::string::npos) << restore.out;
  const Finished again =
      RunTessera(temp.path(), "restore --from " + backup_dir + " --data-dir " + restored_dir);
  EXPECT_EQ(again.exit_code, 1) << again.out;
  EXPECT_NE(again.out.find("--force"), std::string::npos) << again.out;

  auto restarted = ServerProcess::Start({.data_dir = restored_dir});
  ASSERT_TRUE(restarted.ok()) << restarted.status();
  HttpClient restored_client((*restarted)->port());
  for (const auto& [person, expected] : answers) {
    std::string got;
    // The restored server may still be applying the tail of the log it was restored with.
    const bool same = WaitFor(
        [&] {
          auto profile = restored_client.Request("GET", "/v1/profiles/user_id:user-" + std::to_string(person),
                                                 {}, Bearer(kReadKey));
          got = profile.ok() ? profile->body : profile.status().ToString();
          return got == expected;
        },
        10s);
    EXPECT_TRUE(same) << "person " << person << " after restore:\n  original: " << expected
                      << "\n  restored: " << got;
  }
  auto terminated = (*restarted)->Terminate();
  ASSERT_TRUE(terminated.ok()) << terminated.status();
  EXPECT_EQ(*terminated, 0);
}

TEST(BackupE2eTest, BadCommandLinesExitWithCode2AndSayWhy) {
  TempDir temp;
  const std::string data = " --data-dir " + temp.path() + "/data";
  const std::pair<std::string, std::string> cases[] = {
      {"backup" + data, "--to DIR is required"},
      {"backup --to " + temp.path() + "/b --server ftp://x" + data, "not a server address"},
      {"restore" + data, "--from DIR is required"},
      {"restore --from " + temp.path() + "/b --backup-id zero" + data, "--backup-id"},
      {"verify --max-differences many" + data, "--max-differences"},
      {"verify --bogus 1" + data, "unknown option --bogus"},
  };
  for (const auto& [arguments, message] : cases) {
    const Finished run = RunTessera(temp.path(), arguments);
    EXPECT_EQ(run.exit_code, 2) << arguments << "\n" << run.out;
    EXPECT_NE(run.out.find(message), std::string::npos) << arguments << "\n" << run.out;
  }
  // No store to back up or verify: a runtime failure that names the place.
  const Finished nothing = RunTessera(temp.path(), "verify" + data);
  EXPECT_EQ(nothing.exit_code, 1) << nothing.out;
  EXPECT_NE(nothing.out.find("no store at"), std::string::npos) << nothing.out;
}

}  // namespace
}  // namespace tessera::e2e
