#include "identity/identity_rules.h"

#include "absl/strings/string_view.h"
#include "identity/identifier.h"

namespace tessera::identity {
namespace {

IdentifierRule Rule(std::string_view type, int priority, int limit) {
  return IdentifierRule{std::string(type), priority, limit};
}

}  // namespace

IdentityRules::IdentityRules(const std::vector<IdentifierRule>& overrides) {
  namespace t = identifier_type;
  // The defaults documented in identity_rules.h; limit 0 = unlimited.
  for (const IdentifierRule& rule : {
           Rule(t::kUserId, 100, 1),
           Rule(t::kEmail, 80, 5),
           Rule(t::kPhone, 70, 5),
           Rule(t::kLoyaltyId, 60, 1),
           Rule(t::kShopifyCustomerId, 60, 0),
           Rule(t::kIdfa, 50, 0),
           Rule(t::kGaid, 50, 0),
           Rule(t::kDeviceId, 40, 0),
           Rule(t::kFacebookPsid, 30, 0),
           Rule(t::kInstagramSid, 30, 0),
           Rule(t::kAnonymousId, 10, 0),
       }) {
    rules_.emplace(rule.type, rule);
  }
  // An override replaces the whole rule for its type (fields it leaves at their defaults are not
  // taken from the built-in rule). A later override for the same type wins.
  for (const IdentifierRule& rule : overrides) rules_.insert_or_assign(rule.type, rule);
  fallback_ = IdentifierRule{};  // type "", priority 20, unlimited.
}

const IdentifierRule& IdentityRules::For(std::string_view type) const {
  auto it = rules_.find(absl::string_view(type.data(), type.size()));
  return it == rules_.end() ? fallback_ : it->second;
}

}  // namespace tessera::identity
