// purchases[]: per space, which events are purchases, what they are worth, in which currency and
// on whose calendar, and how the purchase models refit and discount (config.h, PurchaseConfig).

#include <algorithm>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "base/time_zone.h"
#include "config/internal/json_reader.h"
#include "config/internal/sections.h"
#include "simdjson.h"

namespace tessera::config::internal {
namespace {

constexpr uint64_t kMaxRefitSeconds = 366 * 86'400;

// "properties.revenue": a root the events have, then a member path.
bool IsValuePath(const std::string& path) {
  for (const char* root : {"properties.", "traits.", "context."}) {
    if (path.starts_with(root) && path.size() > std::string_view(root).size() && !path.ends_with(".") &&
        path.find("..") == std::string::npos) {
      return true;
    }
  }
  return false;
}

absl::Status ReadPurchase(element value, const std::string& path, PurchaseConfig& purchase) {
  bool events_given = false;
  absl::Status read = ReadObject(
      value, path,
      {{"space", [&](element v, const std::string& p) { return ReadNonEmptyString(v, p, purchase.space); }},
       {"events",
        [&](element v, const std::string& p) {
          events_given = true;
          return StringListReader(purchase.events)(v, p);
        }},
       {"value_properties", StringListReader(purchase.value_properties)},
       {"currency", [&](element v, const std::string& p) { return ReadString(v, p, purchase.currency); }},
       {"time_zone", [&](element v, const std::string& p) { return ReadNonEmptyString(v, p, purchase.time_zone); }},
       {"monthly_discount_rate",
        [&](element v, const std::string& p) -> absl::Status {
          double rate = 0;
          if (v.get_double().get(rate) != simdjson::SUCCESS) return Expected(p, "a number", v);
          if (!(rate >= 0 && rate <= 1)) return Invalid(p, absl::StrCat(rate, " is not between 0 and 1"));
          purchase.monthly_discount_rate = rate;
          return absl::OkStatus();
        }},
       {"refit_interval_seconds", DurationReader(purchase.refit_interval, 60, kMaxRefitSeconds)}});
  if (!read.ok()) return read;
  if (events_given && purchase.events.empty()) return Invalid(ChildPath(path, "events"), "empty: name an event");
  for (size_t i = 0; i < purchase.value_properties.size(); ++i) {
    if (!IsValuePath(purchase.value_properties[i])) {
      return Invalid(IndexPath(ChildPath(path, "value_properties"), i),
                     absl::StrCat(Quote(purchase.value_properties[i]),
                                  " is not a path like properties.revenue (properties., traits. or context.)"));
    }
  }
  if (!purchase.currency.empty()) {
    const bool iso = purchase.currency.size() == 3 &&
                     std::all_of(purchase.currency.begin(), purchase.currency.end(), [](char c) { return absl::ascii_isupper(c); });
    if (!iso) {
      return Invalid(ChildPath(path, "currency"),
                     absl::StrCat(Quote(purchase.currency), " is not an ISO 4217 code like KRW or USD"));
    }
  }
  if (!base::TimeZone::Parse(purchase.time_zone)) {
    return Invalid(ChildPath(path, "time_zone"),
                   absl::StrCat(Quote(purchase.time_zone), " is neither an offset like +09:00 nor an IANA zone"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ReadPurchases(element value, const std::string& path, std::vector<PurchaseConfig>& purchases) {
  purchases.clear();
  absl::Status read = ReadArray(value, path, [&](element item, const std::string& item_path) {
    return ReadPurchase(item, item_path, purchases.emplace_back());
  });
  if (!read.ok()) return read;
  for (size_t i = 0; i < purchases.size(); ++i) {
    for (size_t j = 0; j < i; ++j) {
      if (purchases[j].space == purchases[i].space) {
        return Invalid(ChildPath(IndexPath(path, i), "space"),
                       absl::StrCat(Quote(purchases[i].space), " already has ", IndexPath(path, j)));
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace tessera::config::internal
