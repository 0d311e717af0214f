// WebSocket frames (Endpoint::kStream): one message or a batch envelope, rejected messages,
// frameId echoed as sent, and errors that fail the frame.

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "ingest/segment_parser.h"
#include "tests/ingest/segment_parser_fixture.h"

namespace tessera::ingest {
namespace {

using namespace segment_parser_testing;  // NOLINT: the fixture and its helpers

// --- WebSocket frames (Endpoint::kStream) ---

TEST_F(SegmentParserTest, StreamFrameWithOneMessageTakesItsTypeFromTheMessage) {
  const ParsedRequest request = Parse(
      Endpoint::kStream, R"({"frameId":"f-1","type":"identify","userId":"u1","traits":{"plan":"pro"}})");
  ASSERT_FALSE(request.request_error) << Describe(request);
  ASSERT_EQ(request.events.size(), 1u) << Describe(request);
  EXPECT_EQ(request.events[0].type, EventType::kIdentify);
  EXPECT_EQ(request.events[0].traits, R"({"plan":"pro"})");
  EXPECT_EQ(request.index_of, (std::vector<size_t>{0}));
  EXPECT_EQ(request.event_count, 1u);
  EXPECT_EQ(request.frame_id, R"("f-1")") << "kept as JSON text, to be echoed as sent";
}

TEST_F(SegmentParserTest, StreamFrameWithABatchParsesLikeTheBatchEndpoint) {
  const ParsedRequest request = Parse(Endpoint::kStream, R"({"batch":[
      {"type":"track","userId":"u","event":"A","messageId":"m1"},
      {"type":"track","userId":"u"},
      {"type":"page","anonymousId":"a"}],"context":{"ip":"1.2.3.4"},"frameId":42})");
  ASSERT_FALSE(request.request_error) << Describe(request);
  EXPECT_EQ(request.frame_id, "42");
  EXPECT_EQ(request.event_count, 3u);
  EXPECT_EQ(request.index_of, (std::vector<size_t>{0, 2}));
  ASSERT_EQ(request.rejected.size(), 1u);
  EXPECT_EQ(request.rejected[0].error.field, "batch[1].event");
  EXPECT_EQ(request.events[0].context, R"({"ip":"1.2.3.4"})") << "batch context applies as over HTTP";
}

TEST_F(SegmentParserTest, StreamFrameWithAnInvalidMessageRejectsEventZero) {
  ParsedRequest request = Parse(Endpoint::kStream, R"({"type":"track","userId":"u","messageId":"m9"})");
  ASSERT_FALSE(request.request_error) << "an invalid message is a rejected event, the frame itself is fine";
  ASSERT_EQ(request.rejected.size(), 1u);
  EXPECT_EQ(request.rejected[0].index, 0u);
  EXPECT_EQ(request.rejected[0].message_id, "m9");
  EXPECT_EQ(request.rejected[0].error.code, "missing_field");
  EXPECT_EQ(request.rejected[0].error.field, "event");
  EXPECT_TRUE(request.events.empty());

  request = Parse(Endpoint::kStream, R"({"userId":"u","event":"E"})");
  ASSERT_EQ(request.rejected.size(), 1u) << Describe(request);
  EXPECT_EQ(request.rejected[0].error.code, "missing_field");
  EXPECT_EQ(request.rejected[0].error.field, "type")
      << "without a batch, the frame is a message and needs a type";
}

TEST_F(SegmentParserTest, StreamMessageOverTheEventLimitIsRejectedWithItsMessageId) {
  const std::string big =
      R"({"type":"track","userId":"u","event":"Big","messageId":"big-1","properties":{"pad":")" +
      std::string(33 * 1024, 'x') + "\"}}";
  const ParsedRequest request = Parse(Endpoint::kStream, big);
  ASSERT_FALSE(request.request_error) << Describe(request);
  ASSERT_EQ(request.rejected.size(), 1u);
  EXPECT_EQ(request.rejected[0].error.code, "event_too_large");
  EXPECT_EQ(request.rejected[0].message_id, "big-1");
}

TEST_F(SegmentParserTest, StreamFrameErrorsFailTheFrameAndKeepAReadableFrameId) {
  EXPECT_EQ(Parse(Endpoint::kStream, "").request_error->code, "invalid_json");
  EXPECT_EQ(Parse(Endpoint::kStream, "[1,2]").request_error->code, "invalid_type");
  EXPECT_EQ(Parse(Endpoint::kStream, R"({"type":"track"} x)").request_error->code, "invalid_json");

  ParsedRequest request = Parse(Endpoint::kStream, R"({"frameId":"f","batch":7})");
  ASSERT_TRUE(request.request_error);
  EXPECT_EQ(request.request_error->field, "batch");
  EXPECT_EQ(request.frame_id, R"("f")") << "the ack of a bad frame still names it";

  for (const char* bad :
       {R"({"frameId":1.5,"batch":[]})", R"({"frameId":{},"batch":[]})", R"({"frameId":null,"batch":[]})"}) {
    request = Parse(Endpoint::kStream, bad);
    ASSERT_TRUE(request.request_error) << bad;
    EXPECT_EQ(request.request_error->code, "invalid_type") << bad;
    EXPECT_EQ(request.request_error->field, "frameId") << bad;
    EXPECT_EQ(request.frame_id, "") << bad;
  }
  request = Parse(Endpoint::kStream, R"({"frameId":")" + std::string(300, 'f') + R"(","batch":[]})");
  ASSERT_TRUE(request.request_error);
  EXPECT_EQ(request.request_error->code, "invalid_value");
}

TEST_F(SegmentParserTest, StreamMessagesWithoutMessageIdGetContentIds) {
  const ParsedRequest first = Parse(Endpoint::kStream, R"({"type":"track","userId":"u","event":"A"})");
  const ParsedRequest again = Parse(Endpoint::kStream, R"({"type":"track","userId":"u","event":"A"})");
  ASSERT_EQ(first.events.size(), 1u) << Describe(first);
  ASSERT_EQ(again.events.size(), 1u) << Describe(again);
  EXPECT_TRUE(first.events[0].message_id_generated);
  EXPECT_EQ(first.events[0].message_id, again.events[0].message_id) << "a resent message deduplicates";
}

}  // namespace
}  // namespace tessera::ingest
