#pragma once

// Definitions of computed traits and audiences, parsed from JSON (config or the admin API) into
// validated trees. Parsing errors name the bad node by its JSON path, e.g.
//   InvalidArgument("condition.all[1].op: \"bigger\" is not one of eq, ne, gt, gte, lt, lte, ...")
// The formats are documented in docs/audiences.md.
//
// Everything a definition needs from a profile's events is expressed as AggregateSpecs: "the
// events that match this filter, with the value at this property, kept for this long". The
// resolver keeps one profile_store::EventAggregate per distinct spec key in each profile
// (Profile::aggregates), so computed traits and audience event conditions that ask about the same
// events share one aggregate.

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "absl/status/statusor.h"
#include "base/time_zone.h"

namespace tessera::audiences {

// Which events an aggregate counts. Empty fields match anything.
struct EventFilter {
  std::string type;     // "track", "identify", "page", "screen", "group", "alias"; empty = any.
  std::string event;    // Track event name, exact; empty = any.
  std::string channel;  // "web", "app", ...; empty = any.
  friend bool operator==(const EventFilter&, const EventFilter&) = default;
};

struct AggregateSpec {
  EventFilter filter;
  std::string property;                  // Dotted path from the event root ("properties.total"); may be empty.
  std::chrono::microseconds retention{0};  // How long points are kept behind the newest; 0 = lifetime only.
  bool keep_json = false;                // first/last values are read.

  // Stable key of the spec in Profile::aggregates: 16 hex digits of XXH3-64 over a canonical text
  // of the filter, property, retention and keep_json.
  // The parser stores it (Seal) so evaluation does not hash on every read.
  std::string Key() const;
  // Fills the stored key; call after the last change to the other members.
  void Seal() { key = Key(); }
  std::string key = {};  // Set by Seal; Key() recomputes when empty.

  friend bool operator==(const AggregateSpec& a, const AggregateSpec& b) {
    return a.filter == b.filter && a.property == b.property && a.retention == b.retention &&
           a.keep_json == b.keep_json;
  }
};

// A window: events at or after `now - length` (inclusive). With a time zone, calendar days
// instead: at or after local midnight of the day `days - 1` days before today in that zone.
struct Window {
  std::chrono::microseconds length{0};   // 0 = no window (lifetime).
  std::optional<base::TimeZone> calendar_zone;  // Set for {"days":N,"timeZone":"..."}.
  int64_t calendar_days = 0;
  // The earliest included instant at `now`.
  base::Timestamp Start(base::Timestamp now) const;
  bool lifetime() const { return length.count() == 0 && !calendar_zone; }
};

enum class ComputedKind {
  kCount,          // matching events (in the window)
  kSum,            // of the property's numeric values
  kAverage,
  kMin,
  kMax,
  kFirst,          // the property's value of the oldest matching event
  kLast,           // of the newest
  kLastChannel,    // the channel the profile was last seen on (no aggregate)
  kDaysSince,      // whole days since the newest matching event (calendar days in time_zone)
  kRfm,            // {"recency","frequency","monetary"} quintile scores 1..5 and "score" "RFM"
  kLifetimeValue,  // sum of the property over all matching events
  kChurnRisk,      // 1 - exp(-days since last / expected interval), see docs/audiences.md
  // From the profile's purchases and the space's purchase model (audiences/purchase_traits.h):
  kPAlive,             // P(still a customer) now
  kExpectedPurchases,  // in the next horizon_days
  kPredictedClv,       // discounted value of the next horizon_days
  // From the profile's service history (profile_store/service_history.h):
  kOpenTickets,      // tickets not solved or closed
  kLastContactAt,    // time of the newest contact, ISO-8601
  kCsatAverage,      // average satisfaction score (0 to 1) of the ratings in the window
  kServiceContacts,  // contacts (tickets, calls, chats) in the window
};

struct ComputedTrait {
  std::string name;  // [A-Za-z0-9_]{1,64}
  ComputedKind kind = ComputedKind::kCount;
  AggregateSpec spec;      // Unused for kLastChannel.
  Window window;           // For count/sum/average/min/max/first/last and rfm frequency/monetary.
  std::optional<base::TimeZone> time_zone;  // kDaysSince calendar days; UTC when unset.
  double prior_interval_days = 30;  // kChurnRisk: expected days between events with fewer than 2.
  int64_t horizon_days = 365;       // kExpectedPurchases, kPredictedClv: 1 to 3650.
  std::string source_json;  // The definition as given (minified), echoed by the API.
  bool built_in = false;    // One of DefinitionSet::BuiltInTraits.

  // Read from the profile itself, without an EventAggregate (last channel, the purchase figures,
  // the service history).
  bool NeedsNoAggregate() const {
    return kind == ComputedKind::kLastChannel || kind == ComputedKind::kPAlive ||
           kind == ComputedKind::kExpectedPurchases || kind == ComputedKind::kPredictedClv ||
           kind == ComputedKind::kOpenTickets || kind == ComputedKind::kLastContactAt ||
           kind == ComputedKind::kCsatAverage || kind == ComputedKind::kServiceContacts;
  }
};

enum class Operator { kEq, kNe, kGt, kGte, kLt, kLte, kExists, kMissing, kIn, kContains, kStartsWith };

struct Condition;
using ConditionPtr = std::unique_ptr<Condition>;

// One node of an audience's condition tree.
struct Condition {
  enum class Kind {
    kAll,         // every child holds (an empty list holds)
    kAny,         // some child holds
    kNot,         // the single child does not hold
    kTrait,       // profile trait at `path` (dots descend into objects) compared with `value`
    kComputed,    // computed trait `name` (+ `path` into an object value, e.g. rfm.recency)
    kIdentifier,  // the profile holds (kExists) or lacks (kMissing) an identifier of `name`'s type
    kChannel,     // the profile was seen on channel `name` (within `window` when set)
    kEvent,       // count of events matching `spec.filter` within `window` compared with `value`
    kConsent,     // the profile's newest consent to purpose `name` (normalized) is granted
  };
  Kind kind = Kind::kAll;
  std::vector<ConditionPtr> children;
  std::string name;   // trait / computed / identifier type / channel / consent purpose
  std::string path;   // kTrait: full dotted path; kComputed: sub-path after the name, may be empty
  Operator op = Operator::kExists;
  std::string value_json;  // The operand as minified JSON (kIn: an array); empty for exists/missing.
  AggregateSpec spec;      // kEvent (count only, retention = the window).
  Window window;           // kEvent, kChannel.
};

// What a campaign on an audience is measured by (GET /v1/audiences/{name}/lift): a member who does
// `event` within `within_days` of entering converted, for the value at `revenue` in that event.
struct Conversion {
  std::string event = "Order Completed";    // A track event's name.
  int within_days = 30;                     // 1 to 365.
  std::string revenue = "properties.revenue";  // A dotted path into the event; a missing value counts 0.
};

struct Audience {
  std::string name;  // [A-Za-z0-9_-]{1,64}
  std::string description;
  ConditionPtr condition;
  bool time_dependent = false;  // Has a window, days_since, churn or rfm: re-evaluated by the sweep.
  // The share of members destinations never receive, 0 to 0.5, chosen by a stable hash of the
  // profile id (activation/holdout.h): the control group the lift is measured against.
  double holdout = 0;
  Conversion conversion;
  std::string source_json;
};

// Names: audiences [A-Za-z0-9_-]{1,64}, computed traits [A-Za-z0-9_]{1,64}.
bool IsValidAudienceName(std::string_view name);
bool IsValidComputedTraitName(std::string_view name);

// Parses one computed trait definition {"name","kind",...}. `name` from the URL overrides none:
// when non-empty it must equal the body's name, or the body may omit it.
absl::StatusOr<ComputedTrait> ParseComputedTrait(std::string_view json, std::string_view name = {});

// Parses an audience {"description"?, "condition": {...}, "holdout"?: 0.1, "conversion"?: {"event",
// "within_days", "revenue"}}. Computed traits the condition names
// must be in `computed` (error names the node otherwise).
absl::StatusOr<Audience> ParseAudience(std::string_view name, std::string_view json,
                                       const std::vector<std::shared_ptr<const ComputedTrait>>& computed);

// A space's definitions at one moment; immutable once built and shared by readers.
struct DefinitionSet {
  std::vector<std::shared_ptr<const ComputedTrait>> computed;  // By name.
  std::vector<std::shared_ptr<const Audience>> audiences;      // By name.
  // Every aggregate the definitions need, one per distinct key, sorted by key.
  std::vector<AggregateSpec> specs;
  std::vector<std::string> spec_keys;  // specs[i].Key(), same order.

  // The computed traits every space has, whatever it defines (names no definition may take):
  // p_alive, expected_purchases_90d, predicted_clv_365d (docs/prediction.md), and open_tickets,
  // last_contact_at, csat_avg_90d (the service history, docs/audiences.md).
  static const std::vector<std::shared_ptr<const ComputedTrait>>& BuiltInTraits();
  // Fills `specs` and `spec_keys` from computed and audiences (call after changing them).
  void Compile();
  const ComputedTrait* FindComputed(std::string_view name) const;
  const Audience* FindAudience(std::string_view name) const;
  bool AnyTimeDependent() const;
  // No audience and no computed trait but the built-in ones.
  bool OnlyBuiltIn() const;
};

}  // namespace tessera::audiences
