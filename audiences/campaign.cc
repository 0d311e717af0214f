#include "absl/strings/str_cat.h"
#include "audiences/internal/campaign.h"

namespace tessera::audiences::internal {

absl::Status ParseCampaign(const Members& members, Audience& audience) {
  if (const auto holdout = members.Get("holdout")) {
    double share = -1;
    if (!IsNumber(*holdout) || holdout->get_double().get(share) != simdjson::SUCCESS || share < 0 || share > 0.5) {
      return Expected("holdout", "a number from 0 to 0.5 (the share of members kept out of destinations)",
                      *holdout);
    }
    audience.holdout = share;
  }
  const auto conversion = members.Get("conversion");
  if (!conversion) return absl::OkStatus();
  auto fields = Members::Read(*conversion, "conversion", "an object", {"event", "within_days", "revenue"});
  if (!fields.ok()) return fields.status();
  if (const auto event = fields->Get("event")) {
    auto name = ReadString(*event, "conversion.event");
    if (!name.ok()) return name.status();
    audience.conversion.event = *std::move(name);
  }
  if (const auto days = fields->Get("within_days")) {
    int64_t value = 0;
    if (days->get_int64().get(value) != simdjson::SUCCESS || value < 1 || value > 365) {
      return Expected("conversion.within_days", "a whole number of days from 1 to 365", *days);
    }
    audience.conversion.within_days = static_cast<int>(value);
  }
  if (const auto revenue = fields->Get("revenue")) {
    auto path = ReadString(*revenue, "conversion.revenue");
    if (!path.ok()) return path.status();
    if (!IsDottedPath(*path)) {
      return Invalid("conversion.revenue", absl::StrCat(Quote(*path), " is not a dotted path such as properties.revenue"));
    }
    audience.conversion.revenue = *std::move(path);
  }
  return absl::OkStatus();
}

}  // namespace tessera::audiences::internal
