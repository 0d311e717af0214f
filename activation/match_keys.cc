#include "activation/match_keys.h"

#include <cctype>

#include "base/coding.h"
#include "openssl/evp.h"

namespace tessera::activation {
namespace {

std::string_view Trim(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) text.remove_prefix(1);
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.remove_suffix(1);
  return text;
}

// The digits of an E.164 number ("+" then 8 to 15 digits, the first not 0); nullopt otherwise.
std::optional<std::string> E164Digits(std::string_view phone) {
  phone = Trim(phone);
  if (phone.size() < 2 || phone.front() != '+') return std::nullopt;
  std::string digits;
  for (char c : phone.substr(1)) {
    if (c >= '0' && c <= '9') {
      digits.push_back(c);
    } else if (c != ' ' && c != '-' && c != '(' && c != ')' && c != '.') {
      return std::nullopt;
    }
  }
  if (digits.size() < 8 || digits.size() > 15 || digits.front() == '0') return std::nullopt;
  return digits;
}

}  // namespace

std::string Sha256Hex(std::string_view text) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(text.data(), text.size(), digest, &length, EVP_sha256(), nullptr);
  return base::LowerHex(std::string_view(reinterpret_cast<const char*>(digest), length));
}

std::optional<std::string> NormalizedEmailForMatching(std::string_view email) {
  email = Trim(email);
  const size_t at = email.find('@');
  if (at == 0 || at == std::string_view::npos || at + 1 == email.size()) return std::nullopt;
  std::string lower(email);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return lower;
}

std::optional<std::string> MetaPhoneForMatching(std::string_view e164_phone) { return E164Digits(e164_phone); }

std::optional<std::string> GooglePhoneForMatching(std::string_view e164_phone) {
  std::optional<std::string> digits = E164Digits(e164_phone);
  if (!digits) return std::nullopt;
  return "+" + *digits;
}

}  // namespace tessera::activation
