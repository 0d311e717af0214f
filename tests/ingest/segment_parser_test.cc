// The Segment parser's handling of a request as a whole: the endpoint deciding the call type,
// writeKey in the body, bodies that are not a JSON object, the size limit of a single event,
// bodies without padding, and one parser reused across requests.

#include "ingest/segment_parser.h"

#include <gtest/gtest.h>

#include <string>

#include "tests/ingest/segment_parser_fixture.h"

namespace tessera::ingest {
namespace {

using namespace segment_parser_testing;  // NOLINT: the fixture and its helpers

// ---- Single-event endpoints ----

TEST_F(SegmentParserTest, EndpointDecidesTheTypeAndBodyTypeIsIgnored) {
  const CanonicalEvent event =
      ParseOne(Endpoint::kIdentify, R"({"type":"track","userId":"u1","traits":{"plan":"pro"}})");
  EXPECT_EQ(event.type, EventType::kIdentify);
  EXPECT_EQ(event.traits, R"({"plan":"pro"})");
}

TEST_F(SegmentParserTest, WriteKeyInTheBodyIsCopied) {
  const ParsedRequest request = Parse(Endpoint::kTrack, R"({"writeKey":"wk_1","userId":"u","event":"E"})");
  ASSERT_FALSE(request.request_error) << Describe(request);
  EXPECT_EQ(request.write_key, "wk_1");
  const FieldError error = ParseError(Endpoint::kTrack, R"({"writeKey":7,"userId":"u","event":"E"})");
  EXPECT_EQ(error.code, "invalid_type");
  EXPECT_EQ(error.field, "writeKey");
}

TEST_F(SegmentParserTest, WriteKeyIsFoundEvenAfterAnInvalidMember) {
  // Without it the HTTP layer could only answer 401 instead of naming the real problem.
  ParsedRequest request = Parse(Endpoint::kTrack, R"({"userId":{},"event":"E","writeKey":"wk_late"})");
  ASSERT_TRUE(request.request_error);
  EXPECT_EQ(request.request_error->field, "userId");
  EXPECT_EQ(request.write_key, "wk_late");
  request = Parse(Endpoint::kBatch, R"({"context":[],"batch":[],"writeKey":"wk_batch"})");
  ASSERT_TRUE(request.request_error);
  EXPECT_EQ(request.request_error->field, "context");
  EXPECT_EQ(request.write_key, "wk_batch");
}

TEST_F(SegmentParserTest, MalformedBodies) {
  struct Case {
    std::string body;
    std::string code;
  };
  const Case cases[] = {
      {"", "invalid_json"},
      {"   ", "invalid_json"},
      {"{", "invalid_json"},
      {"not json", "invalid_json"},
      {R"({"userId":"u","event":"E"} {})", "invalid_json"},  // Trailing content.
      {R"({"userId":"u","event":"E"} x)", "invalid_json"},
      {R"({"userId":"u" "event":"E"})", "invalid_json"},
      {"{\"userId\":\"u\x01\",\"event\":\"E\"}", "invalid_json"},     // Raw control character in a string.
      {"{\"userId\":\"\xC3\x28\",\"event\":\"E\"}", "invalid_json"},  // Invalid UTF-8.
      {"nul", "invalid_json"},
      {"[1,", "invalid_json"},
      {"[1,2] x", "invalid_json"},
      {"\"unterminated", "invalid_json"},
      {"[1,2]", "invalid_type"},
      {"null", "invalid_type"},
      {"true", "invalid_type"},
      {"\"a string\"", "invalid_type"},
      {"42", "invalid_type"},
  };
  for (const Case& c : cases) {
    const FieldError error = ParseError(Endpoint::kTrack, c.body);
    EXPECT_EQ(error.code, c.code) << "body: " << c.body << " -> " << error.message;
    EXPECT_EQ(error.field, "") << "body: " << c.body;
  }
  EXPECT_EQ(ParseError(Endpoint::kTrack, "[1,2]").message, "expected an object, got an array");
}

TEST_F(SegmentParserTest, SingleEventOverTheSizeLimitIsTooLarge) {
  const std::string head = R"({"userId":"u","event":"E","properties":{"pad":")";
  const std::string tail = "\"}}";
  const size_t limit = SegmentParserOptions{}.max_event_bytes;
  const std::string at_limit = head + std::string(limit - head.size() - tail.size(), 'x') + tail;
  ASSERT_EQ(at_limit.size(), limit);
  ParseOne(Endpoint::kTrack, at_limit);
  const FieldError error = ParseError(Endpoint::kTrack, head + std::string(limit, 'x') + tail);
  EXPECT_EQ(error.code, "event_too_large");
  EXPECT_EQ(error.field, "");
}

TEST_F(SegmentParserTest, BodyWithoutPaddingIsStillParsed) {
  std::string body = R"({"userId":"u","event":"E"})";
  body.shrink_to_fit();
  const ParsedRequest request = parser_.Parse(Endpoint::kTrack, body, kReceivedAt);
  ASSERT_FALSE(request.request_error) << Describe(request);
  EXPECT_EQ(request.events.at(0).event, "E");
}

// ---- Any endpoint ----

TEST_F(SegmentParserTest, ParserIsReusableAcrossRequests) {
  for (int round = 0; round < 3; ++round) {
    const ParsedRequest batch = Parse(Endpoint::kBatch, ReadPayload("http_api_batch.json"));
    EXPECT_EQ(batch.events.size(), 2u) << "round " << round;
    EXPECT_TRUE(Parse(Endpoint::kTrack, "{").request_error.has_value());
    EXPECT_EQ(ParseOne(Endpoint::kIdentify, ReadPayload("identify.json")).user_id, "97980cfea0067");
  }
}

}  // namespace
}  // namespace tessera::ingest
