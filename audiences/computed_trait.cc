// Computed-trait definitions: the kinds, which members each kind takes, and ParseComputedTrait.

#include "audiences/internal/computed_trait.h"

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <string>
#include <string_view>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "audiences/definitions.h"
#include "audiences/internal/event_filter.h"
#include "audiences/internal/parsing.h"
#include "audiences/internal/window.h"
#include "base/time_zone.h"
#include "simdjson.h"

namespace tessera::audiences {

namespace dom = simdjson::dom;
using dom::element;
using dom::element_type;
using std::chrono::microseconds;

using internal::Expected;
using internal::Invalid;
using internal::IsDottedPath;
using internal::IsNumber;
using internal::IsValidName;
using internal::JoinNames;
using internal::kMaxWindowDays;
using internal::Members;
using internal::Minified;
using internal::ParseWindow;
using internal::Quote;
using internal::ReadFilter;
using internal::ReadString;
using internal::RetentionOf;
using internal::ToAbsl;

namespace {

constexpr std::array<std::string_view, 19> kKindNames = {
    "count",      "sum", "average",        "min",        "max",     "first",
    "last",       "last_channel",          "days_since", "rfm",     "lifetime_value",
    "churn_risk", "p_alive",               "expected_purchases",    "predicted_clv",
    "open_tickets", "last_contact_at",     "csat_average", "service_contacts"};
constexpr std::array<ComputedKind, 19> kKinds = {
    ComputedKind::kCount,         ComputedKind::kSum,       ComputedKind::kAverage,
    ComputedKind::kMin,           ComputedKind::kMax,       ComputedKind::kFirst,
    ComputedKind::kLast,          ComputedKind::kLastChannel, ComputedKind::kDaysSince,
    ComputedKind::kRfm,           ComputedKind::kLifetimeValue, ComputedKind::kChurnRisk,
    ComputedKind::kPAlive,        ComputedKind::kExpectedPurchases, ComputedKind::kPredictedClv,
    ComputedKind::kOpenTickets,   ComputedKind::kLastContactAt, ComputedKind::kCsatAverage,
    ComputedKind::kServiceContacts};
constexpr int64_t kMaxHorizonDays = 3650;

bool IsPurchaseKind(ComputedKind kind) {
  return kind == ComputedKind::kPAlive || kind == ComputedKind::kExpectedPurchases ||
         kind == ComputedKind::kPredictedClv;
}

bool IsServiceKind(ComputedKind kind) {
  return kind == ComputedKind::kOpenTickets || kind == ComputedKind::kLastContactAt ||
         kind == ComputedKind::kCsatAverage || kind == ComputedKind::kServiceContacts;
}

bool IsWindowedKind(ComputedKind kind) {
  switch (kind) {
    case ComputedKind::kCsatAverage:
    case ComputedKind::kServiceContacts:
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

}  // namespace

namespace internal {

std::string_view KindName(ComputedKind kind) {
  for (size_t i = 0; i < kKinds.size(); ++i) {
    if (kKinds[i] == kind) return kKindNames[i];
  }
  return "?";
}

bool IsTimeDependent(const ComputedTrait& trait) {
  // The purchase figures change as days pass (T grows) and with each refit of the model.
  return !trait.window.lifetime() || trait.kind == ComputedKind::kDaysSince ||
         trait.kind == ComputedKind::kChurnRisk || trait.kind == ComputedKind::kRfm || IsPurchaseKind(trait.kind);
}

}  // namespace internal

absl::StatusOr<ComputedTrait> ParseComputedTrait(std::string_view json, std::string_view name) {
  dom::parser parser;
  element root;
  if (auto error = parser.parse(json.data(), json.size()).get(root)) {
    return Invalid("", absl::StrCat("not valid JSON (", simdjson::error_message(error), ")"));
  }
  auto members = Members::Read(
      root, "", "a JSON object at the top level",
      {"name", "kind", "event", "type", "channel", "property", "window", "timeZone", "priorIntervalDays",
       "horizonDays"});
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
  if (trait.kind == ComputedKind::kLastChannel || IsPurchaseKind(trait.kind)) {
    for (std::string_view member : {"event", "type", "channel", "property", "window"}) {
      if (members->Has(member)) return not_used(member);
    }
  }
  if (IsServiceKind(trait.kind)) {
    // They read the service history, not events: a filter would be silently meaningless.
    for (std::string_view member : {"event", "type", "channel", "property"}) {
      if (members->Has(member)) return not_used(member);
    }
  }
  if (trait.kind != ComputedKind::kDaysSince && members->Has("timeZone")) return not_used("timeZone");
  if (trait.kind != ComputedKind::kChurnRisk && members->Has("priorIntervalDays")) {
    return not_used("priorIntervalDays");
  }
  if (!IsWindowedKind(trait.kind) && members->Has("window")) return not_used("window");
  if (const auto horizon = members->Get("horizonDays")) {
    if (trait.kind != ComputedKind::kExpectedPurchases && trait.kind != ComputedKind::kPredictedClv) {
      return not_used("horizonDays");
    }
    int64_t days = 0;
    if (horizon->get_int64().get(days) != simdjson::SUCCESS || days < 1 || days > kMaxHorizonDays) {
      return Expected("horizonDays", absl::StrCat("a whole number of days from 1 to ", kMaxHorizonDays), *horizon);
    }
    trait.horizon_days = days;
  }

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
    case ComputedKind::kPAlive:
    case ComputedKind::kExpectedPurchases:
    case ComputedKind::kPredictedClv:
    case ComputedKind::kOpenTickets:
    case ComputedKind::kLastContactAt:
    case ComputedKind::kCsatAverage:
    case ComputedKind::kServiceContacts:
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

}  // namespace tessera::audiences
