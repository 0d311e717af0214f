#include "audiences/purchase_traits.h"

#include <charconv>
#include <chrono>
#include <cstdio>
#include <vector>

#include "absl/strings/str_cat.h"
#include "base/json_writer.h"
#include "simdjson.h"

namespace tessera::audiences {
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

int32_t LocalDay(const std::optional<base::TimeZone>& zone, base::Timestamp time) {
  const base::Timestamp local = zone ? zone->ToLocal(time) : time;
  return static_cast<int32_t>(std::chrono::floor<std::chrono::days>(local).time_since_epoch().count());
}

std::string DayText(int32_t day) {
  const std::chrono::year_month_day date{std::chrono::sys_days(std::chrono::days(day))};
  char text[16];
  std::snprintf(text, sizeof(text), "%04d-%02u-%02u", static_cast<int>(date.year()),
                static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()));
  return text;
}

std::optional<int32_t> ParseDayText(std::string_view text) {
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') return std::nullopt;
  int year = 0;
  unsigned month = 0;
  unsigned day = 0;
  auto number = [&](size_t at, size_t length, auto& out) {
    auto [end, error] = std::from_chars(text.data() + at, text.data() + at + length, out);
    return error == std::errc() && end == text.data() + at + length;
  };
  if (!number(0, 4, year) || !number(5, 2, month) || !number(8, 2, day)) return std::nullopt;
  const std::chrono::year_month_day date{std::chrono::year(year), std::chrono::month(month), std::chrono::day(day)};
  if (!date.ok()) return std::nullopt;
  return static_cast<int32_t>(std::chrono::sys_days(date).time_since_epoch().count());
}

absl::StatusOr<prediction::CalibrationSummary> SummarizePurchaseDays(const profile_store::PurchaseHistory& history,
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

std::optional<double> PurchaseFigureOf(PurchaseFigure figure, int64_t horizon_days, const PurchaseModelState* state,
                                       const profile_store::PurchaseHistory& history, base::Timestamp now) {
  if (state == nullptr || history.days.empty()) return std::nullopt;
  absl::StatusOr<prediction::CalibrationSummary> summary =
      SummarizePurchaseDays(history, LocalDay(state->time_zone, now));
  if (!summary.ok()) return std::nullopt;
  const prediction::Weeks horizon(static_cast<double>(horizon_days) / 7.0);
  absl::StatusOr<double> value = absl::InternalError("unknown figure");
  switch (figure) {
    case PurchaseFigure::kPAlive:
      value = prediction::ProbabilityAlive(state->model.bg_nbd, *summary);
      break;
    case PurchaseFigure::kExpectedPurchases:
      value = prediction::ExpectedPurchases(state->model.bg_nbd, *summary, horizon);
      break;
    case PurchaseFigure::kClv: {
      absl::StatusOr<prediction::CustomerPrediction> predicted = prediction::PredictCustomer(
          state->model, *summary,
          prediction::ValueOptions{.horizon = horizon, .monthly_discount_rate = state->monthly_discount_rate});
      if (predicted.ok()) value = predicted->clv;
      break;
    }
  }
  if (!value.ok()) return std::nullopt;
  return *value;
}

std::string PurchaseModelKey(std::string_view space) {
  return absl::StrCat("prediction/purchase_model/", std::string(space));
}

std::string EncodePurchaseModel(const PurchaseModelState& state) {
  std::string out;
  base::JsonWriter json(out);
  json.BeginObject();
  json.Key("r").Double(state.model.bg_nbd.r);
  json.Key("alpha").Double(state.model.bg_nbd.alpha);
  json.Key("a").Double(state.model.bg_nbd.a);
  json.Key("b").Double(state.model.bg_nbd.b);
  json.Key("p").Double(state.model.gamma_gamma.p);
  json.Key("q").Double(state.model.gamma_gamma.q);
  json.Key("gamma").Double(state.model.gamma_gamma.gamma);
  json.Key("time_zone").String(state.time_zone ? state.time_zone->name() : "UTC");
  json.Key("monthly_discount_rate").Double(state.monthly_discount_rate);
  json.Key("version").String(state.version);
  json.Key("fitted_at").Int(state.fitted_at.time_since_epoch().count());
  json.Key("as_of_day").Int(state.as_of_day);
  json.Key("orders").Uint(state.orders);
  json.Key("fit").Raw(state.fit_json.empty() ? "null" : state.fit_json);
  json.EndObject();
  return out;
}

std::optional<PurchaseModelState> DecodePurchaseModel(std::string_view text) {
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (parser.parse(text.data(), text.size()).get(root) != simdjson::SUCCESS) return std::nullopt;
  PurchaseModelState state;
  std::string_view zone;
  std::string_view version;
  int64_t fitted_at = 0;
  int64_t as_of_day = 0;
  simdjson::dom::element fit;
  if (root["r"].get(state.model.bg_nbd.r) || root["alpha"].get(state.model.bg_nbd.alpha) ||
      root["a"].get(state.model.bg_nbd.a) || root["b"].get(state.model.bg_nbd.b) ||
      root["p"].get(state.model.gamma_gamma.p) || root["q"].get(state.model.gamma_gamma.q) ||
      root["gamma"].get(state.model.gamma_gamma.gamma) || root["time_zone"].get(zone) ||
      root["monthly_discount_rate"].get(state.monthly_discount_rate) || root["version"].get(version) ||
      root["fitted_at"].get(fitted_at) || root["as_of_day"].get(as_of_day) || root["orders"].get(state.orders) ||
      root["fit"].get(fit)) {
    return std::nullopt;
  }
  state.time_zone = base::TimeZone::Parse(zone);
  if (!state.time_zone) return std::nullopt;
  state.version = std::string(version);
  state.fitted_at = base::Timestamp(std::chrono::microseconds(fitted_at));
  state.as_of_day = static_cast<int32_t>(as_of_day);
  if (!fit.is_null()) state.fit_json = simdjson::minify(fit);
  return state;
}

}  // namespace tessera::audiences
