// The batch endpoint (/v1/batch): bad events rejected by index among good ones, the envelope's
// members and their defaults for every event, limits, and errors that fail the whole request.

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "ingest/segment_parser.h"
#include "tests/ingest/segment_parser_fixture.h"

namespace tessera::ingest {
namespace {

using namespace segment_parser_testing;  // NOLINT: the fixture and its helpers

// ---- Batch ----

TEST_F(SegmentParserTest, BatchWithOneBadEventAmongGoodOnes) {
  const ParsedRequest request = Parse(Endpoint::kBatch, R"({"batch":[
      {"type":"track","userId":"u1","event":"A","messageId":"m0"},
      {"type":"identify","userId":"u2","traits":{"plan":"pro"},"messageId":"m1"},
      {"type":"track","userId":{},"event":"B","messageId":"m2"},
      {"type":"page","anonymousId":"a3","name":"Home","messageId":"m3"}
  ]})");
  ASSERT_FALSE(request.request_error) << Describe(request);
  EXPECT_EQ(request.event_count, 4u);
  ASSERT_EQ(request.events.size(), 3u) << Describe(request);
  EXPECT_EQ(request.index_of, (std::vector<size_t>{0, 1, 3}));
  EXPECT_EQ(request.events[0].message_id, "m0");
  EXPECT_EQ(request.events[1].type, EventType::kIdentify);
  EXPECT_EQ(request.events[1].traits, R"({"plan":"pro"})");
  EXPECT_EQ(request.events[2].type, EventType::kPage);
  EXPECT_EQ(request.events[2].name, "Home");
  ASSERT_EQ(request.rejected.size(), 1u);
  EXPECT_EQ(request.rejected[0].index, 2u);
  EXPECT_EQ(request.rejected[0].message_id, "m2") << "messageId after the bad field is still reported";
  EXPECT_EQ(request.rejected[0].error.code, "invalid_type");
  EXPECT_EQ(request.rejected[0].error.field, "batch[2].userId");
  EXPECT_EQ(request.rejected[0].error.message,
            "batch[2].userId: expected a string or integer, got an object");
}

TEST_F(SegmentParserTest, BatchEventTypeIsRequiredAndMustBeKnown) {
  const ParsedRequest request = Parse(Endpoint::kBatch, R"({"batch":[
      {"userId":"u","event":"A"},
      {"type":"Track","userId":"u","event":"A","messageId":"m1"},
      {"type":"purchase","userId":"u"},
      {"type":7,"userId":"u"},
      {"type":"alias","userId":"u","previousId":"p"}
  ]})");
  ASSERT_FALSE(request.request_error) << Describe(request);
  ASSERT_EQ(request.rejected.size(), 4u) << Describe(request);
  EXPECT_EQ(request.rejected[0].error.code, "missing_field");
  EXPECT_EQ(request.rejected[0].error.field, "batch[0].type");
  EXPECT_EQ(request.rejected[1].error.code, "unknown_type") << "types are case-sensitive";
  EXPECT_EQ(request.rejected[1].error.field, "batch[1].type");
  EXPECT_EQ(request.rejected[1].message_id, "m1");
  EXPECT_EQ(request.rejected[2].error.code, "unknown_type");
  EXPECT_NE(request.rejected[2].error.message.find("\"purchase\""), std::string::npos)
      << request.rejected[2].error.message;
  EXPECT_EQ(request.rejected[3].error.field, "batch[3].type");
  ASSERT_EQ(request.events.size(), 1u);
  EXPECT_EQ(request.events[0].type, EventType::kAlias);
  EXPECT_EQ(request.index_of, (std::vector<size_t>{4}));
}

TEST_F(SegmentParserTest, BatchContextAndIntegrationsAreShallowMergedEventKeysWinning) {
  const ParsedRequest request = Parse(Endpoint::kBatch, R"({
      "batch":[
        {"type":"track","userId":"u","event":"A","context":{"ip":"1.1.1.1","locale":"nl-NL"},"integrations":{}},
        {"type":"track","userId":"u","event":"B"}
      ],
      "context":{"ip":"8.8.8.8","library":{"name":"analytics-python","version":"2.0"}},
      "integrations":{"All":false,"Amplitude":true}
  })");
  ASSERT_FALSE(request.request_error) << Describe(request);
  ASSERT_EQ(request.events.size(), 2u) << Describe(request);
  EXPECT_EQ(request.events[0].context,
            R"({"ip":"1.1.1.1","locale":"nl-NL","library":{"name":"analytics-python","version":"2.0"}})");
  EXPECT_EQ(request.events[0].integrations, R"({"All":false,"Amplitude":true})");
  EXPECT_EQ(request.events[1].context,
            R"({"ip":"8.8.8.8","library":{"name":"analytics-python","version":"2.0"}})");
  EXPECT_EQ(request.events[1].integrations, R"({"All":false,"Amplitude":true})");
}

TEST_F(SegmentParserTest, BatchEnvelopeMembersMustHaveTheRightTypes) {
  ParsedRequest request = Parse(Endpoint::kBatch, R"({"batch":[],"context":[]})");
  ASSERT_TRUE(request.request_error) << "batch context must be an object";
  EXPECT_EQ(request.request_error->code, "invalid_type");
  EXPECT_EQ(request.request_error->field, "context");
  request = Parse(Endpoint::kBatch, R"({"batch":[],"integrations":"all"})");
  ASSERT_TRUE(request.request_error);
  EXPECT_EQ(request.request_error->field, "integrations");
  request = Parse(Endpoint::kBatch, R"({"batch":[],"sentAt":"soon"})");
  ASSERT_TRUE(request.request_error);
  EXPECT_EQ(request.request_error->code, "invalid_timestamp");
  EXPECT_EQ(request.request_error->field, "sentAt");
  request = Parse(Endpoint::kBatch, R"({"batch":[],"writeKey":{}})");
  ASSERT_TRUE(request.request_error);
  EXPECT_EQ(request.request_error->code, "invalid_type");
  EXPECT_EQ(request.request_error->field, "writeKey");
}

TEST_F(SegmentParserTest, BatchSentAtAppliesToEventsWithoutTheirOwn) {
  // sentAt comes after "batch" in the body: it must still apply.
  const ParsedRequest request = Parse(Endpoint::kBatch, R"({
      "batch":[
        {"type":"track","userId":"u","event":"A","timestamp":"2024-05-01T12:09:30Z"},
        {"type":"track","userId":"u","event":"B","timestamp":"2024-05-01T12:09:30Z","sentAt":"2024-05-01T12:09:40Z"},
        {"type":"track","userId":"u","event":"C"}
      ],
      "sentAt":"2024-05-01T12:10:00Z",
      "writeKey":"wk"
  })");
  ASSERT_FALSE(request.request_error) << Describe(request);
  ASSERT_EQ(request.events.size(), 3u) << Describe(request);
  EXPECT_EQ(request.write_key, "wk");
  EXPECT_EQ(*request.events[0].sent_at, At("2024-05-01T12:10:00Z"));
  EXPECT_EQ(request.events[0].timestamp, At("2024-05-01T11:59:30Z"));
  EXPECT_EQ(*request.events[1].sent_at, At("2024-05-01T12:09:40Z")) << "the event's own sentAt wins";
  EXPECT_EQ(request.events[1].timestamp, At("2024-05-01T11:59:50Z"));
  EXPECT_EQ(*request.events[2].sent_at, At("2024-05-01T12:10:00Z"));
  EXPECT_EQ(request.events[2].timestamp, kReceivedAt) << "no timestamp: the receive time";
}

TEST_F(SegmentParserTest, WriteKeyInsideABatchEventIsIgnored) {
  const ParsedRequest request =
      Parse(Endpoint::kBatch, R"({"batch":[{"type":"track","userId":"u","event":"A","writeKey":5}]})");
  ASSERT_FALSE(request.request_error) << Describe(request);
  EXPECT_EQ(request.events.size(), 1u) << Describe(request);
  EXPECT_EQ(request.write_key, "");
}

TEST_F(SegmentParserTest, BatchMemberProblemsFailTheWholeRequest) {
  ParsedRequest request = Parse(Endpoint::kBatch, R"({"events":[]})");
  ASSERT_TRUE(request.request_error);
  EXPECT_EQ(request.request_error->code, "missing_field");
  EXPECT_EQ(request.request_error->field, "batch");
  request = Parse(Endpoint::kBatch, R"({"batch":{"type":"track"}})");
  ASSERT_TRUE(request.request_error);
  EXPECT_EQ(request.request_error->code, "invalid_type");
  EXPECT_EQ(request.request_error->field, "batch");
  request = Parse(Endpoint::kBatch, R"([{"type":"track"}])");
  ASSERT_TRUE(request.request_error);
  EXPECT_EQ(request.request_error->code, "invalid_type");
  EXPECT_EQ(request.request_error->field, "");
  EXPECT_NE(request.request_error->message.find("expected an object"), std::string::npos);
  request = Parse(Endpoint::kBatch, R"({"batch":[{"type":"track","userId":"u","event":"A"}] x)");
  ASSERT_TRUE(request.request_error);
  EXPECT_EQ(request.request_error->code, "invalid_json");
  EXPECT_TRUE(request.events.empty()) << "no event survives a malformed body";
  request = Parse(Endpoint::kBatch, "");
  ASSERT_TRUE(request.request_error);
  EXPECT_EQ(request.request_error->code, "invalid_json");
}

TEST_F(SegmentParserTest, EmptyBatchIsValid) {
  const ParsedRequest request = Parse(Endpoint::kBatch, R"({"batch":[]})");
  EXPECT_FALSE(request.request_error) << Describe(request);
  EXPECT_EQ(request.event_count, 0u);
  EXPECT_TRUE(request.events.empty());
}

TEST_F(SegmentParserTest, NonObjectBatchElementsAreRejectedByIndex) {
  const ParsedRequest request =
      Parse(Endpoint::kBatch, R"({"batch":[1,{"type":"track","userId":"u","event":"A"},"x",null,[]]})");
  ASSERT_FALSE(request.request_error) << Describe(request);
  EXPECT_EQ(request.event_count, 5u);
  EXPECT_EQ(request.index_of, (std::vector<size_t>{1}));
  ASSERT_EQ(request.rejected.size(), 4u);
  EXPECT_EQ(request.rejected[0].error.code, "invalid_type");
  EXPECT_EQ(request.rejected[0].error.field, "batch[0]");
  EXPECT_EQ(request.rejected[0].error.message, "batch[0]: expected an event object, got a number");
  EXPECT_EQ(request.rejected[3].error.field, "batch[4]");
}

TEST_F(SegmentParserTest, BatchEventOverTheSizeLimitIsRejectedAlone) {
  const std::string big = R"({"type":"track","userId":"u","event":"Big","properties":{"pad":")" +
                          std::string(33 * 1024, 'x') + "\"}}";
  const ParsedRequest request =
      Parse(Endpoint::kBatch, R"({"batch":[{"type":"track","userId":"u","event":"A"},)" + big +
                                  R"(,{"type":"track","userId":"u","event":"C"}]})");
  ASSERT_FALSE(request.request_error) << Describe(request);
  EXPECT_EQ(request.index_of, (std::vector<size_t>{0, 2}));
  ASSERT_EQ(request.rejected.size(), 1u);
  EXPECT_EQ(request.rejected[0].index, 1u);
  EXPECT_EQ(request.rejected[0].error.code, "event_too_large");
  EXPECT_EQ(request.rejected[0].error.field, "batch[1]");
}

TEST_F(SegmentParserTest, TooManyBatchEventsFailTheRequest) {
  SegmentParserOptions options;
  options.max_batch_events = 3;
  SegmentParser small_parser(options);
  std::string body = R"({"batch":[)";
  for (int i = 0; i < 4; ++i)
    body += std::string(i ? "," : "") + R"({"type":"track","userId":"u","event":"E"})";
  body += "]}";
  EnsurePadding(body);
  const ParsedRequest request = small_parser.Parse(Endpoint::kBatch, body, kReceivedAt);
  ASSERT_TRUE(request.request_error) << "4 events with a limit of 3";
  EXPECT_EQ(request.request_error->code, "invalid_value");
  EXPECT_EQ(request.request_error->field, "batch");
  EXPECT_TRUE(request.events.empty());
  body = R"({"batch":[{"type":"track","userId":"u","event":"E"},{"type":"track","userId":"u","event":"E"},)"
         R"({"type":"track","userId":"u","event":"E"}]})";
  EnsurePadding(body);
  EXPECT_FALSE(small_parser.Parse(Endpoint::kBatch, body, kReceivedAt).request_error)
      << "exactly at the limit";
}

TEST_F(SegmentParserTest, BatchErrorsInsideSubDocumentsCarryTheElementPath) {
  const ParsedRequest request =
      Parse(Endpoint::kBatch, R"({"batch":[{"type":"identify","userId":"u","traits":{"a":[1,{"b":tru}]}}]})");
  ASSERT_FALSE(request.request_error) << Describe(request);
  ASSERT_EQ(request.rejected.size(), 1u);
  EXPECT_EQ(request.rejected[0].error.code, "invalid_json");
  EXPECT_EQ(request.rejected[0].error.field, "batch[0].traits.a[1].b");
}

TEST_F(SegmentParserTest, GeneratedIdsDifferPerBatchEventAndMatchTheSameEventSentAlone) {
  const ParsedRequest request = Parse(Endpoint::kBatch, R"({"batch":[
      {"type":"track","userId":"u","event":"A"},
      {"type":"track","userId":"u","event":"B"}]})");
  ASSERT_EQ(request.events.size(), 2u) << Describe(request);
  EXPECT_NE(request.events[0].message_id, request.events[1].message_id);
  const ParsedRequest again = Parse(Endpoint::kBatch, R"({"sentAt":"2024-05-01T12:00:00Z","batch":[
      {"type":"track","userId":"u","event":"A"}]})");
  ASSERT_EQ(again.events.size(), 1u) << Describe(again);
  EXPECT_EQ(again.events[0].message_id, request.events[0].message_id)
      << "the id hashes the event's own bytes, not its position or envelope";
}

}  // namespace
}  // namespace tessera::ingest
