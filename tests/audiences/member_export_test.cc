#include "audiences/member_export.h"

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "profile_store/audience_store.h"
#include "profile_store/profile.h"
#include "profile_store/store.h"
#include "tests/support/temp_dir.h"

namespace tessera::audiences {
namespace {

using profile_store::ColumnFamily;
using profile_store::ProfileId;
using profile_store::Store;

constexpr std::string_view kSpace = "default";
constexpr std::string_view kAudience = "buyers";
const Timestamp kNow = Timestamp(std::chrono::microseconds(1'796'000'000'000'000));  // 2026-11-29
const Timestamp kSeen = Timestamp(std::chrono::microseconds(1'795'000'000'000'000));

constexpr std::string_view kAllFields =
    "id,enteredAt,user_id,email,phone,traits.plan,traits.address.city,traits.vip,computed.orders,computed."
    "channel";

// A store with a space's profiles and member rows written the way the resolver writes them.
class MemberExportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = Store::Open({.path = dir_.path() + "/db"});
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = *std::move(store);
    auto definitions = std::make_shared<DefinitionSet>();
    for (std::string_view json : {R"({"name":"orders","kind":"count","event":"Order Completed"})",
                                  R"({"name":"channel","kind":"last_channel"})"}) {
      auto trait = ParseComputedTrait(json);
      ASSERT_TRUE(trait.ok()) << json << ": " << trait.status();
      definitions->computed.push_back(std::make_shared<const ComputedTrait>(*std::move(trait)));
    }
    definitions->Compile();
    definitions_ = std::move(definitions);
  }

  // A profile holding every aggregate the definitions need, as the resolver keeps them.
  profile_store::Profile NewProfile(uint64_t id) const {
    profile_store::Profile profile;
    profile.id = ProfileId{id};
    for (size_t i = 0; i < definitions_->specs.size(); ++i) {
      profile.aggregates.try_emplace(definitions_->spec_keys[i], definitions_->specs[i].retention);
    }
    return profile;
  }

  void AddOrder(profile_store::Profile& profile, uint64_t sequence) const {
    AddEvent(*definitions_,
             EventFacts{.type = "track",
                        .event = "Order Completed",
                        .channel = "web",
                        .time = kSeen,
                        .sequence = sequence,
                        .properties = {},
                        .traits = {},
                        .context = {}},
             profile);
  }

  void Put(const profile_store::Profile& profile, std::string_view space = kSpace) {
    std::string record;
    EncodeProfile(profile, record);
    rocksdb::WriteBatch batch;
    batch.Put(store_->handle(ColumnFamily::kProfiles), profile_store::ProfileKey(space, profile.id), record);
    ASSERT_TRUE(store_->Write(batch).ok());
  }

  void PutMember(std::string_view audience, uint64_t id, int64_t entered_micros,
                 std::string_view space = kSpace) {
    std::string value;
    profile_store::AppendBigEndian64(value, static_cast<uint64_t>(entered_micros));
    rocksdb::WriteBatch batch;
    batch.Put(store_->handle(ColumnFamily::kMembers),
              profile_store::MemberKey(space, audience, ProfileId{id}), value);
    ASSERT_TRUE(store_->Write(batch).ok());
  }

  // Two members of kAudience (1 and 2), a member row of a profile merged into 1 (3), a profile in
  // another audience only (4) and a member of the same audience name in another space (5).
  void WriteScenario() {
    profile_store::Profile first = NewProfile(1);
    first.TouchIdentity("user_id", "u1", kSeen, "website");
    first.TouchIdentity("email", "b@example.com", kSeen, "website");
    first.TouchIdentity("email", "a@example.com", kSeen, "website");
    first.SetTrait("plan", R"("pro, \"gold\"\nline")", kSeen, 1, false);
    first.SetTrait("address", R"({"city":"Berlin","zip":"10115"})", kSeen, 1, false);
    first.SetTrait("vip", "true", kSeen, 1, false);
    first.TouchChannel("web", kSeen);
    AddOrder(first, 2);
    AddOrder(first, 3);
    Put(first);
    PutMember(kAudience, 1, 1'795'507'200'123'456);  // 2026-11-24T08:00:00.123456Z

    profile_store::Profile second = NewProfile(2);
    second.TouchIdentity("email", "c@example.com", kSeen, "app");
    second.SetTrait("address", R"("unknown")", kSeen, 4, false);
    second.TouchChannel("app", kSeen);
    Put(second);
    PutMember(kAudience, 2, 1'795'510'800'250'000);  // 2026-11-24T09:00:00.250Z

    profile_store::Profile merged = NewProfile(3);
    merged.merged_into = ProfileId{1};
    Put(merged);
    PutMember(kAudience, 3, 1'795'507'200'000'000);

    profile_store::Profile outsider = NewProfile(4);
    outsider.TouchIdentity("email", "d@example.com", kSeen, "app");
    Put(outsider);
    PutMember("other", 4, 1'795'507'200'000'000);

    profile_store::Profile elsewhere = NewProfile(5);
    elsewhere.TouchIdentity("email", "e@example.com", kSeen, "app");
    Put(elsewhere, "eu");
    PutMember(kAudience, 5, 1'795'507'200'000'000, "eu");
  }

  std::unique_ptr<MemberExport> NewExport(ExportFormat format, std::string_view field_list) {
    auto fields = ParseExportFields(field_list, *definitions_);
    EXPECT_TRUE(fields.ok()) << fields.status();
    if (!fields.ok()) return nullptr;
    return std::make_unique<MemberExport>(*store_, std::string(kSpace), std::string(kAudience),
                                          *std::move(fields), format, definitions_, SpaceFigures(), kNow);
  }

  // The whole export, and each Next's chunk in `chunks` when given.
  std::string ExportAll(ExportFormat format, std::string_view field_list, size_t max_bytes = 64 << 10,
                        std::vector<std::string>* chunks = nullptr) {
    std::unique_ptr<MemberExport> member_export = NewExport(format, field_list);
    if (member_export == nullptr) return {};
    std::string all;
    for (int calls = 0; calls < 100; ++calls) {
      std::string chunk;
      absl::StatusOr<bool> more = member_export->Next(chunk, max_bytes);
      EXPECT_TRUE(more.ok()) << more.status();
      if (!more.ok()) break;
      all += chunk;
      if (chunks != nullptr && !chunk.empty()) chunks->push_back(chunk);
      if (!*more) break;
    }
    return all;
  }

  tessera::testing::ScopedTempDir dir_;
  std::unique_ptr<Store> store_;
  std::shared_ptr<const DefinitionSet> definitions_;
};

TEST_F(MemberExportTest, NdjsonHasOneObjectPerMemberWithNullForAbsentValues) {
  WriteScenario();
  const std::string expected =
      R"({"id":"p0000000000000001","enteredAt":"2026-11-24T08:00:00.123456Z","user_id":["u1"],)"
      R"("email":["a@example.com","b@example.com"],"phone":null,"traits.plan":"pro, \"gold\"\nline",)"
      R"("traits.address.city":"Berlin","traits.vip":true,"computed.orders":2,"computed.channel":"web"})"
      "\n"
      R"({"id":"p0000000000000002","enteredAt":"2026-11-24T09:00:00.250Z","user_id":null,)"
      R"("email":["c@example.com"],"phone":null,"traits.plan":null,"traits.address.city":null,"traits.vip":null,)"
      R"("computed.orders":0,"computed.channel":"app"})"
      "\n";
  EXPECT_EQ(ExportAll(ExportFormat::kNdjson, kAllFields), expected)
      << "profile 3 is a redirect and must be skipped; 4 and 5 are not members of this audience in this "
         "space";
}

TEST_F(MemberExportTest, CsvQuotesPerRfc4180AndJoinsIdentifiersWithBars) {
  WriteScenario();
  const std::string expected =
      "id,enteredAt,user_id,email,phone,traits.plan,traits.address.city,traits.vip,computed.orders,computed."
      "channel\r\n"
      "p0000000000000001,2026-11-24T08:00:00.123456Z,u1,a@example.com|b@example.com,,\"pro, "
      "\"\"gold\"\"\nline\","
      "Berlin,true,2,web\r\n"
      "p0000000000000002,2026-11-24T09:00:00.250Z,,c@example.com,,,,,0,app\r\n";
  EXPECT_EQ(ExportAll(ExportFormat::kCsv, kAllFields), expected);
}

TEST_F(MemberExportTest, CsvWritesObjectsAsJsonTextAndQuotesThem) {
  WriteScenario();
  EXPECT_EQ(ExportAll(ExportFormat::kCsv, "id,traits.address"),
            "id,traits.address\r\n"
            "p0000000000000001,\"{\"\"city\"\":\"\"Berlin\"\",\"\"zip\"\":\"\"10115\"\"}\"\r\n"
            "p0000000000000002,unknown\r\n");
}

TEST_F(MemberExportTest, DefaultFields) {
  WriteScenario();
  EXPECT_EQ(ExportAll(ExportFormat::kCsv, kDefaultFields),
            "id,enteredAt,user_id,email,phone\r\n"
            "p0000000000000001,2026-11-24T08:00:00.123456Z,u1,a@example.com|b@example.com,\r\n"
            "p0000000000000002,2026-11-24T09:00:00.250Z,,c@example.com,\r\n");
}

TEST_F(MemberExportTest, EmptyAudienceIsAHeaderInCsvAndNothingInNdjson) {
  WriteScenario();
  auto fields = ParseExportFields("id,email", *definitions_);
  ASSERT_TRUE(fields.ok()) << fields.status();
  MemberExport csv(*store_, std::string(kSpace), "nobody", *fields, ExportFormat::kCsv, definitions_,
                   SpaceFigures(), kNow);
  std::string out;
  absl::StatusOr<bool> more = csv.Next(out);
  ASSERT_TRUE(more.ok()) << more.status();
  EXPECT_FALSE(*more);
  EXPECT_EQ(out, "id,email\r\n");
  EXPECT_EQ(csv.rows(), 0u);

  MemberExport ndjson(*store_, std::string(kSpace), "nobody", *fields, ExportFormat::kNdjson, definitions_,
                      SpaceFigures(), kNow);
  out.clear();
  more = ndjson.Next(out);
  ASSERT_TRUE(more.ok()) << more.status();
  EXPECT_FALSE(*more);
  EXPECT_EQ(out, "");
}

TEST_F(MemberExportTest, ChunksHoldWholeRowsAndTogetherMakeTheWholeExport) {
  WriteScenario();
  for (ExportFormat format : {ExportFormat::kCsv, ExportFormat::kNdjson}) {
    const std::string whole = ExportAll(format, kAllFields);
    std::vector<std::string> chunks;
    const std::string chunked = ExportAll(format, kAllFields, /*max_bytes=*/1, &chunks);
    EXPECT_EQ(chunked, whole);
    // CSV: the header, then one chunk per member; NDJSON: one chunk per member.
    ASSERT_EQ(chunks.size(), format == ExportFormat::kCsv ? 3u : 2u) << chunked;
    for (const std::string& chunk : chunks) {
      const std::string_view end = format == ExportFormat::kCsv ? "\r\n" : "\n";
      EXPECT_TRUE(std::string_view(chunk).ends_with(end)) << "a chunk must end with a whole row: " << chunk;
    }
    EXPECT_TRUE(chunks.back().starts_with("p0000000000000002") ||
                chunks.back().starts_with(R"({"id":"p0000000000000002")"))
        << chunks.back();
  }
  std::unique_ptr<MemberExport> counted = NewExport(ExportFormat::kNdjson, "id");
  ASSERT_NE(counted, nullptr);
  std::string out;
  ASSERT_TRUE(counted->Next(out).ok());
  EXPECT_EQ(counted->rows(), 2u) << "the redirect row is not counted";
  absl::StatusOr<bool> after_end = counted->Next(out);
  ASSERT_TRUE(after_end.ok());
  EXPECT_FALSE(*after_end) << "Next after the end keeps returning false";
}

TEST_F(MemberExportTest, ExportReadsOneSnapshot) {
  WriteScenario();
  std::unique_ptr<MemberExport> member_export = NewExport(ExportFormat::kNdjson, "id");
  ASSERT_NE(member_export, nullptr);
  std::string all;
  ASSERT_TRUE(member_export->Next(all, 1).ok());
  // Written after the scan started: not part of this export.
  profile_store::Profile late = NewProfile(9);
  Put(late);
  PutMember(kAudience, 9, 1'795'507'200'000'000);
  for (int i = 0; i < 10; ++i) {
    std::string chunk;
    absl::StatusOr<bool> more = member_export->Next(chunk, 1);
    ASSERT_TRUE(more.ok()) << more.status();
    all += chunk;
    if (!*more) break;
  }
  EXPECT_EQ(all, "{\"id\":\"p0000000000000001\"}\n{\"id\":\"p0000000000000002\"}\n");
}

TEST_F(MemberExportTest, ParseExportFieldsReadsEachKind) {
  auto fields =
      ParseExportFields("id, enteredAt,loyalty_id,traits.address.city,computed.orders", *definitions_);
  ASSERT_TRUE(fields.ok()) << fields.status();
  ASSERT_EQ(fields->size(), 5u);
  using Kind = ExportField::Kind;
  const std::vector<std::pair<Kind, std::string>> expected = {{Kind::kProfileId, "id"},
                                                              {Kind::kEnteredAt, "enteredAt"},
                                                              {Kind::kIdentifier, "loyalty_id"},
                                                              {Kind::kTrait, "traits.address.city"},
                                                              {Kind::kComputed, "computed.orders"}};
  for (size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ((*fields)[i].kind, expected[i].first) << (*fields)[i].label;
    EXPECT_EQ((*fields)[i].label, expected[i].second);
  }
  EXPECT_EQ((*fields)[2].name, "loyalty_id");
  EXPECT_EQ((*fields)[3].name, "address.city");
  EXPECT_EQ((*fields)[4].name, "orders");
}

TEST_F(MemberExportTest, ParseExportFieldsNamesTheBadField) {
  struct Case {
    std::string list;
    std::string expected;  // Part of the message.
  };
  std::string too_many;
  for (int i = 0; i < 101; ++i) too_many += (i > 0 ? ",t" : "t") + std::to_string(i);
  for (const Case& c :
       {Case{"id,computed.revenue", "\"computed.revenue\""}, Case{"id,computed.", "\"computed.\""},
        Case{"traits.", "\"traits.\""}, Case{"traits.a..b", "\"traits.a..b\""},
        Case{"id,email,id", "\"id\" is listed twice"}, Case{"E-mail", "\"E-mail\""},
        Case{"Email", "\"Email\""}, Case{std::string(65, 'x'), std::string(65, 'x')},
        Case{"id,,email", "field 2 is empty"}, Case{"", "field 1 is empty"},
        Case{too_many, "more than 100 fields"}}) {
    auto fields = ParseExportFields(c.list, *definitions_);
    ASSERT_FALSE(fields.ok()) << "accepted \"" << c.list << "\"";
    EXPECT_TRUE(absl::IsInvalidArgument(fields.status())) << fields.status();
    EXPECT_NE(std::string(fields.status().message()).find(c.expected), std::string::npos)
        << "for \"" << c.list << "\" the message should name " << c.expected << ": " << fields.status();
  }
}

// Members 11 to 15 of "subscribers", each with a different state of consent; 16 is not a member but
// granted everything, so a restriction must never add members.
class ConsentExportTest : public MemberExportTest {
 protected:
  void WriteConsentScenario() {
    const auto consent = [](bool granted, uint64_t sequence) {
      return profile_store::ConsentRecord{
          .granted = granted, .time = kSeen, .sequence = sequence, .source = "website", .channel = "web"};
    };
    struct Person {
      uint64_t id;
      std::optional<bool> email;
      std::optional<bool> sms;
    };
    for (const Person& person :
         {Person{11, true, true}, Person{12, true, false}, Person{13, false, true},
          Person{14, std::nullopt, true}, Person{15, std::nullopt, std::nullopt}, Person{16, true, true}}) {
      profile_store::Profile profile = NewProfile(person.id);
      if (person.email) profile.SetConsent("marketing_email", consent(*person.email, person.id));
      if (person.sms) profile.SetConsent("sms", consent(*person.sms, person.id));
      Put(profile);
      if (person.id != 16) PutMember("subscribers", person.id, 1'795'507'200'000'000);
    }
  }

  // The export of "subscribers" restricted to `consent_list`, and how many members it skipped.
  std::string Restricted(std::string_view consent_list, std::string_view field_list,
                         uint64_t* skipped = nullptr) {
    auto fields = ParseExportFields(field_list, *definitions_);
    auto purposes = ParseConsentPurposes(consent_list);
    EXPECT_TRUE(fields.ok() && purposes.ok()) << fields.status() << " " << purposes.status();
    if (!fields.ok() || !purposes.ok()) return {};
    MemberExport member_export(*store_, std::string(kSpace), "subscribers", *std::move(fields),
                               ExportFormat::kCsv, definitions_, SpaceFigures(), kNow, *std::move(purposes));
    // One row per call, so that skipped members between written rows are exercised too.
    std::string out;
    for (int calls = 0; calls < 100; ++calls) {
      std::string chunk;
      absl::StatusOr<bool> next = member_export.Next(chunk, 1);
      EXPECT_TRUE(next.ok()) << next.status();
      out += chunk;
      if (!next.ok() || !*next) break;
    }
    if (skipped != nullptr) *skipped = member_export.skipped();
    return out;
  }
};

TEST_F(ConsentExportTest, RestrictionKeepsExactlyTheMembersWhoGrantedEveryPurpose) {
  WriteConsentScenario();
  uint64_t skipped = 0;
  EXPECT_EQ(Restricted("marketing_email", "id", &skipped), "id\r\np000000000000000b\r\np000000000000000c\r\n")
      << "withdrawn (13) and never given (14, 15) are left out; 16 is not a member";
  EXPECT_EQ(skipped, 3u);
  EXPECT_EQ(Restricted("marketing_email, SMS", "id"), "id\r\np000000000000000b\r\n")
      << "a comma list asks for all of them; names are normalized";
  EXPECT_EQ(Restricted("sms", "id"), "id\r\np000000000000000b\r\np000000000000000d\r\np000000000000000e\r\n");
  EXPECT_EQ(Restricted("push", "id", &skipped), "id\r\n") << "nobody granted a purpose no event named";
  EXPECT_EQ(skipped, 5u);
}

TEST_F(ConsentExportTest, ConsentFieldIsTrueFalseOrAbsent) {
  WriteConsentScenario();
  EXPECT_EQ(Restricted("sms", "id,consent.marketing_email,consent.sms"),
            "id,consent.marketing_email,consent.sms\r\n"
            "p000000000000000b,true,true\r\n"
            "p000000000000000d,false,true\r\n"
            "p000000000000000e,,true\r\n");
  auto fields = ParseExportFields("id,consent.marketing_email", *definitions_);
  ASSERT_TRUE(fields.ok()) << fields.status();
  EXPECT_EQ((*fields)[1].kind, ExportField::Kind::kConsent);
  EXPECT_EQ((*fields)[1].name, "marketing_email");
  MemberExport ndjson(*store_, std::string(kSpace), "subscribers", *std::move(fields), ExportFormat::kNdjson,
                      definitions_, SpaceFigures(), kNow);
  std::string out;
  ASSERT_TRUE(ndjson.Next(out).ok());
  EXPECT_EQ(out, R"({"id":"p000000000000000b","consent.marketing_email":true})"
                 "\n"
                 R"({"id":"p000000000000000c","consent.marketing_email":true})"
                 "\n"
                 R"({"id":"p000000000000000d","consent.marketing_email":false})"
                 "\n"
                 R"({"id":"p000000000000000e","consent.marketing_email":null})"
                 "\n"
                 R"({"id":"p000000000000000f","consent.marketing_email":null})"
                 "\n");
}

TEST(ParseConsentPurposesTest, NormalizesAndNamesTheBadPurpose) {
  auto purposes = ParseConsentPurposes("marketing_email, Advertising,marketing_email");
  ASSERT_TRUE(purposes.ok()) << purposes.status();
  EXPECT_EQ(*purposes, (std::vector<std::string>{"marketing_email", "advertising"}));
  for (const auto& [list, expected] :
       std::vector<std::pair<std::string, std::string>>{{"sms!", "\"sms!\" is not a consent purpose"},
                                                        {"sms,,email", "consent purpose 2 is empty"},
                                                        {"", "consent purpose 1 is empty"},
                                                        {std::string(65, 'a'), "is not a consent purpose"}}) {
    auto parsed = ParseConsentPurposes(list);
    ASSERT_FALSE(parsed.ok()) << "accepted \"" << list << "\"";
    EXPECT_TRUE(absl::IsInvalidArgument(parsed.status())) << parsed.status();
    EXPECT_NE(std::string(parsed.status().message()).find(expected), std::string::npos)
        << "for \"" << list << "\": " << parsed.status();
  }
  auto field = ParseExportFields("consent.sms!", DefinitionSet());
  ASSERT_FALSE(field.ok());
  EXPECT_NE(std::string(field.status().message()).find("\"consent.sms!\""), std::string::npos)
      << field.status();
}

TEST(ExportFormatTest, ParsesTheTwoFormats) {
  EXPECT_EQ(ParseExportFormat("csv"), ExportFormat::kCsv);
  EXPECT_EQ(ParseExportFormat("ndjson"), ExportFormat::kNdjson);
  EXPECT_EQ(ParseExportFormat("json"), std::nullopt);
  EXPECT_EQ(ParseExportFormat("CSV"), std::nullopt);
}

}  // namespace
}  // namespace tessera::audiences
