#include "connectors/signatures.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>

#include "tests/connectors/sample_payloads.h"
#include "simdjson.h"

namespace tessera::connectors {
namespace {

using testing::ReadSample;

TEST(HmacSha256Test, MatchesRfc4231TestCase2) {
  EXPECT_EQ(HexEncode(HmacSha256("Jefe", "what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(ConstantTimeEqualsTest, ComparesBytesAndLengths) {
  EXPECT_TRUE(ConstantTimeEquals("abc", "abc"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "abd"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "abcd"));
  EXPECT_TRUE(ConstantTimeEquals("", ""));
}

TEST(EcdsaTest, VerifiesSendGridsSignedSampleAndRefusesAnyChange) {
  const std::string body = ReadSample("sendgrid/signed_event_body.bin");
  const std::string headers_json = ReadSample("sendgrid/signed_event_headers.json");
  simdjson::dom::parser parser;
  simdjson::dom::element headers = parser.parse(headers_json);
  std::string_view key, signature, timestamp;
  ASSERT_EQ(headers["verification_public_key_base64_der"].get(key), simdjson::SUCCESS) << headers_json;
  ASSERT_EQ(headers["header_X-Twilio-Email-Event-Webhook-Signature"].get(signature), simdjson::SUCCESS) << headers_json;
  ASSERT_EQ(headers["header_X-Twilio-Email-Event-Webhook-Timestamp"].get(timestamp), simdjson::SUCCESS) << headers_json;

  const std::string signed_data = std::string(timestamp) + body;
  EXPECT_TRUE(VerifyEcdsaP256Sha256(key, signed_data, signature).ok());

  std::string tampered = signed_data;
  tampered[tampered.size() / 2] ^= 1;
  EXPECT_TRUE(absl::IsUnauthenticated(VerifyEcdsaP256Sha256(key, tampered, signature)));
  EXPECT_TRUE(absl::IsUnauthenticated(VerifyEcdsaP256Sha256(key, signed_data, "not base64!")));
  EXPECT_TRUE(absl::IsInvalidArgument(VerifyEcdsaP256Sha256("AAAA", signed_data, signature)));
}

}  // namespace
}  // namespace tessera::connectors
