// Delivery in cluster mode with a stand-in gate (activation/delivery_gate.h): a standby sends
// nothing and deletes what the shared record says the holder delivered, but only when its own row
// at that number is the same row; a record that does not match is not followed, so a member whose
// outbox is numbered differently sends rows again rather than skip one.

#include <gtest/gtest.h>

#include <map>
#include <mutex>

#include "activation/delivery.h"
#include "activation/outbox.h"
#include "profile_store/store.h"
#include "simdjson.h"
#include "tests/support/fake_http_server.h"
#include "tests/support/temp_dir.h"

namespace tessera::activation {
namespace {

using namespace std::chrono_literals;
using profile_store::ColumnFamily;

class FakeGate : public DeliveryGate {
 public:
  bool MaySend(std::string_view) const override { return holds.load(); }
  absl::StatusOr<std::optional<std::string>> Load(const std::string& key) override {
    std::lock_guard lock(mutex);
    auto it = records.find(key);
    return it == records.end() ? std::optional<std::string>() : std::optional<std::string>(it->second);
  }
  absl::Status Store(const std::string& key, std::string_view value) override {
    std::lock_guard lock(mutex);
    records[key] = std::string(value);
    return absl::OkStatus();
  }
  std::atomic<bool> holds{false};
  std::mutex mutex;
  std::map<std::string, std::string> records;
};

class DeliveryClusterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = profile_store::Store::Open({.path = dir_.path(), .sync_writes = false});
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = *std::move(store);
    for (uint64_t n = 1; n <= 30; ++n) PutRow(n, "m-" + std::to_string(n));
  }

  void PutRow(uint64_t n, const std::string& message_id) {
    OutboxItem item;
    item.message_id = message_id;
    item.log_sequence = n;
    item.event_json = R"({"type":"track","event":"E","messageId":")" + message_id + R"("})";
    std::string encoded;
    EncodeOutboxItem(item, encoded);
    rocksdb::WriteBatch batch;
    batch.Put(store_->handle(ColumnFamily::kOutbox), OutboxKey("default", "hook", n), encoded);
    ASSERT_TRUE(store_->Write(batch).ok());
  }

  std::unique_ptr<Delivery> Start() {
    DestinationSpec spec;
    spec.name = "hook";
    spec.url = server_.Url("/hook");
    spec.event_types = {"track"};
    spec.batch_events = 10;
    spec.requests_per_second = 10'000;
    spec.retry_initial = 20ms;
    spec.retry_max = 100ms;
    auto delivery = Delivery::Create(*store_, spec, DeliveryOptions{.gate = &gate_});
    EXPECT_TRUE(delivery.ok()) << delivery.status();
    EXPECT_TRUE((*delivery)->Recover().ok());
    (*delivery)->Start();
    return *std::move(delivery);
  }

  std::vector<std::string> Sent() const {
    std::vector<std::string> ids;
    simdjson::dom::parser parser;
    for (const auto& request : server_.Accepted()) {
      for (simdjson::dom::element event : parser.parse(request.body)["batch"].get_array()) {
        ids.emplace_back(std::string_view(event["messageId"]));
      }
    }
    return ids;
  }

  bool WaitFor(const std::function<bool()>& condition) const {
    for (int i = 0; i < 500 && !condition(); ++i) std::this_thread::sleep_for(10ms);
    return condition();
  }

  testing::ScopedTempDir dir_;
  std::unique_ptr<profile_store::Store> store_;
  testing::FakeHttpServer server_;
  FakeGate gate_;
};

TEST_F(DeliveryClusterTest, AStandbySendsNothingAndFollowsTheHolderThenGoesOnFromItsRecord) {
  gate_.Store("default.hook", "1 20 0 e:m-20").IgnoreError();
  std::unique_ptr<Delivery> delivery = Start();
  ASSERT_TRUE(WaitFor([&] { return delivery->metrics().cursor.load() == 20; }))
      << "the standby deletes rows 1 to 20, which the holder delivered";
  std::this_thread::sleep_for(300ms);  // A window in which a sending member would have sent.
  EXPECT_EQ(server_.Count(), 0u) << "a standby sends nothing";
  EXPECT_FALSE(store_->Get(ColumnFamily::kOutbox, OutboxKey("default", "hook", 20)).ok());
  EXPECT_TRUE(store_->Get(ColumnFamily::kOutbox, OutboxKey("default", "hook", 21)).ok());

  gate_.holds = true;  // The holder died; this member took the lease.
  ASSERT_TRUE(WaitFor([&] { return Sent().size() == 10; }));
  EXPECT_EQ(Sent().front(), "m-21");
  EXPECT_EQ(Sent().back(), "m-30");
  ASSERT_TRUE(WaitFor([&] { return gate_.Load("default.hook")->value_or("") == "1 30 0 e:m-30"; }))
      << "its own progress, for the next holder";
  delivery->Stop();
}

TEST_F(DeliveryClusterTest, ARecordThatIsNotThisMembersRowIsNotFollowed) {
  PutRow(20, "m-other");  // This member numbered its rows differently.
  gate_.Store("default.hook", "1 20 0 e:m-20").IgnoreError();
  std::unique_ptr<Delivery> delivery = Start();
  ASSERT_TRUE(WaitFor([&] { return !delivery->RecentErrors().empty(); })) << "the mismatch is reported";
  EXPECT_EQ(delivery->metrics().cursor.load(), 0u) << "nothing is deleted on a mismatch";
  EXPECT_NE(delivery->RecentErrors().front().message.find("numbered differently"), std::string::npos);
  gate_.holds = true;
  ASSERT_TRUE(WaitFor([&] { return Sent().size() == 30; })) << Sent().size();
  EXPECT_EQ(Sent().front(), "m-1") << "sent again from its own cursor: repeats, never a gap";
  delivery->Stop();
}

TEST_F(DeliveryClusterTest, ThePauseSwitchIsTheClusters) {
  gate_.holds = true;
  gate_.Store("default.hook", "1 0 1 ").IgnoreError();  // Paused by another member.
  std::unique_ptr<Delivery> delivery = Start();
  ASSERT_TRUE(WaitFor([&] { return delivery->paused(); })) << "the shared switch is taken";
  std::this_thread::sleep_for(300ms);  // A window in which a sending member would have sent.
  EXPECT_EQ(server_.Count(), 0u) << "paused through the shared record";
  ASSERT_TRUE(delivery->SetPaused(false).ok());
  EXPECT_EQ(gate_.Load("default.hook")->value_or(""), "1 0 0 ") << "resuming writes the shared switch";
  ASSERT_TRUE(WaitFor([&] { return Sent().size() == 30; })) << Sent().size();
  delivery->Stop();
}

}  // namespace
}  // namespace tessera::activation
