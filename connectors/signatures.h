#pragma once

// The cryptography webhooks are signed with, on OpenSSL: HMAC-SHA256 (Shopify, Mailgun, Meta,
// Square, Zendesk), HMAC-SHA1 (Twilio) and ECDSA P-256 over SHA-256 (SendGrid). Comparisons of
// secrets are constant-time.

#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace tessera::connectors {

// The raw 32-byte HMAC-SHA256 of `data` under `key`.
std::string HmacSha256(std::string_view key, std::string_view data);

// The raw 20-byte HMAC-SHA1 of `data` under `key` (Twilio's X-Twilio-Signature).
std::string HmacSha1(std::string_view key, std::string_view data);

// Standard base64 (RFC 4648 section 4, with '=' padding) of `bytes`, as signature headers carry it.
std::string Base64Encode(std::string_view bytes);

// Lower-case hex of `bytes`.
std::string HexEncode(std::string_view bytes);

// Equality of two byte strings in time that depends only on their lengths.
bool ConstantTimeEquals(std::string_view a, std::string_view b);

// Verifies `signature_base64` (a DER-encoded ECDSA signature, base64) over SHA-256(`data`) with
// `public_key_base64` (a DER SubjectPublicKeyInfo of a P-256 key, base64, as SendGrid shows it; a
// PEM block is accepted too). Unauthenticated when it does not verify; InvalidArgument when the
// key cannot be read.
absl::Status VerifyEcdsaP256Sha256(std::string_view public_key_base64, std::string_view data,
                                   std::string_view signature_base64);

}  // namespace tessera::connectors
