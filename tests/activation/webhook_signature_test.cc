// Webhook signatures (activation/webhook_signature.h): the header for a body is the documented
// HMAC, computed here by an independent tool (`openssl dgst -sha256 -hmac`), and a receiver's check
// refuses an altered body, a wrong secret, an old timestamp and a malformed header.

#include "activation/webhook_signature.h"

#include <chrono>

#include "gtest/gtest.h"

namespace tessera::activation {
namespace {

using std::chrono::seconds;
using std::chrono::system_clock;

const system_clock::time_point kSent{seconds(1700000000)};
constexpr std::string_view kBody = R"({"batch":[]})";
// printf '1700000000.{"batch":[]}' | openssl dgst -sha256 -hmac 'whsec_test'
constexpr std::string_view kExpected =
    "t=1700000000,v1=1daef4f3ea5642eda82b090cfa30b63e866f58b9871302ceebd4755229ca7ff3";

TEST(WebhookSignatureTest, TheHeaderIsTheHmacOfTheTimeAndTheBody) {
  EXPECT_EQ(SignWebhook("whsec_test", kSent, kBody), kExpected);
  EXPECT_EQ(SignWebhook("whsec_test", kSent + std::chrono::milliseconds(999), kBody), kExpected)
      << "whole seconds are signed";
}

TEST(WebhookSignatureTest, AReceiverAcceptsTheSignedBodyWithinTheTolerance) {
  EXPECT_TRUE(VerifyWebhook("whsec_test", kExpected, kBody, kSent + seconds(299), seconds(300)).ok());
  const std::string rotated = "t=1700000000,v1=" + std::string(64, '0') + ",v1=" + std::string(kExpected.substr(16));
  EXPECT_TRUE(VerifyWebhook("whsec_test", rotated, kBody, kSent, seconds(300)).ok()) << "any v1 may match";
}

TEST(WebhookSignatureTest, AlteredBodiesWrongSecretsOldRequestsAndMalformedHeadersAreRefused) {
  EXPECT_TRUE(absl::IsPermissionDenied(VerifyWebhook("whsec_test", kExpected, R"({"batch":[1]})", kSent, seconds(300))));
  EXPECT_TRUE(absl::IsPermissionDenied(VerifyWebhook("whsec_other", kExpected, kBody, kSent, seconds(300))));
  EXPECT_TRUE(absl::IsPermissionDenied(VerifyWebhook("whsec_test", kExpected, kBody, kSent + seconds(301), seconds(300))));
  EXPECT_TRUE(absl::IsPermissionDenied(VerifyWebhook("whsec_test", kExpected, kBody, kSent - seconds(301), seconds(300))));
  for (std::string_view header : {"", "v1=abc", "t=1700000000", "t=soon,v1=abc", "garbage"}) {
    EXPECT_TRUE(absl::IsInvalidArgument(VerifyWebhook("whsec_test", header, kBody, kSent, seconds(300)))) << header;
  }
}

}  // namespace
}  // namespace tessera::activation
