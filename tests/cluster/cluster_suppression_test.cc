#include "cluster/cluster_suppression.h"

#include <gtest/gtest.h>

#include <memory>

#include "cluster/nats_connection.h"
#include "tests/cluster/nats_test_cluster.h"
#include "tests/support/temp_dir.h"

namespace tessera::cluster {
namespace {

using std::chrono::seconds;

class ClusterSuppressionTest : public testing::NatsClusterTest {
 protected:
  void SetUp() override {
    NatsClusterTest::SetUp();
    if (HasFatalFailure()) return;
    for (auto* store : {&store_a_, &store_b_}) {
      auto opened = profile_store::Store::Open(
          {.path = (store == &store_a_ ? dir_a_ : dir_b_).path(), .sync_writes = false});
      ASSERT_TRUE(opened.ok()) << opened.status();
      *store = *std::move(opened);
    }
  }

  // A member's list in this test's own bucket.
  std::unique_ptr<ClusterSuppression> Member(profile_store::Store& store) {
    const std::string bucket =
        std::string("suppression_") + ::testing::UnitTest::GetInstance()->current_test_info()->name();
    auto member = std::make_unique<ClusterSuppression>(*nats_, store, ClusterSuppressionOptions{.bucket = bucket});
    member->Start();
    return member;
  }

  testing::ScopedTempDir dir_a_;
  testing::ScopedTempDir dir_b_;
  std::unique_ptr<profile_store::Store> store_a_;
  std::unique_ptr<profile_store::Store> store_b_;
};

const identity::Identifier kAda{"email", "ada@example.com"};
const identity::Identifier kAdaUser{"user_id", "u-ada"};

TEST_F(ClusterSuppressionTest, MembersShareOneSaltAndSeeEachOthersAdditions) {
  // Started together, as a cluster's members often are: they make the bucket at the same moment.
  auto a = Member(*store_a_);
  auto b = Member(*store_b_);
  ASSERT_TRUE(a->WaitLoaded(std::chrono::seconds(30)));
  ASSERT_TRUE(b->WaitLoaded(std::chrono::seconds(30)));
  EXPECT_TRUE(a->list()->Empty());

  ASSERT_TRUE(a->Suppress("default", {kAda, kAdaUser}, "er_1").ok());
  EXPECT_TRUE(a->list()->Contains("default", "email", "ada@example.com")) << "at once in the member's own copy";
  EXPECT_TRUE(testing::WaitUntil([&] { return b->list()->Contains("default", "user_id", "u-ada"); }, seconds(10)))
      << "in the other member's within the watcher's delivery";
  EXPECT_TRUE(b->list()->Contains("default", "email", "ada@example.com"));
  EXPECT_FALSE(b->list()->Contains("shop", "email", "ada@example.com")) << "spaces are kept apart";
  EXPECT_FALSE(b->list()->Contains("default", "email", "bob@example.com"));

  // Keys that are not h.<hex>.<hex> (written by something else) are passed over, and what follows
  // them still arrives.
  const std::string bucket =
      std::string("suppression_") + ::testing::UnitTest::GetInstance()->current_test_info()->name();
  for (const char* foreign : {"h.zz.11", "h.64656661756c74.xyz", "h.64656661756c74"}) {
    const std::string subject = "$KV." + bucket + "." + foreign;
    ASSERT_EQ(js_Publish(nullptr, nats_->jetstream(), subject.c_str(), "er_x", 4, nullptr, nullptr), NATS_OK) << foreign;
  }
  const size_t before = b->list()->size();
  ASSERT_TRUE(a->Suppress("default", {{"email", "eve@example.com"}}, "er_3").ok());
  EXPECT_TRUE(testing::WaitUntil([&] { return b->list()->Contains("default", "email", "eve@example.com"); }, seconds(10)));
  EXPECT_EQ(b->list()->size(), before + 1) << "nothing of the foreign keys was taken";

  // One starting later reads everything there is before its list is given out.
  auto c = Member(*store_b_);
  ASSERT_TRUE(c->WaitLoaded(std::chrono::seconds(20)));
  EXPECT_TRUE(c->list()->Contains("default", "user_id", "u-ada"));
  EXPECT_TRUE(c->list()->Contains("default", "email", "ada@example.com"));
  // An addition by one that has stopped watching still reaches the others.
  c->Stop();
  ASSERT_TRUE(c->Suppress("shop", {kAda}, "er_2").ok());
  EXPECT_TRUE(testing::WaitUntil([&] { return a->list()->Contains("shop", "email", "ada@example.com"); }, seconds(10)));
}

TEST_F(ClusterSuppressionTest, TheScrubMarkOnlyRisesWithinOneStream) {
  auto a = Member(*store_a_);
  ASSERT_TRUE(a->WaitLoaded(std::chrono::seconds(30)));
  auto mark = a->ScrubbedThrough("default");
  ASSERT_TRUE(mark.ok()) << mark.status();
  EXPECT_EQ(mark->sequence, 0u) << "never scrubbed";
  ASSERT_TRUE(a->RaiseScrubbedThrough("default", {.sequence = 5, .stream_created_ns = 100}).ok());
  ASSERT_TRUE(a->RaiseScrubbedThrough("default", {.sequence = 3, .stream_created_ns = 100}).ok());
  EXPECT_EQ(a->ScrubbedThrough("default")->sequence, 5u) << "never lowered";
  EXPECT_EQ(a->ScrubbedThrough("shop")->sequence, 0u) << "per space";
  // The stream made anew: its mark starts again.
  ASSERT_TRUE(a->RaiseScrubbedThrough("default", {.sequence = 2, .stream_created_ns = 200}).ok());
  mark = a->ScrubbedThrough("default");
  EXPECT_EQ(mark->sequence, 2u);
  EXPECT_EQ(mark->stream_created_ns, 200);
}

TEST(ClusterSuppressionUnreachableTest, WithoutNatsThereIsNoListAndNothingCanBeSuppressed) {
  testing::ScopedTempDir dir;
  auto store = profile_store::Store::Open({.path = dir.path(), .sync_writes = false});
  ASSERT_TRUE(store.ok()) << store.status();
  // A port nothing listens on (the first of a range the tests never bind).
  auto nats = NatsConnection::Connect({.urls = {"nats://127.0.0.1:1"}, .connect_timeout = std::chrono::milliseconds(200)});
  ASSERT_TRUE(nats.ok()) << nats.status();
  ClusterSuppression member(**nats, **store, {.retry_wait = std::chrono::milliseconds(100)});
  member.Start();
  EXPECT_FALSE(member.WaitLoaded(std::chrono::milliseconds(500)));
  EXPECT_EQ(member.list(), nullptr);
  absl::Status status = member.Suppress("default", {kAda}, "er_1");
  EXPECT_TRUE(absl::IsUnavailable(status)) << status;
}

}  // namespace
}  // namespace tessera::cluster
