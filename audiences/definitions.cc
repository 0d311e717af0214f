// What a space's definitions share: the keys of their aggregate specs, the DefinitionSet that
// compiles one spec per key from its computed traits and audience conditions, and the name rules.
// The definitions themselves: computed_trait.cc and condition.cc.

#include "audiences/definitions.h"

#include <algorithm>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>

#include "absl/strings/str_cat.h"
#include "audiences/internal/parsing.h"
#include "xxhash.h"

namespace tessera::audiences {

using internal::IsValidName;
using internal::ToAbsl;

namespace {

void CollectEventSpecs(const Condition& node, std::map<std::string, AggregateSpec>& specs) {
  if (node.kind == Condition::Kind::kEvent) specs.emplace(node.spec.Key(), node.spec);
  for (const ConditionPtr& child : node.children) {
    if (child) CollectEventSpecs(*child, specs);
  }
}

}  // namespace

std::string AggregateSpec::Key() const {
  if (!key.empty()) return key;
  // Length-prefixed fields, so that no choice of names can make two specs' texts equal.
  std::string text = "aggregate.v1";
  for (std::string_view field : {std::string_view(filter.type), std::string_view(filter.event),
                                 std::string_view(filter.channel), std::string_view(property)}) {
    absl::StrAppend(&text, "|", field.size(), ":", ToAbsl(field));
  }
  absl::StrAppend(&text, "|", retention.count(), "|", keep_json ? 1 : 0);
  const uint64_t hash = XXH3_64bits(text.data(), text.size());
  static constexpr char kHex[] = "0123456789abcdef";
  std::string key(16, '0');
  for (int i = 0; i < 16; ++i) key[15 - i] = kHex[(hash >> (4 * i)) & 0xF];
  return key;
}

void DefinitionSet::Compile() {
  std::map<std::string, AggregateSpec> by_key;
  for (const auto& trait : computed) {
    if (trait && !trait->NeedsNoAggregate()) by_key.emplace(trait->spec.Key(), trait->spec);
  }
  for (const auto& audience : audiences) {
    if (audience && audience->condition) CollectEventSpecs(*audience->condition, by_key);
  }
  specs.clear();
  spec_keys.clear();
  specs.reserve(by_key.size());
  spec_keys.reserve(by_key.size());
  for (auto& [key, spec] : by_key) {
    spec_keys.push_back(key);
    specs.push_back(std::move(spec));
  }
}

const ComputedTrait* DefinitionSet::FindComputed(std::string_view name) const {
  for (const auto& trait : computed) {
    if (trait && trait->name == name) return trait.get();
  }
  return nullptr;
}

const Audience* DefinitionSet::FindAudience(std::string_view name) const {
  for (const auto& audience : audiences) {
    if (audience && audience->name == name) return audience.get();
  }
  return nullptr;
}

bool DefinitionSet::AnyTimeDependent() const {
  return std::any_of(audiences.begin(), audiences.end(),
                     [](const auto& audience) { return audience && audience->time_dependent; });
}

const std::vector<std::shared_ptr<const ComputedTrait>>& DefinitionSet::BuiltInTraits() {
  static const auto* const traits = [] {
    auto* list = new std::vector<std::shared_ptr<const ComputedTrait>>();
    for (auto [name, json] : {std::pair{"p_alive", R"({"kind":"p_alive"})"},
                              std::pair{"expected_purchases_90d", R"({"kind":"expected_purchases","horizonDays":90})"},
                              std::pair{"predicted_clv_365d", R"({"kind":"predicted_clv","horizonDays":365})"},
                              std::pair{"open_tickets", R"({"kind":"open_tickets"})"},
                              std::pair{"last_contact_at", R"({"kind":"last_contact_at"})"},
                              std::pair{"csat_avg_90d", R"({"kind":"csat_average","window":"90d"})"}}) {
      absl::StatusOr<ComputedTrait> trait = ParseComputedTrait(json, name);
      trait->built_in = true;  // The definitions above parse: a unit test reads them.
      list->push_back(std::make_shared<const ComputedTrait>(*std::move(trait)));
    }
    return list;
  }();
  return *traits;
}

bool DefinitionSet::OnlyBuiltIn() const {
  return audiences.empty() &&
         std::all_of(computed.begin(), computed.end(), [](const auto& trait) { return trait && trait->built_in; });
}

bool IsValidAudienceName(std::string_view name) { return IsValidName(name, /*allow_dash=*/true); }
bool IsValidComputedTraitName(std::string_view name) { return IsValidName(name, /*allow_dash=*/false); }

}  // namespace tessera::audiences
