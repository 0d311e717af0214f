// The Segment parser on the sample payloads of Segment's documentation (../shared/payloads/segment):
// one per call type, the common fields, and an HTTP API batch.

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "ingest/segment_parser.h"
#include "tests/ingest/segment_parser_fixture.h"

namespace tessera::ingest {
namespace {

using namespace segment_parser_testing;  // NOLINT: the fixture and its helpers

// ---- The Segment documentation's sample payloads ----

TEST_F(SegmentParserTest, TrackSamplePayload) {
  const CanonicalEvent event = ParseOne(Endpoint::kTrack, ReadPayload("track.json"));
  EXPECT_EQ(event.type, EventType::kTrack);
  EXPECT_EQ(event.event, "Course Clicked");
  EXPECT_EQ(event.user_id, "AiUGstSDIg");
  EXPECT_EQ(event.anonymous_id, "23adfd82-aa0f-45a7-a756-24f2a7a4c895");
  EXPECT_EQ(event.message_id, "ajs-f8ca1e4de5024d9430b3928bd8ac6b96");
  EXPECT_FALSE(event.message_id_generated);
  EXPECT_EQ(event.properties, R"({"title":"Intro to Analytics"})");
  EXPECT_EQ(event.integrations, "{}") << "an empty object is kept, not treated as absent";
  EXPECT_EQ(
      event.context,
      R"({"library":{"name":"analytics.js","version":"2.11.1"},"page":{"path":"/academy/","referrer":"",)"
      R"("search":"","title":"Analytics Academy","url":"https://segment.com/academy/"},"userAgent":)"
      R"("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_11_0) AppleWebKit/537.36 (KHTML, like Gecko) )"
      R"(Chrome/46.0.2490.86 Safari/537.36","ip":"108.0.78.21"})");
  EXPECT_TRUE(event.traits.empty());
  // Both timestamp and originalTimestamp are present: timestamp wins.
  ASSERT_TRUE(event.original_timestamp.has_value());
  EXPECT_EQ(*event.original_timestamp, At("2015-12-12T19:11:01.249Z"));
  ASSERT_TRUE(event.sent_at.has_value());
  EXPECT_EQ(*event.sent_at, At("2015-12-12T19:11:01.169Z"));
  // The client's clock ran 80 ms behind the send: received - (sent - timestamp) = received + 80 ms.
  EXPECT_EQ(event.timestamp, kReceivedAt + milliseconds(80));
  EXPECT_EQ(event.received_at, kReceivedAt);
  EXPECT_TRUE(event.space.empty() && event.source.empty() && event.channel.empty())
      << "space/source/channel come from the write key, never from the payload (\"channel\" is ignored)";
}

TEST_F(SegmentParserTest, IdentifySamplePayload) {
  const CanonicalEvent event = ParseOne(Endpoint::kIdentify, ReadPayload("identify.json"));
  EXPECT_EQ(event.type, EventType::kIdentify);
  EXPECT_EQ(event.user_id, "97980cfea0067");
  EXPECT_EQ(event.anonymous_id, "507f191e810c19729de860ea");
  EXPECT_EQ(
      event.traits,
      R"({"name":"Peter Gibbons","email":"peter@example.com","plan":"premium","logins":5,"address":)"
      R"({"street":"6th St","city":"San Francisco","state":"CA","postalCode":"94103","country":"USA"}})");
  EXPECT_EQ(event.integrations, R"({"All":false,"Mixpanel":true,"Salesforce":true})");
  EXPECT_EQ(event.timestamp, kReceivedAt) << "timestamp == sentAt, so no skew: the event happened on receipt";
}

TEST_F(SegmentParserTest, PageSamplePayload) {
  const CanonicalEvent event = ParseOne(Endpoint::kPage, ReadPayload("page.json"));
  EXPECT_EQ(event.type, EventType::kPage);
  EXPECT_EQ(event.name, "Home");
  EXPECT_EQ(event.properties, R"({"title":"Welcome | Initech","url":"http://www.example.com"})");
}

TEST_F(SegmentParserTest, ScreenSamplePayload) {
  const CanonicalEvent event = ParseOne(Endpoint::kScreen, ReadPayload("screen.json"));
  EXPECT_EQ(event.type, EventType::kScreen);
  EXPECT_EQ(event.name, "Home");
  EXPECT_EQ(event.anonymous_id, "3a12eab0-bca7-11e4-8dfc-aa07a5b093db");
  EXPECT_EQ(event.properties, R"({"variation":"blue signup button"})");
}

TEST_F(SegmentParserTest, CommonFieldsSamplePayloadAsTrack) {
  const CanonicalEvent event = ParseOne(Endpoint::kTrack, ReadPayload("common.json"));
  EXPECT_EQ(event.event, "Report Submitted");
  EXPECT_NE(event.context.find(R"("userAgentData":{"brands":[{"brand":"Google Chrome","version":"113"},)"),
            std::string::npos)
      << "arrays of objects inside context are kept: " << event.context;
  EXPECT_NE(event.context.find(R"("screen":{"width":320,"height":568,"density":2})"), std::string::npos)
      << event.context;
  // timestamp (04:08:31.905) is 324 ms after sentAt (04:08:31.581): corrected, 324 ms after receipt.
  EXPECT_EQ(event.timestamp, kReceivedAt + milliseconds(324));
}

TEST_F(SegmentParserTest, GroupSamplePayloadHasNoIdentityAndIsRejectedUntilOneIsAdded) {
  // The documentation's group example shows only the group's own fields.
  std::string body = ReadPayload("group.json");
  const FieldError error = ParseError(Endpoint::kGroup, body);
  EXPECT_EQ(error.code, "missing_identity");
  EXPECT_EQ(error.field, "userId");
  EXPECT_EQ(error.message, "userId: either userId or anonymousId is required");

  const size_t brace = body.find('{');
  ASSERT_NE(brace, std::string::npos);
  body.insert(brace + 1, R"("userId": "97980cfea0067",)");
  const CanonicalEvent event = ParseOne(Endpoint::kGroup, body);
  EXPECT_EQ(event.type, EventType::kGroup);
  EXPECT_EQ(event.group_id, "0e8c78ea9d97a7b8185e8632");
  EXPECT_EQ(
      event.traits,
      R"({"name":"Initech","industry":"Technology","employees":329,"plan":"enterprise","total billed":830})")
      << "group traits describe the group and are kept";
}

TEST_F(SegmentParserTest, HttpApiBatchSamplePayload) {
  const ParsedRequest request = Parse(Endpoint::kBatch, ReadPayload("http_api_batch.json"));
  ASSERT_FALSE(request.request_error.has_value()) << Describe(request);
  EXPECT_EQ(request.write_key, "YOUR_WRITE_KEY");
  EXPECT_EQ(request.event_count, 4u);
  // The documentation's last two events use "2015-2-02" (one-digit month), which is not ISO-8601.
  ASSERT_EQ(request.events.size(), 2u) << Describe(request);
  ASSERT_EQ(request.index_of, (std::vector<size_t>{0, 1}));
  ASSERT_EQ(request.rejected.size(), 2u) << Describe(request);
  for (size_t k = 0; k < 2; ++k) {
    EXPECT_EQ(request.rejected[k].index, k + 2);
    EXPECT_EQ(request.rejected[k].error.code, "invalid_timestamp");
    EXPECT_EQ(request.rejected[k].error.field, "batch[" + std::to_string(k + 2) + "].timestamp");
    EXPECT_NE(request.rejected[k].error.message.find("2015-2-02T00:30"), std::string::npos)
        << "the message quotes the bad value: " << request.rejected[k].error.message;
  }
  const CanonicalEvent& identify = request.events[0];
  EXPECT_EQ(identify.type, EventType::kIdentify);
  EXPECT_EQ(identify.user_id, "019mr8mf4r");
  EXPECT_EQ(identify.traits, R"({"email":"jake@yahoo.com","name":"Jake Peterson","age":26})");
  EXPECT_EQ(identify.context, R"({"device":{"type":"phone","name":"Apple iPhone 6"}})")
      << "the batch's context applies to events without one";
  EXPECT_EQ(identify.timestamp, At("2012-12-02T00:30:08.276Z"))
      << "no sentAt anywhere: the client's time stands";
  EXPECT_TRUE(identify.message_id_generated);
  const CanonicalEvent& track = request.events[1];
  EXPECT_EQ(track.type, EventType::kTrack);
  EXPECT_EQ(track.event, "Song Played");
  EXPECT_EQ(track.properties, R"({"name":"Fallin for You","artist":"Dierks Bentley"})");
  EXPECT_NE(identify.message_id, track.message_id);
}

}  // namespace
}  // namespace tessera::ingest
