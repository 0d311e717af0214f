#pragma once

// The predictive computed traits (docs/prediction.md): a person's P(alive), expected purchases and
// CLV over a horizon, read at any moment from the profile's purchase days
// (profile_store/purchase_history.h) and the space's purchase model, which the resolver's sweep
// refits (resolve/audience_maintenance.h). Nothing is refitted per event: a new purchase changes
// the person's summary, and so the values, at the next read.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "base/time.h"
#include "base/time_zone.h"
#include "prediction/purchase_model.h"
#include "profile_store/purchase_history.h"

namespace tessera::audiences {

// The space's current purchase model and what reading it needs.
struct PurchaseModelState {
  prediction::PurchaseModel model;
  std::optional<base::TimeZone> time_zone;  // Whose days the purchases were counted in; UTC when unset.
  double monthly_discount_rate = 0.01;
  std::string version;           // "<as_of day>@<orders fitted>", shown with the values.
  base::Timestamp fitted_at{};   // When the sweep fitted it.
  int32_t as_of_day = 0;         // The local day it was fitted at.
  uint64_t orders = 0;           // Purchases of the customers it was fitted on.
  std::string fit_json;          // The whole fit as GET /v1/models/purchase answers it.
};

// The local calendar day of `time` in `zone` (UTC when unset), as days since 1970-01-01.
int32_t LocalDay(const std::optional<base::TimeZone>& zone, base::Timestamp time);
// A day (days since 1970-01-01) as "YYYY-MM-DD", and back; ParseDayText answers nullopt for
// anything else or an impossible date.
std::string DayText(int32_t day);
std::optional<int32_t> ParseDayText(std::string_view text);

// The calibration summary of `history` at the end of local day `as_of_day`; NotFound when it has no
// purchase on or before that day.
absl::StatusOr<prediction::CalibrationSummary> SummarizePurchaseDays(const profile_store::PurchaseHistory& history,
                                                                     int32_t as_of_day);

enum class PurchaseFigure { kPAlive, kExpectedPurchases, kClv };

// One figure of a person at `now` over `horizon_days`; nullopt when there is no model yet, the
// person had not bought by now, or the model cannot give it (no spend mean for CLV).
std::optional<double> PurchaseFigureOf(PurchaseFigure figure, int64_t horizon_days, const PurchaseModelState* state,
                                       const profile_store::PurchaseHistory& history, base::Timestamp now);

// Stored form of a model state (kMeta, PurchaseModelKey), so a restart reads values at once.
std::string PurchaseModelKey(std::string_view space);
std::string EncodePurchaseModel(const PurchaseModelState& state);
std::optional<PurchaseModelState> DecodePurchaseModel(std::string_view json);

}  // namespace tessera::audiences
