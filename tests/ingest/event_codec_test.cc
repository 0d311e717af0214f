#include "ingest/event_codec.h"

#include <gtest/gtest.h>

#include <string>

#include "base/time.h"
#include "ingest/segment_parser.h"

namespace tessera::ingest {
namespace {

Timestamp At(std::string_view iso) {
  const std::optional<Timestamp> time = base::ParseIso8601(iso);
  if (!time) ADD_FAILURE() << "bad time in test: " << iso;
  return time.value_or(Timestamp{});
}

void ExpectSameEvent(const CanonicalEvent& actual, const CanonicalEvent& expected) {
  EXPECT_EQ(actual.message_id, expected.message_id);
  EXPECT_EQ(actual.message_id_generated, expected.message_id_generated);
  EXPECT_EQ(actual.type, expected.type);
  EXPECT_EQ(actual.space, expected.space);
  EXPECT_EQ(actual.source, expected.source);
  EXPECT_EQ(actual.channel, expected.channel);
  EXPECT_EQ(actual.user_id, expected.user_id);
  EXPECT_EQ(actual.anonymous_id, expected.anonymous_id);
  EXPECT_EQ(actual.previous_id, expected.previous_id);
  EXPECT_EQ(actual.group_id, expected.group_id);
  EXPECT_EQ(actual.event, expected.event);
  EXPECT_EQ(actual.name, expected.name);
  EXPECT_EQ(actual.category, expected.category);
  EXPECT_EQ(actual.traits, expected.traits);
  EXPECT_EQ(actual.properties, expected.properties);
  EXPECT_EQ(actual.context, expected.context);
  EXPECT_EQ(actual.integrations, expected.integrations);
  EXPECT_EQ(actual.timestamp, expected.timestamp);
  EXPECT_EQ(actual.original_timestamp, expected.original_timestamp);
  EXPECT_EQ(actual.sent_at, expected.sent_at);
  EXPECT_EQ(actual.received_at, expected.received_at);
}

CanonicalEvent FullEvent() {
  CanonicalEvent event;
  event.message_id = "msg-1";
  event.type = EventType::kPage;
  event.space = "default";
  event.source = "website";
  event.channel = "web";
  event.user_id = "u-1";
  event.anonymous_id = "anon-1";
  event.previous_id = "prev-1";
  event.group_id = "g-1";
  event.event = "Viewed";
  event.name = "Home";
  event.category = "Docs";
  event.traits = R"({"email":"a@example.com","nested":{"x":[1,2.5,null,true]}})";
  event.properties = R"({"title":"Welcome | \"Initech\"","url":"http://www.example.com"})";
  event.context = R"({"ip":"8.8.8.8","traits":{"plan":"pro"}})";
  event.integrations = R"({"All":true})";
  event.timestamp = At("2015-02-23T22:28:55.111Z");
  event.original_timestamp = At("2015-02-23T22:28:55.222333Z");
  event.sent_at = At("2015-02-23T22:28:55.333Z");
  event.received_at = At("2015-02-23T22:28:55.387Z");
  return event;
}

absl::StatusOr<CanonicalEvent> RoundTrip(const CanonicalEvent& event) {
  std::string record;
  EncodeEvent(event, record);
  return DecodeEvent(record);
}

TEST(EventCodecTest, EveryFieldSurvivesARoundTrip) {
  const CanonicalEvent event = FullEvent();
  const absl::StatusOr<CanonicalEvent> decoded = RoundTrip(event);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  ExpectSameEvent(*decoded, event);
}

TEST(EventCodecTest, RecordLayoutIsStable) {
  CanonicalEvent event;
  event.message_id = "m";
  event.message_id_generated = true;
  event.type = EventType::kTrack;
  event.user_id = "u";
  event.event = "E";
  event.properties = R"({"a":1})";
  event.timestamp = At("2020-01-01T00:00:00Z");
  event.received_at = At("2020-01-01T00:00:01.000001Z");
  std::string record = "existing|";
  EncodeEvent(event, record);
  EXPECT_EQ(
      record,
      R"(existing|{"messageId":"m","type":"track","messageIdGenerated":true,"userId":"u","event":"E",)"
      R"("properties":{"a":1},"timestamp":"2020-01-01T00:00:00.000Z","receivedAt":"2020-01-01T00:00:01.000001Z"})")
      << "EncodeEvent appends; empty fields and unset times are left out";
}

TEST(EventCodecTest, MinimalEventKeepsAbsentFieldsAbsent) {
  CanonicalEvent event;
  event.message_id = "m";
  event.type = EventType::kAlias;
  const absl::StatusOr<CanonicalEvent> decoded = RoundTrip(event);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  ExpectSameEvent(*decoded, event);
  EXPECT_FALSE(decoded->original_timestamp.has_value());
  EXPECT_FALSE(decoded->sent_at.has_value());
}

TEST(EventCodecTest, EveryEventTypeRoundTrips) {
  for (EventType type : {EventType::kTrack, EventType::kIdentify, EventType::kPage, EventType::kScreen,
                         EventType::kGroup, EventType::kAlias}) {
    CanonicalEvent event = FullEvent();
    event.type = type;
    const absl::StatusOr<CanonicalEvent> decoded = RoundTrip(event);
    ASSERT_TRUE(decoded.ok()) << decoded.status();
    EXPECT_EQ(decoded->type, type) << EventTypeName(type);
  }
}

TEST(EventCodecTest, HostileStringsRoundTripExactly) {
  CanonicalEvent event = FullEvent();
  event.event = "quote \" backslash \\ slash / tab \t newline \n nul " + std::string(1, '\0') + " end";
  event.name = "controls \x01\x02\x1f and DEL \x7f";
  event.category =
      "emoji \xF0\x9F\x98\x80 accents caf\xC3\xA9 CJK \xE4\xB8\xAD separators \xE2\x80\xA8\xE2\x80\xA9";
  event.user_id = "{\"not\":\"json\"}";
  event.anonymous_id = "\\u0041 is not unescaped twice";
  event.message_id = "\xEF\xBF\xBD already a replacement char";
  const absl::StatusOr<CanonicalEvent> decoded = RoundTrip(event);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  ExpectSameEvent(*decoded, event);
}

TEST(EventCodecTest, InvalidUtf8IsStoredAsReplacementCharacters) {
  // The parser never produces invalid UTF-8, but other producers might: the record stays valid JSON.
  CanonicalEvent event = FullEvent();
  event.event = "bad \xC3\x28 and \xFF end";
  const absl::StatusOr<CanonicalEvent> decoded = RoundTrip(event);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(decoded->event, "bad \xEF\xBF\xBD( and \xEF\xBF\xBD end");
}

TEST(EventCodecTest, ParsedEventsRoundTripExactly) {
  SegmentParser parser;
  std::string body = R"({"batch":[
      {"type":"identify","userId":12,"traits":{"name":"Zo\u00eb \"Z\"","tags":["a","\u2028"],"n":1.50e2}},
      {"type":"track","anonymousId":"a","event":"Caf\u00e9 \ud83d\ude00 \u0001","properties":{},
       "timestamp":"2024-01-01T00:00:00.123456+02:00","sentAt":"2024-01-01T00:00:01Z"}
  ],"context":{"library":{"name":"test"}}})";
  EnsurePadding(body);
  const ParsedRequest request = parser.Parse(Endpoint::kBatch, body, At("2024-05-01T00:00:00Z"));
  ASSERT_FALSE(request.request_error.has_value()) << request.request_error->message;
  ASSERT_EQ(request.events.size(), 2u);
  for (CanonicalEvent event : request.events) {
    event.space = "default";
    event.channel = "server";
    const absl::StatusOr<CanonicalEvent> decoded = RoundTrip(event);
    ASSERT_TRUE(decoded.ok()) << decoded.status();
    ExpectSameEvent(*decoded, event);
  }
}

TEST(EventCodecTest, DamagedRecordsNameTheProblem) {
  struct Case {
    std::string record;
    std::string expected_in_message;
  };
  const Case cases[] = {
      {"", "record"},
      {"not json", "record"},
      {"[1]", "record"},
      {R"({"type":"track","timestamp":"2020-01-01T00:00:00Z","receivedAt":"2020-01-01T00:00:00Z"})",
       "messageId"},
      {R"({"messageId":"m","timestamp":"2020-01-01T00:00:00Z","receivedAt":"2020-01-01T00:00:00Z"})", "type"},
      {R"({"messageId":"m","type":"purchase","timestamp":"2020-01-01T00:00:00Z","receivedAt":"2020-01-01T00:00:00Z"})",
       "type"},
      {R"({"messageId":"m","type":"track","receivedAt":"2020-01-01T00:00:00Z"})", "timestamp"},
      {R"({"messageId":"m","type":"track","timestamp":"2020-01-01T00:00:00Z"})", "receivedAt"},
      {R"({"messageId":"m","type":"track","timestamp":"yesterday","receivedAt":"2020-01-01T00:00:00Z"})",
       "timestamp"},
      {R"({"messageId":5,"type":"track","timestamp":"2020-01-01T00:00:00Z","receivedAt":"2020-01-01T00:00:00Z"})",
       "messageId"},
      {R"({"messageId":"m","type":"track","traits":[1],"timestamp":"2020-01-01T00:00:00Z","receivedAt":"2020-01-01T00:00:00Z"})",
       "traits"},
      {R"({"messageId":"m","type":"track","timestamp":"2020-01-01T00:00:00Z","receivedAt":"2020-01-01T00:00:00Z"} {})",
       "record"},
  };
  for (const Case& c : cases) {
    const absl::StatusOr<CanonicalEvent> decoded = DecodeEvent(c.record);
    ASSERT_FALSE(decoded.ok()) << "accepted damaged record: " << c.record;
    EXPECT_EQ(decoded.status().code(), absl::StatusCode::kInvalidArgument) << c.record;
    EXPECT_NE(std::string(decoded.status().message()).find(c.expected_in_message), std::string::npos)
        << "message should name \"" << c.expected_in_message << "\": " << decoded.status();
  }
}

TEST(EventCodecTest, UnknownMembersAreSkippedForForwardCompatibility) {
  const absl::StatusOr<CanonicalEvent> decoded = DecodeEvent(
      R"({"messageId":"m","type":"screen","futureField":{"x":[1]},"timestamp":"2020-01-01T00:00:00Z",)"
      R"("receivedAt":"2020-01-01T00:00:00Z"})");
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(decoded->type, EventType::kScreen);
}

TEST(EventTypeTest, NamesAndParsingAreInverse) {
  for (EventType type : {EventType::kTrack, EventType::kIdentify, EventType::kPage, EventType::kScreen,
                         EventType::kGroup, EventType::kAlias}) {
    EXPECT_EQ(ParseEventType(EventTypeName(type)), type) << EventTypeName(type);
  }
  EXPECT_EQ(EventTypeName(EventType::kIdentify), "identify");
  EXPECT_FALSE(ParseEventType("Track").has_value()) << "case matters";
  EXPECT_FALSE(ParseEventType("").has_value());
  EXPECT_FALSE(ParseEventType("track ").has_value());
}

}  // namespace
}  // namespace tessera::ingest
