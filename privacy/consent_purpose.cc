#include "privacy/consent_purpose.h"

namespace tessera::privacy {

std::optional<std::string> NormalizeConsentPurpose(std::string_view name) {
  if (name.empty() || name.size() > kMaxConsentPurposeLength) return std::nullopt;
  std::string purpose;
  purpose.reserve(name.size());
  for (char c : name) {
    if (c >= 'A' && c <= 'Z') {
      purpose.push_back(static_cast<char>(c - 'A' + 'a'));
    } else if (c == ' ' || c == '-') {
      purpose.push_back('_');
    } else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_') {
      purpose.push_back(c);
    } else {
      return std::nullopt;
    }
  }
  return purpose;
}

}  // namespace tessera::privacy
