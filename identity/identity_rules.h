#pragma once

// IdentityRules say, per identifier type, how much it is trusted (priority) and how many distinct
// values of it one profile may hold (limit). A merge that would exceed a limit is refused; the
// event then goes to the profile of its highest-priority identifier.
//
// Defaults (used for any type the configuration does not name):
//   user_id 100/1, email 80/5, phone 70/5, loyalty_id 60/1, shopify_customer_id 60/unlimited (one
//   person may shop in several stores), idfa 50/unlimited, gaid 50/unlimited,
//   device_id 40/unlimited, fb_psid 30/unlimited, ig_sid 30/unlimited, anonymous_id 10/unlimited,
//   any other type 20/unlimited.
//
// Thread-safety: immutable after construction.

#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"

namespace tessera::identity {

struct IdentifierRule {
  std::string type;
  int priority = 20;
  int limit = 0;  // 0 = unlimited
};

class IdentityRules {
 public:
  // The defaults above, overridden type by type by `overrides`.
  explicit IdentityRules(const std::vector<IdentifierRule>& overrides = {});

  const IdentifierRule& For(std::string_view type) const;
  int Priority(std::string_view type) const { return For(type).priority; }
  int Limit(std::string_view type) const { return For(type).limit; }

 private:
  absl::flat_hash_map<std::string, IdentifierRule> rules_;
  IdentifierRule fallback_;
};

}  // namespace tessera::identity
