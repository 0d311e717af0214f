#include "connectors/pos_csv.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "base/time.h"

namespace tessera::connectors {
namespace {

ingest::Timestamp Iso(std::string_view text) { return base::ParseIso8601(text).value(); }

CsvMapping TestMapping() {
  CsvMapping mapping;
  mapping.receipt_id = "receipt";
  mapping.loyalty_card = "card";
  mapping.phone = "phone";
  mapping.email = "email";
  mapping.amount = "amount";
  mapping.default_currency = "EUR";
  mapping.store = "store";
  mapping.timestamp = "sold_at";
  mapping.timestamp_format = "%Y-%m-%d %H:%M:%S";
  mapping.timezone = "+02:00";
  return mapping;
}

constexpr std::string_view kHeader = "receipt,card,phone,email,amount,store,sold_at,note\n";

ingest::ParsedRequest Translate(std::string_view csv, const CsvMapping& mapping = TestMapping()) {
  absl::StatusOr<ingest::ParsedRequest> result = TranslatePosCsv(csv, mapping, Iso("2024-06-01T00:00:00Z"));
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

TEST(PosCsvTest, TranslatesAReceiptRow) {
  const std::string csv =
      std::string(kHeader) + "R-1,L-77,010-1234-5678,a@example.com,12.50,S1,2024-03-01 10:15:00,hi\n";
  const ingest::ParsedRequest parsed = Translate(csv);
  ASSERT_EQ(parsed.events.size(), 1u) << Describe(parsed);
  const ingest::CanonicalEvent& event = parsed.events[0];
  EXPECT_EQ(event.message_id, "pos-receipt-R-1");
  EXPECT_EQ(event.event, "Order Completed");
  EXPECT_EQ(event.type, ingest::EventType::kTrack);
  EXPECT_EQ(event.timestamp, Iso("2024-03-01T08:15:00Z")) << "10:15 at +02:00";
  EXPECT_EQ(event.original_timestamp, event.timestamp);
  EXPECT_EQ(event.received_at, Iso("2024-06-01T00:00:00Z"));
  EXPECT_EQ(event.properties,
            R"({"order_id":"R-1","revenue":12.5,"total":12.5,"currency":"EUR","store_id":"S1","note":"hi"})");
  EXPECT_EQ(event.context,
            R"({"externalIds":[{"id":"L-77","type":"loyalty_id","collection":"users","encoding":"none"}],)"
            R"("traits":{"phone":"010-1234-5678","email":"a@example.com"}})");
  EXPECT_EQ(parsed.index_of, std::vector<size_t>{2});
  EXPECT_EQ(parsed.event_count, 1u);
}

TEST(PosCsvTest, QuotedFieldsHoldCommasQuotesAndLineBreaks) {
  const std::string csv = std::string(kHeader) +
                          "R-1,,,a@example.com,\"1,50\",S1,2024-03-01 10:15:00,\"says \"\"hi\"\", twice\"\n"
                          "R-2,,,b@example.com,3,S1,2024-03-01 10:16:00,\"two\nlines\"\n"
                          "R-3,,,c@example.com,4,S1,2024-03-01 10:17:00,x\n";
  CsvMapping mapping = TestMapping();
  mapping.decimal_separator = ',';
  const ingest::ParsedRequest parsed = Translate(csv, mapping);
  ASSERT_EQ(parsed.events.size(), 3u) << Describe(parsed);
  EXPECT_TRUE(absl::StrContains(parsed.events[0].properties, R"("revenue":1.5)"))
      << parsed.events[0].properties;
  EXPECT_TRUE(absl::StrContains(parsed.events[0].properties, R"("note":"says \"hi\", twice")"))
      << parsed.events[0].properties;
  EXPECT_TRUE(absl::StrContains(parsed.events[1].properties, R"("note":"two\nlines")"))
      << parsed.events[1].properties;
  EXPECT_EQ(parsed.index_of, (std::vector<size_t>{2, 3, 5})) << "R-3 starts on line 5 after a two-line field";
}

TEST(PosCsvTest, SkipsTheByteOrderMarkAndReadsCrlf) {
  const std::string csv =
      "\xEF\xBB\xBFreceipt,card,phone,email,amount,store,sold_at,note\r\n"
      "R-1,L-1,,,1,S1,2024-03-01 10:15:00,\r\n"
      "R-2,L-2,,,2,S1,2024-03-01 10:15:00,\"a\r\nb\"\r\n";
  const ingest::ParsedRequest parsed = Translate(csv);
  ASSERT_EQ(parsed.events.size(), 2u) << Describe(parsed);
  EXPECT_EQ(parsed.events[0].message_id, "pos-receipt-R-1") << "the BOM must not hide the receipt column";
  EXPECT_EQ(parsed.index_of, (std::vector<size_t>{2, 3}));
  EXPECT_TRUE(absl::StrContains(parsed.events[1].properties, R"("note":"a\r\nb")"))
      << parsed.events[1].properties;
  EXPECT_TRUE(absl::StrContains(parsed.events[0].properties, R"("note":"")"))
      << "no stray CR in the last column";
}

TEST(PosCsvTest, WrongColumnCountRejectsOnlyThatRow) {
  const std::string csv = std::string(kHeader) +
                          "R-1,L-1,,,1,S1,2024-03-01 10:15:00,\n"
                          "R-2,L-2,,,2,S1\n"
                          "R-3,L-3,,,3,S1,2024-03-01 10:15:00,\n";
  const ingest::ParsedRequest parsed = Translate(csv);
  EXPECT_EQ(parsed.events.size(), 2u);
  ASSERT_EQ(parsed.rejected.size(), 1u);
  EXPECT_EQ(parsed.rejected[0].index, 3u) << "the 1-based line number";
  EXPECT_EQ(parsed.rejected[0].error.code, pos_csv_error::kInvalidCsv);
  EXPECT_TRUE(absl::StrContains(parsed.rejected[0].error.message, "6 columns; the header has 8"))
      << parsed.rejected[0].error.message;
  EXPECT_EQ(parsed.event_count, 3u);
}

TEST(PosCsvTest, EmptyLinesAreSkippedButCounted) {
  const std::string csv = "\n" + std::string(kHeader) + "\nR-1,L-1,,,1,S1,2024-03-01 10:15:00,\n\n\r\n";
  const ingest::ParsedRequest parsed = Translate(csv);
  ASSERT_EQ(parsed.events.size(), 1u) << Describe(parsed);
  EXPECT_TRUE(parsed.rejected.empty()) << Describe(parsed);
  EXPECT_EQ(parsed.index_of, std::vector<size_t>{4});
  EXPECT_EQ(parsed.event_count, 1u);
}

TEST(PosCsvTest, ReimportGivesTheSameMessageIds) {
  const std::string csv = std::string(kHeader) +
                          "R-1,L-1,,,1,S1,2024-03-01 10:15:00,\n"
                          "R-2,L-2,,,2,S2,2024-03-01 10:15:00,\n";
  const ingest::ParsedRequest first = Translate(csv);
  const ingest::ParsedRequest second = Translate(csv);
  ASSERT_EQ(first.events.size(), 2u);
  ASSERT_EQ(second.events.size(), 2u);
  for (size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(first.events[i].message_id, second.events[i].message_id);
    EXPECT_EQ(first.events[i].timestamp, second.events[i].timestamp);
  }
  CsvMapping per_store = TestMapping();
  per_store.receipt_id_per_store = true;
  EXPECT_EQ(Translate(csv, per_store).events[1].message_id, "pos-receipt-S2-R-2");
}

TEST(PosCsvTest, BadRowsAreRejectedByLineWithTheReason) {
  const std::string csv = std::string(kHeader) +
                          "R-1,L-1,,,1,S1,2024-02-30 10:15:00,\n"       // line 2: no Feb 30
                          "R-2,L-2,,,1.2.3,S1,2024-03-01 10:15:00,\n"   // line 3: bad amount
                          "R-3,,,,1,S1,2024-03-01 10:15:00,\n"          // line 4: no identifier
                          ",L-4,,,1,S1,2024-03-01 10:15:00,\n"          // line 5: no receipt id
                          "R-5,L-5,,,1,S1,2024-03-01T10:15:00,\n"       // line 6: wrong format
                          "R-6,L-6,,,\"1\"x,S1,2024-03-01 10:15:00,\n"  // line 7: text after a quote
                          "R-7,L-7,,,7,S1,2024-03-01 10:15:00,\n";
  const ingest::ParsedRequest parsed = Translate(csv);
  ASSERT_EQ(parsed.events.size(), 1u) << Describe(parsed);
  EXPECT_EQ(parsed.events[0].message_id, "pos-receipt-R-7");
  EXPECT_EQ(parsed.index_of, std::vector<size_t>{8});
  ASSERT_EQ(parsed.rejected.size(), 6u) << Describe(parsed);
  const struct {
    size_t line;
    std::string_view code;
    std::string_view field;
  } expected[] = {
      {2, ingest::error_code::kInvalidTimestamp, "sold_at"},
      {3, ingest::error_code::kInvalidValue, "amount"},
      {4, ingest::error_code::kMissingIdentity, ""},
      {5, ingest::error_code::kMissingField, "receipt"},
      {6, ingest::error_code::kInvalidTimestamp, "sold_at"},
      {7, pos_csv_error::kInvalidCsv, ""},
  };
  for (size_t i = 0; i < 6; ++i) {
    EXPECT_EQ(parsed.rejected[i].index, expected[i].line) << Describe(parsed);
    EXPECT_EQ(parsed.rejected[i].error.code, expected[i].code) << Describe(parsed);
    EXPECT_EQ(parsed.rejected[i].error.field, expected[i].field) << Describe(parsed);
  }
  EXPECT_EQ(parsed.rejected[0].message_id, "pos-receipt-R-1");
  EXPECT_TRUE(absl::StrContains(parsed.rejected[0].error.message, "2024-02-30 10:15:00")) << Describe(parsed);
  EXPECT_EQ(parsed.event_count, 7u);
}

TEST(PosCsvTest, UnknownMappedColumnFailsBeforeAnyRow) {
  CsvMapping mapping = TestMapping();
  mapping.loyalty_card = "loyalty";
  absl::StatusOr<ingest::ParsedRequest> result =
      TranslatePosCsv(std::string(kHeader) + "R-1,L-1,,,1,S1,2024-03-01 10:15:00,\n", mapping, {});
  ASSERT_TRUE(result.ok()) << result.status();
  ASSERT_TRUE(result->request_error.has_value());
  EXPECT_EQ(result->request_error->code, ingest::error_code::kMissingField);
  EXPECT_EQ(result->request_error->field, "loyalty");
  EXPECT_TRUE(absl::StrContains(result->request_error->message, "loyalty_card"))
      << result->request_error->message;
  EXPECT_TRUE(result->events.empty());
  EXPECT_TRUE(result->rejected.empty());
}

TEST(PosCsvTest, NoHeaderRowIsARequestError) {
  absl::StatusOr<ingest::ParsedRequest> result = TranslatePosCsv("\n\n", TestMapping(), {});
  ASSERT_TRUE(result.ok()) << result.status();
  ASSERT_TRUE(result->request_error.has_value());
  EXPECT_EQ(result->request_error->code, pos_csv_error::kInvalidCsv);
}

TEST(PosCsvTest, UnclosedQuoteRejectsTheLastRow) {
  const ingest::ParsedRequest parsed =
      Translate(std::string(kHeader) + "R-1,L-1,,,1,S1,2024-03-01 10:15:00,\"never closed\nR-2,L-2\n");
  EXPECT_TRUE(parsed.events.empty());
  ASSERT_EQ(parsed.rejected.size(), 1u);
  EXPECT_EQ(parsed.rejected[0].index, 2u);
  EXPECT_TRUE(absl::StrContains(parsed.rejected[0].error.message, "never closed")) << Describe(parsed);
}

// Commas count towards max_row_bytes: a row of commas alone used to be buffered as one empty
// field per comma, without bound, and was only rejected for its column count once it ended.
TEST(PosCsvTest, CommasCountTowardsTheRowLimit) {
  CsvMapping mapping = TestMapping();
  mapping.max_row_bytes = 64;
  const std::string csv = std::string(kHeader) + "R-1" + std::string(100, ',') + "\n" +
                          "R-2,L-2,,,1,S1,2024-03-01 10:15:00,\n";
  const ingest::ParsedRequest parsed = Translate(csv, mapping);
  ASSERT_EQ(parsed.rejected.size(), 1u) << Describe(parsed);
  EXPECT_EQ(parsed.rejected[0].index, 2u);
  EXPECT_EQ(parsed.rejected[0].error.code, pos_csv_error::kInvalidCsv);
  EXPECT_EQ(parsed.rejected[0].error.message, "the row is longer than 64 bytes") << Describe(parsed);
  ASSERT_EQ(parsed.events.size(), 1u) << "the next row goes on";
  EXPECT_EQ(parsed.events[0].message_id, "pos-receipt-R-2");
}

TEST(PosCsvTest, MappingIsCheckedUpFront) {
  CsvMapping mapping = TestMapping();
  mapping.timezone = "Europe/Atlantis";
  absl::StatusOr<CsvImporter> importer = CsvImporter::Create(mapping, {});
  EXPECT_TRUE(absl::IsInvalidArgument(importer.status()));
  EXPECT_TRUE(absl::StrContains(importer.status().message(), "IANA time zone")) << importer.status();

  mapping = TestMapping();
  mapping.timestamp_format = "%Y-%m-%d %Q";
  EXPECT_TRUE(absl::IsInvalidArgument(CsvImporter::Create(mapping, {}).status()));

  mapping = TestMapping();
  mapping.loyalty_card.clear();
  mapping.phone.clear();
  mapping.email.clear();
  EXPECT_TRUE(absl::IsInvalidArgument(CsvImporter::Create(mapping, {}).status()));
}

TEST(PosCsvTest, TimestampFormatsAndOffsets) {
  CsvMapping mapping = TestMapping();
  mapping.timestamp_format = "%m/%d/%Y %I:%M %p";
  mapping.timezone = "-0500";
  ingest::ParsedRequest parsed = Translate(std::string(kHeader) +
                                               "R-1,L-1,,,1,S1,03/01/2024 3:45 PM,\n"
                                               "R-2,L-1,,,1,S1,03/01/2024 12:05 am,\n",
                                           mapping);
  ASSERT_EQ(parsed.events.size(), 2u) << Describe(parsed);
  EXPECT_EQ(parsed.events[0].timestamp, Iso("2024-03-01T20:45:00Z"));
  EXPECT_EQ(parsed.events[1].timestamp, Iso("2024-03-01T05:05:00Z"));

  mapping.timestamp_format = "iso8601";
  mapping.timezone = "+02:00";
  parsed = Translate(std::string(kHeader) +
                         "R-1,L-1,,,1,S1,2024-03-01T10:00:00,\n"
                         "R-2,L-1,,,1,S1,2024-03-01T10:00:00Z,\n"
                         "R-3,L-1,,,1,S1,2024-03-01T10:00:00-01:00,\n",
                     mapping);
  ASSERT_EQ(parsed.events.size(), 3u) << Describe(parsed);
  EXPECT_EQ(parsed.events[0].timestamp, Iso("2024-03-01T08:00:00Z")) << "no offset: the configured one";
  EXPECT_EQ(parsed.events[1].timestamp, Iso("2024-03-01T10:00:00Z"));
  EXPECT_EQ(parsed.events[2].timestamp, Iso("2024-03-01T11:00:00Z"));
}

TEST(PosCsvTest, NamedTimeZonesFollowDaylightSavingTime) {
  CsvMapping mapping = TestMapping();
  mapping.timezone = "Europe/Berlin";
  // Berlin is UTC+1 in winter and UTC+2 from the last Sunday of March (2024-03-31 02:00 local).
  ingest::ParsedRequest parsed = Translate(std::string(kHeader) +
                                               "R-1,L-1,,,1,S1,2024-01-15 10:00:00,\n"
                                               "R-2,L-1,,,1,S1,2024-07-15 10:00:00,\n"
                                               "R-3,L-1,,,1,S1,2024-03-31 01:30:00,\n"
                                               "R-4,L-1,,,1,S1,2024-03-31 03:30:00,\n",
                                           mapping);
  ASSERT_EQ(parsed.events.size(), 4u) << Describe(parsed);
  EXPECT_EQ(parsed.events[0].timestamp, Iso("2024-01-15T09:00:00Z"));
  EXPECT_EQ(parsed.events[1].timestamp, Iso("2024-07-15T08:00:00Z"));
  EXPECT_EQ(parsed.events[2].timestamp, Iso("2024-03-31T00:30:00Z")) << "just before the change";
  EXPECT_EQ(parsed.events[3].timestamp, Iso("2024-03-31T01:30:00Z")) << "just after the change";

  mapping.timestamp_format = "iso8601";
  mapping.timezone = "America/New_York";
  parsed = Translate(std::string(kHeader) + "R-1,L-1,,,1,S1,2024-07-04T12:00:00,\n"
                                            "R-2,L-1,,,1,S1,2024-07-04T12:00:00+00:00,\n",
                     mapping);
  ASSERT_EQ(parsed.events.size(), 2u) << Describe(parsed);
  EXPECT_EQ(parsed.events[0].timestamp, Iso("2024-07-04T16:00:00Z")) << "EDT, UTC-4";
  EXPECT_EQ(parsed.events[1].timestamp, Iso("2024-07-04T12:00:00Z")) << "a written offset wins";
}

TEST(PosCsvTest, FeedingByteByByteGivesTheSameResult) {
  const std::string csv = "\xEF\xBB\xBF" + std::string(kHeader) +
                          "R-1,L-1,,,1,S1,2024-03-01 10:15:00,\"a,\"\"b\r\nc\"\r\n"
                          "R-2,L-2,,,x,S1,2024-03-01 10:15:00,\r\n"
                          "R-3,L-3,,,3,S1,2024-03-01 10:15:00,last";
  const ingest::ParsedRequest whole = Translate(csv);
  absl::StatusOr<CsvImporter> importer = CsvImporter::Create(TestMapping(), Iso("2024-06-01T00:00:00Z"));
  ASSERT_TRUE(importer.ok()) << importer.status();
  ingest::ParsedRequest streamed;
  for (const char c : csv) importer->Feed(std::string_view(&c, 1), streamed);
  importer->Finish(streamed);
  EXPECT_EQ(importer->bytes_read(), csv.size());
  ASSERT_EQ(streamed.events.size(), whole.events.size());
  ASSERT_EQ(whole.events.size(), 2u) << Describe(whole);
  for (size_t i = 0; i < whole.events.size(); ++i) {
    EXPECT_EQ(streamed.events[i].message_id, whole.events[i].message_id);
    EXPECT_EQ(streamed.events[i].properties, whole.events[i].properties);
  }
  EXPECT_EQ(streamed.index_of, whole.index_of);
  ASSERT_EQ(streamed.rejected.size(), 1u);
  EXPECT_EQ(streamed.rejected[0].index, 4u) << Describe(streamed);
  EXPECT_TRUE(absl::StrContains(whole.events[1].properties, R"("note":"last")"))
      << whole.events[1].properties;
}

TEST(PosCsvTest, RepeatedUnmappedColumnKeepsTheFirst) {
  const ingest::ParsedRequest parsed =
      Translate("receipt,card,phone,email,amount,store,sold_at,note,note\nR-1,L-1,,,1,S1,2024-03-01 10:15:00,a,b\n");
  ASSERT_EQ(parsed.events.size(), 1u) << Describe(parsed);
  EXPECT_EQ(parsed.events[0].properties,
            R"({"order_id":"R-1","revenue":1,"total":1,"currency":"EUR","store_id":"S1","note":"a"})");
}

}  // namespace
}  // namespace tessera::connectors
