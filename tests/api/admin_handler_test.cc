// The admin endpoint POST /v1/admin/backup: only an admin key may ask, only for an absolute,
// usable directory, and a successful answer describes a verified backup of the live store.

#include "api/admin_handler.h"

#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <future>
#include <memory>
#include <string>

#include "config/config.h"
#include "profile_store/backup.h"
#include "profile_store/store.h"
#include "tests/support/temp_dir.h"

namespace tessera::api {
namespace {

using namespace std::chrono_literals;

bool Contains(const std::string& text, std::string_view part) { return text.find(part) != std::string::npos; }

class AdminHandlerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    config_.sources = {{.name = "website", .write_key = "wk", .space = "default", .channel = "web"}};
    config_.read_keys = {"rk"};
    config_.admin_keys = {"ak"};
    keys_ = std::make_unique<KeyRegistry>(config_);
    auto store = profile_store::Store::Open({.path = dir_.path() + "/store"});
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
    rocksdb::WriteBatch batch;
    batch.Put(store_->handle(profile_store::ColumnFamily::kLog), std::string("default\0\1", 9), "{}");
    ASSERT_TRUE(store_->WriteIntake(batch).ok());
    handler_ = std::make_unique<AdminHandler>(*keys_, *store_);
  }

  // Calls the handler and waits for its reply, which may come from the backup thread.
  HttpReply Call(std::string_view body, std::string_view authorization = "Bearer ak") {
    std::promise<HttpReply> promise;
    std::future<HttpReply> reply = promise.get_future();
    handler_->Handle(AdminRequest{.authorization = authorization, .body = body},
                     [&promise](HttpReply answer) { promise.set_value(std::move(answer)); });
    EXPECT_EQ(reply.wait_for(60s), std::future_status::ready) << "no reply within 60 s";
    return reply.get();
  }

  std::string To(const std::string& dir) { return R"({"to":")" + dir + R"("})"; }

  tessera::testing::ScopedTempDir dir_;
  config::Config config_;
  std::unique_ptr<KeyRegistry> keys_;
  std::unique_ptr<profile_store::Store> store_;
  std::unique_ptr<AdminHandler> handler_;
};

TEST_F(AdminHandlerTest, OnlyAnAdminKeyMayAskForABackup) {
  const std::string body = To(dir_.path() + "/backups");
  EXPECT_EQ(Call(body, "").status, 401);
  EXPECT_EQ(Call(body, "Bearer nobody").status, 401);
  const HttpReply read = Call(body, "Bearer rk");
  EXPECT_EQ(read.status, 403) << read.body;
  EXPECT_TRUE(Contains(read.body, "read key")) << read.body;
  EXPECT_EQ(Call(body, "Bearer wk").status, 403);
  EXPECT_FALSE(profile_store::VerifyBackup(dir_.path() + "/backups").ok())
      << "nothing may have been backed up";
}

TEST_F(AdminHandlerTest, TheDirectoryMustBeAbsoluteAndUsable) {
  const HttpReply not_json = Call("{to:");
  EXPECT_EQ(not_json.status, 400);
  EXPECT_TRUE(Contains(not_json.body, "invalid_json")) << not_json.body;
  for (const std::string& body :
       {std::string("{}"), std::string(R"({"to":7})"), To("relative/dir"), To("")}) {
    const HttpReply reply = Call(body);
    EXPECT_EQ(reply.status, 400) << body << " -> " << reply.body;
    EXPECT_TRUE(Contains(reply.body, R"("field":"to")")) << reply.body;
  }
  std::ofstream(dir_.path() + "/a-file") << "x";
  const HttpReply file = Call(To(dir_.path() + "/a-file"));
  EXPECT_EQ(file.status, 400) << file.body;
  EXPECT_TRUE(Contains(file.body, "not a directory")) << file.body;
  EXPECT_EQ(Call(To(dir_.path() + "/store/inside")).status, 400);
}

TEST_F(AdminHandlerTest, ABackupIsDescribedAndVerified) {
  const std::string backups = dir_.path() + "/backups";
  const HttpReply first = Call(To(backups));
  ASSERT_EQ(first.status, 200) << first.body;
  EXPECT_TRUE(Contains(first.body, R"("backupId":1,)")) << first.body;
  EXPECT_TRUE(Contains(first.body, R"("directory":")" + backups + R"(")")) << first.body;
  EXPECT_TRUE(Contains(first.body, R"("verified":true)")) << first.body;
  const HttpReply second = Call(To(backups));
  ASSERT_EQ(second.status, 200) << second.body;
  EXPECT_TRUE(Contains(second.body, R"("backupId":2,)")) << second.body;
  EXPECT_TRUE(Contains(second.body, R"("backups":2,)")) << second.body;
  absl::StatusOr<profile_store::BackupSummary> verified = profile_store::VerifyBackup(backups);
  ASSERT_TRUE(verified.ok()) << verified.status();
  EXPECT_EQ(verified->backup_id, 2u);
}

}  // namespace
}  // namespace tessera::api
