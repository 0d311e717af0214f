#pragma once

// Which events are purchases, and how the resolver records them in a profile's PurchaseHistory
// (profile_store/purchase_history.h) for the purchase models (prediction/, docs/prediction.md).
//
// By default a purchase is Segment's `Order Completed` track event, which the POS and Shopify
// connectors also send for their orders, worth the first number among properties.revenue,
// properties.total and properties.value (0 when it has none). A purchase whose properties.currency
// names another currency than the space's is not recorded, only counted (the models add no amounts
// in different currencies). It counts on its local calendar day in the space's time zone.
// Everything here is a pure function of the event and the rules, so a replay records the same.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/time.h"
#include "base/time_zone.h"
#include "ingest/event.h"
#include "profile_store/profile.h"

namespace tessera::resolve {

struct PurchaseRules {
  std::vector<std::string> events = {"Order Completed"};  // Track event names.
  // Dotted paths ("properties.revenue"); the first that holds a number is the purchase's value.
  std::vector<std::string> value_properties = {"properties.revenue", "properties.total", "properties.value"};
  std::string currency;  // ISO 4217 (upper case); empty: every purchase counts, whatever it names.
  std::optional<base::TimeZone> time_zone;  // Whose calendar days count; UTC when unset.
  // The space's purchase model, refitted by the audience sweep (resolve/audience_maintenance.h).
  double monthly_discount_rate = 0.01;
  std::chrono::seconds refit_interval{86'400};
};

// Records `event` in `profile.purchases` when `rules` make it a purchase; true when it did (a
// purchase in another currency is counted there, and gives false).
bool RecordPurchase(const PurchaseRules& rules, const ingest::CanonicalEvent& event, profile_store::Profile& profile);

}  // namespace tessera::resolve
