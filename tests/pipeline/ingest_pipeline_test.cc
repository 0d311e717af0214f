#include "pipeline/ingest_pipeline.h"

#include <gtest/gtest.h>

#include <future>

#include "ingest/event_codec.h"
#include "tests/ingest/test_events.h"
#include "tests/support/temp_dir.h"

namespace tessera::pipeline {
namespace {

using ingest::testing::TrackEvent;

class IngestPipelineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = profile_store::Store::Open({.path = dir_.path(), .sync_writes = false});
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = *std::move(store);
    pipeline_ = std::make_unique<IngestPipeline>(*store_, PipelineOptions{}, metrics_);
    ASSERT_TRUE(pipeline_->Start().ok());
  }
  void TearDown() override { pipeline_->Stop(); }

  IngestResult AcceptAndWait(ingest::ParsedRequest request, bool strict = false) {
    std::promise<IngestResult> promise;
    pipeline_->Accept(source_, std::move(request), strict,
                      [&](IngestResult result) { promise.set_value(result); });
    return promise.get_future().get();
  }

  static ingest::ParsedRequest Request(std::vector<ingest::CanonicalEvent> events,
                                       std::vector<ingest::RejectedEvent> rejected = {}) {
    ingest::ParsedRequest request;
    request.event_count = events.size() + rejected.size();
    for (size_t i = 0; i < events.size(); ++i) request.index_of.push_back(i);
    request.events = std::move(events);
    request.rejected = std::move(rejected);
    return request;
  }

  std::vector<ingest::CanonicalEvent> Logged() {
    std::vector<ingest::CanonicalEvent> events;
    ingest::AcceptedLog log(*store_);
    EXPECT_TRUE(log.Scan("shop", 1,
                         [&](uint64_t, std::string_view record) {
                           events.push_back(*ingest::DecodeEvent(record));
                           return true;
                         })
                    .ok());
    return events;
  }

  tessera::testing::ScopedTempDir dir_;
  std::unique_ptr<profile_store::Store> store_;
  ingest::IngestMetrics metrics_;
  std::unique_ptr<IngestPipeline> pipeline_;
  ingest::SourceRef source_{.name = "pos-terminal", .space = "shop", .channel = "pos"};
};

// Issue 18: an erasure request may say where its phone is from, and ingestion then recognizes the
// number in the format a source of that region writes it.
TEST_F(IngestPipelineTest, AnErasedPhoneIsReadInTheRequestsRegionAndRefusedInTheSourcesFormat) {
  pipeline_->Stop();
  pipeline_.reset();
  PipelineOptions options;
  options.spaces = {"shop"};
  options.normalizer.source_phone_regions = {{.space = "shop", .source = "pos-terminal", .region = "KR"}};
  pipeline_ = std::make_unique<IngestPipeline>(*store_, options, metrics_);
  ASSERT_TRUE(pipeline_->Start().ok());

  absl::StatusOr<privacy::ErasureRequest> unread =
      pipeline_->RequestErasure("shop", "phone", "010-5971-9030", "admin:test");
  EXPECT_TRUE(absl::IsInvalidArgument(unread.status())) << unread.status();
  EXPECT_NE(unread.status().message().find("too long (region US)"), std::string::npos) << unread.status();
  absl::StatusOr<privacy::ErasureRequest> bad_region =
      pipeline_->RequestErasure("shop", "phone", "010-5971-9030", "admin:test", "kr");
  EXPECT_TRUE(absl::IsInvalidArgument(bad_region.status())) << bad_region.status();
  EXPECT_EQ(bad_region.status().message().find("region: \"kr\""), 0u) << bad_region.status();

  absl::StatusOr<privacy::ErasureRequest> erased =
      pipeline_->RequestErasure("shop", "phone", "010-5971-9030", "admin:test", "KR");
  ASSERT_TRUE(erased.ok()) << erased.status();
  EXPECT_EQ(erased->identifier_value, "+821059719030") << "kept though the metadata lacks the range";

  ingest::CanonicalEvent till = TrackEvent("m-till", "");
  till.user_id.clear();
  till.context = R"({"traits":{"phone":"010 5971 9030"}})";
  ingest::CanonicalEvent other = TrackEvent("m-other", "");
  IngestResult result = AcceptAndWait(Request({till, other}));
  ASSERT_TRUE(result.status.ok()) << result.status;
  EXPECT_EQ(result.accepted, std::vector<std::string>{"m-other"});
  ASSERT_EQ(result.rejected.size(), 1u) << "the till's event carries her number, written the Korean way";
  EXPECT_EQ(result.rejected[0].message_id, "m-till");
  EXPECT_EQ(result.rejected[0].error.code, "suppressed");
}

TEST_F(IngestPipelineTest, TheSourceDecidesSpaceAndChannelNotThePayload) {
  ingest::CanonicalEvent event = TrackEvent("m1", /*space=*/"");
  event.channel = "web";  // whatever the payload claimed
  IngestResult result = AcceptAndWait(Request({event}));
  ASSERT_TRUE(result.status.ok()) << result.status;
  EXPECT_EQ(result.accepted, std::vector<std::string>{"m1"});
  std::vector<ingest::CanonicalEvent> logged = Logged();
  ASSERT_EQ(logged.size(), 1u);
  EXPECT_EQ(logged[0].space, "shop");
  EXPECT_EQ(logged[0].channel, "pos");
  EXPECT_EQ(logged[0].source, "pos-terminal");
}

// Issue 26: the free text of a service source is logged only when the source keeps it; the rest of
// the event is logged as it came, and events of other channels are not touched.
TEST_F(IngestPipelineTest, ServiceFreeTextIsLoggedOnlyWhenTheSourceKeepsIt) {
  constexpr std::string_view kProperties =
      R"({"provider":"twilio","transcript":"my card number is 4111","call_sid":"CA1","notes":"angry",)"
      R"("description":"d","comment":"c"})";
  auto call = [&](std::string message_id) {
    ingest::CanonicalEvent event = TrackEvent(std::move(message_id), "");
    event.event = "Call Transcription Completed";
    event.properties = std::string(kProperties);
    return event;
  };
  auto logged_properties = [&](std::string_view message_id) -> std::string {
    for (const ingest::CanonicalEvent& event : Logged()) {
      if (event.message_id == message_id) return event.properties;
    }
    return "<not logged>";
  };

  source_ = {.name = "calls", .space = "shop", .channel = "service"};
  IngestResult removed = AcceptAndWait(Request({call("m-removed")}));
  ASSERT_TRUE(removed.status.ok()) << removed.status;
  EXPECT_EQ(logged_properties("m-removed"), R"({"provider":"twilio","call_sid":"CA1"})")
      << "without keep_free_text every free-text property goes before the log, and nothing is added";

  source_.keep_free_text = true;
  IngestResult kept = AcceptAndWait(Request({call("m-kept")}));
  ASSERT_TRUE(kept.status.ok()) << kept.status;
  EXPECT_EQ(logged_properties("m-kept"), kProperties);

  for (bool keep : {false, true}) {
    source_ = {.name = "website", .space = "shop", .channel = "web", .keep_free_text = keep};
    ingest::CanonicalEvent review = TrackEvent(keep ? "m-web-kept" : "m-web", "");
    review.properties = R"({"comment":"great shoes"})";
    IngestResult result = AcceptAndWait(Request({review}));
    ASSERT_TRUE(result.status.ok()) << result.status;
    EXPECT_EQ(logged_properties(review.message_id), R"({"comment":"great shoes"})")
        << "a web event keeps its comment (keep_free_text " << keep << ")";
  }
}

TEST_F(IngestPipelineTest, ReportsAcceptedDuplicateAndRejectedIds) {
  ingest::RejectedEvent bad{.index = 1,
                            .message_id = "bad",
                            .error = {"invalid_type", "userId: expected a string", "batch[1].userId"}};
  IngestResult result = AcceptAndWait(Request({TrackEvent("m1"), TrackEvent("m1")}, {bad}));
  ASSERT_TRUE(result.status.ok()) << result.status;
  EXPECT_EQ(result.accepted, std::vector<std::string>{"m1"});
  EXPECT_EQ(result.duplicates, std::vector<std::string>{"m1"});
  ASSERT_EQ(result.rejected.size(), 1u);
  EXPECT_EQ(result.rejected[0].error.field, "batch[1].userId");
  EXPECT_EQ(result.event_count, 3u);
  EXPECT_EQ(metrics_.events_rejected.load(), 1u);
}

TEST_F(IngestPipelineTest, StrictModeStoresNothingWhenAnyEventIsBad) {
  ingest::RejectedEvent bad{.index = 0,
                            .message_id = "",
                            .error = {"missing_identity", "either userId or anonymousId", "batch[0].userId"}};
  IngestResult result = AcceptAndWait(Request({TrackEvent("good")}, {bad}), /*strict=*/true);
  EXPECT_TRUE(absl::IsFailedPrecondition(result.status)) << result.status;
  EXPECT_TRUE(result.accepted.empty());
  EXPECT_TRUE(Logged().empty()) << "strict mode must be all-or-nothing";
}

TEST_F(IngestPipelineTest, RequestWithoutValidEventsIsAnError) {
  ingest::RejectedEvent bad{
      .index = 0, .message_id = "", .error = {"unknown_type", "no such type", "batch[0].type"}};
  IngestResult result = AcceptAndWait(Request({}, {bad}));
  EXPECT_TRUE(absl::IsInvalidArgument(result.status)) << result.status;
  EXPECT_EQ(result.rejected.size(), 1u);
}

TEST_F(IngestPipelineTest, AfterStopRequestsAreRefusedAsUnavailable) {
  pipeline_->Stop();
  IngestResult result = AcceptAndWait(Request({TrackEvent("late")}));
  EXPECT_TRUE(absl::IsUnavailable(result.status)) << result.status;
}

TEST_F(IngestPipelineTest, RejectionsOfARefusedRequestAreNotCountedUntilItIsDecided) {
  pipeline_->Stop();
  ingest::RejectedEvent bad{
      .index = 1, .message_id = "bad", .error = {"missing_field", "required", "batch[1].event"}};
  IngestResult refused = AcceptAndWait(Request({TrackEvent("late")}, {bad}));
  EXPECT_TRUE(absl::IsUnavailable(refused.status)) << refused.status;
  EXPECT_EQ(refused.rejected.size(), 1u) << "the caller still learns which events were invalid";
  EXPECT_EQ(metrics_.events_rejected.load(), 0u)
      << "the client will send it again; counting now would count twice";
}

}  // namespace
}  // namespace tessera::pipeline
