#include "api/model_handler.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>

#include "absl/strings/str_cat.h"
#include "api/router.h"
#include "base/json_writer.h"
#include "prediction/purchase_model.h"
#include "audiences/purchase_traits.h"

namespace tessera::api {
namespace {

using base::JsonWriter;

constexpr size_t kKeptFits = 16;
constexpr int64_t kDefaultHorizonDays = 365;
constexpr int64_t kMaxHorizonDays = 3650;

HttpReply FitError(const absl::Status& status) {
  if (absl::IsFailedPrecondition(status)) return ErrorReply(409, "not_fittable", std::string(status.message()));
  return ErrorReply(500, "internal", std::string(status.message()));
}

}  // namespace

ModelHandler::ModelHandler(const KeyRegistry& keys, const profile_store::Store& store, std::vector<std::string> spaces,
                           std::map<std::string, PurchaseModelSettings> settings,
                           std::function<uint64_t(std::string_view space)> position, LatestModel latest)
    : keys_(keys),
      store_(store),
      spaces_(std::move(spaces)),
      settings_(std::move(settings)),
      position_(std::move(position)),
      latest_(std::move(latest)) {}

const PurchaseModelSettings& ModelHandler::SettingsOf(const std::string& space) const {
  static const PurchaseModelSettings kDefaults;
  auto it = settings_.find(space);
  return it == settings_.end() ? kDefaults : it->second;
}

absl::StatusOr<std::optional<int32_t>> ModelHandler::AsOfDay(const std::string& space, std::string_view query) const {
  const std::optional<std::string_view> raw = FindQueryParam(query, "as_of");
  if (!raw) return std::optional<int32_t>();
  const std::optional<std::string> text = UrlDecode(*raw);
  if (!text || text->empty()) return absl::InvalidArgumentError("as_of: expected a date (YYYY-MM-DD) or an ISO-8601 time");
  if (std::optional<int32_t> day = audiences::ParseDayText(*text)) return std::optional<int32_t>(*day);
  const std::optional<base::Timestamp> time = base::ParseIso8601(*text);
  if (!time) {
    return absl::InvalidArgumentError(
        absl::StrCat("as_of: \"", *text, "\" is neither a date (YYYY-MM-DD) nor an ISO-8601 time"));
  }
  // Purchases are kept by local day, the models' unit: a time counts its whole day.
  return std::optional<int32_t>(audiences::LocalDay(SettingsOf(space).time_zone, *time));
}

absl::StatusOr<std::shared_ptr<const ModelHandler::Fit>> ModelHandler::FitOf(const std::string& space,
                                                                              std::optional<int32_t> as_of_day) const {
  const PurchaseModelSettings& settings = SettingsOf(space);
  const base::Timestamp now = std::chrono::time_point_cast<std::chrono::microseconds>(std::chrono::system_clock::now());
  if (!as_of_day) {
    // The model the resolver's sweep keeps, which the computed traits read too.
    if (std::shared_ptr<const audiences::PurchaseModelState> state = latest_ ? latest_(space) : nullptr) {
      return std::make_shared<const Fit>(Fit{.model = state->model,
                                             .summary_day = audiences::LocalDay(state->time_zone, now),
                                             .json = state->fit_json.empty() ? "null" : state->fit_json});
    }
    as_of_day = audiences::LocalDay(settings.time_zone, now);  // None yet: fitted now.
  }
  std::lock_guard lock(mutex_);
  const uint64_t position = position_ ? position_(space) : 0;
  auto kept = fits_.find({space, *as_of_day});
  if (kept != fits_.end() && kept->second->position == position) return kept->second;
  absl::StatusOr<resolve::SpacePurchaseFit> fitted = resolve::FitSpacePurchases(store_, space, *as_of_day);
  if (!fitted.ok()) return fitted.status();
  auto fit = std::make_shared<const Fit>(
      Fit{.model = fitted->fit.model(),
          .summary_day = *as_of_day,
          .json = resolve::FitJson(space, *fitted, settings.time_zone, settings.currency,
                                   absl::StrCat(audiences::DayText(*as_of_day), "@", position)),
          .position = position,
          .made = now});
  if (fits_.size() >= kKeptFits) {
    auto oldest = std::min_element(fits_.begin(), fits_.end(),
                                   [](const auto& a, const auto& b) { return a.second->made < b.second->made; });
    fits_.erase(oldest);
  }
  fits_[{space, *as_of_day}] = fit;
  return fit;
}

HttpReply ModelHandler::Handle(const ModelRequest& request) const {
  std::optional<std::string_view> token = BearerToken(request.authorization);
  if (!token || token->empty()) {
    return ErrorReply(401, "unauthorized", "send a read or admin key as Authorization: Bearer KEY");
  }
  const KeyScope scope = keys_.Identify(*token).scope;
  if (scope == KeyScope::kUnknown) return ErrorReply(401, "unauthorized", "unknown key");
  if (scope != KeyScope::kAdmin && scope != KeyScope::kRead) {
    return ErrorReply(403, "forbidden", "a write key cannot read models; use a read or admin key");
  }
  if (request.path != "purchase") {
    return ErrorReply(404, "not_found", absl::StrCat("no model \"", std::string(request.path), "\"; there is purchase"));
  }
  std::string space(QueryParam(request.query, "space"));
  if (space.empty()) space = "default";
  if (std::find(spaces_.begin(), spaces_.end(), space) == spaces_.end()) {
    return ErrorReply(404, "not_found", absl::StrCat("no space \"", space, "\""), "space");
  }
  absl::StatusOr<std::optional<int32_t>> as_of = AsOfDay(space, request.query);
  if (!as_of.ok()) return ErrorReply(400, "invalid_value", std::string(as_of.status().message()), "as_of");
  absl::StatusOr<std::shared_ptr<const Fit>> fit = FitOf(space, *as_of);
  if (!fit.ok()) return FitError(fit.status());
  return UncachedJsonReply((*fit)->json);
}

HttpReply ModelHandler::Predictions(const std::string& space, const profile_store::Profile& profile,
                                    std::string_view query) const {
  absl::StatusOr<std::optional<int32_t>> as_of = AsOfDay(space, query);
  if (!as_of.ok()) return ErrorReply(400, "invalid_value", std::string(as_of.status().message()), "as_of");
  int64_t horizon_days = kDefaultHorizonDays;
  if (const std::optional<std::string_view> text = FindQueryParam(query, "horizon_days")) {
    auto [end, error] = std::from_chars(text->data(), text->data() + text->size(), horizon_days);
    if (error != std::errc() || end != text->data() + text->size() || horizon_days < 1 ||
        horizon_days > kMaxHorizonDays) {
      return ErrorReply(400, "invalid_value", absl::StrCat("horizon_days: expected 1 to ", kMaxHorizonDays, " days"),
                        "horizon_days");
    }
  }
  absl::StatusOr<std::shared_ptr<const Fit>> fit = FitOf(space, *as_of);
  if (!fit.ok()) return FitError(fit.status());
  const PurchaseModelSettings& settings = SettingsOf(space);
  const prediction::PurchaseModel& model = (*fit)->model;
  std::string body;
  JsonWriter json(body);
  json.BeginObject();
  json.Key("profileId").String(profile_store::FormatProfileId(profile.id));
  json.Key("as_of").String(audiences::DayText((*fit)->summary_day));
  json.Key("horizon_days").Int(horizon_days);
  absl::StatusOr<prediction::CalibrationSummary> summary =
      audiences::SummarizePurchaseDays(profile.purchases, (*fit)->summary_day);
  if (!summary.ok()) {
    // Not a customer by then: the models say nothing about people who never bought.
    json.Key("customer").Bool(false);
    for (const char* key : {"p_alive", "expected_purchases", "expected_order_value", "clv"}) json.Key(key).Null();
  } else {
    json.Key("customer").Bool(true);
    json.Key("summary").BeginObject();
    json.Key("repeat_transactions").Int(summary->repeat_transactions);
    json.Key("recency_weeks").Double(summary->recency.count());
    json.Key("age_weeks").Double(summary->age.count());
    json.Key("mean_repeat_value").Double(summary->mean_repeat_value);
    json.EndObject();
    const prediction::ValueOptions options{.horizon = prediction::Weeks(static_cast<double>(horizon_days) / 7.0),
                                           .monthly_discount_rate = settings.monthly_discount_rate};
    absl::StatusOr<prediction::CustomerPrediction> predicted = prediction::PredictCustomer(model, *summary, options);
    if (predicted.ok()) {
      json.Key("p_alive").Double(predicted->p_alive);
      json.Key("expected_purchases").Double(predicted->expected_purchases);
      json.Key("expected_order_value").Double(predicted->expected_order_value);
      json.Key("clv").Double(predicted->clv);
    } else {
      // The spend model may have no mean (q <= 1): the purchase figures still stand.
      absl::StatusOr<double> p_alive = prediction::ProbabilityAlive(model.bg_nbd, *summary);
      absl::StatusOr<double> purchases = prediction::ExpectedPurchases(model.bg_nbd, *summary, options.horizon);
      if (!p_alive.ok() || !purchases.ok()) {
        const absl::Status& failed = !p_alive.ok() ? p_alive.status() : purchases.status();
        return ErrorReply(500, "internal", std::string(failed.message()));
      }
      json.Key("p_alive").Double(*p_alive);
      json.Key("expected_purchases").Double(*purchases);
      json.Key("expected_order_value").Null();
      json.Key("clv").Null();
      json.Key("value_unavailable").String(std::string(predicted.status().message()));
    }
  }
  json.Key("model").Raw((*fit)->json);
  json.EndObject();
  return UncachedJsonReply(std::move(body));
}

}  // namespace tessera::api
