#include "resolve/purchase_models.h"

#include <chrono>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "base/time_zone.h"
#include "profile_store/profile.h"

namespace tessera::resolve {
namespace {

// Days are already local: their midnights, read in UTC, are those days.
const base::TimeZone& Utc() {
  static const base::TimeZone* const utc = new base::TimeZone(*base::TimeZone::Parse("UTC"));
  return *utc;
}

base::Timestamp Midnight(int32_t day) {
  return base::Timestamp(std::chrono::sys_days(std::chrono::days(day)).time_since_epoch());
}

}  // namespace

absl::StatusOr<prediction::CalibrationSummary> SummarizePurchases(const profile_store::PurchaseHistory& history,
                                                                  int32_t as_of_day) {
  std::vector<prediction::Transaction> transactions;
  transactions.reserve(history.days.size());
  for (const profile_store::PurchaseDay& day : history.days) {
    if (day.day > as_of_day) break;
    transactions.push_back({.time = Midnight(day.day), .value = day.value});
  }
  if (transactions.empty()) return absl::NotFoundError("no purchase on or before as_of");
  return prediction::SummarizeCalibration(transactions, Midnight(as_of_day), Utc());
}

absl::StatusOr<SpacePurchaseFit> FitSpacePurchases(const profile_store::Store& store, std::string_view space,
                                                   int32_t as_of_day) {
  SpacePurchaseFit result;
  result.as_of_day = as_of_day;
  std::vector<prediction::CalibrationSummary> customers;
  absl::Status failure = absl::OkStatus();
  std::string prefix(space);
  prefix.push_back('\0');
  absl::Status scanned = store.ScanPrefix(
      profile_store::ColumnFamily::kProfiles, prefix, [&](std::string_view, std::string_view value) {
        if (!failure.ok()) return;
        absl::StatusOr<profile_store::Profile> profile = profile_store::DecodeProfile(value);
        if (!profile.ok()) {
          failure = profile.status();
          return;
        }
        if (profile->merged_into) return;
        ++result.profiles_scanned;
        const profile_store::PurchaseHistory& history = profile->purchases;
        if (history.days.empty()) return;
        absl::StatusOr<prediction::CalibrationSummary> summary = SummarizePurchases(history, as_of_day);
        if (absl::IsNotFound(summary.status())) {
          ++result.first_purchase_later;
          return;
        }
        if (!summary.ok()) {
          failure = summary.status();
          return;
        }
        customers.push_back(*summary);
        result.other_currency += history.other_currency;
        for (const profile_store::PurchaseDay& day : history.days) {
          if (day.day <= as_of_day) result.orders += day.orders;
        }
      });
  if (!scanned.ok()) return scanned;
  if (!failure.ok()) return failure;
  if (customers.empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat("no profile of space ", std::string(space), " had purchased by as_of (", result.profiles_scanned,
                     " profiles, ", result.first_purchase_later, " with a first purchase after it)"));
  }
  absl::StatusOr<prediction::PurchaseModelFit> fit = prediction::FitPurchaseModel(customers);
  if (!fit.ok()) {
    return absl::FailedPreconditionError(
        absl::StrCat("the models cannot be fitted on ", customers.size(), " customers: ", fit.status().message()));
  }
  result.fit = *std::move(fit);
  return result;
}

}  // namespace tessera::resolve
