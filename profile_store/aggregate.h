#pragma once

// EventAggregate: what a profile keeps about the events that match one computed-trait or audience
// condition (say, "Order Completed" with its `properties.total`), so that counts, sums, minima,
// maxima, first and last values, over the whole lifetime or within a time window, can be read at
// any moment without reading the events again.
//
// It holds running lifetime figures and, when the definition needs a window, the matching events
// themselves as points (time, value), kept for `retention` behind the newest one. At most
// kMaxPoints points are kept: beyond that, the two neighbouring points closest in time are
// combined into one (count, sum, min, max, first and last value), and a combined point counts as
// inside a window when its newest event is. A window read is therefore exact while a person has
// at most kMaxPoints matching events within the retention, and otherwise may include events up to
// the time span of a combined point too old.
//
// Everything here is a deterministic function of the events added and their order; Merge combines
// two profiles' aggregates as if their events had been added to one.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/time.h"

namespace tessera::profile_store {

using Timestamp = base::Timestamp;

// An event's value at the aggregate's property: a number (sums, min, max) and/or the raw JSON
// (first/last). An event without the property still counts; its value is absent.
struct AggregateValue {
  std::optional<double> number;  // Set when the value is a JSON number (or a numeric string).
  std::string json;              // The value as minified JSON; empty when absent.

  friend bool operator==(const AggregateValue&, const AggregateValue&) = default;
};

// The figures of a set of matching events.
struct AggregateFigures {
  uint64_t count = 0;           // Matching events.
  uint64_t numeric_count = 0;   // Of which had a numeric value.
  double sum = 0;
  std::optional<double> min;
  std::optional<double> max;
  std::optional<Timestamp> first_time;  // Oldest matching event (event time).
  std::optional<Timestamp> last_time;   // Newest.
  std::string first_json;       // Value of the oldest event that had one; empty when none had.
  std::string last_json;        // Value of the newest event that had one.

  friend bool operator==(const AggregateFigures&, const AggregateFigures&) = default;
};

struct AggregatePoint {
  Timestamp first_time{};  // Oldest event in the point.
  Timestamp last_time{};   // Newest event in the point (decides whether it is in a window).
  uint64_t first_sequence = 0;
  uint64_t last_sequence = 0;
  uint64_t count = 0;
  uint64_t numeric_count = 0;
  double sum = 0;
  double min = 0;  // Meaningful when numeric_count > 0.
  double max = 0;
  std::string first_json;  // Of the point's oldest event with a value (approximate once combined).
  std::string last_json;   // Of the point's newest event with a value (approximate once combined).

  friend bool operator==(const AggregatePoint&, const AggregatePoint&) = default;
};

class EventAggregate {
 public:
  static constexpr size_t kMaxPoints = 256;

  EventAggregate() = default;
  // `retention` zero keeps no points: only lifetime figures are available.
  explicit EventAggregate(std::chrono::microseconds retention) : retention_(retention) {}

  // Adds one matching event. `keep_json` keeps the raw value for first/last reads.
  void Add(Timestamp time, uint64_t sequence, const AggregateValue& value, bool keep_json);
  // Adds `other`'s events (same definition) to this one.
  void Merge(const EventAggregate& other);

  // Lifetime figures (every event ever added).
  const AggregateFigures& lifetime() const { return lifetime_; }
  // Figures of the events at or after `since` (inclusive), read from the points. Needs a retention
  // of at least now - since for an exact answer; older points are gone. With retention zero there
  // are no points and the answer is unknown: empty figures, unless `since` is Timestamp::min()
  // (every event), which gives lifetime().
  AggregateFigures Since(Timestamp since) const;

  std::chrono::microseconds retention() const { return retention_; }
  const std::vector<AggregatePoint>& points() const { return points_; }

  // Storage, inside the profile record (profile_store/KEYS.md): Encode appends the binary form,
  // Decode reads exactly one, DecodeJson the JSON object version 0 profile records held. Both
  // decoders return false on damage, including figures that do not hang together.
  void Encode(std::string& out) const;
  static bool Decode(std::string_view bytes, EventAggregate& out);
  static bool DecodeJson(std::string_view json, EventAggregate& out);

  friend bool operator==(const EventAggregate&, const EventAggregate&) = default;

 private:
  void AddPoint(AggregatePoint point);
  void Prune();
  void Coalesce();
  bool Consistent() const;

  std::chrono::microseconds retention_{0};
  AggregateFigures lifetime_;
  uint64_t first_sequence_ = 0;  // Tie-breaks first/last between events at the same time.
  uint64_t last_sequence_ = 0;
  // (time, sequence) of the events that gave lifetime_.first_json / last_json, which need not be
  // the oldest / newest events (those may have had no value). Meaningful when the json is set.
  Timestamp first_json_time_{};
  uint64_t first_json_sequence_ = 0;
  Timestamp last_json_time_{};
  uint64_t last_json_sequence_ = 0;
  std::vector<AggregatePoint> points_;  // By (last_time, last_sequence), oldest first.
};

}  // namespace tessera::profile_store
