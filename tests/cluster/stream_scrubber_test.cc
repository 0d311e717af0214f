#include "cluster/stream_scrubber.h"

#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "cluster/event_stream.h"
#include "cluster/internal/nats_handles.h"
#include "ingest/event_codec.h"
#include "ingest/log_command.h"
#include "privacy/privacy_store.h"
#include "tests/cluster/nats_test_cluster.h"
#include "tests/support/temp_dir.h"

namespace tessera::cluster {
namespace {

using std::chrono::seconds;

class StreamScrubberTest : public testing::NatsClusterTest {
 protected:
  void SetUp() override {
    NatsClusterTest::SetUp();
    if (HasFatalFailure()) return;
    auto store = profile_store::Store::Open({.path = dir_.path(), .sync_writes = false});
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = *std::move(store);
    auto privacy = privacy::PrivacyStore::Open(*store_);
    ASSERT_TRUE(privacy.ok()) << privacy.status();
    privacy_ = *std::move(privacy);
    list_ = std::make_unique<privacy::SuppressionList>(*privacy_);
    auto normalizer = identity::Normalizer::Create({});
    ASSERT_TRUE(normalizer.ok()) << normalizer.status();
    normalizer_ = *std::move(normalizer);
  }

  // Publishes an identify event of `user_id` (with `email` in its traits when not empty).
  void PublishEvent(const std::string& id, const std::string& user_id, const std::string& email) {
    ingest::CanonicalEvent event;
    event.message_id = id;
    event.type = ingest::EventType::kIdentify;
    event.space = kSpace;
    event.source = "web";
    event.user_id = user_id;
    if (!email.empty()) event.traits = absl::StrCat(R"({"email":")", email, R"("})");
    std::string record;
    ingest::EncodeEvent(event, record);
    ASSERT_TRUE(EventStream(*nats_, {.replicas = 3}).Publish(kSpace, id, record, seconds(10)).ok());
  }

  bool Holds(uint64_t sequence) {
    natsMsg* message = nullptr;
    natsStatus status = js_GetMsg(&message, nats_->jetstream(), StreamName(kSpace).c_str(), sequence, nullptr, nullptr);
    internal::NatsMsgPtr owned(message);
    return status == NATS_OK;
  }

  static constexpr char kSpace[] = "scrubbed";
  testing::ScopedTempDir dir_;
  std::unique_ptr<profile_store::Store> store_;
  std::unique_ptr<privacy::PrivacyStore> privacy_;
  std::unique_ptr<privacy::SuppressionList> list_;
  std::unique_ptr<identity::Normalizer> normalizer_;
  ingest::IdentifierExtractor extractor_{{}};
};

TEST_F(StreamScrubberTest, ErasesTheErasedPeoplesEventsAndTheCommandsUpToTheHorizonOnly) {
  ASSERT_TRUE(EventStream(*nats_, {.replicas = 3}).Ensure(kSpace).ok());
  PublishEvent("m1", "u-ada", "Ada@Example.com");  // 1: Ada, by her email.
  PublishEvent("m2", "u-bob", "bob@example.com");  // 2: Bob.
  PublishEvent("m3", "u-ada", "");                 // 3: Ada, by her user id.
  std::string command;
  ingest::EncodeErasureCommand({.request_id = "er_1", .identifier_type = "email", .identifier_value = "ada@example.com"},
                               command);
  ASSERT_TRUE(EventStream(*nats_, {.replicas = 3}).Publish(kSpace, "c1", command, seconds(10)).ok());  // 4
  PublishEvent("m5", "u-ada", "");                 // 5: past the horizon.
  list_->Add(kSpace, privacy_->SuppressionHash("email", "ada@example.com"));
  list_->Add(kSpace, privacy_->SuppressionHash("user_id", "u-ada"));
  list_->Add("other", privacy_->SuppressionHash("user_id", "u-bob"));

  StreamScrubber scrubber(*nats_, kSpace, *list_, extractor_, *normalizer_);
  uint64_t marked = 0;
  auto mark = [&](uint64_t highest) {
    marked = highest;
    return absl::OkStatus();
  };
  absl::StatusOr<ScrubReport> report = scrubber.Scrub(1, 4, mark);
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->scanned, 4u);
  EXPECT_EQ(report->erased_events, 2u);
  EXPECT_EQ(report->erased_commands, 1u);
  EXPECT_FALSE(Holds(1));
  EXPECT_TRUE(Holds(2)) << "Bob is suppressed in another space only";
  EXPECT_FALSE(Holds(3));
  EXPECT_FALSE(Holds(4));
  EXPECT_TRUE(Holds(5)) << "past the horizon: a member may not have applied it yet";
  EXPECT_EQ(marked, 4u) << "the mark goes as far as the last message erased";

  // Again, and further: what is gone stays gone, and the rest is found.
  report = scrubber.Scrub(1, 5, mark);
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->scanned, 2u);
  EXPECT_EQ(report->erased_events, 1u);
  EXPECT_FALSE(Holds(5));
  EXPECT_TRUE(Holds(2));
  EXPECT_EQ(marked, 5u);

  // Nothing to erase: the mark is not raised, so no store is cut off for nothing. A mark that
  // cannot be raised erases nothing.
  PublishEvent("m6", "u-bob", "");
  marked = 0;
  report = scrubber.Scrub(1, 6, mark);
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(marked, 0u);
  PublishEvent("m7", "u-ada", "");
  report = scrubber.Scrub(7, 7, [](uint64_t) { return absl::UnavailableError("no NATS"); });
  EXPECT_TRUE(absl::IsUnavailable(report.status())) << report.status();
  EXPECT_TRUE(Holds(7));
}

}  // namespace
}  // namespace tessera::cluster
