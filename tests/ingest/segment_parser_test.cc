#include "ingest/segment_parser.h"

#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <string>

#include "base/time.h"

#ifndef TESSERA_SHARED_DIR
#define TESSERA_SHARED_DIR "../shared"
#endif

namespace tessera::ingest {
namespace {

using std::chrono::milliseconds;

Timestamp At(std::string_view iso) {
  const std::optional<Timestamp> time = base::ParseIso8601(iso);
  if (!time) ADD_FAILURE() << "bad time in test: " << iso;
  return time.value_or(Timestamp{});
}

const Timestamp kReceivedAt = At("2024-05-01T12:00:00.000Z");

std::string ReadPayload(std::string_view name) {
  const std::string path = std::string(TESSERA_SHARED_DIR) + "/payloads/segment/" + std::string(name);
  std::ifstream file(path, std::ios::binary);
  if (!file) {
    ADD_FAILURE() << "cannot read sample payload " << path;
    return {};
  }
  std::ostringstream contents;
  contents << file.rdbuf();
  return contents.str();
}

std::string Describe(const std::optional<FieldError>& error) {
  if (!error) return "no request error";
  return "request error {" + error->code + ", field \"" + error->field + "\", " + error->message + "}";
}

std::string Describe(const ParsedRequest& request) {
  std::string text = Describe(request.request_error);
  for (const RejectedEvent& rejected : request.rejected) {
    text += "; rejected #" + std::to_string(rejected.index) + " {" + rejected.error.code + ", field \"" +
            rejected.error.field + "\", " + rejected.error.message + "}";
  }
  return text;
}

class SegmentParserTest : public ::testing::Test {
 protected:
  ParsedRequest Parse(Endpoint endpoint, std::string body) {
    EnsurePadding(body);
    return parser_.Parse(endpoint, body, kReceivedAt);
  }

  // Parses a single-event body that must succeed, returning its event.
  CanonicalEvent ParseOne(Endpoint endpoint, std::string body) {
    const ParsedRequest request = Parse(endpoint, std::move(body));
    EXPECT_FALSE(request.request_error.has_value()) << Describe(request);
    EXPECT_EQ(request.events.size(), 1u) << Describe(request);
    if (request.events.size() != 1) return {};
    return request.events[0];
  }

  // Parses a single-event body that must fail, returning the request error.
  FieldError ParseError(Endpoint endpoint, std::string body) {
    const ParsedRequest request = Parse(endpoint, std::move(body));
    EXPECT_TRUE(request.request_error.has_value()) << "expected a request error for the body";
    EXPECT_TRUE(request.events.empty()) << "no event may be produced when the request fails";
    EXPECT_TRUE(request.rejected.empty()) << "single-event errors go to request_error, not rejected";
    return request.request_error.value_or(FieldError{});
  }

  SegmentParser parser_;
};

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

TEST_F(SegmentParserTest, UserIdObjectIsAnInvalidType) {
  const FieldError error = ParseError(Endpoint::kTrack, R"({"userId":{},"event":"Signed Up"})");
  EXPECT_EQ(error.code, "invalid_type");
  EXPECT_EQ(error.field, "userId");
  EXPECT_EQ(error.message, "userId: expected a string or integer, got an object");
}

TEST_F(SegmentParserTest, IdsOfOtherWrongTypes) {
  EXPECT_EQ(ParseError(Endpoint::kTrack, R"({"userId":true,"event":"E"})").message,
            "userId: expected a string or integer, got a boolean");
  EXPECT_EQ(ParseError(Endpoint::kTrack, R"({"anonymousId":["a"],"event":"E"})").message,
            "anonymousId: expected a string or integer, got an array");
  const FieldError fraction = ParseError(Endpoint::kTrack, R"({"userId":1.5,"event":"E"})");
  EXPECT_EQ(fraction.code, "invalid_type");
  EXPECT_NE(fraction.message.find("non-integer"), std::string::npos) << fraction.message;
  EXPECT_EQ(ParseError(Endpoint::kGroup, R"({"userId":"u","groupId":{"id":1}})").field, "groupId");
  EXPECT_EQ(ParseError(Endpoint::kAlias, R"({"userId":"u","previousId":[]})").field, "previousId");
}

TEST_F(SegmentParserTest, IntegerIdsBecomeTheirDecimalText) {
  EXPECT_EQ(ParseOne(Endpoint::kIdentify, R"({"userId":12345})").user_id, "12345");
  EXPECT_EQ(ParseOne(Endpoint::kIdentify, R"({"userId":-7})").user_id, "-7");
  EXPECT_EQ(ParseOne(Endpoint::kIdentify, R"({"userId":0})").user_id, "0");
  EXPECT_EQ(ParseOne(Endpoint::kIdentify, R"({"userId":18446744073709551615})").user_id,
            "18446744073709551615");
  EXPECT_EQ(ParseOne(Endpoint::kIdentify, R"({"anonymousId":123456789012345678901234567890})").anonymous_id,
            "123456789012345678901234567890")
      << "ids beyond 64 bits keep their digits";
  const CanonicalEvent group = ParseOne(Endpoint::kGroup, R"({"anonymousId":"a","groupId":42})");
  EXPECT_EQ(group.group_id, "42");
}

TEST_F(SegmentParserTest, NullAndEmptyIdsCountAsAbsent) {
  const CanonicalEvent event =
      ParseOne(Endpoint::kTrack, R"({"userId":"","anonymousId":"anon","event":"E"})");
  EXPECT_EQ(event.user_id, "");
  EXPECT_EQ(event.anonymous_id, "anon");
  const FieldError error = ParseError(Endpoint::kTrack, R"({"userId":null,"anonymousId":"","event":"E"})");
  EXPECT_EQ(error.code, "missing_identity");
}

TEST_F(SegmentParserTest, MissingIdentityIsReportedOnUserId) {
  for (Endpoint endpoint : {Endpoint::kTrack, Endpoint::kIdentify, Endpoint::kPage, Endpoint::kScreen,
                            Endpoint::kGroup, Endpoint::kAlias}) {
    const FieldError error = ParseError(endpoint, R"({"event":"E","groupId":"g","previousId":"p"})");
    EXPECT_EQ(error.code, "missing_identity") << "endpoint " << static_cast<int>(endpoint);
    EXPECT_EQ(error.field, "userId");
    EXPECT_EQ(error.message, "userId: either userId or anonymousId is required");
  }
}

TEST_F(SegmentParserTest, TypeSpecificRequiredFields) {
  FieldError error = ParseError(Endpoint::kTrack, R"({"userId":"u"})");
  EXPECT_EQ(error.code, "missing_field");
  EXPECT_EQ(error.field, "event");
  EXPECT_EQ(ParseError(Endpoint::kTrack, R"({"userId":"u","event":""})").field, "event")
      << "empty event name";
  EXPECT_EQ(ParseError(Endpoint::kTrack, R"({"userId":"u","event":null})").field, "event");

  error = ParseError(Endpoint::kAlias, R"({"userId":"u"})");
  EXPECT_EQ(error.code, "missing_field");
  EXPECT_EQ(error.field, "previousId");
  error = ParseError(Endpoint::kAlias, R"({"anonymousId":"a","previousId":"p"})");
  EXPECT_EQ(error.code, "missing_field");
  EXPECT_EQ(error.field, "userId") << "alias names the new userId";
  const CanonicalEvent alias = ParseOne(Endpoint::kAlias, R"({"userId":"u","previousId":"p"})");
  EXPECT_EQ(alias.previous_id, "p");

  error = ParseError(Endpoint::kGroup, R"({"userId":"u"})");
  EXPECT_EQ(error.code, "missing_field");
  EXPECT_EQ(error.field, "groupId");

  // identify, page and screen need only an identity.
  ParseOne(Endpoint::kIdentify, R"({"anonymousId":"a"})");
  ParseOne(Endpoint::kPage, R"({"anonymousId":"a"})");
  ParseOne(Endpoint::kScreen, R"({"anonymousId":"a"})");
}

TEST_F(SegmentParserTest, StringFieldsOfTheWrongType) {
  FieldError error = ParseError(Endpoint::kTrack, R"({"userId":"u","event":5})");
  EXPECT_EQ(error.code, "invalid_type");
  EXPECT_EQ(error.message, "event: expected a string, got a number");
  EXPECT_EQ(ParseError(Endpoint::kPage, R"({"userId":"u","name":{}})").field, "name");
  EXPECT_EQ(ParseError(Endpoint::kPage, R"({"userId":"u","category":[]})").field, "category");
  EXPECT_EQ(ParseError(Endpoint::kPage, R"({"userId":"u","messageId":1})").field, "messageId");
}

TEST_F(SegmentParserTest, TraitsAsArrayIsAnInvalidType) {
  const FieldError error = ParseError(Endpoint::kIdentify, R"({"userId":"u","traits":["a","b"]})");
  EXPECT_EQ(error.code, "invalid_type");
  EXPECT_EQ(error.field, "traits");
  EXPECT_EQ(error.message, "traits: expected an object, got an array");
  EXPECT_EQ(ParseError(Endpoint::kTrack, R"({"userId":"u","event":"E","properties":"x"})").message,
            "properties: expected an object, got a string");
  EXPECT_EQ(ParseError(Endpoint::kTrack, R"({"userId":"u","event":"E","context":1})").field, "context");
  EXPECT_EQ(ParseError(Endpoint::kTrack, R"({"userId":"u","event":"E","integrations":true})").field,
            "integrations");
}

TEST_F(SegmentParserTest, NullSubDocumentsAreAbsent) {
  const CanonicalEvent event =
      ParseOne(Endpoint::kIdentify, R"({"userId":"u","traits":null,"context":null,"integrations":null})");
  EXPECT_TRUE(event.traits.empty());
  EXPECT_TRUE(event.context.empty());
  EXPECT_TRUE(event.integrations.empty());
}

TEST_F(SegmentParserTest, SubDocumentsAreMinifiedWithStringsReescapedAndNumbersVerbatim) {
  const CanonicalEvent event = ParseOne(Endpoint::kTrack, R"({
    "userId": "u", "event": "E",
    "properties": {
      "price" : 1.50, "neg": -0, "exp": 1E3, "big": 123456789012345678901234567890,
      "escaped": "caf\u00e9 \ud83d\ude00 \/ \" \\ \n \u2028",
      "raw": "café 😀",
      "list": [ 1 , [ ] , { } , null , true , false ],
      "nested": { "a" : { "b" : [ { "c" : "d" } ] } }
    }
  })");
  EXPECT_EQ(event.properties,
            "{\"price\":1.50,\"neg\":-0,\"exp\":1E3,\"big\":123456789012345678901234567890,"
            "\"escaped\":\"caf\xC3\xA9 \xF0\x9F\x98\x80 / \\\" \\\\ \\n \\u2028\","
            "\"raw\":\"caf\xC3\xA9 \xF0\x9F\x98\x80\","
            "\"list\":[1,[],{},null,true,false],"
            "\"nested\":{\"a\":{\"b\":[{\"c\":\"d\"}]}}}");
}

TEST_F(SegmentParserTest, MalformedContentInsideASubDocumentNamesItsPath) {
  FieldError error = ParseError(Endpoint::kIdentify, R"({"userId":"u","traits":{"address":{"city":tru}}})");
  EXPECT_EQ(error.code, "invalid_json");
  EXPECT_EQ(error.field, "traits.address.city");
  error = ParseError(Endpoint::kIdentify, R"({"userId":"u","traits":{"list":[1,2,nul]}})");
  EXPECT_EQ(error.code, "invalid_json");
  EXPECT_EQ(error.field, "traits.list[2]");
  error = ParseError(Endpoint::kIdentify, R"({"userId":"u","traits":{"n":01}})");
  EXPECT_EQ(error.code, "invalid_json");
  EXPECT_EQ(error.field, "traits.n");
  error = ParseError(Endpoint::kIdentify, R"({"userId":"u","traits":{"s":"bad \x escape"}})");
  EXPECT_EQ(error.code, "invalid_json");
  EXPECT_EQ(error.field, "traits.s");
  error = ParseError(Endpoint::kIdentify, R"({"userId":"u","traits":{"s":"\ud800 lone surrogate"}})");
  EXPECT_EQ(error.code, "invalid_json");
  EXPECT_EQ(error.field, "traits.s");
  error = ParseError(Endpoint::kIdentify, R"({"userId":"u","traits":nul})");
  EXPECT_EQ(error.code, "invalid_json") << "a broken null is not a null";
  EXPECT_EQ(error.field, "traits");
  error = ParseError(Endpoint::kIdentify, R"({"userId":nulll})");
  EXPECT_EQ(error.code, "invalid_json");
  EXPECT_EQ(error.field, "userId");
}

TEST_F(SegmentParserTest, UnknownMembersAreIgnoredButMustBeValidJson) {
  const CanonicalEvent event = ParseOne(
      Endpoint::kTrack,
      R"({"userId":"u","event":"E","channel":"browser","version":2,"receivedAt":"x","extra":{"a":[1,{"b":null}]}})");
  EXPECT_EQ(event.event, "E");
  const FieldError error = ParseError(Endpoint::kTrack, R"({"userId":"u","event":"E","version":tru})");
  EXPECT_EQ(error.code, "invalid_json");
  EXPECT_EQ(error.field, "version");
}

TEST_F(SegmentParserTest, FieldNamesAreCaseSensitive) {
  const FieldError error = ParseError(Endpoint::kTrack, R"({"userid":"u","UserId":"u","event":"E"})");
  EXPECT_EQ(error.code, "missing_identity") << "userid/UserId are not userId";
}

TEST_F(SegmentParserTest, TopLevelTraitsAreKeptOnlyForIdentifyAndGroup) {
  const CanonicalEvent track = ParseOne(
      Endpoint::kTrack, R"({"userId":"u","event":"E","traits":{"a":1},"context":{"traits":{"b":2}}})");
  EXPECT_TRUE(track.traits.empty()) << "not part of the track spec";
  EXPECT_EQ(track.context, R"({"traits":{"b":2}})") << "context.traits stay inside context";
}

TEST_F(SegmentParserTest, NestingDeeperThan64LevelsIsRejected) {
  const auto nested = [](int levels) {
    std::string json;
    for (int i = 0; i < levels; ++i) json += R"({"a":)";
    json += "1";
    for (int i = 0; i < levels; ++i) json += "}";
    return json;
  };
  const CanonicalEvent event = ParseOne(Endpoint::kIdentify, R"({"userId":"u","traits":)" + nested(64) + "}");
  EXPECT_EQ(event.traits, nested(64)) << "64 levels, counting traits itself, are allowed";
  const FieldError error = ParseError(Endpoint::kIdentify, R"({"userId":"u","traits":)" + nested(65) + "}");
  EXPECT_EQ(error.code, "invalid_value");
  EXPECT_NE(error.message.find("nesting too deep"), std::string::npos) << error.message;
  EXPECT_EQ(error.field.rfind("traits.a.a.a", 0), 0u) << "field names the path: " << error.field;
  const FieldError arrays =
      ParseError(Endpoint::kIdentify,
                 R"({"userId":"u","traits":{"x":)" + std::string(70, '[') + std::string(70, ']') + "}}");
  EXPECT_EQ(arrays.code, "invalid_value") << "arrays count as levels too";
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

TEST_F(SegmentParserTest, BadTimestamps) {
  FieldError error = ParseError(Endpoint::kTrack, R"({"userId":"u","event":"E","timestamp":"yesterday"})");
  EXPECT_EQ(error.code, "invalid_timestamp");
  EXPECT_EQ(error.field, "timestamp");
  EXPECT_NE(error.message.find("\"yesterday\""), std::string::npos) << error.message;
  error = ParseError(Endpoint::kTrack, R"({"userId":"u","event":"E","sentAt":1714560000})");
  EXPECT_EQ(error.code, "invalid_timestamp");
  EXPECT_EQ(error.field, "sentAt");
  EXPECT_NE(error.message.find("expected an ISO-8601 string"), std::string::npos) << error.message;
  error = ParseError(Endpoint::kTrack,
                     R"({"userId":"u","event":"E","originalTimestamp":"2015-02-30T00:00:00Z"})");
  EXPECT_EQ(error.code, "invalid_timestamp");
  EXPECT_EQ(error.field, "originalTimestamp");
}

TEST_F(SegmentParserTest, SkewCorrectionArithmetic) {
  // The client's clock is 10 minutes fast: it says it sent at 12:10:00 what it stamped 12:09:30.
  const CanonicalEvent event = ParseOne(
      Endpoint::kTrack,
      R"({"userId":"u","event":"E","timestamp":"2024-05-01T12:09:30Z","sentAt":"2024-05-01T12:10:00Z"})");
  EXPECT_EQ(event.timestamp, At("2024-05-01T11:59:30Z"))
      << "received 12:00:00 minus 30 s in flight on the client";
  EXPECT_EQ(*event.original_timestamp, At("2024-05-01T12:09:30Z"));
  EXPECT_EQ(*event.sent_at, At("2024-05-01T12:10:00Z"));
  EXPECT_EQ(event.received_at, kReceivedAt);
}

TEST_F(SegmentParserTest, TimestampWithoutSentAtIsTakenAsIsAndNoTimestampMeansReceipt) {
  const CanonicalEvent only_timestamp =
      ParseOne(Endpoint::kTrack, R"({"userId":"u","event":"E","timestamp":"2020-01-01T00:00:00+01:00"})");
  EXPECT_EQ(only_timestamp.timestamp, At("2019-12-31T23:00:00Z"));
  EXPECT_FALSE(only_timestamp.sent_at.has_value());

  const CanonicalEvent original_only =
      ParseOne(Endpoint::kTrack, R"({"userId":"u","event":"E","originalTimestamp":"2020-01-01T00:00:00Z"})");
  EXPECT_EQ(original_only.timestamp, At("2020-01-01T00:00:00Z"));

  const CanonicalEvent only_sent_at =
      ParseOne(Endpoint::kTrack, R"({"userId":"u","event":"E","sentAt":"2020-01-01T00:00:00Z"})");
  EXPECT_EQ(only_sent_at.timestamp, kReceivedAt);
  EXPECT_FALSE(only_sent_at.original_timestamp.has_value());
  ASSERT_TRUE(only_sent_at.sent_at.has_value());

  const CanonicalEvent neither = ParseOne(Endpoint::kTrack, R"({"userId":"u","event":"E"})");
  EXPECT_EQ(neither.timestamp, kReceivedAt);
  EXPECT_FALSE(neither.original_timestamp.has_value());
}

TEST_F(SegmentParserTest, GeneratedMessageIdIsStableAndContentAddressed) {
  const std::string body = R"({"userId":"u","event":"Clicked"})";
  const CanonicalEvent first = ParseOne(Endpoint::kTrack, body);
  const CanonicalEvent second = ParseOne(Endpoint::kTrack, body);
  EXPECT_TRUE(first.message_id_generated);
  ASSERT_EQ(first.message_id.size(), 4u + 32u) << first.message_id;
  EXPECT_EQ(first.message_id.substr(0, 4), "tsr-");
  EXPECT_EQ(first.message_id.find_first_not_of("0123456789abcdef", 4), std::string::npos)
      << "lowercase hex: " << first.message_id;
  EXPECT_EQ(first.message_id, second.message_id) << "a retried event must get the same id";
  SegmentParser other_parser;
  std::string padded = body;
  EnsurePadding(padded);
  EXPECT_EQ(
      other_parser.Parse(Endpoint::kTrack, padded, kReceivedAt + milliseconds(5)).events.at(0).message_id,
      first.message_id)
      << "independent of the parser instance and of the receive time";
  const CanonicalEvent different = ParseOne(Endpoint::kTrack, R"({"userId":"u","event":"Clicked!"})");
  EXPECT_NE(different.message_id, first.message_id);
  const CanonicalEvent empty_id = ParseOne(Endpoint::kTrack, R"({"userId":"u","event":"E","messageId":""})");
  EXPECT_TRUE(empty_id.message_id_generated) << "an empty messageId counts as none";
  const CanonicalEvent client_id =
      ParseOne(Endpoint::kTrack, R"({"userId":"u","event":"E","messageId":"m-1"})");
  EXPECT_EQ(client_id.message_id, "m-1");
  EXPECT_FALSE(client_id.message_id_generated);
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

TEST_F(SegmentParserTest, ParserIsReusableAcrossRequests) {
  for (int round = 0; round < 3; ++round) {
    const ParsedRequest batch = Parse(Endpoint::kBatch, ReadPayload("http_api_batch.json"));
    EXPECT_EQ(batch.events.size(), 2u) << "round " << round;
    EXPECT_TRUE(Parse(Endpoint::kTrack, "{").request_error.has_value());
    EXPECT_EQ(ParseOne(Endpoint::kIdentify, ReadPayload("identify.json")).user_id, "97980cfea0067");
  }
}

// --- WebSocket frames (Endpoint::kStream) ---

TEST_F(SegmentParserTest, StreamFrameWithOneMessageTakesItsTypeFromTheMessage) {
  const ParsedRequest request =
      Parse(Endpoint::kStream, R"({"frameId":"f-1","type":"identify","userId":"u1","traits":{"plan":"pro"}})");
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
  EXPECT_EQ(request.rejected[0].error.field, "type") << "without a batch, the frame is a message and needs a type";
}

TEST_F(SegmentParserTest, StreamMessageOverTheEventLimitIsRejectedWithItsMessageId) {
  const std::string big = R"({"type":"track","userId":"u","event":"Big","messageId":"big-1","properties":{"pad":")" +
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

  for (const char* bad : {R"({"frameId":1.5,"batch":[]})", R"({"frameId":{},"batch":[]})",
                          R"({"frameId":null,"batch":[]})"}) {
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
