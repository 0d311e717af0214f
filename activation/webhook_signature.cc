#include "activation/webhook_signature.h"

#include <cstdint>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "base/coding.h"
#include "openssl/crypto.h"
#include "openssl/evp.h"
#include "openssl/core_names.h"
#include "openssl/params.h"

namespace tessera::activation {
namespace {

std::string HmacHex(std::string_view secret, int64_t seconds, std::string_view body) {
  // "<t>.<body>" is fed to the MAC in two parts: a batch's body is some 300 KB, and copying it into
  // one string to sign it was malloc and memcpy in every delivery thread's profile.
  const std::string prefix = absl::StrCat(seconds, ".");
  unsigned char digest[EVP_MAX_MD_SIZE];
  size_t length = 0;
  EVP_MAC* mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
  EVP_MAC_CTX* context = mac != nullptr ? EVP_MAC_CTX_new(mac) : nullptr;
  char digest_name[] = "SHA256";
  const OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string("digest", digest_name, 0), OSSL_PARAM_construct_end()};
  const bool made = context != nullptr &&
                    EVP_MAC_init(context, reinterpret_cast<const unsigned char*>(secret.data()), secret.size(), params) &&
                    EVP_MAC_update(context, reinterpret_cast<const unsigned char*>(prefix.data()), prefix.size()) &&
                    EVP_MAC_update(context, reinterpret_cast<const unsigned char*>(body.data()), body.size()) &&
                    EVP_MAC_final(context, digest, &length, sizeof(digest));
  EVP_MAC_CTX_free(context);
  EVP_MAC_free(mac);
  if (!made) return {};  // OpenSSL without HMAC-SHA256: no signature verifies.
  return base::LowerHex(std::string_view(reinterpret_cast<const char*>(digest), length));
}

}  // namespace

std::string SignWebhook(std::string_view secret, std::chrono::system_clock::time_point time, std::string_view body) {
  const int64_t seconds = std::chrono::duration_cast<std::chrono::seconds>(time.time_since_epoch()).count();
  return absl::StrCat("t=", seconds, ",v1=", HmacHex(secret, seconds, body));
}

absl::Status VerifyWebhook(std::string_view secret, std::string_view header, std::string_view body,
                           std::chrono::system_clock::time_point now, std::chrono::seconds tolerance) {
  int64_t seconds = 0;
  bool has_time = false;
  std::vector<std::string> signatures;
  for (absl::string_view split : absl::StrSplit(absl::string_view(header.data(), header.size()), ',')) {
    const std::string_view part(split.data(), split.size());
    const size_t equals = part.find('=');
    if (equals == std::string_view::npos) {
      return absl::InvalidArgumentError("Tessera-Signature: expected t=<seconds>,v1=<hex>");
    }
    const std::string_view name = part.substr(0, equals);
    const std::string_view value = part.substr(equals + 1);
    if (name == "t") {
      if (!absl::SimpleAtoi(absl::string_view(value.data(), value.size()), &seconds)) {
        return absl::InvalidArgumentError("Tessera-Signature: t is not a number of seconds");
      }
      has_time = true;
    } else if (name == "v1") {
      signatures.emplace_back(value);
    }  // Other schemes are for other versions: passed over, as receivers of such headers do.
  }
  if (!has_time || signatures.empty()) {
    return absl::InvalidArgumentError("Tessera-Signature: expected t=<seconds>,v1=<hex>");
  }
  const int64_t now_seconds = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
  if (now_seconds - seconds > tolerance.count() || seconds - now_seconds > tolerance.count()) {
    return absl::PermissionDeniedError("Tessera-Signature: the timestamp is outside the tolerance");
  }
  const std::string expected = HmacHex(secret, seconds, body);
  if (expected.empty()) return absl::InternalError("Tessera-Signature: HMAC-SHA256 is not available");
  for (const std::string& signature : signatures) {
    if (signature.size() == expected.size() &&
        CRYPTO_memcmp(signature.data(), expected.data(), expected.size()) == 0) {
      return absl::OkStatus();
    }
  }
  return absl::PermissionDeniedError("Tessera-Signature: no signature matches the body");
}

}  // namespace tessera::activation
