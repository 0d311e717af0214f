#pragma once

// The purchase models of one space, fitted on its profiles: every profile whose first purchase
// (profile_store/purchase_history.h) is on or before the `as_of` day is a customer of the
// calibration, summarized as the papers do (prediction/calibration_summary.h), and BG/NBD and
// Gamma-Gamma are fitted on those summaries (prediction/purchase_model.h). A fit is a pure function
// of the profiles, so of the log and the configuration: the same position gives the same fit.
//
// Days are the space's local calendar days, as the resolver recorded them; `as_of` is one of
// them and counts whole.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "base/time_zone.h"
#include "prediction/purchase_model.h"
#include "profile_store/purchase_history.h"
#include "profile_store/store.h"

namespace tessera::resolve {

struct SpacePurchaseFit {
  int32_t as_of_day = 0;  // Days since 1970-01-01, local.
  prediction::PurchaseModelFit fit;
  int64_t profiles_scanned = 0;       // Profiles of the space (merged-away ones not counted).
  int64_t first_purchase_later = 0;   // Profiles whose first purchase is after as_of: not customers yet.
  uint64_t other_currency = 0;        // Purchases left out, in the customers' histories, for their currency.
  uint64_t orders = 0;                // Purchases on or before as_of, of the customers.
};


// The fit as GET /v1/models/purchase answers it: {"space","as_of","time_zone","currency"?,
// "customers","repeat_customers","orders","profiles","first_purchase_after_as_of",
// "other_currency_purchases","bg_nbd":{...},"gamma_gamma":{...},"fit_seconds","version"}.
std::string FitJson(std::string_view space, const SpacePurchaseFit& fit, const std::optional<base::TimeZone>& time_zone,
                    std::string_view currency, std::string_view version);

// Reads every profile of `space` and fits both models. FailedPrecondition naming what is missing
// when the space has no customer, or no repeat customer, by then.
absl::StatusOr<SpacePurchaseFit> FitSpacePurchases(const profile_store::Store& store, std::string_view space,
                                                   int32_t as_of_day);

}  // namespace tessera::resolve
