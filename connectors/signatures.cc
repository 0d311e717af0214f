#include "connectors/signatures.h"

#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <memory>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/ascii.h"

namespace tessera::connectors {
namespace {

struct PkeyFree {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
struct MdCtxFree {
  void operator()(EVP_MD_CTX* context) const { EVP_MD_CTX_free(context); }
};
struct BioFree {
  void operator()(BIO* bio) const { BIO_free(bio); }
};

std::unique_ptr<EVP_PKEY, PkeyFree> ReadPublicKey(std::string_view text) {
  const absl::string_view trimmed = absl::StripAsciiWhitespace(absl::string_view(text.data(), text.size()));
  if (absl::StartsWith(trimmed, "-----BEGIN")) {
    std::unique_ptr<BIO, BioFree> bio(BIO_new_mem_buf(trimmed.data(), static_cast<int>(trimmed.size())));
    if (!bio) return nullptr;
    return std::unique_ptr<EVP_PKEY, PkeyFree>(PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr));
  }
  std::string der;
  if (!absl::Base64Unescape(trimmed, &der)) return nullptr;
  const unsigned char* cursor = reinterpret_cast<const unsigned char*>(der.data());
  return std::unique_ptr<EVP_PKEY, PkeyFree>(d2i_PUBKEY(nullptr, &cursor, static_cast<long>(der.size())));
}

}  // namespace

std::string HmacSha256(std::string_view key, std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(data.data()),
       data.size(), digest, &length);
  return std::string(reinterpret_cast<const char*>(digest), length);
}

std::string HmacSha1(std::string_view key, std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(EVP_sha1(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(data.data()),
       data.size(), digest, &length);
  return std::string(reinterpret_cast<const char*>(digest), length);
}

std::string Base64Encode(std::string_view bytes) {
  return absl::Base64Escape(absl::string_view(bytes.data(), bytes.size()));
}

std::string HexEncode(std::string_view bytes) {
  return absl::BytesToHexString(absl::string_view(bytes.data(), bytes.size()));
}

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

absl::Status VerifyEcdsaP256Sha256(std::string_view public_key_base64, std::string_view data,
                                   std::string_view signature_base64) {
  std::unique_ptr<EVP_PKEY, PkeyFree> key = ReadPublicKey(public_key_base64);
  if (!key) return absl::InvalidArgumentError("the public key is not a base64 DER or PEM public key");
  if (EVP_PKEY_base_id(key.get()) != EVP_PKEY_EC) return absl::InvalidArgumentError("the public key is not an EC key");
  std::string signature;
  if (!absl::Base64Unescape(absl::string_view(signature_base64.data(), signature_base64.size()), &signature) ||
      signature.empty()) {
    return absl::UnauthenticatedError("the signature is not base64");
  }
  std::unique_ptr<EVP_MD_CTX, MdCtxFree> context(EVP_MD_CTX_new());
  if (!context || EVP_DigestVerifyInit(context.get(), nullptr, EVP_sha256(), nullptr, key.get()) != 1) {
    return absl::InternalError("cannot set up ECDSA verification");
  }
  const int verified =
      EVP_DigestVerify(context.get(), reinterpret_cast<const unsigned char*>(signature.data()), signature.size(),
                       reinterpret_cast<const unsigned char*>(data.data()), data.size());
  if (verified != 1) return absl::UnauthenticatedError("the signature does not match the payload");
  return absl::OkStatus();
}

}  // namespace tessera::connectors
