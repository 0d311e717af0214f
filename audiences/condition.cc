// Audience definitions: condition trees (all / any / not over trait, computed, identifier,
// channel, event and consent conditions), their operators and operands, and ParseAudience.

#include <algorithm>
#include <array>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "audiences/definitions.h"
#include "audiences/internal/campaign.h"
#include "audiences/internal/computed_trait.h"
#include "audiences/internal/event_filter.h"
#include "audiences/internal/parsing.h"
#include "audiences/internal/window.h"
#include "privacy/consent_purpose.h"
#include "simdjson.h"

namespace tessera::audiences {

namespace dom = simdjson::dom;
using dom::element;
using dom::element_type;

using internal::ChildPath;
using internal::Describe;
using internal::Expected;
using internal::IndexPath;
using internal::Invalid;
using internal::IsDottedPath;
using internal::IsNumber;
using internal::IsTimeDependent;
using internal::IsValidName;
using internal::JoinNames;
using internal::KindName;
using internal::Members;
using internal::Minified;
using internal::ParseWindow;
using internal::Quote;
using internal::ReadFilter;
using internal::ReadString;
using internal::RetentionOf;
using internal::ToAbsl;

namespace {

// Condition trees are evaluated recursively; real audiences are a few levels deep.
constexpr int kMaxConditionDepth = 32;

constexpr std::array<std::string_view, 11> kOperatorNames = {
    "eq", "ne", "gt", "gte", "lt", "lte", "exists", "missing", "in", "contains", "starts_with"};
constexpr std::array<Operator, 11> kOperators = {Operator::kEq,       Operator::kNe,        Operator::kGt,
                                                 Operator::kGte,      Operator::kLt,        Operator::kLte,
                                                 Operator::kExists,   Operator::kMissing,   Operator::kIn,
                                                 Operator::kContains, Operator::kStartsWith};

// The members that select a condition node's kind; exactly one per node.
constexpr std::array<std::string_view, 9> kConditionKinds = {
    "all", "any", "not", "trait", "computed", "identifier", "channel", "event", "consent"};

// Operators a trait or computed-trait value may be compared with: all of them.
const std::initializer_list<Operator> kValueOperators = {
    Operator::kEq, Operator::kNe,       Operator::kGt,        Operator::kGte,
    Operator::kLt, Operator::kLte,      Operator::kExists,    Operator::kMissing,
    Operator::kIn, Operator::kContains, Operator::kStartsWith};

std::string_view OperatorName(Operator op) {
  for (size_t i = 0; i < kOperators.size(); ++i) {
    if (kOperators[i] == op) return kOperatorNames[i];
  }
  return "?";
}

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
            ParseOperand(*members, path, *node, kValueOperators, default_op, /*numbers_only=*/false);
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
            ParseOperand(*members, path, *node, kValueOperators, default_op, /*numbers_only=*/false);
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

}  // namespace

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
  auto members = Members::Read(root, "", "a JSON object at the top level",
                               {"description", "condition", "holdout", "conversion"});
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
  if (absl::Status status = ParseCampaign(*members, audience); !status.ok()) return status;
  audience.source_json = Minified(json);
  return audience;
}

}  // namespace tessera::audiences
