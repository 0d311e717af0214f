#include "resolve/purchase_recorder.h"

#include <algorithm>
#include <chrono>

#include "absl/strings/match.h"
#include "audiences/evaluation.h"
#include "audiences/purchase_traits.h"

namespace tessera::resolve {

bool RecordPurchase(const PurchaseRules& rules, const ingest::CanonicalEvent& event, profile_store::Profile& profile) {
  if (event.type != ingest::EventType::kTrack) return false;
  if (std::find(rules.events.begin(), rules.events.end(), event.event) == rules.events.end()) return false;
  const audiences::EventFacts facts{.type = "track", .event = event.event, .channel = event.channel,
                                    .time = event.timestamp, .properties = event.properties,
                                    .traits = event.traits, .context = event.context};
  if (!rules.currency.empty()) {
    const profile_store::AggregateValue named = audiences::ValueAt(facts, "properties.currency");
    // A JSON string: compare its text without the quotes.
    if (named.json.size() >= 2 && named.json.front() == '"' &&
        !absl::EqualsIgnoreCase(named.json.substr(1, named.json.size() - 2), rules.currency)) {
      ++profile.purchases.other_currency;
      return false;
    }
  }
  double value = 0;
  for (const std::string& path : rules.value_properties) {
    const profile_store::AggregateValue found = audiences::ValueAt(facts, path);
    if (found.number) {
      value = *found.number;
      break;
    }
  }
  profile.purchases.Add(audiences::LocalDay(rules.time_zone, event.timestamp), value);
  return true;
}

}  // namespace tessera::resolve
