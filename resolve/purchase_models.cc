#include "resolve/purchase_models.h"

#include <chrono>
#include <string>
#include <vector>

#include <cstdio>

#include "absl/strings/str_cat.h"
#include "base/json_writer.h"
#include "audiences/purchase_traits.h"
#include "profile_store/profile.h"

namespace tessera::resolve {
namespace {

using base::JsonWriter;

void WriteConvergence(JsonWriter& json, const prediction::FitConvergence& convergence) {
  json.Key("converged").Bool(convergence.converged);
  json.Key("evaluations").Int(convergence.evaluations);
  json.Key("algorithm").String(convergence.algorithm);
  json.Key("stop_reason").String(convergence.stop_reason);
  json.Key("gradient_norm").Double(convergence.gradient_norm);
}

}  // namespace

std::string FitJson(std::string_view space, const SpacePurchaseFit& fit, const std::optional<base::TimeZone>& time_zone,
                    std::string_view currency, std::string_view version) {
  std::string out;
  JsonWriter json(out);
  const prediction::BgNbdFit& bg = fit.fit.bg_nbd;
  const prediction::GammaGammaFit& gg = fit.fit.gamma_gamma;
  json.BeginObject();
  json.Key("space").String(std::string(space));
  json.Key("as_of").String(audiences::DayText(fit.as_of_day));
  json.Key("time_zone").String(time_zone ? time_zone->name() : "UTC");
  if (!currency.empty()) json.Key("currency").String(currency);
  json.Key("customers").Int(bg.customers);
  json.Key("repeat_customers").Int(bg.repeat_customers);
  json.Key("orders").Uint(fit.orders);
  json.Key("profiles").Int(fit.profiles_scanned);
  json.Key("first_purchase_after_as_of").Int(fit.first_purchase_later);
  json.Key("other_currency_purchases").Uint(fit.other_currency);
  json.Key("bg_nbd").BeginObject();
  json.Key("r").Double(bg.parameters.r);
  json.Key("alpha").Double(bg.parameters.alpha);
  json.Key("a").Double(bg.parameters.a);
  json.Key("b").Double(bg.parameters.b);
  json.Key("log_likelihood").Double(bg.log_likelihood);
  WriteConvergence(json, bg.convergence);
  json.EndObject();
  json.Key("gamma_gamma").BeginObject();
  json.Key("p").Double(gg.parameters.p);
  json.Key("q").Double(gg.parameters.q);
  json.Key("gamma").Double(gg.parameters.gamma);
  json.Key("log_likelihood").Double(gg.log_likelihood);
  json.Key("customers").Int(gg.customers);
  json.Key("left_out").BeginObject();
  json.Key("no_repeat_transaction").Int(gg.left_out_no_repeat);
  json.Key("non_positive_mean_value").Int(gg.left_out_non_positive_value);
  json.EndObject();
  WriteConvergence(json, gg.convergence);
  json.EndObject();
  json.Key("fit_seconds").Double(fit.fit.elapsed.count());
  json.Key("version").String(std::string(version));
  json.EndObject();
  return out;
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
        absl::StatusOr<prediction::CalibrationSummary> summary = audiences::SummarizePurchaseDays(history, as_of_day);
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
