// Fuzzes the SendGrid Event Webhook translation. The ECDSA signature is checked before the body
// is read and there is no separate translation step, so the fuzzer makes its own P-256 key (the
// configured "verification key") and signs every input with it, as SendGrid would.

#include <openssl/evp.h>
#include <openssl/x509.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "absl/strings/escaping.h"
#include "connectors/email_webhooks.h"
#include "fuzz/fuzz_checks.h"

namespace {

constexpr std::string_view kTimestamp = "1717200000";

EVP_PKEY* SigningKey() {
  static EVP_PKEY* key = EVP_EC_gen("P-256");
  if (key == nullptr) tessera::fuzz::Fail("cannot make a P-256 key");
  return key;
}

std::string PublicKeyBase64() {
  unsigned char* der = nullptr;
  const int length = i2d_PUBKEY(SigningKey(), &der);
  if (length <= 0) tessera::fuzz::Fail("cannot encode the public key");
  std::string encoded = absl::Base64Escape(absl::string_view(reinterpret_cast<const char*>(der), length));
  OPENSSL_free(der);
  return encoded;
}

// base64 of the DER ECDSA signature over SHA-256(data).
std::string Sign(std::string_view data) {
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> context(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  const auto* bytes = reinterpret_cast<const unsigned char*>(data.data());
  size_t length = 0;
  if (EVP_DigestSignInit(context.get(), nullptr, EVP_sha256(), nullptr, SigningKey()) != 1 ||
      EVP_DigestSign(context.get(), nullptr, &length, bytes, data.size()) != 1) {
    tessera::fuzz::Fail("cannot sign");
  }
  std::string signature(length, '\0');
  if (EVP_DigestSign(context.get(), reinterpret_cast<unsigned char*>(signature.data()), &length, bytes,
                     data.size()) != 1) {
    tessera::fuzz::Fail("cannot sign");
  }
  signature.resize(length);
  return absl::Base64Escape(signature);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace tessera::connectors;
  static const SendGridOptions options{.public_key = PublicKeyBase64()};
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  const std::string signature = Sign(std::string(kTimestamp) + std::string(body));
  WebhookRequest request;
  request.body = body;
  request.header = [&signature](std::string_view name) {
    if (name == "X-Twilio-Email-Event-Webhook-Signature") return std::string_view(signature);
    if (name == "X-Twilio-Email-Event-Webhook-Timestamp") return kTimestamp;
    return std::string_view();
  };
  request.received_at = tessera::ingest::Timestamp(std::chrono::seconds(1'717'200'000));
  const absl::StatusOr<tessera::ingest::ParsedRequest> parsed = TranslateSendGridEvents(request, options);
  if (!parsed.ok()) tessera::fuzz::Fail("signed body refused", parsed.status().ToString());
  tessera::fuzz::CheckParsedRequest(*parsed);
  return 0;
}
