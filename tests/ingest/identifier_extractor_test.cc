#include "ingest/identifier_extractor.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

namespace tessera::ingest {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

CanonicalEvent Event(EventType type) {
  CanonicalEvent event;
  event.message_id = "m-1";
  event.type = type;
  event.space = "default";
  event.source = "website";
  event.channel = "web";
  return event;
}

// "type:value@field" for each identifier, in order: compact to compare and readable on failure.
std::vector<std::string> Ids(const ExtractedIdentifiers& extracted) {
  std::vector<std::string> shown;
  for (const identity::RawIdentifier& id : extracted.identifiers) {
    shown.push_back(id.type + ":" + id.value + "@" + id.field);
  }
  return shown;
}

ExtractedIdentifiers Extract(const CanonicalEvent& event, std::vector<IdentifierMapping> mappings = {}) {
  return IdentifierExtractor(std::move(mappings)).Extract(event);
}

TEST(IdentifierExtractorTest, EventWithoutIdentifiersGivesNothing) {
  ExtractedIdentifiers extracted = Extract(Event(EventType::kTrack));
  EXPECT_THAT(extracted.identifiers, IsEmpty());
  EXPECT_THAT(extracted.warnings, IsEmpty());
}

TEST(IdentifierExtractorTest, LocaleAndLocationCountryAreKeptForPhoneRegions) {
  CanonicalEvent event = Event(EventType::kTrack);
  event.context = R"({"locale":"ko-KR","location":{"country":"South Korea","city":"Seoul"}})";
  ExtractedIdentifiers extracted = Extract(event);
  EXPECT_EQ(extracted.locale, "ko-KR");
  EXPECT_EQ(extracted.location_country, "South Korea");
  EXPECT_THAT(extracted.warnings, IsEmpty());
  const identity::PhoneContext phone = PhoneContextOf(event, extracted);
  EXPECT_EQ(phone.locale, "ko-KR");
  EXPECT_EQ(phone.country, "South Korea");
  EXPECT_EQ(phone.space, "default");
  EXPECT_EQ(phone.source, "website");

  // Not strings: ignored, without a warning (they only help to read phones).
  event.context = R"({"locale":42,"location":{"country":{"code":"KR"}}})";
  extracted = Extract(event);
  EXPECT_EQ(extracted.locale, "");
  EXPECT_EQ(extracted.location_country, "");
  EXPECT_THAT(extracted.warnings, IsEmpty());
}

TEST(IdentifierExtractorTest, TopLevelIdsComeFirstInTheirOrder) {
  CanonicalEvent event = Event(EventType::kAlias);
  event.previous_id = "old-1";
  event.anonymous_id = "anon-1";
  event.user_id = "user-1";
  ExtractedIdentifiers extracted = Extract(event);
  EXPECT_THAT(Ids(extracted), ElementsAre("user_id:user-1@userId", "anonymous_id:anon-1@anonymousId",
                                          "previous_id:old-1@previousId"));
  EXPECT_THAT(extracted.warnings, IsEmpty());
}

TEST(IdentifierExtractorTest, EveryBuiltInMappingInTheDocumentedOrder) {
  CanonicalEvent event = Event(EventType::kIdentify);
  event.user_id = "u1";
  event.anonymous_id = "a1";
  // Members deliberately out of output order: the order comes from the mapping, not the JSON.
  event.traits = R"({"phone":"+1 415 555 0100","name":"Ada","email":"Ada@Example.com"})";
  event.context =
      R"({"externalIds":[{"id":"C-9","type":"crm_id","collection":"users","encoding":"none"}],)"
      R"("os":{"name":"iOS","version":"17.1"},)"
      R"("device":{"advertisingId":"6D92078A-8246-4BA4-AE5B-76104861E7DC","adTrackingEnabled":true,)"
      R"("id":"B5372DB0-C21E-11E4-8DFC-AA07A5B093DB","manufacturer":"Apple","type":"ios"},)"
      R"("traits":{"email":"ada@work.example","phone":"010-1234-5678"},"ip":"8.8.8.8"})";
  ExtractedIdentifiers extracted = Extract(event);
  EXPECT_THAT(
      Ids(extracted),
      ElementsAre("user_id:u1@userId", "anonymous_id:a1@anonymousId", "email:Ada@Example.com@traits.email",
                  "phone:+1 415 555 0100@traits.phone", "email:ada@work.example@context.traits.email",
                  "phone:010-1234-5678@context.traits.phone",
                  "device_id:B5372DB0-C21E-11E4-8DFC-AA07A5B093DB@context.device.id",
                  "idfa:6D92078A-8246-4BA4-AE5B-76104861E7DC@context.device.advertisingId",
                  "crm_id:C-9@context.externalIds[0]"));
  EXPECT_THAT(extracted.warnings, IsEmpty());
}

TEST(IdentifierExtractorTest, TopLevelTraitsAreReadOnlyForIdentify) {
  // A group's traits describe the company; a track event's traits are not the person's either.
  for (EventType type :
       {EventType::kTrack, EventType::kGroup, EventType::kPage, EventType::kScreen, EventType::kAlias}) {
    CanonicalEvent event = Event(type);
    event.traits = R"({"email":"billing@company.example"})";
    event.context = R"({"traits":{"email":"person@example.com"}})";
    EXPECT_THAT(Ids(Extract(event)), ElementsAre("email:person@example.com@context.traits.email"))
        << "event type " << EventTypeName(type);
  }
}

TEST(IdentifierExtractorTest, EscapedKeysAndValuesAreUnescaped) {
  CanonicalEvent event = Event(EventType::kIdentify);
  event.traits = R"({"em\u0061il":"J\u00fcrgen@example.de"})";
  EXPECT_THAT(Ids(Extract(event)), ElementsAre("email:J\xC3\xBCrgen@example.de@traits.email"));
}

TEST(IdentifierExtractorTest, MappedKeysWithQuotesOrBackslashesAreFound) {
  CanonicalEvent event = Event(EventType::kTrack);
  event.properties = R"({"say \"hi\"":"Q-1","back\\slash":"B-1","say":"no"})";
  EXPECT_THAT(
      Ids(Extract(event, {{"quoted", R"(properties.say "hi")"}, {"slashed", R"(properties.back\slash)"}})),
      ElementsAre(R"(quoted:Q-1@properties.say "hi")", R"(slashed:B-1@properties.back\slash)"));
}

TEST(IdentifierExtractorTest, AndroidAdvertisingIdIsAGaid) {
  CanonicalEvent event = Event(EventType::kTrack);
  event.context = R"({"device":{"id":"dev-1","advertisingId":"38400000-8cf0-11bd-b23e-10b96e40000d",)"
                  R"("adTrackingEnabled":true},"os":{"name":"Android","version":"14"}})";
  EXPECT_THAT(Ids(Extract(event)),
              ElementsAre("device_id:dev-1@context.device.id",
                          "gaid:38400000-8cf0-11bd-b23e-10b96e40000d@context.device.advertisingId"));
}

TEST(IdentifierExtractorTest, AppleOperatingSystemsGiveAnIdfa) {
  for (const char* os : {"iOS", "iPadOS", "tvOS", "watchOS", "ios"}) {
    CanonicalEvent event = Event(EventType::kScreen);
    event.context = std::string(R"({"os":{"name":")") + os + R"("},"device":{"advertisingId":"AD-1"}})";
    EXPECT_THAT(Ids(Extract(event)), ElementsAre("idfa:AD-1@context.device.advertisingId")) << os;
  }
}

TEST(IdentifierExtractorTest, DeviceTypeDecidesWhenTheOsNameDoesNot) {
  CanonicalEvent event = Event(EventType::kTrack);
  event.context = R"({"device":{"advertisingId":"AD-1","type":"android"},"os":{"name":"Fire OS"}})";
  EXPECT_THAT(Ids(Extract(event)), ElementsAre("gaid:AD-1@context.device.advertisingId"));

  event.context = R"({"device":{"type":"ios","advertisingId":"AD-2"}})";
  EXPECT_THAT(Ids(Extract(event)), ElementsAre("idfa:AD-2@context.device.advertisingId"));
}

TEST(IdentifierExtractorTest, AdvertisingIdOfUnknownPlatformIsAWarning) {
  CanonicalEvent event = Event(EventType::kTrack);
  event.context = R"({"device":{"advertisingId":"AD-1","type":"tv"},"os":{"name":"Tizen"}})";
  ExtractedIdentifiers extracted = Extract(event);
  EXPECT_THAT(extracted.identifiers, IsEmpty());
  ASSERT_EQ(extracted.warnings.size(), 1u);
  EXPECT_THAT(extracted.warnings[0], ::testing::StartsWith("context.device.advertisingId: cannot tell"));
}

TEST(IdentifierExtractorTest, AdvertisingIdIsSkippedWhenAdTrackingIsDisabled) {
  CanonicalEvent event = Event(EventType::kTrack);
  event.context = R"({"device":{"id":"dev-1","advertisingId":"00000000-0000-0000-0000-000000000000",)"
                  R"("adTrackingEnabled":false},"os":{"name":"iOS"}})";
  ExtractedIdentifiers extracted = Extract(event);
  EXPECT_THAT(Ids(extracted), ElementsAre("device_id:dev-1@context.device.id"));
  EXPECT_THAT(extracted.warnings, IsEmpty());
}

TEST(IdentifierExtractorTest, AdTrackingEnabledOfWrongTypeIsAWarningAndTheIdIsKept) {
  CanonicalEvent event = Event(EventType::kTrack);
  event.context = R"({"device":{"advertisingId":"AD-1","adTrackingEnabled":"no"},"os":{"name":"iOS"}})";
  ExtractedIdentifiers extracted = Extract(event);
  EXPECT_THAT(Ids(extracted), ElementsAre("idfa:AD-1@context.device.advertisingId"));
  EXPECT_THAT(extracted.warnings,
              ElementsAre("context.device.adTrackingEnabled: expected true or false, got \"no\""));
}

TEST(IdentifierExtractorTest, ExternalIdsTypesAreNormalized) {
  CanonicalEvent event = Event(EventType::kTrack);
  event.context = R"({"externalIds":[)"
                  R"({"id":"a@example.com","type":"email","collection":"users","encoding":"none"},)"
                  R"({"id":"+14155550100","type":"Phone_Number"},)"
                  R"({"id":"u-7","type":"userId"},)"
                  R"({"id":"anon-7","type":"anonymousId"},)"
                  R"({"id":"IDFA-1","type":"ios.idfa"},)"
                  R"({"id":"GAID-1","type":"android.id"},)"
                  R"({"id":"GAID-2","type":"android.idfa"},)"
                  R"({"id":"GAID-3","type":"GAID"},)"
                  R"({"id":"D-1","type":"device_id"},)"
                  R"({"id":12345678901234567890123,"type":"Shopify Customer-ID"},)"
                  R"({"id":"x","type":"a.b"},)"
                  R"({"id":"long","type":")" +
                  std::string(70, 'T') + R"("}]})";
  ExtractedIdentifiers extracted = Extract(event);
  EXPECT_THAT(
      Ids(extracted),
      ElementsAre("email:a@example.com@context.externalIds[0]", "phone:+14155550100@context.externalIds[1]",
                  "user_id:u-7@context.externalIds[2]", "anonymous_id:anon-7@context.externalIds[3]",
                  "idfa:IDFA-1@context.externalIds[4]", "gaid:GAID-1@context.externalIds[5]",
                  "gaid:GAID-2@context.externalIds[6]", "gaid:GAID-3@context.externalIds[7]",
                  "device_id:D-1@context.externalIds[8]",
                  "shopify_customer_id:12345678901234567890123@context.externalIds[9]",
                  "a_b:x@context.externalIds[10]", std::string(64, 't') + ":long@context.externalIds[11]"));
  EXPECT_THAT(extracted.warnings, IsEmpty());
}

TEST(IdentifierExtractorTest, BadExternalIdsAreWarningsNamingTheIndex) {
  CanonicalEvent event = Event(EventType::kTrack);
  event.context = R"({"externalIds":[)"
                  R"({"id":"ok-1","type":"crm_id"},)"  // 0
                  R"({"type":"crm_id"},)"              // 1: no id
                  R"({"id":"x"},)"                     // 2: no type
                  R"({"id":1.5,"type":"crm_id"},)"     // 3: fraction
                  R"({"id":{},"type":"crm_id"},)"      // 4: object
                  R"({"id":"x","type":7},)"            // 5: type not a string
                  R"("crm:1",)"                        // 6: not an object
                  R"({"id":"","type":"crm_id"},)"      // 7: empty id: skipped silently
                  R"({"id":null,"type":"crm_id"},)"    // 8: null id
                  R"({"id":"y","type":""},)"           // 9: empty type
                  R"({"id":42,"type":"crm_id"}]})";    // 10
  ExtractedIdentifiers extracted = Extract(event);
  EXPECT_THAT(Ids(extracted),
              ElementsAre("crm_id:ok-1@context.externalIds[0]", "crm_id:42@context.externalIds[10]"));
  EXPECT_THAT(extracted.warnings,
              ElementsAre("context.externalIds[1]: missing id", "context.externalIds[2]: missing type",
                          "context.externalIds[3].id: expected a string or an integer, got 1.5",
                          "context.externalIds[4].id: expected a string or an integer, got an object",
                          "context.externalIds[5].type: expected a string, got 7",
                          "context.externalIds[6]: expected an object, got \"crm:1\"",
                          "context.externalIds[8]: missing id", "context.externalIds[9]: missing type"));
}

TEST(IdentifierExtractorTest, ExternalIdsThatIsNotAnArrayIsAWarning) {
  CanonicalEvent event = Event(EventType::kTrack);
  event.context = R"({"externalIds":{"id":"x","type":"crm_id"}})";
  EXPECT_THAT(Extract(event).warnings, ElementsAre("context.externalIds: expected an array, got an object"));
  event.context = R"({"externalIds":null})";
  EXPECT_THAT(Extract(event).warnings, IsEmpty()) << "null means none";
}

TEST(IdentifierExtractorTest, WrongTypesAtKnownPathsAreWarnings) {
  CanonicalEvent event = Event(EventType::kIdentify);
  event.traits = R"({"email":5,"phone":true})";
  event.context = R"({"traits":{"email":{},"phone":[1]},"device":{"id":2.5e3}})";
  ExtractedIdentifiers extracted = Extract(event);
  EXPECT_THAT(extracted.identifiers, IsEmpty());
  EXPECT_THAT(extracted.warnings,
              ElementsAre("traits.email: expected a string, got 5",
                          "traits.phone: expected a string or an integer, got true",
                          "context.traits.email: expected a string, got an object",
                          "context.traits.phone: expected a string or an integer, got an array",
                          "context.device.id: expected a string or an integer, got 2.5e3"));
}

TEST(IdentifierExtractorTest, IntegersAreTakenAsDecimalTextExceptForEmail) {
  CanonicalEvent event = Event(EventType::kIdentify);
  event.traits = R"({"phone":4155550100})";
  event.context = R"({"device":{"id":-17}})";
  ExtractedIdentifiers extracted = Extract(event);
  EXPECT_THAT(Ids(extracted),
              ElementsAre("phone:4155550100@traits.phone", "device_id:-17@context.device.id"));
  EXPECT_THAT(extracted.warnings, IsEmpty());
}

TEST(IdentifierExtractorTest, EmptyStringsAndNullsAreSkippedSilently) {
  CanonicalEvent event = Event(EventType::kIdentify);
  event.traits = R"({"email":"","phone":null})";
  event.context = R"({"traits":{"email":null},"device":{"id":"","advertisingId":""},"os":{"name":"iOS"}})";
  ExtractedIdentifiers extracted = Extract(event);
  EXPECT_THAT(extracted.identifiers, IsEmpty());
  EXPECT_THAT(extracted.warnings, IsEmpty());
}

TEST(IdentifierExtractorTest, ExactDuplicatesAreRemovedKeepingTheFirst) {
  CanonicalEvent event = Event(EventType::kIdentify);
  event.user_id = "u1";
  event.traits = R"({"email":"a@example.com"})";
  event.context = R"({"traits":{"email":"a@example.com","phone":"u1"},)"
                  R"("externalIds":[{"id":"u1","type":"user_id"},{"id":"a@example.com","type":"email"},)"
                  R"({"id":"A@example.com","type":"email"}]})";
  ExtractedIdentifiers extracted = Extract(event);
  EXPECT_THAT(Ids(extracted),
              ElementsAre("user_id:u1@userId", "email:a@example.com@traits.email",
                          "phone:u1@context.traits.phone", "email:A@example.com@context.externalIds[2]"))
      << "same value under another type, or differing case (normalization comes later), is kept";
}

TEST(IdentifierExtractorTest, ManyExternalIdsAreDeduplicatedInOrder) {
  // Past a few identifiers the list switches to a hash set; the result must not change.
  std::string ids;
  std::vector<std::string> expected;
  for (int i = 0; i < 200; ++i) {
    if (!ids.empty()) ids += ",";
    ids += R"({"id":"v)" + std::to_string(i % 50) + R"(","type":"t)" + std::to_string(i % 3) + R"("})";
    if (i < 150) {
      expected.push_back("t" + std::to_string(i % 3) + ":v" + std::to_string(i % 50) +
                         "@context.externalIds[" + std::to_string(i) + "]");
    }
  }
  CanonicalEvent event = Event(EventType::kTrack);
  event.context = R"({"externalIds":[)" + ids + "]}";
  EXPECT_EQ(Ids(Extract(event)), expected);
}

TEST(IdentifierExtractorTest, ConfiguredMappingsComeLastInConfiguredOrder) {
  CanonicalEvent event = Event(EventType::kIdentify);
  event.user_id = "u1";
  event.event = "";
  event.traits = R"({"crm":{"id":"CRM-1"}})";
  event.context = R"({"traits":{"loyaltyCard":"LC-77"},"device":{"id":"dev-1"}})";
  event.properties = R"({"loyalty_id":90210,"nested":{"deeper":{"store_card":"SC-1"}}})";
  event.integrations = R"({"Salesforce":{"contactId":"003XYZ"}})";
  ExtractedIdentifiers extracted = Extract(event, {{"loyalty_id", "context.traits.loyaltyCard"},
                                                   {"loyalty_id", "properties.loyalty_id"},
                                                   {"store_card", "properties.nested.deeper.store_card"},
                                                   {"sf_contact", "integrations.Salesforce.contactId"},
                                                   {"crm_id", "traits.crm.id"},
                                                   {"customer_id", "userId"},
                                                   {"message", "messageId"}});
  EXPECT_THAT(
      Ids(extracted),
      ElementsAre("user_id:u1@userId", "device_id:dev-1@context.device.id",
                  "loyalty_id:LC-77@context.traits.loyaltyCard", "loyalty_id:90210@properties.loyalty_id",
                  "store_card:SC-1@properties.nested.deeper.store_card",
                  "sf_contact:003XYZ@integrations.Salesforce.contactId", "crm_id:CRM-1@traits.crm.id",
                  "customer_id:u1@userId", "message:m-1@messageId"));
  EXPECT_THAT(extracted.warnings, IsEmpty());
}

TEST(IdentifierExtractorTest, MappingThatDuplicatesABuiltInIsRemoved) {
  CanonicalEvent event = Event(EventType::kTrack);
  event.context = R"({"traits":{"email":"a@example.com"}})";
  EXPECT_THAT(Ids(Extract(event, {{"email", "context.traits.email"}})),
              ElementsAre("email:a@example.com@context.traits.email"));
}

TEST(IdentifierExtractorTest, MissingMappedPathsGiveNothingAndNoWarning) {
  CanonicalEvent event = Event(EventType::kTrack);
  event.context = R"({"traits":{"name":"Ada"},"loyalty":"flat string"})";
  event.properties = R"({"other":1})";
  ExtractedIdentifiers extracted = Extract(event, {{"loyalty_id", "context.traits.loyaltyCard"},
                                                   {"loyalty_id", "context.loyalty.card"},
                                                   {"loyalty_id", "properties.loyalty_id"},
                                                   {"sf_contact", "integrations.Salesforce.contactId"},
                                                   {"crm_id", "traits.crm"},
                                                   {"group", "groupId"}});
  EXPECT_THAT(extracted.identifiers, IsEmpty());
  EXPECT_THAT(extracted.warnings, IsEmpty());
}

TEST(IdentifierExtractorTest, MappedValueOfWrongTypeIsAWarning) {
  CanonicalEvent event = Event(EventType::kTrack);
  event.properties = R"({"loyalty_id":{"number":"L-1"},"card":false})";
  ExtractedIdentifiers extracted =
      Extract(event, {{"loyalty_id", "properties.loyalty_id"}, {"card", "properties.card"}});
  EXPECT_THAT(extracted.identifiers, IsEmpty());
  EXPECT_THAT(extracted.warnings,
              ElementsAre("properties.loyalty_id: expected a string or an integer, got an object",
                          "properties.card: expected a string or an integer, got false"));
}

TEST(IdentifierExtractorTest, TwoMappingsOfOnePathBothApply) {
  CanonicalEvent event = Event(EventType::kTrack);
  event.properties = R"({"card":"C-1"})";
  EXPECT_THAT(Ids(Extract(event, {{"card_a", "properties.card"}, {"card_b", "properties.card"}})),
              ElementsAre("card_a:C-1@properties.card", "card_b:C-1@properties.card"));
}

TEST(IdentifierExtractorTest, UnsupportedMappingPathsAreWarnings) {
  // Configuration validation refuses these; the extractor still must not misbehave on them.
  CanonicalEvent event = Event(EventType::kTrack);
  event.user_id = "u1";
  event.properties = R"({"a":"b"})";
  ExtractedIdentifiers extracted =
      Extract(event, {{"x", "payload.id"}, {"y", "userId.first"}, {"z", "properties"}});
  EXPECT_THAT(Ids(extracted), ElementsAre("user_id:u1@userId"));
  ASSERT_EQ(extracted.warnings.size(), 3u);
  EXPECT_THAT(extracted.warnings[0], ::testing::StartsWith("payload.id: cannot map"));
  EXPECT_THAT(extracted.warnings[1], ::testing::StartsWith("userId.first: cannot map"));
  EXPECT_THAT(extracted.warnings[2], ::testing::StartsWith("properties: cannot map"));
}

TEST(IdentifierExtractorTest, SubDocumentsWithoutLookupsAreNotParsed) {
  // Broken properties and integrations go unnoticed when no mapping looks into them: proof that
  // they are not parsed at all.
  CanonicalEvent event = Event(EventType::kTrack);
  event.user_id = "u1";
  event.traits = "{broken";
  event.properties = "{broken";
  event.integrations = "{broken";
  ExtractedIdentifiers extracted = Extract(event);
  EXPECT_THAT(Ids(extracted), ElementsAre("user_id:u1@userId"));
  EXPECT_THAT(extracted.warnings, IsEmpty());
}

TEST(IdentifierExtractorTest, MalformedSubDocumentIsAWarningAndTheRestStillCounts) {
  CanonicalEvent event = Event(EventType::kIdentify);
  event.user_id = "u1";
  event.traits = R"({"email":"a@example.com","phone":)";
  event.context = R"({"device":{"id":"dev-1"},"externalIds":[{"id":"x","type":"t"},{"id":)";
  event.properties = R"({"card":"C-1"})";
  ExtractedIdentifiers extracted = Extract(event, {{"card", "properties.card"}});
  EXPECT_THAT(Ids(extracted), ElementsAre("user_id:u1@userId", "card:C-1@properties.card"))
      << "nothing is taken from a document that does not parse";
  ASSERT_EQ(extracted.warnings.size(), 2u);
  EXPECT_THAT(extracted.warnings[0], ::testing::StartsWith("traits: malformed JSON ("));
  EXPECT_THAT(extracted.warnings[1], ::testing::StartsWith("context: malformed JSON ("));
}

TEST(IdentifierExtractorTest, SubDocumentThatIsNotAnObjectIsAWarning) {
  CanonicalEvent event = Event(EventType::kTrack);
  event.context = R"(["device"])";
  EXPECT_THAT(Extract(event).warnings, ElementsAre("context: expected an object"));
  event.context = "7";
  EXPECT_THAT(Extract(event).warnings, ElementsAre("context: expected an object"));
}

TEST(IdentifierExtractorTest, DeepUnrelatedNestingIsSkipped) {
  CanonicalEvent event = Event(EventType::kTrack);
  event.context = R"({"page":{"a":{"b":{"c":[[[{"email":"no@example.com"}]]]}}},"traits":)"
                  R"({"nested":{"email":"no@example.com"},"email":"yes@example.com"}})";
  EXPECT_THAT(Ids(Extract(event)), ElementsAre("email:yes@example.com@context.traits.email"));
}

TEST(IdentifierExtractorTest, WarningsQuoteEventTextSafely) {
  CanonicalEvent event = Event(EventType::kTrack);
  event.context = R"({"device":{"advertisingId":"AD","adTrackingEnabled":"\u001b[31m)" +
                  std::string(100, 'x') + R"("},"os":{"name":"iOS"}})";
  ExtractedIdentifiers extracted = Extract(event);
  ASSERT_EQ(extracted.warnings.size(), 1u);
  EXPECT_EQ(extracted.warnings[0].find('\x1b'), std::string::npos) << extracted.warnings[0];
  EXPECT_NE(extracted.warnings[0].find("\\x1b"), std::string::npos) << extracted.warnings[0];
  EXPECT_LT(extracted.warnings[0].size(), 150u) << extracted.warnings[0];
}

TEST(IdentifierExtractorTest, WarningsShortenLongNumbers) {
  CanonicalEvent event = Event(EventType::kIdentify);
  event.traits = R"({"email":)" + std::string(500, '7') + "}";
  ExtractedIdentifiers extracted = Extract(event);
  ASSERT_EQ(extracted.warnings.size(), 1u);
  EXPECT_EQ(extracted.warnings[0], "traits.email: expected a string, got " + std::string(64, '7') + "...");
}

TEST(IdentifierExtractorTest, ExtractorsAreIndependentAndSafeToShareAcrossThreads) {
  const IdentifierExtractor with_mapping(std::vector<IdentifierMapping>{{"card", "properties.card"}});
  const IdentifierExtractor without_mapping;
  CanonicalEvent event = Event(EventType::kIdentify);
  event.traits = R"({"email":"a@example.com"})";
  event.context = R"({"device":{"id":"dev-1"}})";
  event.properties = R"({"card":"C-1"})";
  const std::vector<std::string> expected_with = Ids(with_mapping.Extract(event));
  const std::vector<std::string> expected_without = Ids(without_mapping.Extract(event));
  ASSERT_EQ(expected_with.size(), 3u);
  ASSERT_EQ(expected_without.size(), 2u);

  std::vector<std::thread> threads;
  std::vector<int> mismatches(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 500; ++i) {
        // Alternating extractors on one thread share its parser and scratch space.
        if (Ids(with_mapping.Extract(event)) != expected_with) ++mismatches[t];
        if (Ids(without_mapping.Extract(event)) != expected_without) ++mismatches[t];
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(mismatches, std::vector<int>(4, 0));

  IdentifierExtractor copy = with_mapping;
  EXPECT_EQ(Ids(copy.Extract(event)), expected_with) << "a copy behaves like the original";
}

}  // namespace
}  // namespace tessera::ingest
