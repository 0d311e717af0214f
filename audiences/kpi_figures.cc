#include "audiences/kpi_figures.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>
#include <vector>

#include "absl/strings/str_cat.h"
#include "base/json_writer.h"
#include "prediction/bg_nbd.h"
#include "prediction/purchase_model.h"

namespace tessera::audiences {
namespace {

using base::JsonWriter;

constexpr int32_t kDefaultRangeDays = 90;
constexpr int64_t kClvHorizonDays = 365;
constexpr size_t kMaxTrackingWeeks = 1000;
constexpr int kBins = 10;

int32_t FloorMod(int32_t value, int32_t modulus) { return ((value % modulus) + modulus) % modulus; }

int32_t PeriodStart(int32_t day, KpiGranularity granularity) {
  switch (granularity) {
    case KpiGranularity::kDay:
      return day;
    case KpiGranularity::kWeek:
      return day - FloorMod(day + 3, 7);  // 1970-01-01 was a Thursday; weeks start on Monday.
    case KpiGranularity::kMonth: {
      const std::chrono::year_month_day date{std::chrono::sys_days(std::chrono::days(day))};
      const std::chrono::year_month_day first{date.year(), date.month(), std::chrono::day(1)};
      return static_cast<int32_t>(std::chrono::sys_days(first).time_since_epoch().count());
    }
  }
  return day;
}

int32_t NextPeriodStart(int32_t start, KpiGranularity granularity) {
  switch (granularity) {
    case KpiGranularity::kDay:
      return start + 1;
    case KpiGranularity::kWeek:
      return start + 7;
    case KpiGranularity::kMonth: {
      const std::chrono::year_month_day date{std::chrono::sys_days(std::chrono::days(start))};
      const std::chrono::year_month_day next = date + std::chrono::months(1);
      return static_cast<int32_t>(std::chrono::sys_days(next).time_since_epoch().count());
    }
  }
  return start + 1;
}

struct Period {
  int32_t start = 0;
  int32_t end = 0;  // Inclusive.
  uint64_t events = 0;
  std::vector<uint64_t> events_by_channel;
  uint64_t active = 0;
  uint64_t fresh = 0;  // New people.
  uint64_t merges = 0;
  uint64_t orders = 0;
  double revenue = 0;
  uint64_t customers = 0;
  uint64_t repeat_customers = 0;
};

class Periods {
 public:
  Periods(std::vector<Period> periods) : periods_(std::move(periods)) {}
  // The index of the period holding `day`, or -1 outside the range.
  int Of(int32_t day) const {
    if (periods_.empty() || day < periods_.front().start || day > periods_.back().end) return -1;
    auto it = std::upper_bound(periods_.begin(), periods_.end(), day,
                               [](int32_t value, const Period& period) { return value < period.start; });
    return static_cast<int>(it - periods_.begin()) - 1;
  }
  std::vector<Period>& all() { return periods_; }

 private:
  std::vector<Period> periods_;
};

// Scores 1..5 of `value` against the quintile cut points of `sorted` (higher is better unless
// `lower_is_better`).
int Quintile(const std::vector<double>& sorted, double value, bool lower_is_better) {
  int above = 0;
  for (int k = 1; k <= 4; ++k) {
    const double cut = sorted[std::min(sorted.size() - 1, sorted.size() * k / 5)];
    if (lower_is_better ? value >= cut : value > cut) ++above;
  }
  return lower_is_better ? 5 - above : 1 + above;
}

void WriteBins(JsonWriter& json, const std::vector<double>& values, double low, double high) {
  std::vector<uint64_t> counts(kBins, 0);
  const double width = (high - low) / kBins;
  for (double value : values) {
    int bin = width > 0 ? static_cast<int>(std::floor((value - low) / width)) : 0;
    counts[std::clamp(bin, 0, kBins - 1)] += 1;
  }
  json.BeginArray();
  for (int bin = 0; bin < kBins; ++bin) {
    json.BeginObject();
    json.Key("from").Double(low + width * bin);
    json.Key("to").Double(low + width * (bin + 1));
    json.Key("profiles").Uint(counts[bin]);
    json.EndObject();
  }
  json.EndArray();
}

void WriteRfm(JsonWriter& json, const KpiSnapshot& snapshot, int32_t as_of) {
  struct Scored {
    double recency, frequency, monetary;
  };
  std::vector<Scored> customers;
  for (const KpiPerson& person : snapshot.people) {
    uint64_t days = 0, orders = 0;
    double value = 0;
    int32_t last = 0;
    for (const profile_store::PurchaseDay& day : person.purchases.days) {
      if (day.day > as_of) break;
      ++days;
      orders += day.orders;
      value += day.value;
      last = day.day;
    }
    if (days == 0) continue;
    customers.push_back({static_cast<double>(as_of - last), static_cast<double>(days),
                         orders > 0 ? value / static_cast<double>(orders) : 0.0});
  }
  std::vector<double> recency, frequency, monetary;
  for (const Scored& one : customers) {
    recency.push_back(one.recency);
    frequency.push_back(one.frequency);
    monetary.push_back(one.monetary);
  }
  std::sort(recency.begin(), recency.end());
  std::sort(frequency.begin(), frequency.end());
  std::sort(monetary.begin(), monetary.end());
  uint64_t cells[5][5] = {};
  double cell_value[5][5] = {};
  for (const Scored& one : customers) {
    const int r = Quintile(recency, one.recency, true) - 1;
    const int f = Quintile(frequency, one.frequency, false) - 1;
    ++cells[r][f];
    cell_value[r][f] += one.monetary;
  }
  json.Key("rfm").BeginObject();
  json.Key("as_of").String(DayText(as_of));
  json.Key("profiles").Uint(customers.size());
  json.Key("cells").BeginArray();
  for (int r = 0; r < 5; ++r) {
    for (int f = 0; f < 5; ++f) {
      json.BeginObject();
      json.Key("recency").Int(r + 1);
      json.Key("frequency").Int(f + 1);
      json.Key("profiles").Uint(cells[r][f]);
      if (cells[r][f] > 0) {
        json.Key("monetary").Double(cell_value[r][f] / static_cast<double>(cells[r][f]));
      } else {
        json.Key("monetary").Null();
      }
      json.EndObject();
    }
  }
  json.EndArray();
  json.EndObject();
}

void WritePredictions(JsonWriter& json, const KpiSnapshot& snapshot, const PurchaseModelState* state, int32_t as_of) {
  if (state == nullptr) {
    json.Key("predictions").Null();
    return;
  }
  std::vector<double> alive, clv;
  const prediction::ValueOptions value_options{.horizon = prediction::Weeks(kClvHorizonDays / 7.0),
                                               .monthly_discount_rate = state->monthly_discount_rate};
  for (const KpiPerson& person : snapshot.people) {
    if (person.purchases.days.empty()) continue;
    absl::StatusOr<prediction::CalibrationSummary> summary = SummarizePurchaseDays(person.purchases, as_of);
    if (!summary.ok()) continue;
    // One prediction gives both figures; without a spend model (no CLV) P(alive) is asked alone.
    absl::StatusOr<prediction::CustomerPrediction> predicted = prediction::PredictCustomer(state->model, *summary, value_options);
    if (predicted.ok()) {
      alive.push_back(predicted->p_alive);
      clv.push_back(predicted->clv);
    } else if (absl::StatusOr<double> p = prediction::ProbabilityAlive(state->model.bg_nbd, *summary); p.ok()) {
      alive.push_back(*p);
    }
  }
  std::sort(clv.begin(), clv.end());
  double clv_high = clv.empty() ? 1.0 : clv[std::min(clv.size() - 1, clv.size() * 99 / 100)];
  if (!(clv_high > 0)) clv_high = clv.empty() || !(clv.back() > 0) ? 1.0 : clv.back();
  json.Key("predictions").BeginObject();
  json.Key("model").BeginObject();
  json.Key("version").String(state->version);
  json.Key("as_of").String(DayText(state->as_of_day));
  json.EndObject();
  json.Key("as_of").String(DayText(as_of));
  json.Key("p_alive");
  WriteBins(json, alive, 0.0, 1.0);
  json.Key("clv").BeginObject();
  json.Key("horizon_days").Int(kClvHorizonDays);
  json.Key("monthly_discount_rate").Double(state->monthly_discount_rate);
  json.Key("bins");
  WriteBins(json, clv, 0.0, clv_high);  // The top 1% falls in the last bin.
  json.EndObject();
  json.EndObject();
}

void WriteTracking(JsonWriter& json, const KpiSnapshot& snapshot, const PurchaseModelState* state, int32_t end) {
  if (state == nullptr) {
    json.Key("tracking").Null();
    return;
  }
  // The customers the model was fitted on: those who had bought by its calibration end.
  const int32_t calibration_end = state->as_of_day;
  std::map<int32_t, uint64_t> cohorts;   // First purchase day -> customers.
  std::map<int32_t, uint64_t> repeats;   // Day -> repeat transactions (purchase days after the first).
  for (const KpiPerson& person : snapshot.people) {
    const auto& days = person.purchases.days;
    if (days.empty() || days.front().day > calibration_end) continue;
    ++cohorts[days.front().day];
    for (size_t i = 1; i < days.size(); ++i) ++repeats[days[i].day];
  }
  if (cohorts.empty()) {
    json.Key("tracking").Null();
    return;
  }
  const int32_t start = cohorts.begin()->first;
  const size_t weeks = std::min<size_t>(kMaxTrackingWeeks, static_cast<size_t>((end - start) / 7 + 1));
  // Computed before anything is written: a model whose expectation cannot be evaluated (a
  // degenerate fit whose 2F1 overflows) leaves the plot out and says why, not the whole answer.
  struct Week {
    int32_t start;
    uint64_t actual;
    double predicted;
  };
  std::vector<Week> plot;
  uint64_t actual = 0;
  auto next_repeat = repeats.begin();
  for (size_t week = 0; week < weeks; ++week) {
    const int32_t week_start = start + static_cast<int32_t>(7 * week);
    const int32_t week_end = week_start + 6;
    while (next_repeat != repeats.end() && next_repeat->first <= week_end) actual += (next_repeat++)->second;
    double predicted = 0;
    for (const auto& [first_day, customers] : cohorts) {
      if (first_day > week_end) break;
      // Elapsed time as the calibration summaries count it: days since the first purchase.
      absl::StatusOr<double> expected = prediction::ExpectedRepeatPurchases(
          state->model.bg_nbd, prediction::Weeks(static_cast<double>(week_end - first_day) / 7.0));
      if (!expected.ok()) {
        json.Key("tracking").Null();
        json.Key("tracking_error").String(absl::StrCat("the model's expectation cannot be evaluated: ",
                                                       std::string(expected.status().message())));
        return;
      }
      predicted += static_cast<double>(customers) * *expected;
    }
    plot.push_back(Week{week_start, actual, predicted});
  }
  uint64_t fitted_customers = 0;
  for (const auto& [day, count] : cohorts) fitted_customers += count;
  json.Key("tracking").BeginObject();
  json.Key("calibration_end").String(DayText(calibration_end));
  json.Key("customers").Uint(fitted_customers);
  json.Key("weeks").BeginArray();
  for (const Week& week : plot) {
    json.BeginObject();
    json.Key("start").String(DayText(week.start));
    json.Key("actual").Uint(week.actual);
    json.Key("predicted").Double(week.predicted);
    json.EndObject();
  }
  json.EndArray();
  json.EndObject();
}

}  // namespace

std::optional<KpiGranularity> ParseKpiGranularity(std::string_view text) {
  if (text == "day") return KpiGranularity::kDay;
  if (text == "week") return KpiGranularity::kWeek;
  if (text == "month") return KpiGranularity::kMonth;
  return std::nullopt;
}

absl::StatusOr<std::string> KpiJson(const KpiSnapshot& snapshot, const KpiQuery& query, const PurchaseModelState* model,
                                    base::Timestamp now) {
  const int32_t to_requested = query.to_day.value_or(snapshot.last_day.value_or(LocalDay(snapshot.time_zone, now)));
  const int32_t from_requested = query.from_day.value_or(to_requested - (kDefaultRangeDays - 1));
  if (from_requested > to_requested) return absl::InvalidArgumentError("from: the range ends before it starts");
  const int32_t from = PeriodStart(from_requested, query.granularity);
  std::vector<Period> list;
  for (int32_t start = from; start <= to_requested; start = NextPeriodStart(start, query.granularity)) {
    if (list.size() == kMaxKpiPeriods) {
      return absl::InvalidArgumentError(
          absl::StrCat("to: the range holds more than ", kMaxKpiPeriods, " periods; choose a longer granularity"));
    }
    list.push_back(Period{.start = start,
                          .end = NextPeriodStart(start, query.granularity) - 1,
                          .events_by_channel = std::vector<uint64_t>(snapshot.channels.size(), 0)});
  }
  Periods periods(std::move(list));
  const int32_t first = periods.all().front().start;
  const int32_t last = periods.all().back().end;

  std::optional<uint16_t> channel;
  bool unknown_channel = false;
  if (query.channel) {
    auto it = std::lower_bound(snapshot.channels.begin(), snapshot.channels.end(), *query.channel);
    if (it != snapshot.channels.end() && *it == *query.channel) {
      channel = static_cast<uint16_t>(it - snapshot.channels.begin());
    } else {
      unknown_channel = true;  // No event on it: every event figure is zero.
    }
  }
  auto counts = [&](uint16_t index) { return !unknown_channel && (!channel || *channel == index); };

  for (auto it = snapshot.events.lower_bound({first, 0}); it != snapshot.events.end() && it->first.first <= last; ++it) {
    const int p = periods.Of(it->first.first);
    if (p < 0) continue;
    Period& period = periods.all()[p];
    period.events_by_channel[it->first.second] += it->second;
    if (counts(it->first.second)) period.events += it->second;
  }
  for (auto it = snapshot.merges.lower_bound(first); it != snapshot.merges.end() && it->first <= last; ++it) {
    if (const int p = periods.Of(it->first); p >= 0) periods.all()[p].merges += it->second;
  }
  uint64_t active_total = 0, customers_total = 0, repeat_total = 0;
  for (const KpiPerson& person : snapshot.people) {
    bool seen = false, active = false;
    int last_period = -1;
    for (const auto& [day, index] : person.days) {
      if (!counts(index)) continue;
      const int p = periods.Of(day);
      if (!seen) {
        seen = true;
        if (p >= 0) ++periods.all()[p].fresh;  // The person's first event (on the channel).
      }
      if (p < 0) continue;
      active = true;
      if (p != last_period) ++periods.all()[p].active;
      last_period = p;
    }
    if (active) ++active_total;
    const auto& days = person.purchases.days;
    bool customer = false, repeat = false;
    int customer_period = -1, repeat_period = -1;
    for (const profile_store::PurchaseDay& day : days) {
      const int p = periods.Of(day.day);
      if (p < 0) continue;
      Period& period = periods.all()[p];
      period.orders += day.orders;
      period.revenue += day.value;
      customer = true;
      if (p != customer_period) ++period.customers;
      customer_period = p;
      if (day.day > days.front().day) {
        repeat = true;
        if (p != repeat_period) ++period.repeat_customers;
        repeat_period = p;
      }
    }
    customers_total += customer;
    repeat_total += repeat;
  }

  std::string out;
  JsonWriter json(out);
  json.BeginObject();
  json.Key("space").String(snapshot.space);
  json.Key("from").String(DayText(first));
  json.Key("to").String(DayText(last));
  json.Key("granularity").String(query.granularity == KpiGranularity::kDay    ? "day"
                                 : query.granularity == KpiGranularity::kWeek ? "week"
                                                                              : "month");
  if (query.channel) {
    json.Key("channel").String(*query.channel);
  } else {
    json.Key("channel").Null();
  }
  json.Key("time_zone").String(snapshot.time_zone ? snapshot.time_zone->name() : "UTC");
  json.Key("computed_at").String(base::FormatIso8601(snapshot.computed_at));
  if (snapshot.first_day) {
    json.Key("first_day").String(DayText(*snapshot.first_day));
    json.Key("last_day").String(DayText(*snapshot.last_day));
  } else {
    json.Key("first_day").Null();
    json.Key("last_day").Null();
  }
  json.Key("channels").BeginArray();
  for (const std::string& name : snapshot.channels) json.String(name);
  json.EndArray();
  uint64_t events = 0, fresh = 0, merges = 0, orders = 0;
  double revenue = 0;
  json.Key("periods").BeginArray();
  for (const Period& period : periods.all()) {
    json.BeginObject();
    json.Key("start").String(DayText(period.start));
    json.Key("end").String(DayText(period.end));
    json.Key("events").Uint(period.events);
    json.Key("events_by_channel").BeginObject();
    for (size_t i = 0; i < snapshot.channels.size(); ++i) json.Key(snapshot.channels[i]).Uint(period.events_by_channel[i]);
    json.EndObject();
    json.Key("active_profiles").Uint(period.active);
    json.Key("new_profiles").Uint(period.fresh);
    json.Key("merges").Uint(period.merges);
    json.Key("orders").Uint(period.orders);
    json.Key("revenue").Double(period.revenue);
    json.Key("customers").Uint(period.customers);
    json.Key("repeat_customers").Uint(period.repeat_customers);
    json.EndObject();
    events += period.events;
    fresh += period.fresh;
    merges += period.merges;
    orders += period.orders;
    revenue += period.revenue;
  }
  json.EndArray();
  json.Key("totals").BeginObject();
  json.Key("events").Uint(events);
  json.Key("active_profiles").Uint(active_total);
  json.Key("new_profiles").Uint(fresh);
  json.Key("merges").Uint(merges);
  json.Key("orders").Uint(orders);
  json.Key("revenue").Double(revenue);
  if (orders > 0) {
    json.Key("average_order_value").Double(revenue / static_cast<double>(orders));
  } else {
    json.Key("average_order_value").Null();
  }
  json.Key("customers").Uint(customers_total);
  json.Key("repeat_customers").Uint(repeat_total);
  if (customers_total > 0) {
    json.Key("repeat_purchase_rate").Double(static_cast<double>(repeat_total) / static_cast<double>(customers_total));
  } else {
    json.Key("repeat_purchase_rate").Null();
  }
  json.EndObject();

  json.Key("audiences").BeginArray();
  for (const KpiAudienceHistory& audience : snapshot.audiences) {
    json.BeginObject();
    json.Key("name").String(audience.name);
    json.Key("size").Int(audience.size);
    json.Key("sizes").BeginArray();
    int64_t size = 0;
    auto change = audience.changes.begin();
    for (const Period& period : periods.all()) {
      while (change != audience.changes.end() && change->first <= period.end) size += (change++)->second;
      json.Int(size);
    }
    json.EndArray();
    json.EndObject();
  }
  json.EndArray();
  WriteRfm(json, snapshot, last);
  WritePredictions(json, snapshot, model, last);
  WriteTracking(json, snapshot, model, last);
  json.EndObject();
  return out;
}

}  // namespace tessera::audiences
