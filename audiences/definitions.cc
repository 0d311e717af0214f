#include "audiences/definitions.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <initializer_list>
#include <limits>
#include <map>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/json_writer.h"
#include "privacy/consent_purpose.h"
#include "simdjson.h"
#include "xxhash.h"

namespace tessera::audiences {
namespace {

namespace dom = simdjson::dom;
using dom::element;
using dom::element_type;
using std::chrono::hours;
using std::chrono::microseconds;
using std::chrono::minutes;

// Ten years: longer than any sensible window, and far from overflowing a Timestamp subtraction.
constexpr int64_t kMaxWindowDays = 3660;
constexpr size_t kMaxNameLength = 64;
constexpr size_t kMaxShownChars = 64;
// Condition trees are evaluated recursively; real audiences are a few levels deep.
constexpr int kMaxConditionDepth = 32;

constexpr std::array<std::string_view, 12> kKindNames = {
    "count",      "sum", "average",        "min",       "max", "first", "last", "last_channel",
    "days_since", "rfm", "lifetime_value", "churn_risk"};
constexpr std::array<ComputedKind, 12> kKinds = {
    ComputedKind::kCount,     ComputedKind::kSum,   ComputedKind::kAverage,       ComputedKind::kMin,
    ComputedKind::kMax,       ComputedKind::kFirst, ComputedKind::kLast,          ComputedKind::kLastChannel,
    ComputedKind::kDaysSince, ComputedKind::kRfm,   ComputedKind::kLifetimeValue, ComputedKind::kChurnRisk};

constexpr std::array<std::string_view, 11> kOperatorNames = {
    "eq", "ne", "gt", "gte", "lt", "lte", "exists", "missing", "in", "contains", "starts_with"};
constexpr std::array<Operator, 11> kOperators = {Operator::kEq,       Operator::kNe,        Operator::kGt,
                                                 Operator::kGte,      Operator::kLt,        Operator::kLte,
                                                 Operator::kExists,   Operator::kMissing,   Operator::kIn,
                                                 Operator::kContains, Operator::kStartsWith};

constexpr std::array<std::string_view, 6> kEventTypes = {"track",  "identify", "page",
                                                         "screen", "group",    "alias"};

// The members that select a condition node's kind; exactly one per node.
constexpr std::array<std::string_view, 9> kConditionKinds = {
    "all", "any", "not", "trait", "computed", "identifier", "channel", "event", "consent"};

// The installed abseil has its own string_view type, which does not convert from std::string_view.
absl::string_view ToAbsl(std::string_view text) { return absl::string_view(text.data(), text.size()); }

template <size_t N>
std::string JoinNames(const std::array<std::string_view, N>& names) {
  return absl::StrJoin(names, ", ", [](std::string* out, std::string_view name) { out->append(name); });
}

// User text in a message: as a JSON string (escaped, so control characters cannot garble a log
// line), shortened so that a pasted blob does not drown the message.
std::string Quote(std::string_view text) {
  std::string quoted;
  base::AppendJsonString(quoted, text.substr(0, kMaxShownChars));
  if (text.size() > kMaxShownChars) quoted += "...";
  return quoted;
}

std::string Describe(element value) {
  switch (value.type()) {
    case element_type::STRING:
      return absl::StrCat("the string ", Quote(value.get_string().value_unsafe()));
    case element_type::INT64:
    case element_type::UINT64:
    case element_type::DOUBLE:
      return absl::StrCat("the number ", simdjson::to_string(value));
    case element_type::BOOL:
      return value.get_bool().value_unsafe() ? "true" : "false";
    case element_type::NULL_VALUE:
      return "null";
    case element_type::ARRAY:
      return "an array";
    case element_type::OBJECT:
      return "an object";
  }
  return "an unknown value";
}

bool IsNumber(element value) {
  const element_type type = value.type();
  return type == element_type::INT64 || type == element_type::UINT64 || type == element_type::DOUBLE;
}

std::string ChildPath(std::string_view parent, std::string_view key) {
  if (parent.empty()) return std::string(key);
  return absl::StrCat(ToAbsl(parent), ".", ToAbsl(key));
}

std::string IndexPath(std::string_view parent, size_t index) {
  return absl::StrCat(ToAbsl(parent), "[", index, "]");
}

absl::Status Invalid(std::string_view path, std::string_view reason) {
  if (path.empty()) return absl::InvalidArgumentError(ToAbsl(reason));
  return absl::InvalidArgumentError(absl::StrCat(ToAbsl(path), ": ", ToAbsl(reason)));
}

absl::Status Expected(std::string_view path, std::string_view what, element got) {
  return Invalid(path, absl::StrCat("expected ", ToAbsl(what), ", got ", Describe(got)));
}

// The members of one JSON object, by key, after checking that every key is one of `known`.
// Unknown and repeated keys are errors: either means the definition does not say what its author
// thinks it says.
class Members {
 public:
  static absl::StatusOr<Members> Read(element value, std::string_view path, std::string_view what,
                                      std::initializer_list<std::string_view> known) {
    dom::object object;
    if (value.get_object().get(object) != simdjson::SUCCESS) return Expected(path, what, value);
    Members members;
    for (dom::key_value_pair member : object) {
      if (std::find(known.begin(), known.end(), member.key) == known.end()) {
        return Invalid(
            ChildPath(path, member.key),
            absl::StrCat(
                "unknown member (expected one of ",
                absl::StrJoin(known, ", ", [](std::string* out, std::string_view key) { out->append(key); }),
                ")"));
      }
      if (!members.values_.emplace(member.key, member.value).second) {
        return Invalid(ChildPath(path, member.key), "duplicate member");
      }
    }
    return members;
  }

  std::optional<element> Get(std::string_view key) const {
    auto it = values_.find(key);
    if (it == values_.end()) return std::nullopt;
    return it->second;
  }
  bool Has(std::string_view key) const { return values_.contains(key); }
  // The keys present, in key order.
  std::vector<std::string_view> Keys() const {
    std::vector<std::string_view> keys;
    for (const auto& [key, value] : values_) keys.push_back(key);
    return keys;
  }

 private:
  std::map<std::string_view, element, std::less<>> values_;  // Keys point into the parser's strings.
};

absl::StatusOr<std::string> ReadString(element value, std::string_view path, bool allow_empty = false) {
  std::string_view text;
  if (value.get_string().get(text) != simdjson::SUCCESS || (!allow_empty && text.empty())) {
    return Expected(path, allow_empty ? "a string" : "a non-empty string", value);
  }
  return std::string(text);
}

bool IsValidName(std::string_view name, bool allow_dash) {
  if (name.empty() || name.size() > kMaxNameLength) return false;
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
                    (allow_dash && c == '-');
    if (!ok) return false;
  }
  return true;
}

// Operators a trait or computed-trait value may be compared with: all of them.
const std::initializer_list<Operator> kValueOperators = {
    Operator::kEq, Operator::kNe,     Operator::kGt, Operator::kGte,      Operator::kLt,        Operator::kLte,
    Operator::kExists, Operator::kMissing, Operator::kIn, Operator::kContains, Operator::kStartsWith};

// A dotted path: non-empty segments separated by single dots.
bool IsDottedPath(std::string_view path) {
  if (path.empty() || path.front() == '.' || path.back() == '.') return false;
  return path.find("..") == std::string_view::npos;
}

// Minified text of a JSON document that simdjson has already accepted, keeping the author's tokens.
std::string Minified(std::string_view json) {
  std::string out(json.size(), '\0');
  size_t length = 0;
  if (simdjson::minify(json.data(), json.size(), out.data(), length) != simdjson::SUCCESS)
    return std::string(json);
  out.resize(length);
  return out;
}

microseconds RetentionOf(const Window& window) {
  if (window.calendar_zone) return hours(24) * (window.calendar_days + 1);
  return window.length;
}

absl::StatusOr<Window> ParseWindow(element value, std::string_view path) {
  Window window;
  if (value.type() == element_type::STRING) {
    const std::string_view text = value.get_string().value_unsafe();
    const std::string error = absl::StrCat(Quote(text), ": expected a number followed by d, h or m");
    if (text.size() < 2) return Invalid(path, error);
    int64_t count = 0;
    const char* end = text.data() + text.size() - 1;
    const auto [ptr, ec] = std::from_chars(text.data(), end, count);
    if (ec != std::errc() || ptr != end || !(text.front() >= '0' && text.front() <= '9'))
      return Invalid(path, error);
    int64_t max = 0;
    std::string_view unit;
    microseconds unit_length{0};
    switch (text.back()) {
      case 'd':
        max = kMaxWindowDays;
        unit = "days";
        unit_length = hours(24);
        break;
      case 'h':
        max = kMaxWindowDays * 24;
        unit = "hours";
        unit_length = hours(1);
        break;
      case 'm':
        max = kMaxWindowDays * 24 * 60;
        unit = "minutes";
        unit_length = minutes(1);
        break;
      default:
        return Invalid(path, error);
    }
    if (count < 1 || count > max) {
      return Invalid(path, absl::StrCat(Quote(text), ": expected 1 to ", max, " ", ToAbsl(unit)));
    }
    window.length = unit_length * count;
    return window;
  }
  if (value.type() != element_type::OBJECT) {
    return Expected(path, "a string like \"30d\" or an object {\"days\":N,\"timeZone\":\"...\"}", value);
  }
  auto members = Members::Read(value, path, "an object", {"days", "timeZone"});
  if (!members.ok()) return members.status();
  const std::string days_path = ChildPath(path, "days");
  const std::optional<element> days = members->Get("days");
  if (!days) return Invalid(days_path, "required");
  int64_t count = 0;
  if (days->get_int64().get(count) != simdjson::SUCCESS || count < 1 || count > kMaxWindowDays) {
    return Expected(days_path, absl::StrCat("an integer from 1 to ", kMaxWindowDays), *days);
  }
  std::string zone_name = "UTC";
  if (const std::optional<element> zone = members->Get("timeZone")) {
    auto name = ReadString(*zone, ChildPath(path, "timeZone"));
    if (!name.ok()) return name.status();
    zone_name = *std::move(name);
  }
  window.calendar_zone = base::TimeZone::Parse(zone_name);
  if (!window.calendar_zone) {
    return Invalid(ChildPath(path, "timeZone"), absl::StrCat(Quote(zone_name), " is not a known time zone"));
  }
  window.calendar_days = count;
  window.length = hours(24) * count;
  return window;
}

// Reads the filter members type / event / channel of `members` into `filter`. An event name
// implies a track event, so that {"event":"X"} and {"event":"X","type":"track"} share an aggregate.
absl::Status ReadFilter(const Members& members, std::string_view path, EventFilter& filter) {
  if (const auto type = members.Get("type")) {
    const std::string type_path = ChildPath(path, "type");
    auto text = ReadString(*type, type_path);
    if (!text.ok()) return text.status();
    if (std::find(kEventTypes.begin(), kEventTypes.end(), *text) == kEventTypes.end()) {
      return Invalid(type_path, absl::StrCat(Quote(*text), " is not one of ", JoinNames(kEventTypes)));
    }
    filter.type = *std::move(text);
  }
  if (const auto event = members.Get("event")) {
    auto text = ReadString(*event, ChildPath(path, "event"), /*allow_empty=*/true);
    if (!text.ok()) return text.status();
    filter.event = *std::move(text);
  }
  if (const auto channel = members.Get("channel")) {
    auto text = ReadString(*channel, ChildPath(path, "channel"));
    if (!text.ok()) return text.status();
    filter.channel = *std::move(text);
  }
  if (!filter.event.empty()) {
    if (filter.type.empty()) {
      filter.type = "track";
    } else if (filter.type != "track") {
      return Invalid(ChildPath(path, "type"),
                     absl::StrCat("only track events have an event name; ", Quote(filter.type),
                                  " cannot be combined with event ", Quote(filter.event)));
    }
  }
  return absl::OkStatus();
}

std::string_view KindName(ComputedKind kind) {
  for (size_t i = 0; i < kKinds.size(); ++i) {
    if (kKinds[i] == kind) return kKindNames[i];
  }
  return "?";
}

std::string_view OperatorName(Operator op) {
  for (size_t i = 0; i < kOperators.size(); ++i) {
    if (kOperators[i] == op) return kOperatorNames[i];
  }
  return "?";
}

bool IsWindowedKind(ComputedKind kind) {
  switch (kind) {
    case ComputedKind::kCount:
    case ComputedKind::kSum:
    case ComputedKind::kAverage:
    case ComputedKind::kMin:
    case ComputedKind::kMax:
    case ComputedKind::kFirst:
    case ComputedKind::kLast:
    case ComputedKind::kRfm:
      return true;
    default:
      return false;
  }
}

bool NeedsProperty(ComputedKind kind) {
  switch (kind) {
    case ComputedKind::kSum:
    case ComputedKind::kAverage:
    case ComputedKind::kMin:
    case ComputedKind::kMax:
    case ComputedKind::kFirst:
    case ComputedKind::kLast:
    case ComputedKind::kRfm:
    case ComputedKind::kLifetimeValue:
      return true;
    default:
      return false;
  }
}

bool IsTimeDependent(const ComputedTrait& trait) {
  return !trait.window.lifetime() || trait.kind == ComputedKind::kDaysSince ||
         trait.kind == ComputedKind::kChurnRisk || trait.kind == ComputedKind::kRfm;
}

// ----- Audience conditions -----

struct ConditionParser {
  const std::vector<std::shared_ptr<const ComputedTrait>>& computed;
  bool time_dependent = false;

  absl::StatusOr<ConditionPtr> Parse(element value, const std::string& path, int depth);
  // Reads `op` and `value` into node. Without `op`, `default_op` applies, and without either,
  // `default_value` too (when given).
  absl::Status ParseOperand(const Members& members, const std::string& path, Condition& node,
                            std::initializer_list<Operator> allowed, Operator default_op, bool numbers_only,
                            std::string_view default_value = {});
  const ComputedTrait* FindComputed(std::string_view name) const {
    for (const auto& trait : computed) {
      if (trait && trait->name == name) return trait.get();
    }
    return nullptr;
  }
};

absl::Status CheckOperandValue(Operator op, element value, const std::string& path, bool numbers_only) {
  const auto scalar = [&](element item) {
    const element_type type = item.type();
    if (numbers_only) return IsNumber(item);
    return IsNumber(item) || type == element_type::STRING || type == element_type::BOOL;
  };
  const std::string_view scalars = numbers_only ? "a number" : "a string, number or boolean";
  switch (op) {
    case Operator::kEq:
    case Operator::kNe:
    case Operator::kContains:
      if (!scalar(value)) return Expected(path, scalars, value);
      return absl::OkStatus();
    case Operator::kGt:
    case Operator::kGte:
    case Operator::kLt:
    case Operator::kLte:
      if (!IsNumber(value) && (numbers_only || value.type() != element_type::STRING)) {
        return Expected(path, numbers_only ? "a number" : "a number or a string", value);
      }
      return absl::OkStatus();
    case Operator::kStartsWith:
      if (value.type() != element_type::STRING) return Expected(path, "a string", value);
      return absl::OkStatus();
    case Operator::kIn: {
      dom::array array;
      if (value.get_array().get(array) != simdjson::SUCCESS) {
        return Invalid(path, absl::StrCat("op \"in\" needs an array, got ", Describe(value)));
      }
      if (array.size() == 0) return Invalid(path, "op \"in\" needs a non-empty array");
      size_t index = 0;
      for (element item : array) {
        if (!scalar(item)) return Expected(IndexPath(path, index), scalars, item);
        ++index;
      }
      return absl::OkStatus();
    }
    case Operator::kExists:
    case Operator::kMissing:
      break;
  }
  return absl::OkStatus();
}

absl::Status ConditionParser::ParseOperand(const Members& members, const std::string& path, Condition& node,
                                           std::initializer_list<Operator> allowed, Operator default_op,
                                           bool numbers_only, std::string_view default_value) {
  const std::optional<element> value = members.Get("value");
  node.op = default_op;
  const std::string op_path = ChildPath(path, "op");
  if (const std::optional<element> op = members.Get("op")) {
    auto text = ReadString(*op, op_path);
    if (!text.ok()) return text.status();
    const auto it = std::find(kOperatorNames.begin(), kOperatorNames.end(), *text);
    if (it == kOperatorNames.end()) {
      return Invalid(op_path, absl::StrCat(Quote(*text), " is not one of ", JoinNames(kOperatorNames)));
    }
    node.op = kOperators[it - kOperatorNames.begin()];
    if (std::find(allowed.begin(), allowed.end(), node.op) == allowed.end()) {
      return Invalid(op_path,
                     absl::StrCat(Quote(*text), " cannot be used here; expected one of ",
                                  absl::StrJoin(allowed, ", ", [](std::string* out, Operator allowed_op) {
                                    out->append(OperatorName(allowed_op));
                                  })));
    }
  }
  const std::string value_path = ChildPath(path, "value");
  if (node.op == Operator::kExists || node.op == Operator::kMissing) {
    if (value)
      return Invalid(value_path, absl::StrCat("not used with op \"", ToAbsl(OperatorName(node.op)), "\""));
    node.value_json.clear();
    return absl::OkStatus();
  }
  if (!value) {
    if (!members.Has("op") && !default_value.empty()) {
      node.value_json = std::string(default_value);
      return absl::OkStatus();
    }
    return Invalid(value_path, absl::StrCat("required for op \"", ToAbsl(OperatorName(node.op)), "\""));
  }
  if (absl::Status status = CheckOperandValue(node.op, *value, value_path, numbers_only); !status.ok()) {
    return status;
  }
  node.value_json = simdjson::to_string(*value);
  return absl::OkStatus();
}

absl::StatusOr<ConditionPtr> ConditionParser::Parse(element value, const std::string& path, int depth) {
  if (depth > kMaxConditionDepth) {
    return Invalid(path, absl::StrCat("nesting too deep (at most ", kMaxConditionDepth, " levels)"));
  }
  dom::object object;
  if (value.get_object().get(object) != simdjson::SUCCESS) return Expected(path, "an object", value);
  // An event condition may filter on a channel, so "channel" selects the kind only without "event".
  bool has_event = false;
  for (dom::key_value_pair member : object) has_event = has_event || member.key == "event";
  std::string_view kind_key;
  for (dom::key_value_pair member : object) {
    if (std::find(kConditionKinds.begin(), kConditionKinds.end(), member.key) == kConditionKinds.end())
      continue;
    if (has_event && member.key == "channel") continue;
    if (!kind_key.empty()) {
      return Invalid(path, absl::StrCat("\"", ToAbsl(kind_key), "\" and \"", ToAbsl(member.key),
                                        "\" cannot be combined; a condition has exactly one of ",
                                        JoinNames(kConditionKinds)));
    }
    kind_key = member.key;
  }
  if (kind_key.empty()) {
    return Invalid(path, absl::StrCat("expected a condition with one of ", JoinNames(kConditionKinds)));
  }
  auto node = std::make_unique<Condition>();
  const std::string kind_path = ChildPath(path, kind_key);

  if (kind_key == "all" || kind_key == "any") {
    node->kind = kind_key == "all" ? Condition::Kind::kAll : Condition::Kind::kAny;
    auto members = Members::Read(value, path, "an object", {kind_key});
    if (!members.ok()) return members.status();
    const element list = *members->Get(kind_key);
    dom::array array;
    if (list.get_array().get(array) != simdjson::SUCCESS)
      return Expected(kind_path, "an array of conditions", list);
    if (array.size() == 0) return Invalid(kind_path, "must not be empty");
    size_t index = 0;
    for (element child : array) {
      auto parsed = Parse(child, IndexPath(kind_path, index), depth + 1);
      if (!parsed.ok()) return parsed.status();
      node->children.push_back(*std::move(parsed));
      ++index;
    }
    return node;
  }
  if (kind_key == "not") {
    node->kind = Condition::Kind::kNot;
    auto members = Members::Read(value, path, "an object", {"not"});
    if (!members.ok()) return members.status();
    auto child = Parse(*members->Get("not"), kind_path, depth + 1);
    if (!child.ok()) return child.status();
    node->children.push_back(*std::move(child));
    return node;
  }
  if (kind_key == "trait") {
    node->kind = Condition::Kind::kTrait;
    auto members = Members::Read(value, path, "an object", {"trait", "op", "value"});
    if (!members.ok()) return members.status();
    auto trait = ReadString(*members->Get("trait"), kind_path);
    if (!trait.ok()) return trait.status();
    if (!IsDottedPath(*trait)) {
      return Invalid(kind_path,
                     absl::StrCat(Quote(*trait), ": expected a trait name, with dots between members"));
    }
    node->path = *trait;
    node->name = trait->substr(0, trait->find('.'));
    const Operator default_op = members->Has("value") ? Operator::kEq : Operator::kExists;
    if (absl::Status status =
            ParseOperand(*members, path, *node,
                         kValueOperators,
                         default_op, /*numbers_only=*/false);
        !status.ok()) {
      return status;
    }
    return node;
  }
  if (kind_key == "computed") {
    node->kind = Condition::Kind::kComputed;
    auto members = Members::Read(value, path, "an object", {"computed", "op", "value"});
    if (!members.ok()) return members.status();
    auto reference = ReadString(*members->Get("computed"), kind_path);
    if (!reference.ok()) return reference.status();
    if (!IsDottedPath(*reference)) {
      return Invalid(kind_path, absl::StrCat(Quote(*reference),
                                             ": expected a computed trait name, with dots between members"));
    }
    const size_t dot = reference->find('.');
    node->name = reference->substr(0, dot);
    node->path = dot == std::string::npos ? std::string() : reference->substr(dot + 1);
    const ComputedTrait* trait = FindComputed(node->name);
    if (trait == nullptr) {
      return Invalid(kind_path, absl::StrCat(Quote(node->name), " is not a defined computed trait"));
    }
    if (!node->path.empty()) {
      if (trait->kind == ComputedKind::kRfm) {
        if (node->path != "recency" && node->path != "frequency" && node->path != "monetary" &&
            node->path != "score") {
          return Invalid(kind_path,
                         absl::StrCat(Quote(*reference), ": an rfm value has only recency, frequency, ",
                                      "monetary and score"));
        }
      } else if (trait->kind != ComputedKind::kFirst && trait->kind != ComputedKind::kLast) {
        return Invalid(kind_path,
                       absl::StrCat(Quote(*reference), ": a ", ToAbsl(KindName(trait->kind)),
                                    " value has no members (only rfm, first and last values may)"));
      }
    }
    if (IsTimeDependent(*trait)) time_dependent = true;
    const Operator default_op = members->Has("value") ? Operator::kEq : Operator::kExists;
    if (absl::Status status =
            ParseOperand(*members, path, *node,
                         kValueOperators,
                         default_op, /*numbers_only=*/false);
        !status.ok()) {
      return status;
    }
    return node;
  }
  if (kind_key == "identifier") {
    node->kind = Condition::Kind::kIdentifier;
    auto members = Members::Read(value, path, "an object", {"identifier", "op"});
    if (!members.ok()) return members.status();
    auto type = ReadString(*members->Get("identifier"), kind_path);
    if (!type.ok()) return type.status();
    node->name = *std::move(type);
    if (absl::Status status = ParseOperand(*members, path, *node, {Operator::kExists, Operator::kMissing},
                                           Operator::kExists, false);
        !status.ok()) {
      return status;
    }
    return node;
  }
  if (kind_key == "channel") {
    node->kind = Condition::Kind::kChannel;
    auto members = Members::Read(value, path, "an object", {"channel", "window", "op"});
    if (!members.ok()) return members.status();
    auto channel = ReadString(*members->Get("channel"), kind_path);
    if (!channel.ok()) return channel.status();
    node->name = *std::move(channel);
    if (const auto window = members->Get("window")) {
      auto parsed = ParseWindow(*window, ChildPath(path, "window"));
      if (!parsed.ok()) return parsed.status();
      node->window = *std::move(parsed);
      time_dependent = true;
    }
    if (absl::Status status = ParseOperand(*members, path, *node, {Operator::kExists, Operator::kMissing},
                                           Operator::kExists, false);
        !status.ok()) {
      return status;
    }
    return node;
  }
  if (kind_key == "consent") {
    node->kind = Condition::Kind::kConsent;
    auto members = Members::Read(value, path, "an object", {"consent"});
    if (!members.ok()) return members.status();
    auto name = ReadString(*members->Get("consent"), kind_path);
    if (!name.ok()) return name.status();
    std::optional<std::string> purpose = privacy::NormalizeConsentPurpose(*name);
    if (!purpose) {
      return Invalid(kind_path, absl::StrCat(Quote(*name), " is not a consent purpose; ",
                                             ToAbsl(privacy::kConsentPurposeForm)));
    }
    node->name = *std::move(purpose);
    return node;
  }
  // kind_key == "event"
  node->kind = Condition::Kind::kEvent;
  auto members =
      Members::Read(value, path, "an object", {"event", "type", "channel", "window", "op", "value"});
  if (!members.ok()) return members.status();
  if (absl::Status status = ReadFilter(*members, path, node->spec.filter); !status.ok()) return status;
  if (const auto window = members->Get("window")) {
    auto parsed = ParseWindow(*window, ChildPath(path, "window"));
    if (!parsed.ok()) return parsed.status();
    node->window = *std::move(parsed);
    time_dependent = true;
  }
  node->spec.retention = RetentionOf(node->window);
  node->spec.Seal();
  // Without op and value: at least one matching event.
  if (absl::Status status =
          ParseOperand(*members, path, *node,
                       {Operator::kEq, Operator::kNe, Operator::kGt, Operator::kGte, Operator::kLt,
                        Operator::kLte, Operator::kIn, Operator::kExists, Operator::kMissing},
                       Operator::kGte, /*numbers_only=*/true, /*default_value=*/"1");
      !status.ok()) {
    return status;
  }
  return node;
}

void CollectEventSpecs(const Condition& node, std::map<std::string, AggregateSpec>& specs) {
  if (node.kind == Condition::Kind::kEvent) specs.emplace(node.spec.Key(), node.spec);
  for (const ConditionPtr& child : node.children) {
    if (child) CollectEventSpecs(*child, specs);
  }
}

}  // namespace

std::string AggregateSpec::Key() const {
  if (!key.empty()) return key;
  // Length-prefixed fields, so that no choice of names can make two specs' texts equal.
  std::string text = "aggregate.v1";
  for (std::string_view field : {std::string_view(filter.type), std::string_view(filter.event),
                                 std::string_view(filter.channel), std::string_view(property)}) {
    absl::StrAppend(&text, "|", field.size(), ":", ToAbsl(field));
  }
  absl::StrAppend(&text, "|", retention.count(), "|", keep_json ? 1 : 0);
  const uint64_t hash = XXH3_64bits(text.data(), text.size());
  static constexpr char kHex[] = "0123456789abcdef";
  std::string key(16, '0');
  for (int i = 0; i < 16; ++i) key[15 - i] = kHex[(hash >> (4 * i)) & 0xF];
  return key;
}

base::Timestamp Window::Start(base::Timestamp now) const {
  if (calendar_zone) return calendar_zone->StartOfLocalDay(now, calendar_days - 1);
  return now - length;
}

absl::StatusOr<ComputedTrait> ParseComputedTrait(std::string_view json, std::string_view name) {
  dom::parser parser;
  element root;
  if (auto error = parser.parse(json.data(), json.size()).get(root)) {
    return Invalid("", absl::StrCat("not valid JSON (", simdjson::error_message(error), ")"));
  }
  auto members = Members::Read(
      root, "", "a JSON object at the top level",
      {"name", "kind", "event", "type", "channel", "property", "window", "timeZone", "priorIntervalDays"});
  if (!members.ok()) return members.status();

  ComputedTrait trait;
  if (const auto body_name = members->Get("name")) {
    auto text = ReadString(*body_name, "name");
    if (!text.ok()) return text.status();
    if (!name.empty() && *text != name) {
      return Invalid("name", absl::StrCat(Quote(*text), " does not match ", Quote(name), " from the URL"));
    }
    trait.name = *std::move(text);
  } else if (!name.empty()) {
    trait.name = std::string(name);
  } else {
    return Invalid("name", "required");
  }
  if (!IsValidName(trait.name, /*allow_dash=*/false)) {
    return Invalid("name", absl::StrCat(Quote(trait.name), ": expected 1 to 64 of A-Z, a-z, 0-9 and _"));
  }

  const auto kind = members->Get("kind");
  if (!kind) return Invalid("kind", "required");
  auto kind_text = ReadString(*kind, "kind");
  if (!kind_text.ok()) return kind_text.status();
  const auto kind_it = std::find(kKindNames.begin(), kKindNames.end(), *kind_text);
  if (kind_it == kKindNames.end()) {
    return Invalid("kind", absl::StrCat(Quote(*kind_text), " is not one of ", JoinNames(kKindNames)));
  }
  trait.kind = kKinds[kind_it - kKindNames.begin()];
  const std::string_view kind_name = *kind_it;

  // Members a kind does not use are errors rather than silently ignored.
  const auto not_used = [&](std::string_view member) {
    return Invalid(member, absl::StrCat("not used by kind \"", ToAbsl(kind_name), "\""));
  };
  if (trait.kind == ComputedKind::kLastChannel) {
    for (std::string_view member : {"event", "type", "channel", "property", "window"}) {
      if (members->Has(member)) return not_used(member);
    }
  }
  if (trait.kind != ComputedKind::kDaysSince && members->Has("timeZone")) return not_used("timeZone");
  if (trait.kind != ComputedKind::kChurnRisk && members->Has("priorIntervalDays")) {
    return not_used("priorIntervalDays");
  }
  if (!IsWindowedKind(trait.kind) && members->Has("window")) return not_used("window");

  if (absl::Status status = ReadFilter(*members, "", trait.spec.filter); !status.ok()) return status;

  if (const auto property = members->Get("property")) {
    if (!NeedsProperty(trait.kind)) return not_used("property");
    auto text = ReadString(*property, "property");
    if (!text.ok()) return text.status();
    const bool rooted =
        text->starts_with("properties.") || text->starts_with("traits.") || text->starts_with("context.");
    if (!rooted || !IsDottedPath(*text)) {
      return Invalid("property",
                     absl::StrCat(Quote(*text),
                                  ": expected a dotted path starting with properties., traits. or "
                                  "context. (e.g. \"properties.total\")"));
    }
    trait.spec.property = *std::move(text);
  } else if (NeedsProperty(trait.kind)) {
    return Invalid("property", absl::StrCat("required for kind \"", ToAbsl(kind_name), "\""));
  }

  if (const auto window = members->Get("window")) {
    auto parsed = ParseWindow(*window, "window");
    if (!parsed.ok()) return parsed.status();
    trait.window = *std::move(parsed);
  }
  if (const auto zone = members->Get("timeZone")) {
    auto text = ReadString(*zone, "timeZone");
    if (!text.ok()) return text.status();
    trait.time_zone = base::TimeZone::Parse(*text);
    if (!trait.time_zone) return Invalid("timeZone", absl::StrCat(Quote(*text), " is not a known time zone"));
  }
  if (const auto prior = members->Get("priorIntervalDays")) {
    double days = 0;
    if (!IsNumber(*prior) || prior->get_double().get(days) != simdjson::SUCCESS || !std::isfinite(days) ||
        days <= 0 || days > static_cast<double>(kMaxWindowDays)) {
      return Expected("priorIntervalDays",
                      absl::StrCat("a number of days above 0 and at most ", kMaxWindowDays), *prior);
    }
    trait.prior_interval_days = days;
  }

  switch (trait.kind) {
    case ComputedKind::kLastChannel:
      trait.spec = AggregateSpec();
      break;
    case ComputedKind::kDaysSince:
    case ComputedKind::kChurnRisk:
    case ComputedKind::kLifetimeValue:
      trait.spec.retention = microseconds(0);
      break;
    case ComputedKind::kFirst:
    case ComputedKind::kLast:
      trait.spec.keep_json = true;
      trait.spec.retention = RetentionOf(trait.window);
      break;
    default:
      trait.spec.retention = RetentionOf(trait.window);
      break;
  }
  trait.spec.Seal();
  trait.source_json = Minified(json);
  return trait;
}

absl::StatusOr<Audience> ParseAudience(std::string_view name, std::string_view json,
                                       const std::vector<std::shared_ptr<const ComputedTrait>>& computed) {
  if (!IsValidName(name, /*allow_dash=*/true)) {
    return Invalid("name", absl::StrCat(Quote(name), ": expected 1 to 64 of A-Z, a-z, 0-9, _ and -"));
  }
  dom::parser parser;
  element root;
  if (auto error = parser.parse(json.data(), json.size()).get(root)) {
    return Invalid("", absl::StrCat("not valid JSON (", simdjson::error_message(error), ")"));
  }
  auto members = Members::Read(root, "", "a JSON object at the top level", {"description", "condition"});
  if (!members.ok()) return members.status();

  Audience audience;
  audience.name = std::string(name);
  if (const auto description = members->Get("description")) {
    auto text = ReadString(*description, "description", /*allow_empty=*/true);
    if (!text.ok()) return text.status();
    audience.description = *std::move(text);
  }
  const auto condition = members->Get("condition");
  if (!condition) return Invalid("condition", "required");
  ConditionParser condition_parser{computed};
  auto parsed = condition_parser.Parse(*condition, "condition", 1);
  if (!parsed.ok()) return parsed.status();
  audience.condition = *std::move(parsed);
  audience.time_dependent = condition_parser.time_dependent;
  audience.source_json = Minified(json);
  return audience;
}

void DefinitionSet::Compile() {
  std::map<std::string, AggregateSpec> by_key;
  for (const auto& trait : computed) {
    if (trait && trait->kind != ComputedKind::kLastChannel) by_key.emplace(trait->spec.Key(), trait->spec);
  }
  for (const auto& audience : audiences) {
    if (audience && audience->condition) CollectEventSpecs(*audience->condition, by_key);
  }
  specs.clear();
  spec_keys.clear();
  specs.reserve(by_key.size());
  spec_keys.reserve(by_key.size());
  for (auto& [key, spec] : by_key) {
    spec_keys.push_back(key);
    specs.push_back(std::move(spec));
  }
}

const ComputedTrait* DefinitionSet::FindComputed(std::string_view name) const {
  for (const auto& trait : computed) {
    if (trait && trait->name == name) return trait.get();
  }
  return nullptr;
}

const Audience* DefinitionSet::FindAudience(std::string_view name) const {
  for (const auto& audience : audiences) {
    if (audience && audience->name == name) return audience.get();
  }
  return nullptr;
}

bool DefinitionSet::AnyTimeDependent() const {
  return std::any_of(audiences.begin(), audiences.end(),
                     [](const auto& audience) { return audience && audience->time_dependent; });
}

bool IsValidAudienceName(std::string_view name) { return IsValidName(name, /*allow_dash=*/true); }
bool IsValidComputedTraitName(std::string_view name) { return IsValidName(name, /*allow_dash=*/false); }

}  // namespace tessera::audiences
