#include "identity/normalizer.h"

#include <gtest/gtest.h>

#include <memory>
#include <ostream>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>

#include "absl/status/status.h"
#include "identity/identifier.h"

namespace tessera::identity {

// Printed by GoogleTest when an expectation on a whole NormalizedValue fails.
std::ostream& operator<<(std::ostream& os, NormalizedValue::Outcome outcome) {
  switch (outcome) {
    case NormalizedValue::Outcome::kOk:
      return os << "kOk";
    case NormalizedValue::Outcome::kBlocked:
      return os << "kBlocked";
    case NormalizedValue::Outcome::kInvalid:
      return os << "kInvalid";
  }
  return os << "Outcome(" << static_cast<int>(outcome) << ")";
}

namespace {

using Outcome = NormalizedValue::Outcome;
namespace type = identifier_type;

std::string Describe(const NormalizedValue& v) {
  std::ostringstream os;
  os << "{outcome=" << v.outcome << ", value=\"" << v.value << "\", reason=\"" << v.reason << "\"}";
  return os.str();
}

std::unique_ptr<Normalizer> MakeNormalizer(NormalizerOptions options = {}) {
  absl::StatusOr<std::unique_ptr<Normalizer>> normalizer = Normalizer::Create(std::move(options));
  EXPECT_TRUE(normalizer.ok()) << normalizer.status();
  return normalizer.ok() ? std::move(*normalizer) : nullptr;
}

// Asserts that `raw` of `type` normalizes to the identifier `expected`.
void ExpectOk(const Normalizer& n, std::string_view type, std::string_view raw, std::string_view expected) {
  const NormalizedValue v = n.Normalize(type, raw);
  EXPECT_EQ(v.outcome, Outcome::kOk) << type << " \"" << raw << "\" should be accepted, got " << Describe(v);
  EXPECT_EQ(v.value, expected) << type << " \"" << raw << "\" normalized wrongly";
}

// Asserts that `raw` of `type` is blocked and that the reason contains `reason_part`.
void ExpectBlocked(const Normalizer& n, std::string_view type, std::string_view raw,
                   std::string_view reason_part = "") {
  const NormalizedValue v = n.Normalize(type, raw);
  EXPECT_EQ(v.outcome, Outcome::kBlocked)
      << type << " \"" << raw << "\" should be blocked, got " << Describe(v);
  EXPECT_NE(v.reason.find(reason_part), std::string::npos)
      << type << " \"" << raw << "\": reason should mention \"" << reason_part << "\", got " << Describe(v);
}

void ExpectInvalid(const Normalizer& n, std::string_view type, std::string_view raw,
                   std::string_view reason_part) {
  const NormalizedValue v = n.Normalize(type, raw);
  EXPECT_EQ(v.outcome, Outcome::kInvalid)
      << type << " \"" << raw << "\" should be invalid, got " << Describe(v);
  EXPECT_NE(v.reason.find(reason_part), std::string::npos)
      << type << " \"" << raw << "\": reason should mention \"" << reason_part << "\", got " << Describe(v);
}

TEST(NormalizerEmailTest, TrimsAndLowerCasesAsciiAddresses) {
  auto n = MakeNormalizer();
  ASSERT_NE(n, nullptr);
  ExpectOk(*n, type::kEmail, "  Jane.Doe@Example.COM\t\r\n", "jane.doe@example.com");
  ExpectOk(*n, type::kEmail,
           "\xC2\xA0"
           "a@b.co\xC2\xA0",
           "a@b.co");  // NO-BREAK SPACE around it.
}

TEST(NormalizerEmailTest, FoldsUnicodeCaseFully) {
  auto n = MakeNormalizer();
  ASSERT_NE(n, nullptr);
  ExpectOk(*n, type::kEmail, "\xC3\x9Cnal@X.de", "\xC3\xBCnal@x.de");  // Ünal -> ünal
  ExpectOk(*n, type::kEmail,
           "Stra\xC3\x9F"
           "e@Example.com",
           "strasse@example.com");  // ß folds to "ss"
  ExpectOk(*n, type::kEmail, "STRASSE@EXAMPLE.COM", "strasse@example.com");
  // So the two spellings of the same address are one identifier.
  EXPECT_EQ(n->Normalize(type::kEmail,
                         "STRA\xC3\x9F"
                         "E@EXAMPLE.COM")
                .value,
            n->Normalize(type::kEmail, "strasse@example.com").value);
}

TEST(NormalizerEmailTest, RejectsValuesThatAreNotAddresses) {
  auto n = MakeNormalizer();
  ASSERT_NE(n, nullptr);
  ExpectInvalid(*n, type::kEmail, "jane.example.com", "not an email address");
  ExpectInvalid(*n, type::kEmail, "@example.com", "not an email address");
  ExpectInvalid(*n, type::kEmail, "jane@", "not an email address");
  ExpectInvalid(*n, type::kEmail, "jane@exa mple.com", "not an email address");
}

TEST(NormalizerEmailTest, KeepsProviderSpecificFormsUnlessConfigured) {
  auto n = MakeNormalizer();
  ASSERT_NE(n, nullptr);
  ExpectOk(*n, type::kEmail, "J.Doe+News@GoogleMail.com", "j.doe+news@googlemail.com");
}

TEST(NormalizerEmailTest, StripsPlusTagsWhenConfigured) {
  NormalizerOptions options;
  options.email_strip_plus_tag = true;
  auto n = MakeNormalizer(options);
  ASSERT_NE(n, nullptr);
  ExpectOk(*n, type::kEmail, "a+news@x.com", "a@x.com");
  ExpectOk(*n, type::kEmail, "a+news+more@x.com", "a@x.com");
  ExpectOk(*n, type::kEmail, "a.b+c@gmail.com", "a.b@gmail.com");  // Dots stay: that option is off.
  ExpectOk(*n, type::kEmail, "+tag@x.com", "+tag@x.com");          // Nothing would be left of the local part.
}

TEST(NormalizerEmailTest, StripsGmailDotsAndCanonicalizesGooglemailWhenConfigured) {
  NormalizerOptions options;
  options.email_strip_gmail_dots = true;
  auto n = MakeNormalizer(options);
  ASSERT_NE(n, nullptr);
  ExpectOk(*n, type::kEmail, "J.O.Doe@Gmail.com", "jodoe@gmail.com");
  ExpectOk(*n, type::kEmail, "j.doe@googlemail.com", "jdoe@gmail.com");
  ExpectOk(*n, type::kEmail, "j.doe+x@gmail.com", "jdoe+x@gmail.com");  // Plus tags stay: that option is off.
  ExpectOk(*n, type::kEmail, "j.doe@example.com", "j.doe@example.com");  // Other providers: dots matter.
  ExpectOk(*n, type::kEmail, "j.doe@mail.gmail.com", "j.doe@mail.gmail.com");
}

TEST(NormalizerEmailTest, BothRewritesTogether) {
  NormalizerOptions options;
  options.email_strip_plus_tag = true;
  options.email_strip_gmail_dots = true;
  auto n = MakeNormalizer(options);
  ASSERT_NE(n, nullptr);
  ExpectOk(*n, type::kEmail, "J.Doe+Promo.Spring@GoogleMail.com", "jdoe@gmail.com");
}

TEST(NormalizerPhoneTest, KoreanNationalNumberWithKoreanDefaultRegion) {
  NormalizerOptions options;
  options.default_phone_region = "KR";
  auto n = MakeNormalizer(options);
  ASSERT_NE(n, nullptr);
  ExpectOk(*n, type::kPhone, "010-1234-5678", "+821012345678");
  ExpectOk(*n, type::kPhone, " +82 10 1234 5678 ", "+821012345678");
}

TEST(NormalizerPhoneTest, UsNumbersInternationalAndNational) {
  auto n = MakeNormalizer();  // Default region US.
  ASSERT_NE(n, nullptr);
  ExpectOk(*n, type::kPhone, "+1 (650) 253-0000", "+16502530000");
  ExpectOk(*n, type::kPhone, "(650) 253-0000", "+16502530000");
  ExpectOk(*n, type::kPhone, "+82 10-1234-5678",
           "+821012345678");  // A country code beats the default region.
}

TEST(NormalizerPhoneTest, RejectsNumbersThatAreNotPossible) {
  auto n = MakeNormalizer();
  ASSERT_NE(n, nullptr);
  ExpectInvalid(*n, type::kPhone, "12", "not a possible phone number");
  ExpectInvalid(*n, type::kPhone, "555-0000", "(region US)");
  ExpectInvalid(*n, type::kPhone, "call me", "not a possible phone number");
  ExpectInvalid(*n, type::kPhone, "+999 1234 5678", "not a possible phone number");
  const NormalizedValue v = n->Normalize(type::kPhone, "12");
  EXPECT_TRUE(v.value.empty()) << "an invalid phone must not produce a value to link: " << Describe(v);
}

TEST(NormalizerPhoneTest, JunkPlaceholdersAreBlockedNotInvalid) {
  auto n = MakeNormalizer();
  ASSERT_NE(n, nullptr);
  ExpectBlocked(*n, type::kPhone, "0", "blocked");
  ExpectBlocked(*n, type::kPhone, "N/A", "blocked");
  ExpectBlocked(*n, type::kEmail, "null", "blocked");
}

TEST(NormalizerDeviceTest, DeviceIdsAreAsciiLowerCased) {
  auto n = MakeNormalizer();
  ASSERT_NE(n, nullptr);
  ExpectOk(*n, type::kIdfa, " 6D92078A-8246-4BA4-AE5B-76104861E7DC ", "6d92078a-8246-4ba4-ae5b-76104861e7dc");
  ExpectOk(*n, type::kGaid, "38400000-8CF0-11BD-B23E-10B96E40000D", "38400000-8cf0-11bd-b23e-10b96e40000d");
  ExpectOk(*n, type::kDeviceId, "ABC-def-\xC3\x9C", "abc-def-\xC3\x9C");  // Only ASCII letters change.
}

TEST(NormalizerOtherTypesTest, KeepCaseAndOnlyTrim) {
  auto n = MakeNormalizer();
  ASSERT_NE(n, nullptr);
  ExpectOk(*n, type::kUserId, "  User-ABC ", "User-ABC");
  ExpectOk(*n, type::kAnonymousId, "\tAnon-XYZ\n", "Anon-XYZ");
  ExpectOk(*n, type::kLoyaltyId, "LC-0042", "LC-0042");
  ExpectOk(*n, type::kFacebookPsid, "PsId123", "PsId123");
  ExpectOk(*n, type::kInstagramSid, "IgSid", "IgSid");
  ExpectOk(*n, "crm_contact", " CRM-7 ", "CRM-7");
  EXPECT_NE(n->Normalize(type::kUserId, "ABC").value, n->Normalize(type::kUserId, "abc").value)
      << "user ids are case-sensitive";
}

TEST(NormalizerBlockedTest, BuiltInValuesInAnyCase) {
  auto n = MakeNormalizer();
  ASSERT_NE(n, nullptr);
  ExpectBlocked(*n, type::kUserId, "NULL", "\"NULL\" is a blocked value");
  ExpectBlocked(*n, type::kUserId, " Undefined ", "\"Undefined\" is a blocked value");
  for (std::string_view v : {"null", "undefined", "None", "nil", "0", "-1", "Anonymous", "UNKNOWN", "n/a"}) {
    ExpectBlocked(*n, type::kAnonymousId, v, "blocked");
  }
  ExpectBlocked(*n, type::kEmail, " Test@Test.com ", "blocked");
  const NormalizedValue v = n->Normalize(type::kUserId, "NULL");
  EXPECT_EQ(v.value, "NULL") << "a blocked value keeps its normalized value for messages";
}

TEST(NormalizerBlockedTest, EmptyAfterTrimmingIsBlockedNotInvalid) {
  auto n = MakeNormalizer();
  ASSERT_NE(n, nullptr);
  ExpectBlocked(*n, type::kUserId, "", "empty");
  ExpectBlocked(*n, type::kEmail, " \t\xC2\xA0\n", "empty");
  ExpectBlocked(*n, type::kPhone, "   ", "empty");
}

TEST(NormalizerBlockedTest, AllZeroUuidsAndAdvertisingIds) {
  auto n = MakeNormalizer();
  ASSERT_NE(n, nullptr);
  ExpectBlocked(*n, type::kIdfa, "00000000-0000-0000-0000-000000000000", "blocked");
  ExpectBlocked(*n, type::kGaid, "00000000-0000-0000-0000-000000000000", "blocked");
  ExpectBlocked(*n, type::kAnonymousId, "00000000-0000-0000-0000-000000000000", "blocked");
  ExpectBlocked(*n, type::kDeviceId, "0000000000000000", "blocked");
  ExpectOk(*n, type::kDeviceId, "0000000", "0000000");  // Shorter than an id; could be a real short id.
  ExpectOk(*n, type::kIdfa, "00000000-0000-0000-0000-000000000001", "00000000-0000-0000-0000-000000000001");
}

TEST(NormalizerBlockedTest, ConfiguredValuesAreCaseInsensitive) {
  NormalizerOptions options;
  options.blocked_values = {"guest", " Admin@Shop.Example ", "\xC3\x9Cnbekannt@x.de"};
  auto n = MakeNormalizer(options);
  ASSERT_NE(n, nullptr);
  ExpectBlocked(*n, type::kUserId, "GUEST", "\"GUEST\" is a blocked value");
  ExpectBlocked(*n, type::kEmail, "admin@shop.example", "blocked");
  ExpectBlocked(*n, type::kEmail, "\xC3\x9CNBEKANNT@X.DE", "blocked");  // Matches the folded form.
  ExpectOk(*n, type::kUserId, "guest2", "guest2");
}

TEST(NormalizerBlockedTest, ConfiguredPatternsMatchTheWholeNormalizedValue) {
  NormalizerOptions options;
  options.blocked_patterns = {".*@example\\.(com|org)", "test-[0-9]+"};
  auto n = MakeNormalizer(options);
  ASSERT_NE(n, nullptr);
  ExpectBlocked(*n, type::kEmail, "Someone@EXAMPLE.org", "matches blocked pattern");
  ExpectBlocked(*n, type::kUserId, "test-42", "test-[0-9]+");
  ExpectOk(*n, type::kUserId, "my-test-42", "my-test-42");  // regex_match, not search.
  ExpectOk(*n, type::kUserId, "TEST-42", "TEST-42");        // Patterns see the value as normalized.
}

TEST(NormalizerLimitsTest, RejectsValuesLongerThan512Bytes) {
  auto n = MakeNormalizer();
  ASSERT_NE(n, nullptr);
  const std::string max(512, 'a');
  ExpectOk(*n, type::kUserId, "  " + max + "  ", max);  // The limit applies after trimming.
  ExpectInvalid(*n, type::kUserId, max + "b", "513 bytes");
  ExpectInvalid(*n, type::kEmail, std::string(600, 'a') + "@x.com", "limit is 512");
}

TEST(NormalizerLimitsTest, RejectsInvalidUtf8) {
  auto n = MakeNormalizer();
  ASSERT_NE(n, nullptr);
  ExpectInvalid(*n, type::kUserId, "user\xFF", "not valid UTF-8");
  ExpectInvalid(*n, type::kEmail, "\xC3@x.com", "not valid UTF-8");         // Truncated sequence.
  ExpectInvalid(*n, type::kUserId, "\xC0\xAF", "not valid UTF-8");          // Overlong '/'.
  ExpectInvalid(*n, type::kUserId, "\xED\xA0\x80", "not valid UTF-8");      // Surrogate U+D800.
  ExpectInvalid(*n, type::kUserId, "\xF4\x90\x80\x80", "not valid UTF-8");  // Above U+10FFFF.
  ExpectOk(*n, type::kUserId, "\xF0\x9F\x98\x80", "\xF0\x9F\x98\x80");      // U+1F600 is fine.
}

TEST(NormalizerCreateTest, RejectsUnknownOrMalformedRegions) {
  for (std::string region : {"XX", "kr", "KOR", "", "001"}) {
    NormalizerOptions options;
    options.default_phone_region = region;
    absl::StatusOr<std::unique_ptr<Normalizer>> n = Normalizer::Create(options);
    ASSERT_FALSE(n.ok()) << "region \"" << region << "\" should be rejected";
    EXPECT_EQ(n.status().code(), absl::StatusCode::kInvalidArgument) << n.status();
    EXPECT_NE(n.status().message().find("default_phone_region: \"" + region + "\""), std::string::npos)
        << "the error should name the region: " << n.status();
  }
}

TEST(NormalizerCreateTest, RejectsBadPatternNamingItsIndex) {
  NormalizerOptions options;
  options.blocked_patterns = {"ok.*", "(unclosed"};
  absl::StatusOr<std::unique_ptr<Normalizer>> n = Normalizer::Create(options);
  ASSERT_FALSE(n.ok()) << "an unbalanced parenthesis should not compile";
  EXPECT_EQ(n.status().code(), absl::StatusCode::kInvalidArgument) << n.status();
  EXPECT_NE(n.status().message().find("blocked_patterns[1]: \"(unclosed\""), std::string::npos)
      << "the error should name the pattern's index and text: " << n.status();
}

TEST(NormalizerCreateTest, RejectsBlockedValueThatIsNotUtf8) {
  NormalizerOptions options;
  options.blocked_values = {"fine", "bad\xFF"};
  absl::StatusOr<std::unique_ptr<Normalizer>> n = Normalizer::Create(options);
  ASSERT_FALSE(n.ok()) << "a blocked value that can never match should be reported";
  EXPECT_NE(n.status().message().find("blocked_values[1]"), std::string::npos) << n.status();
}

}  // namespace
}  // namespace tessera::identity
