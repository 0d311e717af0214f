#include "cluster/space_lease.h"

#include <gtest/gtest.h>

#include <memory>
#include <thread>

#include "cluster/nats_connection.h"
#include "tests/cluster/nats_test_cluster.h"

namespace tessera::cluster {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

class SpaceLeaseTest : public testing::NatsClusterTest {
 protected:
  void SetUp() override {
    NatsClusterTest::SetUp();
    if (HasFatalFailure()) return;
    // A bucket per test: each test picks its own TTL.
    const std::string bucket = std::string("leases_") + ::testing::UnitTest::GetInstance()->current_test_info()->name();
    auto leases = SpaceLeases::Open(*nats_, {.ttl = seconds(2), .bucket = bucket});
    ASSERT_TRUE(leases.ok()) << leases.status();
    leases_ = *std::move(leases);
  }

  std::unique_ptr<SpaceLeases> leases_;
};

TEST_F(SpaceLeaseTest, OneHolderAtATime) {
  const auto before = std::chrono::steady_clock::now();
  auto first = leases_->TryAcquire("default", "resolver-a");
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_TRUE(first->has_value());
  EXPECT_GT((*first)->token, 0u);
  EXPECT_TRUE((*first)->HeldAt(std::chrono::steady_clock::now()));
  EXPECT_LE((*first)->valid_until, before + seconds(2)) << "the holder stops before the key can expire";
  auto second = leases_->TryAcquire("default", "resolver-b");
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_FALSE(second->has_value()) << "the space is held";
  auto holder = leases_->Holder("default");
  ASSERT_TRUE(holder.ok());
  EXPECT_EQ(holder->value_or(""), "resolver-a");
  auto other_space = leases_->TryAcquire("other", "resolver-b");
  ASSERT_TRUE(other_space.ok());
  EXPECT_TRUE(other_space->has_value()) << "leases are per space";
}

TEST_F(SpaceLeaseTest, RenewalsKeepTheLeasePastItsTtl) {
  auto lease = leases_->TryAcquire("default", "resolver-a");
  ASSERT_TRUE(lease.ok() && lease->has_value());
  const uint64_t token = (*lease)->token;
  for (int i = 0; i < 8; ++i) {  // 4 s, twice the TTL.
    std::this_thread::sleep_for(milliseconds(500));
    ASSERT_TRUE(leases_->Renew(**lease).ok());
    auto other = leases_->TryAcquire("default", "resolver-b");
    ASSERT_TRUE(other.ok());
    EXPECT_FALSE(other->has_value()) << "renewed at " << (i + 1) * 500 << " ms";
  }
  EXPECT_EQ((*lease)->token, token) << "renewing keeps the fencing token";
}

TEST_F(SpaceLeaseTest, AnExpiredLeaseGoesToTheNextHolderWithAGreaterTokenAndTheOldHolderLearnsItLost) {
  auto old_lease = leases_->TryAcquire("default", "resolver-a");
  ASSERT_TRUE(old_lease.ok() && old_lease->has_value());
  // resolver-a stops renewing (paused, cut off). Within a few TTLs the lease is free.
  std::optional<Lease> new_lease;
  for (int i = 0; i < 40 && !new_lease; ++i) {
    std::this_thread::sleep_for(milliseconds(250));
    auto taken = leases_->TryAcquire("default", "resolver-b");
    ASSERT_TRUE(taken.ok()) << taken.status();
    new_lease = *taken;
  }
  ASSERT_TRUE(new_lease.has_value()) << "the lease did not expire within 10 s of a 2 s TTL";
  EXPECT_GT(new_lease->token, (*old_lease)->token) << "fencing tokens grow with each holder";
  absl::Status renewed = leases_->Renew(**old_lease);
  EXPECT_TRUE(absl::IsFailedPrecondition(renewed)) << renewed;
  EXPECT_TRUE(leases_->Renew(*new_lease).ok());
  auto holder = leases_->Holder("default");
  ASSERT_TRUE(holder.ok());
  EXPECT_EQ(holder->value_or(""), "resolver-b");
}

TEST_F(SpaceLeaseTest, ReleaseFreesTheLeaseAtOnceAndOnlyForItsHolder) {
  auto a = leases_->TryAcquire("default", "resolver-a");
  ASSERT_TRUE(a.ok() && a->has_value());
  ASSERT_TRUE(leases_->Release(**a).ok());
  auto holder = leases_->Holder("default");
  ASSERT_TRUE(holder.ok());
  EXPECT_FALSE(holder->has_value());
  auto b = leases_->TryAcquire("default", "resolver-b");
  ASSERT_TRUE(b.ok() && b->has_value()) << "no TTL to wait after a release";
  EXPECT_GT((*b)->token, (*a)->token);
  EXPECT_TRUE(absl::IsFailedPrecondition(leases_->Release(**a))) << "a stale holder cannot release another's lease";
  auto still = leases_->Holder("default");
  ASSERT_TRUE(still.ok());
  EXPECT_EQ(still->value_or(""), "resolver-b");
}

TEST_F(SpaceLeaseTest, AHolderCutOffFromNatsStopsAtItsDeadlineWithoutBeingTold) {
  auto lease = leases_->TryAcquire("default", "resolver-a");
  ASSERT_TRUE(lease.ok() && lease->has_value());
  for (int i = 0; i < cluster_->size(); ++i) cluster_->Kill(i);
  absl::Status early = leases_->Renew(**lease);
  EXPECT_FALSE(early.ok());
  if (std::chrono::steady_clock::now() < (*lease)->valid_until) {
    EXPECT_FALSE(absl::IsFailedPrecondition(early)) << "still within its deadline: " << early;
  }
  std::this_thread::sleep_until((*lease)->valid_until);
  EXPECT_FALSE((*lease)->HeldAt(std::chrono::steady_clock::now()));
  absl::Status late = leases_->Renew(**lease);
  EXPECT_TRUE(absl::IsFailedPrecondition(late)) << "past its deadline the lease may be another's: " << late;
}

}  // namespace
}  // namespace tessera::cluster