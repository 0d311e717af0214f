#pragma once

// Evaluation of computed traits and audiences on one profile at one moment. Pure functions of the
// profile, the definitions, `now` and the space's RFM quintile cut points: no store access, so the
// resolver (incremental), the sweep (time passing) and the API (reads) all use them alike.
//
// Missing values: a condition on a value that is absent (no trait, no numeric value, no events
// for an average) holds only for `missing` (and `ne` does NOT hold), the way SQL treats NULL.
// Comparisons: numbers compare numerically, strings by bytes, booleans only with eq/ne; values of
// different JSON types are never equal and never ordered (the condition does not hold).

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "audiences/definitions.h"
#include "audiences/purchase_traits.h"
#include "profile_store/profile.h"

namespace tessera::audiences {

using base::Timestamp;
using profile_store::Profile;

// What an aggregate needs to know of one event. The JSON members are raw minified objects (empty
// when absent), as ingest's CanonicalEvent holds them.
struct EventFacts {
  std::string_view type;     // "track", ...
  std::string_view event;    // Track event name; empty otherwise.
  std::string_view channel;
  Timestamp time{};          // Corrected event time.
  uint64_t sequence = 0;     // Log sequence.
  std::string_view properties;
  std::string_view traits;
  std::string_view context;
};

bool Matches(const EventFilter& filter, std::string_view type, std::string_view event, std::string_view channel);

// The value at `spec.property` ("properties.total", "context.campaign.source", "traits.plan"; a
// top-level member name "properties"/"traits"/"context" then dots) of `event`. Numbers and strings
// that hold a decimal number give `number`.
profile_store::AggregateValue ValueAt(const EventFacts& event, std::string_view property);

// Adds `event` to every aggregate of `profile` whose spec (of `definitions.specs`) it matches. The
// profile must already hold exactly the aggregates of definitions.specs (see HasCurrentAggregates).
void AddEvent(const DefinitionSet& definitions, const EventFacts& event, Profile& profile);

// True when profile.aggregates has exactly the keys of definitions.spec_keys.
bool HasCurrentAggregates(const DefinitionSet& definitions, const Profile& profile);

// RFM quintile cut points of a space, computed by the sweep over every profile with a value:
// four ascending cut points per dimension (20th, 40th, 60th, 80th percentile). Empty before the
// first sweep: RFM scores are then absent.
struct RfmCutPoints {
  std::vector<double> recency_days;  // Fewer days since the last event scores higher.
  std::vector<double> frequency;     // More events scores higher.
  std::vector<double> monetary;      // More value scores higher.
  friend bool operator==(const RfmCutPoints&, const RfmCutPoints&) = default;
};
// name of the rfm trait -> its cut points.
using RfmTable = std::map<std::string, RfmCutPoints, std::less<>>;

// What evaluation reads besides a profile and the definitions: the figures the space's sweep
// computes over every profile.
struct SpaceFigures {
  RfmTable rfm;
  std::shared_ptr<const PurchaseModelState> purchase_model;  // Null before the first fit.
};

// The raw inputs of an RFM trait for one profile (nullopt when it has no matching event in the
// window): recency in days (fractional), frequency (count) and monetary (sum) within the window.
struct RfmInputs {
  double recency_days = 0;
  double frequency = 0;
  double monetary = 0;
};
std::optional<RfmInputs> RfmInputsOf(const ComputedTrait& trait, const Profile& profile, Timestamp now);
// Quintile cut points of `values` (any order; modified).
std::vector<double> QuintileCutPoints(std::vector<double>& values);

// The value of one computed trait as minified JSON, or nullopt when it has none (no events, no
// numeric value, no RFM cut points yet).
std::optional<std::string> ComputedValue(const ComputedTrait& trait, const Profile& profile, Timestamp now,
                                         const SpaceFigures& figures);

// Whether `profile` is in `audience` at `now`.
bool IsMember(const Audience& audience, const DefinitionSet& definitions, const Profile& profile, Timestamp now,
              const SpaceFigures& figures);

}  // namespace tessera::audiences
