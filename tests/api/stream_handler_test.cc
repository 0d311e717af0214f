#include "api/stream_handler.h"

#include <gtest/gtest.h>

#include <future>

#include "tests/api/pipeline_fixture.h"

namespace tessera::api {
namespace {

class StreamHandlerTest : public testing::PipelineFixture {
 protected:
  void SetUp() override {
    StartPipeline({{.name = "app", .write_key = "wk/1+x", .space = "default", .channel = "app"}});
    handler_ = std::make_unique<StreamHandler>(*keys_, *pipeline_, ingest::SegmentParserOptions{});
    source_ = keys_->FindSource("wk/1+x");
    ASSERT_NE(source_, nullptr);
  }

  FrameOutcome Frame(std::string frame, bool strict = false) {
    ingest::EnsurePadding(frame);
    std::promise<FrameOutcome> promise;
    handler_->HandleFrame(*source_, strict, frame, [&](FrameOutcome outcome) { promise.set_value(outcome); });
    return promise.get_future().get();
  }

  std::unique_ptr<StreamHandler> handler_;
  const ingest::SourceRef* source_ = nullptr;
};

TEST_F(StreamHandlerTest, AuthenticatesByBasicHeaderOrUrlEncodedQueryKey) {
  const std::string basic = BasicFor("wk/1+x");
  auto by_header = handler_->Authenticate(basic, "");
  ASSERT_TRUE(by_header.ok()) << by_header.status();
  EXPECT_EQ((*by_header)->channel, "app");

  auto by_query = handler_->Authenticate("", "strict=true&writeKey=wk%2F1%2Bx");
  ASSERT_TRUE(by_query.ok()) << by_query.status();
  EXPECT_EQ(*by_query, *by_header);

  EXPECT_TRUE(absl::IsUnauthenticated(handler_->Authenticate("", "").status()));
  EXPECT_TRUE(absl::IsUnauthenticated(handler_->Authenticate("", "writeKey=nope").status()));
  EXPECT_TRUE(absl::IsUnauthenticated(handler_->Authenticate("", "writeKey=bad%zz").status()));
  EXPECT_TRUE(absl::IsUnauthenticated(handler_->Authenticate("Bearer x", "writeKey=wk%2F1%2Bx").status()))
      << "a present Authorization header decides alone";
}

TEST_F(StreamHandlerTest, AckListsAcceptedDuplicateAndRejectedEventsWithTheFrameId) {
  const std::string frame =
      R"({"frameId":"f1","batch":[{"type":"track","userId":"u","event":"A","messageId":"m1"},)"
      R"({"type":"track","anonymousId":"a"},{"type":"track","userId":"u","event":"A","messageId":"m1"}]})";
  FrameOutcome outcome = Frame(frame);
  EXPECT_FALSE(outcome.retry);
  EXPECT_FALSE(outcome.error);
  EXPECT_EQ(outcome.ack,
            R"({"frameId":"f1","accepted":["m1"],"duplicates":["m1"],"rejected":[{"index":1,"messageId":"",)"
            R"("code":"missing_field","message":"batch[1].event: required for track: the name of the action, )"
            R"(e.g. \"Order Completed\"","field":"batch[1].event"}]})");
  EXPECT_EQ(LoggedCount(), 1u);

  outcome = Frame(frame);
  EXPECT_NE(outcome.ack.find(R"("accepted":[],"duplicates":["m1","m1"])"), std::string::npos) << outcome.ack;
  EXPECT_EQ(LoggedCount(), 1u);
}

TEST_F(StreamHandlerTest, FrameWithOnlyInvalidEventsIsAnOrdinaryAck) {
  FrameOutcome outcome = Frame(R"({"type":"track","userId":"u","messageId":"m7","frameId":3})");
  EXPECT_FALSE(outcome.error);
  EXPECT_EQ(outcome.ack.rfind(R"({"frameId":3,"accepted":[],"duplicates":[],"rejected":[{"index":0,"messageId":"m7")", 0),
            0u)
      << outcome.ack;
  EXPECT_EQ(LoggedCount(), 0u);
}

TEST_F(StreamHandlerTest, StrictModeStoresNothingOfAFrameWithAnInvalidEvent) {
  FrameOutcome outcome = Frame(
      R"({"frameId":"s","batch":[{"type":"track","userId":"u","event":"A"},{"type":"alias","userId":"u"}]})",
      /*strict=*/true);
  EXPECT_TRUE(outcome.error);
  EXPECT_NE(outcome.ack.find(R"("error":{"code":"invalid_events")"), std::string::npos) << outcome.ack;
  EXPECT_NE(outcome.ack.find(R"("field":"batch[1].previousId")"), std::string::npos) << outcome.ack;
  EXPECT_NE(outcome.ack.find(R"("accepted":[])"), std::string::npos) << outcome.ack;
  EXPECT_EQ(LoggedCount(), 0u);
}

TEST_F(StreamHandlerTest, UnusableFrameGetsAnErrorAckAndCountsAsRejected) {
  FrameOutcome outcome = Frame(R"({"frameId":"x","batch":{}})");
  EXPECT_TRUE(outcome.error);
  EXPECT_EQ(outcome.ack,
            R"({"frameId":"x","error":{"code":"invalid_type","message":"batch: expected an array of events, got an object",)"
            R"("field":"batch"},"accepted":[],"duplicates":[],"rejected":[]})");
  EXPECT_EQ(metrics_.events_rejected.load(), 1u);
}

TEST_F(StreamHandlerTest, AfterThePipelineStopsFramesAreRefusedForResending) {
  pipeline_->Stop();
  FrameOutcome outcome = Frame(R"({"type":"track","userId":"u","event":"A","frameId":1})");
  EXPECT_TRUE(outcome.error);
  EXPECT_FALSE(outcome.retry) << "retrying cannot help: the server is going away";
  EXPECT_NE(outcome.ack.find(R"("code":"shutting_down")"), std::string::npos) << outcome.ack;
}

TEST_F(StreamHandlerTest, TooLargeAckNamesTheLimit) {
  FrameOutcome outcome = StreamHandler::TooLargeAck(R"("big")", 4096);
  EXPECT_TRUE(outcome.error);
  EXPECT_EQ(outcome.ack.rfind(R"({"frameId":"big","error":{"code":"frame_too_large","message":"the frame exceeds )"
                              R"(the limit of 4096 bytes)",
                              0),
            0u)
      << outcome.ack;
  EXPECT_EQ(StreamHandler::TooLargeAck("", 1).ack.rfind(R"({"frameId":null,)", 0), 0u);
}

TEST(FrameIdPrefixTest, ReadsALeadingFrameIdOnly) {
  EXPECT_EQ(StreamHandler::FrameIdPrefix(R"({"frameId":"f-1","batch":[)"), R"("f-1")");
  EXPECT_EQ(StreamHandler::FrameIdPrefix(" {\n \"frameId\" : 42 ,\"batch\""), "42");
  EXPECT_EQ(StreamHandler::FrameIdPrefix(R"({"frameId":-7})"), "-7");
  EXPECT_EQ(StreamHandler::FrameIdPrefix(R"({"batch":[],"frameId":"late"})"), "") << "not the first member";
  EXPECT_EQ(StreamHandler::FrameIdPrefix(R"({"frameId":"esc\"aped","batch")"), "");
  EXPECT_EQ(StreamHandler::FrameIdPrefix(R"({"frameId":1.5,)"), "") << "not an integer";
  EXPECT_EQ(StreamHandler::FrameIdPrefix(R"({"frameId":012,)"), "") << "not JSON";
  EXPECT_EQ(StreamHandler::FrameIdPrefix(R"({"frameId":12)"), "") << "cut off: the number may go on";
  EXPECT_EQ(StreamHandler::FrameIdPrefix(R"({"frameId":"unterminated)"), "");
  EXPECT_EQ(StreamHandler::FrameIdPrefix(R"({"frameId":")" + std::string(300, 'x') + R"("})"), "") << "too long";
}

}  // namespace
}  // namespace tessera::api
