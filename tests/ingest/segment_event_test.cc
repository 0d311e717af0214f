// One Segment event's members, through the single-event endpoints: identifiers, the fields each
// call type requires, string fields, sub-documents (traits, properties, context, integrations:
// types, minification, error paths, nesting), timestamps and clock skew, generated messageIds.

#include <gtest/gtest.h>

#include <string>

#include "ingest/segment_parser.h"
#include "tests/ingest/segment_parser_fixture.h"

namespace tessera::ingest {
namespace {

using namespace segment_parser_testing;  // NOLINT: the fixture and its helpers

// ---- Single-event endpoints ----

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

}  // namespace
}  // namespace tessera::ingest
