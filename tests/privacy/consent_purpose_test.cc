// The one spelling of a consent purpose, shared by events, audience definitions and exports.

#include "privacy/consent_purpose.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>

namespace tessera::privacy {
namespace {

TEST(ConsentPurposeTest, NormalizesCategoryNamesAndRefusesOthers) {
  EXPECT_EQ(NormalizeConsentPurpose("marketing_email"), "marketing_email");
  EXPECT_EQ(NormalizeConsentPurpose("Advertising"), "advertising");
  EXPECT_EQ(NormalizeConsentPurpose("Functional Cookies"), "functional_cookies");
  EXPECT_EQ(NormalizeConsentPurpose("E-Mail"), "e_mail");
  EXPECT_EQ(NormalizeConsentPurpose(std::string(64, 'a')), std::string(64, 'a'));
  EXPECT_EQ(NormalizeConsentPurpose(""), std::nullopt);
  EXPECT_EQ(NormalizeConsentPurpose(std::string(65, 'a')), std::nullopt) << "at most 64 characters";
  EXPECT_EQ(NormalizeConsentPurpose("sms!"), std::nullopt);
  EXPECT_EQ(NormalizeConsentPurpose("caf\xc3\xa9"), std::nullopt) << "only ASCII letters";
}

}  // namespace
}  // namespace tessera::privacy
