#include "ingest/event_codec.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <iterator>
#include <limits>
#include <string>

#include "absl/strings/match.h"
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

// A track event with a generated message id, a user id, properties and two times.
CanonicalEvent SmallEvent() {
  CanonicalEvent event;
  event.message_id = "m";
  event.message_id_generated = true;
  event.type = EventType::kTrack;
  event.user_id = "u";
  event.event = "E";
  event.properties = R"({"a":1})";
  event.timestamp = At("2020-01-01T00:00:00Z");
  event.received_at = At("2020-01-01T00:00:01.000001Z");
  return event;
}

TEST(EventCodecTest, JsonLayoutIsStable) {
  std::string record = "existing|";
  EncodeEventJson(SmallEvent(), record);
  EXPECT_EQ(
      record,
      R"(existing|{"messageId":"m","type":"track","messageIdGenerated":true,"userId":"u","event":"E",)"
      R"("properties":{"a":1},"timestamp":"2020-01-01T00:00:00.000Z","receivedAt":"2020-01-01T00:00:01.000001Z"})")
      << "EncodeEventJson appends; empty fields and unset times are left out";
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

// --- v1, the binary record ---

TEST(EventCodecTest, BinaryLayoutIsStable) {
  // version, flags (track, messageIdGenerated), present (userId, event, properties: 0x888),
  // receivedAt 1577836801000001 µs, timestamp -1000001 µs after it, then the strings.
  constexpr char kGolden[] =
      "\x01\x08\x88\x11\x82\x89\xcc\xa0\x98\xc2\xcd\x05\x81\x89\x7a\x01\x6d\x01\x75\x01\x45\x07\x7b\x22\x61"
      "\x22\x3a\x31\x7d";
  std::string record = "existing|";
  EncodeEvent(SmallEvent(), record);
  EXPECT_EQ(record, "existing|" + std::string(kGolden, sizeof(kGolden) - 1))
      << "EncodeEvent appends; a changed v1 layout breaks every store written before it: make it v2";
  const absl::StatusOr<CanonicalEvent> decoded = DecodeEvent(std::string_view(kGolden, sizeof(kGolden) - 1));
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  ExpectSameEvent(*decoded, SmallEvent());
}

TEST(EventCodecTest, EachOptionalFieldIsPresentOrAbsentOnItsOwn) {
  std::string CanonicalEvent::*const fields[] = {
      &CanonicalEvent::space,    &CanonicalEvent::source,       &CanonicalEvent::channel,
      &CanonicalEvent::user_id,  &CanonicalEvent::anonymous_id, &CanonicalEvent::previous_id,
      &CanonicalEvent::group_id, &CanonicalEvent::event,        &CanonicalEvent::name,
      &CanonicalEvent::category, &CanonicalEvent::traits,       &CanonicalEvent::properties,
      &CanonicalEvent::context,  &CanonicalEvent::integrations};
  for (size_t i = 0; i < std::size(fields); ++i) {
    CanonicalEvent only;
    only.message_id = "m";
    only.*fields[i] = i >= 10 ? R"({"k":"v"})" : "value";
    CanonicalEvent all_but = FullEvent();
    all_but.*fields[i] = "";
    for (const CanonicalEvent& event : {only, all_but}) {
      const absl::StatusOr<CanonicalEvent> decoded = RoundTrip(event);
      ASSERT_TRUE(decoded.ok()) << "field " << i << ": " << decoded.status();
      ExpectSameEvent(*decoded, event);
    }
  }
}

TEST(EventCodecTest, OptionalTimesAndTheGeneratedFlagRoundTripInEveryCombination) {
  for (int mask = 0; mask < 8; ++mask) {
    CanonicalEvent event = FullEvent();
    event.message_id_generated = (mask & 1) != 0;
    if ((mask & 2) == 0) event.original_timestamp.reset();
    if ((mask & 4) == 0) event.sent_at.reset();
    const absl::StatusOr<CanonicalEvent> decoded = RoundTrip(event);
    ASSERT_TRUE(decoded.ok()) << "combination " << mask << ": " << decoded.status();
    ExpectSameEvent(*decoded, event);
  }
}

TEST(EventCodecTest, TimesFarFromReceiptAndAtTheLimitsRoundTrip) {
  using std::chrono::microseconds;
  const Timestamp lowest{microseconds(std::numeric_limits<int64_t>::min())};
  const Timestamp highest{microseconds(std::numeric_limits<int64_t>::max())};
  const Timestamp times[] = {lowest,
                             highest,
                             Timestamp{},
                             Timestamp{microseconds(1)},
                             Timestamp{microseconds(-1)},
                             At("9999-12-31T23:59:59.999999Z")};
  for (const Timestamp received : times) {
    for (const Timestamp other : times) {
      CanonicalEvent event = FullEvent();
      event.received_at = received;
      event.timestamp = other;
      event.original_timestamp = other;
      event.sent_at = received;
      const absl::StatusOr<CanonicalEvent> decoded = RoundTrip(event);
      ASSERT_TRUE(decoded.ok()) << decoded.status();
      EXPECT_EQ(decoded->received_at, received);
      EXPECT_EQ(decoded->timestamp, other);
      EXPECT_EQ(decoded->original_timestamp, other);
      EXPECT_EQ(decoded->sent_at, received);
    }
  }
}

TEST(EventCodecTest, BinaryRecordIsSmallerThanTheJson) {
  const CanonicalEvent event = FullEvent();
  std::string binary;
  std::string json;
  EncodeEvent(event, binary);
  EncodeEventJson(event, json);
  const size_t documents =
      event.traits.size() + event.properties.size() + event.context.size() + event.integrations.size();
  EXPECT_LT(binary.size() - documents, (json.size() - documents) / 3)
      << "everything but the JSON sub-documents should shrink to under a third";
}

TEST(EventCodecTest, BinaryRecordCutShortAnywhereIsAnErrorNamingTheField) {
  std::string record;
  EncodeEvent(FullEvent(), record);
  for (size_t size = 0; size < record.size(); ++size) {
    // A copy of exactly `size` bytes, so that a read past its end is caught by the sanitizers.
    const std::string prefix = record.substr(0, size);
    const absl::StatusOr<CanonicalEvent> decoded = DecodeEvent(prefix);
    ASSERT_FALSE(decoded.ok()) << "a record cut to " << size << " of " << record.size() << " bytes decoded";
    EXPECT_EQ(decoded.status().code(), absl::StatusCode::kInvalidArgument) << decoded.status();
    EXPECT_TRUE(absl::StrContains(decoded.status().message(), "event record:")) << decoded.status();
  }
  const std::string cut_in_integrations = record.substr(0, record.size() - 5);
  EXPECT_TRUE(absl::StrContains(DecodeEvent(cut_in_integrations).status().message(), "integrations"))
      << DecodeEvent(cut_in_integrations).status() << ": the last field is the one that is short";
}

TEST(EventCodecTest, DamagedBinaryRecordsNameTheProblem) {
  std::string good;
  EncodeEvent(SmallEvent(), good);
  struct Case {
    std::string record;
    std::string expected_in_message;
  };
  const Case cases[] = {
      {good + "x", "unexpected bytes after the last field"},
      {std::string("\x01\x48", 2) + good.substr(2), "flags"},  // bit 6
      {std::string("\x01\x06", 2) + good.substr(2), "unknown event type number 6"},
      {std::string("\x01\x08\x80\x80\x01", 5) + good.substr(4), "present fields"},   // bit 14
      {std::string("\x01\x08\x88\x11", 4) + std::string(11, '\xff'), "receivedAt"},  // varint too long
  };
  for (const Case& c : cases) {
    const absl::StatusOr<CanonicalEvent> decoded = DecodeEvent(c.record);
    ASSERT_FALSE(decoded.ok()) << "accepted damaged record for " << c.expected_in_message;
    EXPECT_EQ(decoded.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_TRUE(absl::StrContains(decoded.status().message(), c.expected_in_message))
        << "message should name \"" << c.expected_in_message << "\": " << decoded.status();
  }
}

TEST(EventCodecTest, UnknownVersionByteIsRefusedByName) {
  std::string record;
  EncodeEvent(SmallEvent(), record);
  for (const char version : {'\x00', '\x02', '\x7f', '\xff'}) {
    record[0] = version;
    const absl::StatusOr<CanonicalEvent> decoded = DecodeEvent(record);
    ASSERT_FALSE(decoded.ok());
    EXPECT_EQ(decoded.status().code(), absl::StatusCode::kInvalidArgument);
    char expected[32];
    std::snprintf(expected, sizeof(expected), "unknown version byte 0x%02x",
                  static_cast<unsigned char>(version));
    EXPECT_TRUE(absl::StrContains(decoded.status().message(), expected)) << decoded.status();
    EXPECT_FALSE(RecordAsJson(record).ok()) << "nor is it shown as JSON";
  }
}

// --- v0, the JSON record: bytes written by the encoder before v1 (tessera at 020fbe4, through
// POST /v1/page and /v1/track, read back with `tessera log`) ---

const std::string kV0Page =
    R"({"messageId":"msg-1","type":"page","space":"default","source":"website","channel":"web","userId":"u-1",)"
    R"("anonymousId":"anon-1","name":"Home","category":"Docs","properties":{"title":"Welcome | \"Initech\"",)"
    R"("url":"http://www.example.com"},"context":{"ip":"8.8.8.8","traits":{"plan":"pro"}},"integrations":{"All":true},)"
    R"("timestamp":"2026-12-05T16:54:53.154316Z","originalTimestamp":"2015-02-23T22:28:55.111Z",)"
    R"("sentAt":"2015-02-23T22:28:55.333Z","receivedAt":"2026-12-05T16:54:53.376316Z"})";
const std::string kV0Track =
    R"({"messageId":"tsr-923f599b56c98597630b32355afb903e","type":"track","messageIdGenerated":true,)"
    R"("space":"default","source":"website","channel":"web","anonymousId":"caf)"
    "\xc3\xa9"
    R"( \u2028 \"q\" \\ \t","event":"Order )"
    "\xf0\x9f\x98\x80"
    R"(","properties":{"total":1.5e1},"timestamp":"2026-12-05T16:54:53.408515Z",)"
    R"("receivedAt":"2026-12-05T16:54:53.408515Z"})";

TEST(EventCodecTest, RecordsWrittenBeforeV1AreStillRead) {
  const absl::StatusOr<CanonicalEvent> page = DecodeEvent(kV0Page);
  ASSERT_TRUE(page.ok()) << page.status();
  CanonicalEvent expected;
  expected.message_id = "msg-1";
  expected.type = EventType::kPage;
  expected.space = "default";
  expected.source = "website";
  expected.channel = "web";
  expected.user_id = "u-1";
  expected.anonymous_id = "anon-1";
  expected.name = "Home";
  expected.category = "Docs";
  expected.properties = R"({"title":"Welcome | \"Initech\"","url":"http://www.example.com"})";
  expected.context = R"({"ip":"8.8.8.8","traits":{"plan":"pro"}})";
  expected.integrations = R"({"All":true})";
  expected.timestamp = At("2026-12-05T16:54:53.154316Z");
  expected.original_timestamp = At("2015-02-23T22:28:55.111Z");
  expected.sent_at = At("2015-02-23T22:28:55.333Z");
  expected.received_at = At("2026-12-05T16:54:53.376316Z");
  ExpectSameEvent(*page, expected);

  const absl::StatusOr<CanonicalEvent> track = DecodeEvent(kV0Track);
  ASSERT_TRUE(track.ok()) << track.status();
  EXPECT_TRUE(track->message_id_generated);
  EXPECT_EQ(track->anonymous_id, "caf\xc3\xa9 \xe2\x80\xa8 \"q\" \\ \t");
  EXPECT_EQ(track->event, "Order \xf0\x9f\x98\x80");
  EXPECT_EQ(track->properties, R"({"total":1.5e1})") << "sub-documents are kept as their text";
  EXPECT_FALSE(track->original_timestamp.has_value());
}

TEST(EventCodecTest, UsersSeeTheSameJsonForEitherVersion) {
  for (const std::string& v0 : {kV0Page, kV0Track}) {
    const absl::StatusOr<std::string> as_stored = RecordAsJson(v0);
    ASSERT_TRUE(as_stored.ok()) << as_stored.status();
    EXPECT_EQ(*as_stored, v0) << "a v0 record is shown as it is stored";

    const absl::StatusOr<CanonicalEvent> event = DecodeEvent(v0);
    ASSERT_TRUE(event.ok()) << event.status();
    std::string v1;
    EncodeEvent(*event, v1);
    const absl::StatusOr<std::string> shown = RecordAsJson(v1);
    ASSERT_TRUE(shown.ok()) << shown.status();
    EXPECT_EQ(*shown, v0) << "the same event stored as v1 is shown byte for byte as v0 held it";
  }
}

TEST(EventCodecTest, JsonShownForABinaryRecordIsWhatTheJsonEncoderWrites) {
  CanonicalEvent hostile = FullEvent();
  hostile.event = "quote \" nul " + std::string(1, '\0') + " bad \xC3\x28 and \xFF end \xE2\x80\xA8";
  hostile.user_id = "\xF0\x9F\x98";
  for (const CanonicalEvent& event : {FullEvent(), SmallEvent(), hostile}) {
    std::string record;
    std::string json;
    EncodeEvent(event, record);
    EncodeEventJson(event, json);
    const absl::StatusOr<std::string> shown = RecordAsJson(record);
    ASSERT_TRUE(shown.ok()) << shown.status();
    EXPECT_EQ(*shown, json);
  }
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
