#include "cluster/space_applier.h"

#include <gtest/gtest.h>

#include <thread>

#include "absl/strings/str_cat.h"
#include "cluster/event_stream.h"
#include "cluster/member_registry.h"
#include "tests/cluster/nats_test_cluster.h"
#include "tests/support/temp_dir.h"

namespace tessera::cluster {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

// One resolver process's store, log writer and applier for a space.
struct Resolver {
  Resolver(NatsConnection& nats, SpaceLeases& leases, const std::string& path, const std::string& space,
           const std::string& name) {
    auto opened = profile_store::Store::Open({.path = path, .sync_writes = false});
    EXPECT_TRUE(opened.ok()) << opened.status();
    store = *std::move(opened);
    writer = std::make_unique<ingest::GroupCommitWriter>(*store, ingest::GroupCommitOptions{}, metrics);
    EXPECT_TRUE(writer->Start().ok());
    applier = std::make_unique<SpaceApplier>(
        nats, *writer, *store, &leases,
        SpaceApplierOptions{.space = space, .member = name, .follower = {.fetch_wait = milliseconds(200)}});
    EXPECT_TRUE(applier->Start().ok());
  }
  ~Resolver() {
    applier->Stop();
    writer->Stop();
  }
  ingest::IngestMetrics metrics;
  std::unique_ptr<profile_store::Store> store;
  std::unique_ptr<ingest::GroupCommitWriter> writer;
  std::unique_ptr<SpaceApplier> applier;
};

class SpaceApplierTest : public testing::NatsClusterTest {};

TEST_F(SpaceApplierTest, OneOfTwoResolversHoldsTheLeaseAndTheStandbyTakesOverWhileBothFollow) {
  const std::string space = "applier_failover";
  EventStream stream(*nats_, {.replicas = 3});
  ASSERT_TRUE(stream.Ensure(space).ok());
  for (int i = 1; i <= 5; ++i) {
    ASSERT_TRUE(stream.Publish(space, absl::StrCat("m", i), absl::StrCat("record ", i), seconds(10)).ok());
  }
  auto leases = SpaceLeases::Open(*nats_, {.ttl = seconds(2), .bucket = "applier_leases"});
  ASSERT_TRUE(leases.ok()) << leases.status();
  tessera::testing::ScopedTempDir dir_a, dir_b;
  auto a = std::make_unique<Resolver>(*nats_, **leases, dir_a.path(), space, "resolver-a");
  Resolver b(*nats_, **leases, dir_b.path(), space, "resolver-b");

  ASSERT_TRUE(testing::WaitUntil([&] { return a->applier->lease_held() || b.applier->lease_held(); }));
  // Never both, sampled for a while; both copy everything either way.
  for (int i = 0; i < 50; ++i) {
    EXPECT_FALSE(a->applier->lease_held() && b.applier->lease_held());
    std::this_thread::sleep_for(milliseconds(20));
  }
  ASSERT_TRUE(testing::WaitUntil([&] { return a->applier->follower().copied() == 5 && b.applier->follower().copied() == 5; }));
  Resolver* holder = a->applier->lease_held() ? a.get() : &b;
  Resolver* standby = holder == a.get() ? &b : a.get();
  EXPECT_GT(holder->applier->fencing_token(), 0u);
  EXPECT_EQ(standby->applier->fencing_token(), 0u);
  const uint64_t first_token = holder->applier->fencing_token();

  // The holder stops (releasing); the standby takes the lease with a newer token and continues.
  if (holder == a.get()) {
    a.reset();
  } else {
    b.applier->Stop();
  }
  Resolver& remaining = holder == a.get() || a == nullptr ? b : *a;
  ASSERT_TRUE(testing::WaitUntil([&] { return remaining.applier->lease_held(); }));
  EXPECT_GT(remaining.applier->fencing_token(), first_token);
  ASSERT_TRUE(stream.Publish(space, "m6", "record 6", seconds(10)).ok());
  EXPECT_TRUE(testing::WaitUntil([&] { return remaining.applier->follower().copied() == 6; }));
}

TEST_F(SpaceApplierTest, AReplicaFollowsWithoutEverTakingTheLease) {
  const std::string space = "applier_replica";
  EventStream stream(*nats_, {.replicas = 3});
  ASSERT_TRUE(stream.Ensure(space).ok());
  ASSERT_TRUE(stream.Publish(space, "m1", "record 1", seconds(10)).ok());
  tessera::testing::ScopedTempDir dir;
  auto store = profile_store::Store::Open({.path = dir.path(), .sync_writes = false});
  ASSERT_TRUE(store.ok());
  ingest::IngestMetrics metrics;
  ingest::GroupCommitWriter writer(**store, {}, metrics);
  ASSERT_TRUE(writer.Start().ok());
  SpaceApplier replica(*nats_, writer, **store, nullptr,
                       {.space = space, .member = "replica", .follower = {.fetch_wait = milliseconds(200)}});
  ASSERT_TRUE(replica.Start().ok());
  ASSERT_TRUE(testing::WaitUntil([&] { return replica.follower().copied() == 1; }));
  EXPECT_FALSE(replica.lease_held());
  replica.Stop();
  writer.Stop();
}

TEST_F(SpaceApplierTest, MembersAreListedWithTheirReportsUntilTheirAnnouncementsExpire) {
  auto registry = MemberRegistry::Open(*nats_, {.ttl = seconds(2), .bucket = "applier_members"});
  ASSERT_TRUE(registry.ok()) << registry.status();
  ASSERT_TRUE((*registry)->Announce("gateway one", R"({"roles":["gateway"]})").ok());
  ASSERT_TRUE((*registry)->Announce("resolver.two", R"({"roles":["resolver"]})").ok());
  auto listed = (*registry)->List();
  ASSERT_TRUE(listed.ok()) << listed.status();
  std::map<std::string, std::string> members(listed->begin(), listed->end());
  EXPECT_EQ(members, (std::map<std::string, std::string>{{"gateway_one", R"({"roles":["gateway"]})"},
                                                         {"resolver_two", R"({"roles":["resolver"]})"}}));
  // Nobody announces again: both drop out.
  EXPECT_TRUE(testing::WaitUntil(
      [&] {
        auto now = (*registry)->List();
        return now.ok() && now->empty();
      },
      seconds(30)));
}


// A resolver whose store cannot follow the stream leaves the lease to one that can.
TEST_F(SpaceApplierTest, AResolverThatCannotFollowGivesTheLeaseUp) {
  const std::string space = "applier_broken";
  EventStream stream(*nats_, {.replicas = 3});
  ASSERT_TRUE(stream.Ensure(space).ok());
  ASSERT_TRUE(stream.Publish(space, "m1", "record 1", seconds(10)).ok());
  ASSERT_EQ(js_PurgeStream(nats_->jetstream(), StreamName(space).c_str(), nullptr, nullptr), NATS_OK);
  ASSERT_TRUE(stream.Publish(space, "m2", "record 2", seconds(10)).ok());
  auto leases = SpaceLeases::Open(*nats_, {.ttl = seconds(2), .bucket = "applier_broken_leases"});
  ASSERT_TRUE(leases.ok()) << leases.status();
  tessera::testing::ScopedTempDir dir;
  Resolver broken(*nats_, **leases, dir.path(), space, "broken");
  ASSERT_TRUE(testing::WaitUntil([&] { return !broken.applier->follower().error().ok(); }));
  std::this_thread::sleep_for(seconds(2));
  EXPECT_FALSE(broken.applier->lease_held());
  auto holder = (*leases)->Holder(space);
  ASSERT_TRUE(holder.ok());
  EXPECT_FALSE(holder->has_value()) << **holder;
}

}  // namespace
}  // namespace tessera::cluster
