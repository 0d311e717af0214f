#pragma once

// Match keys for ad platforms' customer lists: identifiers normalized and SHA-256 hashed exactly
// as each platform's API documentation specifies, so that a member Tessera adds is matched to the
// platform's accounts (a differently normalized value hashes to something no one has).
//
// - Meta Custom Audiences (Marketing API, "Hashing and Normalizing Data"): EMAIL trimmed and
//   lower-cased; PHONE as digits only, with the country code, no '+', no leading zeros.
// - Google Ads Customer Match (OfflineUserDataJobService / UserDataService): email trimmed and
//   lower-cased; phone in E.164, with the '+' (e.g. +821012345678).
// Both: SHA-256 of the UTF-8 text, as 64 lower-case hex characters.
//
// Inputs are Tessera's normalized identifier values (identity/normalizer.h: emails lower-cased,
// phones in E.164), normalized again here so a value from elsewhere is handled the same way.
//
// Thread-safety: pure functions.

#include <optional>
#include <string>
#include <string_view>

namespace tessera::activation {

// SHA-256 of `text` as lower-case hex.
std::string Sha256Hex(std::string_view text);

// The normalized text each platform hashes; nullopt when the value cannot be one (a phone without
// a country code, an email without '@').
std::optional<std::string> NormalizedEmailForMatching(std::string_view email);
std::optional<std::string> MetaPhoneForMatching(std::string_view e164_phone);
std::optional<std::string> GooglePhoneForMatching(std::string_view e164_phone);

}  // namespace tessera::activation
