// The contact-log CSV connector: every mapped column, the event names the resolver's service
// history reads, each rejection with its line, chunked feeding, and the mapping checks.

#include "connectors/contact_log_csv.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "base/time.h"

namespace tessera::connectors {
namespace {

ingest::Timestamp Iso(std::string_view text) { return base::ParseIso8601(text).value(); }

ContactLogMapping TestMapping() {
  ContactLogMapping mapping;
  mapping.contact_id = "id";
  mapping.started_at = "start";
  mapping.type = "media";
  mapping.direction = "dir";
  mapping.duration = "talk";
  mapping.phone = "ani";
  mapping.email = "email";
  mapping.user_id = "customer";
  mapping.customer_name = "caller";
  mapping.agent = "agent";
  mapping.queue = "skill";
  mapping.reason = "wrap";
  mapping.outcome = "disposition";
  mapping.satisfaction = "csat";
  mapping.transcript = "transcript";
  mapping.notes = "notes";
  mapping.system = "genesys";
  return mapping;
}

constexpr std::string_view kHeader =
    "id,start,media,dir,talk,ani,email,customer,caller,agent,skill,wrap,disposition,csat,transcript,notes,"
    "site\n";

// A row of kHeader from its cells, so that each test names only what it is about.
struct Row {
  std::string id = "C-1";
  std::string start = "2024-03-01T10:15:00Z";
  std::string media = "call";
  std::string dir = "inbound";
  std::string talk = "95";
  std::string ani = "+821012345678";
  std::string email = "minji@example.com";
  std::string customer = "U-7";
  std::string caller = "Kim Minji";
  std::string agent = "agent-3";
  std::string skill = "billing";
  std::string wrap = "refund";
  std::string disposition = "answered";
  std::string csat = "5";
  std::string transcript = "";
  std::string notes = "";
  std::string site = "Seoul";

  std::string Csv() const {
    return id + "," + start + "," + media + "," + dir + "," + talk + "," + ani + "," + email + "," +
           customer + "," + caller + "," + agent + "," + skill + "," + wrap + "," + disposition + "," + csat +
           "," + transcript + "," + notes + "," + site + "\n";
  }
};

ingest::ParsedRequest Translate(std::string_view csv, const ContactLogMapping& mapping = TestMapping()) {
  absl::StatusOr<ingest::ParsedRequest> result =
      TranslateContactLogCsv(csv, mapping, Iso("2024-06-01T00:00:00Z"));
  EXPECT_TRUE(result.ok()) << result.status();
  if (!result.ok()) return {};
  EXPECT_FALSE(result->request_error.has_value()) << result->request_error->message;
  return *std::move(result);
}

std::string Describe(const ingest::ParsedRequest& parsed) {
  std::string text;
  for (const ingest::RejectedEvent& rejected : parsed.rejected) {
    text += "line " + std::to_string(rejected.index) + ": " + rejected.error.code + " " +
            rejected.error.field + " " + rejected.error.message + "\n";
  }
  return text;
}

// The one event of a file holding kHeader and `row`.
ingest::CanonicalEvent TranslateOne(const Row& row, const ContactLogMapping& mapping = TestMapping()) {
  const ingest::ParsedRequest parsed = Translate(std::string(kHeader) + row.Csv(), mapping);
  EXPECT_EQ(parsed.events.size(), 1u) << Describe(parsed);
  return parsed.events.empty() ? ingest::CanonicalEvent{} : parsed.events[0];
}

TEST(ContactLogCsvTest, TranslatesEveryMappedColumn) {
  Row row;
  row.notes = "called back";
  row.transcript = "hello";
  const ingest::ParsedRequest parsed = Translate(std::string(kHeader) + row.Csv());
  ASSERT_EQ(parsed.events.size(), 1u) << Describe(parsed);
  const ingest::CanonicalEvent& event = parsed.events[0];
  EXPECT_EQ(event.message_id, "contact-log-genesys-C-1");
  EXPECT_EQ(event.type, ingest::EventType::kTrack);
  EXPECT_EQ(event.event, "Call Completed");
  EXPECT_EQ(event.user_id, "U-7");
  EXPECT_EQ(event.timestamp, Iso("2024-03-01T10:15:00Z"));
  EXPECT_EQ(event.original_timestamp, event.timestamp);
  EXPECT_EQ(event.received_at, Iso("2024-06-01T00:00:00Z"));
  EXPECT_EQ(
      event.properties,
      R"({"provider":"genesys","contact_id":"C-1","contact_type":"call","direction":"inbound",)"
      R"("duration_seconds":95,"queue":"billing","agent":"agent-3","reason":"refund","outcome":"completed",)"
      R"("satisfaction":"good","csat":1,"transcript":"hello","notes":"called back","site":"Seoul"})");
  EXPECT_EQ(event.context,
            R"({"traits":{"phone":"+821012345678","email":"minji@example.com","name":"Kim Minji"}})");
  EXPECT_EQ(parsed.index_of, std::vector<size_t>{2});
  EXPECT_EQ(parsed.event_count, 1u);
}

TEST(ContactLogCsvTest, EmptyCellsAreOmittedAndDefaultsApply) {
  Row row;
  row.media = row.dir = row.talk = row.ani = row.customer = row.caller = row.agent = row.skill = row.wrap =
      row.disposition = row.csat = row.site = "";
  const ingest::CanonicalEvent event = TranslateOne(row);
  EXPECT_EQ(event.event, "Call Completed") << "no type: default_type call; no outcome: completed";
  EXPECT_EQ(
      event.properties,
      R"({"provider":"genesys","contact_id":"C-1","contact_type":"call","outcome":"completed","site":""})");
  EXPECT_EQ(event.context, R"({"traits":{"email":"minji@example.com"}})");
  EXPECT_EQ(event.user_id, "");

  ContactLogMapping minimal;  // Only the required columns and one identifier, with their defaults.
  minimal.phone = "phone";
  minimal.default_type = "Chat";
  const ingest::ParsedRequest parsed =
      Translate("contact_id,started_at,phone\nX9,2024-03-01T10:15:00+09:00,010-1234-5678\n", minimal);
  ASSERT_EQ(parsed.events.size(), 1u) << Describe(parsed);
  EXPECT_EQ(parsed.events[0].message_id, "contact-log-contact_log-X9");
  EXPECT_EQ(parsed.events[0].event, "Chat Completed");
  EXPECT_EQ(parsed.events[0].timestamp, Iso("2024-03-01T01:15:00Z"));
  EXPECT_EQ(parsed.events[0].properties,
            R"({"provider":"contact_log","contact_id":"X9","contact_type":"chat","outcome":"completed"})");
}

TEST(ContactLogCsvTest, EventNamesFollowTypeOutcomeAndDirection) {
  const struct {
    std::string type, direction, outcome, event, outcome_property;
  } cases[] = {
      {"call", "inbound", "answered", "Call Completed", "completed"},
      {"CALL", "in", "Handled", "Call Completed", "completed"},
      {"call", "", "resolved", "Call Completed", "completed"},
      {"call", "inbound", "missed", "Call Missed", "missed"},
      {"call", "", "abandoned", "Call Missed", "missed"},
      {"call", "in", "no-answer", "Call Missed", "missed"},
      {"call", "inbound", "NO_ANSWER", "Call Missed", "missed"},
      {"call", "inbound", "voicemail", "Call Missed", "missed"},
      {"call", "outbound", "unanswered", "Call Not Connected", "missed"},
      {"call", "Out", "busy", "Call Not Connected", "not_connected"},
      {"call", "inbound", "failed", "Call Not Connected", "not_connected"},
      {"call", "outbound", "canceled", "Call Not Connected", "not_connected"},
      {"call", "outbound", "cancelled", "Call Not Connected", "not_connected"},
      {"call", "inbound", "rejected", "Call Not Connected", "not_connected"},
      {"call", "outbound", "Transferred", "Call Completed", "transferred"},
      {"chat", "inbound", "completed", "Chat Completed", "completed"},
      {"Chat", "inbound", "missed", "Chat Missed", "missed"},
      {"chat", "outbound", "failed", "Chat Missed", "not_connected"},
      {"email", "inbound", "", "Contact Completed", "completed"},
      {"sms", "outbound", "busy", "Contact Missed", "not_connected"},
      {"other", "inbound", "abandoned", "Contact Missed", "missed"},
  };
  for (const auto& c : cases) {
    Row row;
    row.media = c.type;
    row.dir = c.direction;
    row.disposition = c.outcome;
    const ingest::CanonicalEvent event = TranslateOne(row);
    EXPECT_EQ(event.event, c.event) << c.type << "/" << c.direction << "/" << c.outcome;
    EXPECT_TRUE(absl::StrContains(event.properties, R"("outcome":")" + c.outcome_property + "\""))
        << event.properties;
  }
}

TEST(ContactLogCsvTest, DirectionsAreNormalized) {
  for (const auto& [cell, direction] :
       std::vector<std::pair<std::string, std::string>>{{"Inbound", "inbound"},
                                                        {"in", "inbound"},
                                                        {"incoming", "inbound"},
                                                        {"OUTBOUND", "outbound"},
                                                        {"out", "outbound"},
                                                        {"outgoing", "outbound"}}) {
    Row row;
    row.dir = cell;
    EXPECT_TRUE(absl::StrContains(TranslateOne(row).properties, R"("direction":")" + direction + "\""))
        << cell;
  }
}

TEST(ContactLogCsvTest, DurationsInSecondsOrClockTime) {
  for (const auto& [cell, seconds] : std::vector<std::pair<std::string, int>>{{"0", 0},
                                                                              {"95", 95},
                                                                              {"01:35", 95},
                                                                              {"1:35", 95},
                                                                              {"75:00", 4500},
                                                                              {"1:02:03", 3723},
                                                                              {"10:00:00", 36000},
                                                                              {" 42 ", 42}}) {
    Row row;
    row.talk = cell;
    EXPECT_TRUE(absl::StrContains(TranslateOne(row).properties,
                                  R"("duration_seconds":)" + std::to_string(seconds) + ","))
        << cell;
  }
  for (const std::string cell :
       {"1.5", "-3", "+3", "1:5", "1:60", "1:02:60", "1:1:1:1", "a", ":30", "30:", "99999999999999999999"}) {
    Row row;
    row.talk = cell;
    const ingest::ParsedRequest parsed = Translate(std::string(kHeader) + row.Csv());
    ASSERT_EQ(parsed.rejected.size(), 1u) << cell;
    EXPECT_EQ(parsed.rejected[0].error.code, ingest::error_code::kInvalidValue) << cell;
    EXPECT_EQ(parsed.rejected[0].error.field, "talk") << cell;
  }
}

TEST(ContactLogCsvTest, SatisfactionScalesAndWords) {
  const std::vector<std::pair<std::string, std::string>> five_point = {
      {"5", "good"},          {"4", "good"},  {"3", "bad"},        {"2", "bad"},
      {"1", "bad"},           {"0", "bad"},   {"Good", "good"},    {"satisfied", "good"},
      {"very happy", "good"}, {"BAD", "bad"}, {"not good", "bad"}, {"dissatisfied", "bad"}};
  for (const auto& [cell, rating] : five_point) {
    Row row;
    row.csat = cell;
    const std::string properties = TranslateOne(row).properties;
    EXPECT_TRUE(absl::StrContains(
        properties, R"("satisfaction":")" + rating + R"(","csat":)" + (rating == "good" ? "1" : "0")))
        << cell << ": " << properties;
  }
  ContactLogMapping binary = TestMapping();
  binary.satisfaction_scale = "0-1";
  for (const auto& [cell, rating] :
       std::vector<std::pair<std::string, std::string>>{{"1", "good"}, {"0", "bad"}, {"happy", "good"}}) {
    Row row;
    row.csat = cell;
    EXPECT_TRUE(
        absl::StrContains(TranslateOne(row, binary).properties, R"("satisfaction":")" + rating + "\""))
        << cell;
  }
  for (const auto& [cell, mapping] :
       std::vector<std::pair<std::string, ContactLogMapping>>{{"6", TestMapping()},
                                                              {"4.5", TestMapping()},
                                                              {"meh", TestMapping()},
                                                              {"-1", TestMapping()},
                                                              {"2", binary},
                                                              {"10", binary}}) {
    Row row;
    row.csat = cell;
    const ingest::ParsedRequest parsed = Translate(std::string(kHeader) + row.Csv(), mapping);
    ASSERT_EQ(parsed.rejected.size(), 1u) << cell;
    EXPECT_EQ(parsed.rejected[0].error.code, ingest::error_code::kInvalidValue) << cell;
    EXPECT_EQ(parsed.rejected[0].error.field, "csat") << cell;
    EXPECT_TRUE(absl::StrContains(parsed.rejected[0].error.message, "\"" + cell + "\""))
        << parsed.rejected[0].error.message;
  }
}

TEST(ContactLogCsvTest, QuotedTranscriptWithLineBreaksAndKoreanText) {
  const std::string csv =
      std::string(kHeader) +
      "C-1,2024-03-01T10:15:00Z,chat,in,60,,minji@example.com,,김민지,상담원,환불,"
      "\"환불 문의\",completed,good,\"고객: 안녕하세요\n상담원: 네, \"\"무엇을\"\" 도와드릴까요?\",,"
      "서울\n"
      "C-2,2024-03-01T10:20:00Z,chat,in,60,,b@example.com,,,,,,,,,,\n";
  const ingest::ParsedRequest parsed = Translate(csv);
  ASSERT_EQ(parsed.events.size(), 2u) << Describe(parsed);
  const ingest::CanonicalEvent& event = parsed.events[0];
  EXPECT_TRUE(absl::StrContains(event.properties,
                                R"("transcript":"고객: 안녕하세요\n상담원: 네, \"무엇을\" 도와드릴까요?")"))
      << event.properties;
  EXPECT_TRUE(absl::StrContains(event.properties, R"("queue":"환불","agent":"상담원","reason":"환불 문의")"))
      << event.properties;
  EXPECT_TRUE(absl::StrContains(event.properties, R"("site":"서울")")) << event.properties;
  EXPECT_EQ(event.context, R"({"traits":{"email":"minji@example.com","name":"김민지"}})");
  EXPECT_EQ(parsed.index_of, (std::vector<size_t>{2, 4})) << "the transcript spans lines 2 and 3";
}

TEST(ContactLogCsvTest, EveryErrorCodeWithItsLine) {
  Row good;
  Row bad_time;
  bad_time.id = "C-2";
  bad_time.start = "01/03/2024";
  Row no_id;
  no_id.id = "";
  Row bad_type;
  bad_type.id = "C-4";
  bad_type.media = "fax";
  Row bad_direction;
  bad_direction.id = "C-5";
  bad_direction.dir = "sideways";
  Row no_identity;
  no_identity.id = "C-6";
  no_identity.ani = no_identity.email = no_identity.customer = "";
  Row last;
  last.id = "C-9";
  const std::string csv = std::string(kHeader) + good.Csv() +    // line 2
                          bad_time.Csv() +                       // line 3
                          no_id.Csv() +                          // line 4
                          bad_type.Csv() +                       // line 5
                          bad_direction.Csv() +                  // line 6
                          no_identity.Csv() +                    // line 7
                          "C-7,2024-03-01T10:15:00Z\n" +         // line 8: too few columns
                          "C-8,\"x\"y" + last.Csv().substr(4) +  // line 9: text after a closing quote
                          last.Csv();                            // line 10
  const ingest::ParsedRequest parsed = Translate(csv);
  ASSERT_EQ(parsed.events.size(), 2u) << Describe(parsed);
  EXPECT_EQ(parsed.index_of, (std::vector<size_t>{2, 10}));
  const struct {
    size_t line;
    std::string_view code;
    std::string_view field;
    std::string_view message_id;
  } expected[] = {
      {3, ingest::error_code::kInvalidTimestamp, "start", "contact-log-genesys-C-2"},
      {4, ingest::error_code::kMissingField, "id", ""},
      {5, ingest::error_code::kInvalidValue, "media", "contact-log-genesys-C-4"},
      {6, ingest::error_code::kInvalidValue, "dir", "contact-log-genesys-C-5"},
      {7, ingest::error_code::kMissingIdentity, "", "contact-log-genesys-C-6"},
      {8, csv_error::kInvalidCsv, "", ""},
      {9, csv_error::kInvalidCsv, "", ""},
  };
  ASSERT_EQ(parsed.rejected.size(), std::size(expected)) << Describe(parsed);
  for (size_t i = 0; i < std::size(expected); ++i) {
    EXPECT_EQ(parsed.rejected[i].index, expected[i].line) << Describe(parsed);
    EXPECT_EQ(parsed.rejected[i].error.code, expected[i].code) << Describe(parsed);
    EXPECT_EQ(parsed.rejected[i].error.field, expected[i].field) << Describe(parsed);
    EXPECT_EQ(parsed.rejected[i].message_id, expected[i].message_id) << Describe(parsed);
  }
  EXPECT_TRUE(absl::StrContains(parsed.rejected[0].error.message, "\"01/03/2024\"")) << Describe(parsed);
  EXPECT_TRUE(absl::StrContains(parsed.rejected[2].error.message, "\"fax\"")) << Describe(parsed);
  EXPECT_TRUE(absl::StrContains(parsed.rejected[4].error.message, "\"ani\", \"email\", \"customer\""))
      << Describe(parsed);
  EXPECT_EQ(parsed.event_count, 9u);
}

TEST(ContactLogCsvTest, HeaderErrorsAreRequestErrors) {
  ContactLogMapping mapping = TestMapping();
  mapping.queue = "queue";
  absl::StatusOr<ingest::ParsedRequest> missing =
      TranslateContactLogCsv(std::string(kHeader) + Row().Csv(), mapping, {});
  ASSERT_TRUE(missing.ok()) << missing.status();
  ASSERT_TRUE(missing->request_error.has_value());
  EXPECT_EQ(missing->request_error->code, ingest::error_code::kMissingField);
  EXPECT_EQ(missing->request_error->field, "queue");
  EXPECT_TRUE(absl::StrContains(missing->request_error->message, "(mapped as queue)"))
      << missing->request_error->message;
  EXPECT_TRUE(missing->events.empty());

  ContactLogMapping email_only;
  email_only.contact_id = "id";
  email_only.started_at = "start";
  email_only.email = "email";
  absl::StatusOr<ingest::ParsedRequest> twice =
      TranslateContactLogCsv("id,start,email,email\nC-1,2024-03-01T10:15:00Z,a@b.c,a@b.c\n", email_only, {});
  ASSERT_TRUE(twice.ok()) << twice.status();
  ASSERT_TRUE(twice->request_error.has_value());
  EXPECT_EQ(twice->request_error->code, ingest::error_code::kInvalidValue);
  EXPECT_EQ(twice->request_error->field, "email");

  absl::StatusOr<ingest::ParsedRequest> empty = TranslateContactLogCsv("\r\n", TestMapping(), {});
  ASSERT_TRUE(empty.ok()) << empty.status();
  ASSERT_TRUE(empty->request_error.has_value());
  EXPECT_EQ(empty->request_error->code, csv_error::kInvalidCsv);
  EXPECT_TRUE(absl::StrContains(empty->request_error->message, "\"id,start,...\""))
      << empty->request_error->message;
}

TEST(ContactLogCsvTest, TimestampFormatAndZoneAsForPos) {
  ContactLogMapping mapping = TestMapping();
  mapping.timestamp_format = "%Y.%m.%d %H:%M";
  mapping.timezone = "Asia/Seoul";
  Row row;
  row.start = "2024.03.01 19:15";
  EXPECT_EQ(TranslateOne(row, mapping).timestamp, Iso("2024-03-01T10:15:00Z")) << "19:15 in Seoul (+09:00)";
}

TEST(ContactLogCsvTest, ChunkedFeedingGivesTheSameAsWhole) {
  Row chat;
  chat.id = "C-2";
  chat.media = "chat";
  chat.transcript = "\"line one\r\nline two, 둘\"";
  Row bad;
  bad.id = "C-3";
  bad.talk = "x";
  const std::string csv = "\xEF\xBB\xBF" + std::string(kHeader) + Row().Csv() + chat.Csv() + bad.Csv() +
                          "C-4,2024-03-01T10:15:00Z,call,out,1:00,,,U-9,,,,,busy,,,,";
  const ingest::ParsedRequest whole = Translate(csv);
  ASSERT_EQ(whole.events.size(), 3u) << Describe(whole);
  for (const size_t chunk : {1, 2, 3, 7, 64}) {
    absl::StatusOr<ContactLogImporter> importer =
        ContactLogImporter::Create(TestMapping(), Iso("2024-06-01T00:00:00Z"));
    ASSERT_TRUE(importer.ok()) << importer.status();
    ingest::ParsedRequest streamed;
    for (size_t offset = 0; offset < csv.size(); offset += chunk) {
      importer->Feed(std::string_view(csv).substr(offset, chunk), streamed);
    }
    importer->Finish(streamed);
    EXPECT_EQ(importer->bytes_read(), csv.size());
    EXPECT_EQ(importer->line(), 6u) << "the last row, without a line break, is on line 6";
    ASSERT_EQ(streamed.events.size(), whole.events.size()) << "chunk " << chunk;
    for (size_t i = 0; i < whole.events.size(); ++i) {
      EXPECT_EQ(streamed.events[i].message_id, whole.events[i].message_id) << "chunk " << chunk;
      EXPECT_EQ(streamed.events[i].event, whole.events[i].event) << "chunk " << chunk;
      EXPECT_EQ(streamed.events[i].properties, whole.events[i].properties) << "chunk " << chunk;
      EXPECT_EQ(streamed.events[i].context, whole.events[i].context) << "chunk " << chunk;
    }
    EXPECT_EQ(streamed.index_of, whole.index_of) << "chunk " << chunk;
    EXPECT_EQ(Describe(streamed), Describe(whole)) << "chunk " << chunk;
  }
  EXPECT_EQ(whole.index_of, (std::vector<size_t>{2, 3, 6}));
  EXPECT_EQ(whole.events[2].event, "Call Not Connected");
  EXPECT_EQ(whole.events[2].user_id, "U-9");
}

TEST(ContactLogCsvTest, ReimportGivesTheSameMessageIdsAndSystemsDoNotCollide) {
  const std::string csv = std::string(kHeader) + Row().Csv();
  EXPECT_EQ(Translate(csv).events[0].message_id, Translate(csv).events[0].message_id);
  ContactLogMapping other = TestMapping();
  other.system = "five9";
  const ingest::CanonicalEvent event = TranslateOne(Row(), other);
  EXPECT_EQ(event.message_id, "contact-log-five9-C-1");
  EXPECT_TRUE(absl::StrContains(event.properties, R"("provider":"five9")")) << event.properties;
}

TEST(ContactLogCsvTest, UnmappedColumnsNeverOverwriteWrittenProperties) {
  ContactLogMapping mapping = TestMapping();
  mapping.queue = "";
  mapping.notes = "";
  // "skill" and "notes" are now unmapped; a column named like a written property is skipped.
  const std::string csv =
      "id,start,email,queue,outcome,provider,skill,skill\n"
      "C-1,2024-03-01T10:15:00Z,a@b.c,q,weird,x,first,second\n";
  ContactLogMapping narrow;
  narrow.contact_id = "id";
  narrow.started_at = "start";
  narrow.email = "email";
  const ingest::ParsedRequest parsed = Translate(csv, narrow);
  ASSERT_EQ(parsed.events.size(), 1u) << Describe(parsed);
  EXPECT_EQ(parsed.events[0].properties,
            R"({"provider":"contact_log","contact_id":"C-1","contact_type":"call","outcome":"completed",)"
            R"("skill":"first"})");
  narrow.unmapped_columns_as_properties = false;
  EXPECT_FALSE(absl::StrContains(Translate(csv, narrow).events[0].properties, "skill"));
}

TEST(ContactLogCsvTest, MappingIsCheckedUpFront) {
  const struct {
    void (*change)(ContactLogMapping&);
    std::string_view expected;
  } cases[] = {
      {[](ContactLogMapping& m) { m.contact_id = " "; }, "mapping.contact_id"},
      {[](ContactLogMapping& m) { m.started_at = ""; }, "mapping.started_at"},
      {[](ContactLogMapping& m) { m.phone = m.email = m.user_id = ""; }, "phone, email or user_id"},
      {[](ContactLogMapping& m) { m.default_type = "fax"; }, "mapping.default_type: \"fax\""},
      {[](ContactLogMapping& m) { m.system = "my system"; }, "mapping.system: \"my system\""},
      {[](ContactLogMapping& m) { m.system = ""; }, "mapping.system"},
      {[](ContactLogMapping& m) { m.satisfaction_scale = "1-10"; }, "mapping.satisfaction_scale: \"1-10\""},
      {[](ContactLogMapping& m) { m.timestamp_format = "%Y-%m"; }, "mapping.timestamp_format"},
      {[](ContactLogMapping& m) { m.timezone = "Mars/Olympus"; }, "mapping.timezone: \"Mars/Olympus\""},
      {[](ContactLogMapping& m) { m.max_row_bytes = 0; }, "mapping.max_row_bytes"},
  };
  for (const auto& c : cases) {
    ContactLogMapping mapping = TestMapping();
    c.change(mapping);
    absl::StatusOr<ContactLogImporter> importer = ContactLogImporter::Create(mapping, {});
    ASSERT_FALSE(importer.ok()) << c.expected;
    EXPECT_TRUE(absl::IsInvalidArgument(importer.status()));
    EXPECT_TRUE(absl::StrContains(importer.status().message(), std::string(c.expected))) << importer.status();
  }
  ContactLogMapping user_only;
  user_only.user_id = "customer";
  EXPECT_TRUE(ContactLogImporter::Create(user_only, {}).ok()) << "user_id alone identifies";
}

TEST(ContactLogCsvTest, RowLimitRejectsTheLongRowOnly) {
  ContactLogMapping mapping = TestMapping();
  mapping.max_row_bytes = 200;
  Row huge;
  huge.id = "C-2";
  huge.transcript = std::string(300, 'x');
  Row after;
  after.id = "C-3";
  const ingest::ParsedRequest parsed =
      Translate(std::string(kHeader) + Row().Csv() + huge.Csv() + after.Csv(), mapping);
  EXPECT_EQ(parsed.index_of, (std::vector<size_t>{2, 4}));
  ASSERT_EQ(parsed.rejected.size(), 1u);
  EXPECT_EQ(parsed.rejected[0].index, 3u);
  EXPECT_EQ(parsed.rejected[0].error.code, csv_error::kInvalidCsv);
  EXPECT_TRUE(absl::StrContains(parsed.rejected[0].error.message, "longer than 200 bytes"));
}

}  // namespace
}  // namespace tessera::connectors
