#include "audiences/evaluation.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <utility>

#include "base/json_reading.h"
#include "base/json_writer.h"
#include "simdjson.h"

namespace tessera::audiences {
namespace {

namespace od = simdjson::ondemand;
using base::JsonWriter;
using profile_store::AggregateFigures;
using profile_store::AggregateValue;
using profile_store::EventAggregate;

constexpr double kMicrosecondsPerDay = 86'400'000'000.0;

constexpr bool IsJsonWhitespace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

std::string_view TrimRight(std::string_view text) {
  while (!text.empty() && IsJsonWhitespace(text.back())) text.remove_suffix(1);
  return text;
}

// Reads one stored JSON value of any kind. The value is wrapped in an array, so that a scalar at
// the top (a trait "pro") is read exactly like a member of an object. Keep one per thread: Find
// invalidates every view from the previous call.
class JsonLookup {
 public:
  // The value at `path` (members separated by dots; empty = the whole value) inside `json`.
  simdjson::error_code Find(std::string_view json, std::string_view path, od::value& out) {
    if (json.empty()) return simdjson::NO_SUCH_FIELD;
    buffer_.clear();
    buffer_.reserve(json.size() + 2 + simdjson::SIMDJSON_PADDING);
    buffer_.push_back('[');
    buffer_.append(json);
    buffer_.push_back(']');
    if (auto error = parser_.iterate(buffer_.data(), buffer_.size(), buffer_.capacity()).get(document_)) {
      return error;
    }
    if (auto error = document_.at(0).get(out)) return error;
    while (!path.empty()) {
      const size_t dot = path.find('.');
      const std::string_view member = path.substr(0, dot);
      path = dot == std::string_view::npos ? std::string_view() : path.substr(dot + 1);
      od::object object;
      if (auto error = out.get_object().get(object)) return error;
      if (auto error = object.find_field_unordered(member).get(out)) return error;
    }
    return simdjson::SUCCESS;
  }

 private:
  od::parser parser_;
  od::document document_;
  std::string buffer_;
};

JsonLookup& ThreadLookup() {
  thread_local JsonLookup lookup;
  return lookup;
}

// -?[0-9]+(.[0-9]+)? : a string that holds a decimal number ("12.50"), which counts as a number.
std::optional<double> DecimalString(std::string_view text) {
  std::string_view digits = text;
  if (!digits.empty() && digits.front() == '-') digits.remove_prefix(1);
  const size_t dot = digits.find('.');
  const std::string_view whole = digits.substr(0, dot);
  const std::string_view fraction =
      dot == std::string_view::npos ? std::string_view() : digits.substr(dot + 1);
  const auto all_digits = [](std::string_view part) {
    return !part.empty() &&
           std::all_of(part.begin(), part.end(), [](char c) { return c >= '0' && c <= '9'; });
  };
  if (!all_digits(whole) || (dot != std::string_view::npos && !all_digits(fraction))) return std::nullopt;
  double number = 0;
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), number);
  if (ec != std::errc() || ptr != text.data() + text.size() || !std::isfinite(number)) return std::nullopt;
  return number;
}

AggregateValue ToAggregateValue(od::value value) {
  AggregateValue result;
  od::json_type type;
  if (value.type().get(type) != simdjson::SUCCESS) return result;
  switch (type) {
    case od::json_type::number: {
      const std::string_view token = TrimRight(value.raw_json_token());
      double number = 0;
      if (value.get_double().get(number) == simdjson::SUCCESS && std::isfinite(number))
        result.number = number;
      result.json = std::string(token);
      return result;
    }
    case od::json_type::string: {
      const std::string_view token = TrimRight(value.raw_json_token());
      std::string_view text;
      if (value.get_string().get(text) != simdjson::SUCCESS) return result;
      result.number = DecimalString(text);
      result.json = std::string(token);
      return result;
    }
    case od::json_type::null:
      return result;  // null is no value.
    case od::json_type::boolean:
    case od::json_type::object:
    case od::json_type::array: {
      std::string_view raw;
      if (base::RawJsonOf(value, raw) == simdjson::SUCCESS) result.json = std::string(raw);
      return result;
    }
  }
  return result;
}

// A JSON value as conditions compare it. Null counts as absent.
struct JsonValue {
  enum class Type { kAbsent, kBool, kNumber, kString, kArray, kObject };
  Type type = Type::kAbsent;
  bool boolean = false;
  double number = 0;
  std::string text;
  std::vector<JsonValue> elements;  // kArray: its elements (containers inside it only by type).
};

JsonValue ToJsonValue(od::value value, bool with_elements) {
  JsonValue result;
  od::json_type type;
  if (value.type().get(type) != simdjson::SUCCESS) return result;
  switch (type) {
    case od::json_type::number:
      if (value.get_double().get(result.number) == simdjson::SUCCESS && std::isfinite(result.number)) {
        result.type = JsonValue::Type::kNumber;
      }
      break;
    case od::json_type::string: {
      std::string_view text;
      if (value.get_string().get(text) == simdjson::SUCCESS) {
        result.type = JsonValue::Type::kString;
        result.text = std::string(text);
      }
      break;
    }
    case od::json_type::boolean:
      if (value.get_bool().get(result.boolean) == simdjson::SUCCESS) result.type = JsonValue::Type::kBool;
      break;
    case od::json_type::null:
      break;
    case od::json_type::object:
      result.type = JsonValue::Type::kObject;
      break;
    case od::json_type::array: {
      result.type = JsonValue::Type::kArray;
      if (!with_elements) break;
      od::array array;
      if (value.get_array().get(array) != simdjson::SUCCESS) return JsonValue();
      for (auto element : array) {
        od::value item;
        if (element.get(item) != simdjson::SUCCESS) return JsonValue();
        result.elements.push_back(ToJsonValue(item, /*with_elements=*/false));
      }
      break;
    }
  }
  return result;
}

JsonValue LoadJson(std::string_view json, std::string_view path, bool with_elements) {
  od::value value;
  if (ThreadLookup().Find(json, path, value) != simdjson::SUCCESS) return JsonValue();
  return ToJsonValue(value, with_elements);
}

bool Equal(const JsonValue& a, const JsonValue& b) {
  if (a.type != b.type) return false;
  switch (a.type) {
    case JsonValue::Type::kBool:
      return a.boolean == b.boolean;
    case JsonValue::Type::kNumber:
      return a.number == b.number;
    case JsonValue::Type::kString:
      return a.text == b.text;
    default:
      return false;  // Containers are never equal to an operand (operands are scalars).
  }
}

// -1, 0, 1 for two numbers or two strings; nullopt when they are not ordered.
std::optional<int> Order(const JsonValue& a, const JsonValue& b) {
  if (a.type != b.type) return std::nullopt;
  if (a.type == JsonValue::Type::kNumber) return a.number < b.number ? -1 : (a.number > b.number ? 1 : 0);
  if (a.type == JsonValue::Type::kString) {
    const int c = a.text.compare(b.text);
    return c < 0 ? -1 : (c > 0 ? 1 : 0);
  }
  return std::nullopt;
}

// Whether `target op operand` holds, with SQL-like treatment of absent values.
bool Holds(Operator op, const JsonValue& target, std::string_view operand_json) {
  const bool present = target.type != JsonValue::Type::kAbsent;
  if (op == Operator::kExists) return present;
  if (op == Operator::kMissing) return !present;
  if (!present) return false;
  const JsonValue operand = LoadJson(operand_json, {}, /*with_elements=*/op == Operator::kIn);
  switch (op) {
    case Operator::kEq:
      return Equal(target, operand);
    case Operator::kNe:
      return operand.type != JsonValue::Type::kAbsent && !Equal(target, operand);
    case Operator::kGt: {
      const auto order = Order(target, operand);
      return order && *order > 0;
    }
    case Operator::kGte: {
      const auto order = Order(target, operand);
      return order && *order >= 0;
    }
    case Operator::kLt: {
      const auto order = Order(target, operand);
      return order && *order < 0;
    }
    case Operator::kLte: {
      const auto order = Order(target, operand);
      return order && *order <= 0;
    }
    case Operator::kIn:
      return std::any_of(operand.elements.begin(), operand.elements.end(),
                         [&](const JsonValue& element) { return Equal(target, element); });
    case Operator::kContains:
      if (target.type == JsonValue::Type::kString && operand.type == JsonValue::Type::kString) {
        return target.text.find(operand.text) != std::string::npos;
      }
      if (target.type == JsonValue::Type::kArray) {
        return std::any_of(target.elements.begin(), target.elements.end(),
                           [&](const JsonValue& element) { return Equal(element, operand); });
      }
      return false;
    case Operator::kStartsWith:
      return target.type == JsonValue::Type::kString && operand.type == JsonValue::Type::kString &&
             target.text.starts_with(operand.text);
    case Operator::kExists:
    case Operator::kMissing:
      break;
  }
  return false;
}

const EventAggregate* FindAggregate(const Profile& profile, const AggregateSpec& spec) {
  const auto it = spec.key.empty() ? profile.aggregates.find(spec.Key()) : profile.aggregates.find(spec.key);
  return it == profile.aggregates.end() ? nullptr : &it->second;
}

// The figures of the aggregate within `window` at `now` (lifetime without a window). A missing
// aggregate reads as no events.
AggregateFigures FiguresOf(const EventAggregate* aggregate, const Window& window, Timestamp now) {
  if (aggregate == nullptr) return AggregateFigures();
  if (window.lifetime()) return aggregate->lifetime();
  return aggregate->Since(window.Start(now));
}

std::optional<std::string> NumberJson(double value) {
  if (!std::isfinite(value)) return std::nullopt;
  std::string out;
  JsonWriter(out).Double(value);
  return out;
}

std::optional<std::string> UintJson(uint64_t value) {
  std::string out;
  JsonWriter(out).Uint(value);
  return out;
}

double DaysBetween(Timestamp from, Timestamp to) {
  return static_cast<double>((to - from).count()) / kMicrosecondsPerDay;
}

// The local calendar day (days since 1970-01-01 local) containing `instant`.
int ScoreHigherIsBetter(const std::vector<double>& cut_points, double value) {
  return 1 + static_cast<int>(std::count_if(cut_points.begin(), cut_points.end(),
                                            [&](double cut) { return cut < value; }));
}

int ScoreLowerIsBetter(const std::vector<double>& cut_points, double value) {
  return 1 + static_cast<int>(std::count_if(cut_points.begin(), cut_points.end(),
                                            [&](double cut) { return cut > value; }));
}

bool Evaluate(const Condition& node, const DefinitionSet& definitions, const Profile& profile, Timestamp now,
              const SpaceFigures& space) {
  switch (node.kind) {
    case Condition::Kind::kAll:
      return std::all_of(node.children.begin(), node.children.end(), [&](const ConditionPtr& child) {
        return child && Evaluate(*child, definitions, profile, now, space);
      });
    case Condition::Kind::kAny:
      return std::any_of(node.children.begin(), node.children.end(), [&](const ConditionPtr& child) {
        return child && Evaluate(*child, definitions, profile, now, space);
      });
    case Condition::Kind::kNot:
      return node.children.empty() || !node.children.front() ||
             !Evaluate(*node.children.front(), definitions, profile, now, space);
    case Condition::Kind::kTrait: {
      const bool with_elements = node.op == Operator::kContains;
      // The longest trait name that the path starts with: "address.city" is the trait
      // "address.city" if there is one, else member "city" of trait "address".
      std::string_view name = node.path;
      JsonValue value;
      while (!name.empty()) {
        const auto it = profile.traits.find(std::string(name));
        if (it != profile.traits.end()) {
          const std::string_view rest =
              name.size() < node.path.size() ? std::string_view(node.path).substr(name.size() + 1) : "";
          value = LoadJson(it->second.json, rest, with_elements);
          break;
        }
        const size_t dot = name.rfind('.');
        if (dot == std::string_view::npos) break;
        name = name.substr(0, dot);
      }
      return Holds(node.op, value, node.value_json);
    }
    case Condition::Kind::kComputed: {
      JsonValue value;
      if (const ComputedTrait* trait = definitions.FindComputed(node.name)) {
        if (const std::optional<std::string> json = ComputedValue(*trait, profile, now, space)) {
          value = LoadJson(*json, node.path, /*with_elements=*/node.op == Operator::kContains);
        }
      }
      return Holds(node.op, value, node.value_json);
    }
    case Condition::Kind::kIdentifier: {
      const bool has = std::any_of(
          profile.identities.begin(), profile.identities.end(),
          [&](const profile_store::IdentityRecord& identity) { return identity.type == node.name; });
      return node.op == Operator::kMissing ? !has : has;
    }
    case Condition::Kind::kChannel: {
      const auto it = profile.channels.find(node.name);
      const bool seen = it != profile.channels.end() &&
                        (node.window.lifetime() || it->second.last_seen >= node.window.Start(now));
      return node.op == Operator::kMissing ? !seen : seen;
    }
    case Condition::Kind::kConsent: {
      // Never given and withdrawn are alike: only a granted consent holds.
      const auto it = profile.consent.find(node.name);
      return it != profile.consent.end() && it->second.granted;
    }
    case Condition::Kind::kEvent: {
      const uint64_t count = FiguresOf(FindAggregate(profile, node.spec), node.window, now).count;
      if (node.op == Operator::kExists) return count > 0;
      if (node.op == Operator::kMissing) return count == 0;
      JsonValue value;
      value.type = JsonValue::Type::kNumber;
      value.number = static_cast<double>(count);
      return Holds(node.op, value, node.value_json);
    }
  }
  return false;
}

}  // namespace

bool Matches(const EventFilter& filter, std::string_view type, std::string_view event,
             std::string_view channel) {
  return (filter.type.empty() || filter.type == type) && (filter.event.empty() || filter.event == event) &&
         (filter.channel.empty() || filter.channel == channel);
}

AggregateValue ValueAt(const EventFacts& event, std::string_view property) {
  const size_t dot = property.find('.');
  const std::string_view root = property.substr(0, dot);
  const std::string_view rest = dot == std::string_view::npos ? std::string_view() : property.substr(dot + 1);
  std::string_view json;
  if (root == "properties") {
    json = event.properties;
  } else if (root == "traits") {
    json = event.traits;
  } else if (root == "context") {
    json = event.context;
  } else {
    return AggregateValue();
  }
  od::value value;
  if (ThreadLookup().Find(json, rest, value) != simdjson::SUCCESS) return AggregateValue();
  return ToAggregateValue(value);
}

void AddEvent(const DefinitionSet& definitions, const EventFacts& event, Profile& profile) {
  // Definitions often share a property ("properties.total" for sum and average): read it once.
  std::vector<std::pair<std::string_view, AggregateValue>> values;
  static const AggregateValue kNoValue;
  for (size_t i = 0; i < definitions.specs.size(); ++i) {
    const AggregateSpec& spec = definitions.specs[i];
    if (!Matches(spec.filter, event.type, event.event, event.channel)) continue;
    const AggregateValue* value = &kNoValue;
    if (!spec.property.empty()) {
      const auto it = std::find_if(values.begin(), values.end(),
                                   [&](const auto& entry) { return entry.first == spec.property; });
      if (it != values.end()) {
        value = &it->second;
      } else {
        values.emplace_back(spec.property, ValueAt(event, spec.property));
        value = &values.back().second;
      }
    }
    const std::string key = i < definitions.spec_keys.size() ? definitions.spec_keys[i] : spec.Key();
    auto [aggregate, inserted] = profile.aggregates.try_emplace(key, spec.retention);
    aggregate->second.Add(event.time, event.sequence, *value, spec.keep_json);
  }
}

bool HasCurrentAggregates(const DefinitionSet& definitions, const Profile& profile) {
  if (profile.aggregates.size() != definitions.spec_keys.size()) return false;
  return std::all_of(definitions.spec_keys.begin(), definitions.spec_keys.end(),
                     [&](const std::string& key) { return profile.aggregates.contains(key); });
}

std::optional<RfmInputs> RfmInputsOf(const ComputedTrait& trait, const Profile& profile, Timestamp now) {
  const AggregateFigures figures = FiguresOf(FindAggregate(profile, trait.spec), trait.window, now);
  if (figures.count == 0 || !figures.last_time) return std::nullopt;
  RfmInputs inputs;
  inputs.recency_days = std::max(0.0, DaysBetween(*figures.last_time, now));
  inputs.frequency = static_cast<double>(figures.count);
  inputs.monetary = figures.sum;
  return inputs;
}

std::vector<double> QuintileCutPoints(std::vector<double>& values) {
  if (values.empty()) return {};
  std::sort(values.begin(), values.end());
  std::vector<double> cut_points;
  const size_t n = values.size();
  for (size_t percent : {20, 40, 60, 80}) {
    // Nearest rank: the smallest value with at least `percent`% of the values at or below it.
    const size_t rank = std::max<size_t>(1, (percent * n + 99) / 100);
    cut_points.push_back(values[rank - 1]);
  }
  return cut_points;
}

// The service computed traits, from the profile's service history (profile_store/service_history.h).
std::optional<std::string> ServiceValue(const ComputedTrait& trait, const profile_store::ServiceHistory& service,
                                        Timestamp now) {
  const Timestamp since = trait.window.lifetime() ? Timestamp::min() : trait.window.Start(now);
  const profile_store::ServiceSummary summary = service.Summarize(since, since);
  switch (trait.kind) {
    case ComputedKind::kOpenTickets:
      return UintJson(summary.open_tickets);
    case ComputedKind::kServiceContacts:
      return UintJson(summary.contacts);
    case ComputedKind::kCsatAverage:
      if (!summary.satisfaction) return std::nullopt;
      return NumberJson(std::round(*summary.satisfaction * 1000) / 1000);
    case ComputedKind::kLastContactAt: {
      if (summary.last_contact == nullptr) return std::nullopt;
      std::string out;
      JsonWriter(out).String(base::FormatIso8601(summary.last_contact->time));
      return out;
    }
    default:
      return std::nullopt;
  }
}

std::optional<std::string> ComputedValue(const ComputedTrait& trait, const Profile& profile, Timestamp now,
                                         const SpaceFigures& space) {
  switch (trait.kind) {
    case ComputedKind::kOpenTickets:
    case ComputedKind::kLastContactAt:
    case ComputedKind::kCsatAverage:
    case ComputedKind::kServiceContacts:
      return ServiceValue(trait, profile.service, now);
    case ComputedKind::kPAlive:
    case ComputedKind::kExpectedPurchases:
    case ComputedKind::kPredictedClv: {
      const PurchaseFigure figure = trait.kind == ComputedKind::kPAlive             ? PurchaseFigure::kPAlive
                                    : trait.kind == ComputedKind::kExpectedPurchases ? PurchaseFigure::kExpectedPurchases
                                                                                     : PurchaseFigure::kClv;
      const std::optional<double> value =
          PurchaseFigureOf(figure, trait.horizon_days, space.purchase_model.get(), profile.purchases, now);
      if (!value) return std::nullopt;
      return NumberJson(*value);
    }
    case ComputedKind::kLastChannel: {
      const std::string* best = nullptr;
      Timestamp best_time{};
      for (const auto& [channel, record] : profile.channels) {
        // Map order is name order, so on a tie the first name stays.
        if (best == nullptr || record.last_seen > best_time) {
          best = &channel;
          best_time = record.last_seen;
        }
      }
      if (best == nullptr) return std::nullopt;
      std::string out;
      JsonWriter(out).String(*best);
      return out;
    }
    case ComputedKind::kRfm: {
      const auto cut_points = space.rfm.find(trait.name);
      if (cut_points == space.rfm.end() || cut_points->second.recency_days.empty() ||
          cut_points->second.frequency.empty() || cut_points->second.monetary.empty()) {
        return std::nullopt;
      }
      const std::optional<RfmInputs> inputs = RfmInputsOf(trait, profile, now);
      if (!inputs) return std::nullopt;
      const int recency = ScoreLowerIsBetter(cut_points->second.recency_days, inputs->recency_days);
      const int frequency = ScoreHigherIsBetter(cut_points->second.frequency, inputs->frequency);
      const int monetary = ScoreHigherIsBetter(cut_points->second.monetary, inputs->monetary);
      std::string score;
      score.push_back(static_cast<char>('0' + recency));
      score.push_back(static_cast<char>('0' + frequency));
      score.push_back(static_cast<char>('0' + monetary));
      std::string out;
      JsonWriter writer(out);
      writer.BeginObject();
      writer.Key("recency").Int(recency);
      writer.Key("frequency").Int(frequency);
      writer.Key("monetary").Int(monetary);
      writer.Key("score").String(score);
      writer.EndObject();
      return out;
    }
    default:
      break;
  }

  const EventAggregate* aggregate = FindAggregate(profile, trait.spec);
  switch (trait.kind) {
    case ComputedKind::kCount:
      return UintJson(FiguresOf(aggregate, trait.window, now).count);
    case ComputedKind::kSum: {
      const AggregateFigures figures = FiguresOf(aggregate, trait.window, now);
      if (figures.numeric_count == 0) return std::nullopt;
      return NumberJson(figures.sum);
    }
    case ComputedKind::kAverage: {
      const AggregateFigures figures = FiguresOf(aggregate, trait.window, now);
      if (figures.numeric_count == 0) return std::nullopt;
      return NumberJson(figures.sum / static_cast<double>(figures.numeric_count));
    }
    case ComputedKind::kMin: {
      const AggregateFigures figures = FiguresOf(aggregate, trait.window, now);
      if (figures.numeric_count == 0 || !figures.min) return std::nullopt;
      return NumberJson(*figures.min);
    }
    case ComputedKind::kMax: {
      const AggregateFigures figures = FiguresOf(aggregate, trait.window, now);
      if (figures.numeric_count == 0 || !figures.max) return std::nullopt;
      return NumberJson(*figures.max);
    }
    case ComputedKind::kFirst: {
      AggregateFigures figures = FiguresOf(aggregate, trait.window, now);
      if (figures.first_json.empty()) return std::nullopt;
      return std::move(figures.first_json);
    }
    case ComputedKind::kLast: {
      AggregateFigures figures = FiguresOf(aggregate, trait.window, now);
      if (figures.last_json.empty()) return std::nullopt;
      return std::move(figures.last_json);
    }
    case ComputedKind::kDaysSince: {
      if (aggregate == nullptr || !aggregate->lifetime().last_time) return std::nullopt;
      const int64_t days =
          int64_t{LocalDay(trait.time_zone, now)} - LocalDay(trait.time_zone, *aggregate->lifetime().last_time);
      std::string out;
      JsonWriter(out).Int(std::max<int64_t>(0, days));
      return out;
    }
    case ComputedKind::kLifetimeValue: {
      if (aggregate == nullptr || aggregate->lifetime().numeric_count == 0) return std::nullopt;
      return NumberJson(aggregate->lifetime().sum);
    }
    case ComputedKind::kChurnRisk: {
      if (aggregate == nullptr) return std::nullopt;
      const AggregateFigures& figures = aggregate->lifetime();
      if (figures.count == 0 || !figures.first_time || !figures.last_time) return std::nullopt;
      double interval_days = trait.prior_interval_days;
      if (figures.count >= 2) {
        const double observed =
            DaysBetween(*figures.first_time, *figures.last_time) / static_cast<double>(figures.count - 1);
        // Events all at one instant say nothing about the interval.
        if (observed > 0) interval_days = observed;
      }
      if (!(interval_days > 0)) return std::nullopt;
      const double days_since_last = std::max(0.0, DaysBetween(*figures.last_time, now));
      const double risk = 1 - std::exp(-days_since_last / interval_days);
      return NumberJson(std::round(risk * 1000) / 1000);
    }
    case ComputedKind::kLastChannel:
    case ComputedKind::kRfm:
    case ComputedKind::kPAlive:
    case ComputedKind::kExpectedPurchases:
    case ComputedKind::kPredictedClv:
    case ComputedKind::kOpenTickets:
    case ComputedKind::kLastContactAt:
    case ComputedKind::kCsatAverage:
    case ComputedKind::kServiceContacts:
      break;
  }
  return std::nullopt;
}

bool IsMember(const Audience& audience, const DefinitionSet& definitions, const Profile& profile,
              Timestamp now, const SpaceFigures& space) {
  return audience.condition && Evaluate(*audience.condition, definitions, profile, now, space);
}

}  // namespace tessera::audiences
