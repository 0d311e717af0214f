#include "profile_store/aggregate.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <tuple>
#include <utility>

#include "base/coding.h"

namespace tessera::profile_store {
namespace {

int64_t Micros(Timestamp time) { return time.time_since_epoch().count(); }
Timestamp FromMicros(int64_t micros) { return Timestamp(std::chrono::microseconds(micros)); }

// Which optional parts of an aggregate's encoding are present (one bit each).
enum AggregateParts : uint8_t {
  kHasMin = 1 << 0,
  kHasMax = 1 << 1,
  kHasFirstTime = 1 << 2,
  kHasLastTime = 1 << 3,
  kHasFirstJson = 1 << 4,
  kHasLastJson = 1 << 5,
};

bool ReadTime(base::ByteReader& reader, Timestamp& out) {
  int64_t micros = 0;
  if (!reader.ReadVarintSigned64(micros)) return false;
  out = FromMicros(micros);
  return true;
}

// Events are ordered by event time, then by log sequence.
bool Before(Timestamp time, uint64_t sequence, Timestamp other_time, uint64_t other_sequence) {
  return std::tie(time, sequence) < std::tie(other_time, other_sequence);
}

bool PointOrder(const AggregatePoint& a, const AggregatePoint& b) {
  return std::tie(a.last_time, a.last_sequence, a.first_time, a.first_sequence) <
         std::tie(b.last_time, b.last_sequence, b.first_time, b.first_sequence);
}

void CombineMinMax(std::optional<double>& min, std::optional<double>& max, double other_min, double other_max) {
  min = min ? std::min(*min, other_min) : other_min;
  max = max ? std::max(*max, other_max) : other_max;
}

// One point holding the events of `a` and `b`.
AggregatePoint CombinePoints(const AggregatePoint& a, const AggregatePoint& b) {
  const bool a_starts = !Before(b.first_time, b.first_sequence, a.first_time, a.first_sequence);
  const bool a_ends = Before(b.last_time, b.last_sequence, a.last_time, a.last_sequence);
  const AggregatePoint& older = a_starts ? a : b;
  const AggregatePoint& newer = a_ends ? a : b;
  AggregatePoint point;
  point.first_time = older.first_time;
  point.first_sequence = older.first_sequence;
  point.last_time = newer.last_time;
  point.last_sequence = newer.last_sequence;
  point.count = a.count + b.count;
  point.numeric_count = a.numeric_count + b.numeric_count;
  point.sum = a.sum + b.sum;
  if (a.numeric_count > 0 && b.numeric_count > 0) {
    point.min = std::min(a.min, b.min);
    point.max = std::max(a.max, b.max);
  } else {
    const AggregatePoint& numeric = a.numeric_count > 0 ? a : b;
    point.min = numeric.min;
    point.max = numeric.max;
  }
  // Within a point only its oldest and newest values are known: prefer the older (newer) point's.
  point.first_json = !older.first_json.empty() ? older.first_json : (a_starts ? b : a).first_json;
  point.last_json = !newer.last_json.empty() ? newer.last_json : (a_ends ? b : a).last_json;
  return point;
}

}  // namespace

void EventAggregate::Add(Timestamp time, uint64_t sequence, const AggregateValue& value, bool keep_json) {
  AggregateFigures& figures = lifetime_;
  if (figures.count == 0 || Before(time, sequence, *figures.first_time, first_sequence_)) {
    figures.first_time = time;
    first_sequence_ = sequence;
  }
  if (figures.count == 0 || Before(*figures.last_time, last_sequence_, time, sequence)) {
    figures.last_time = time;
    last_sequence_ = sequence;
  }
  ++figures.count;
  if (value.number) {
    ++figures.numeric_count;
    figures.sum += *value.number;
    CombineMinMax(figures.min, figures.max, *value.number, *value.number);
  }
  const bool has_json = keep_json && !value.json.empty();
  if (has_json) {
    if (figures.first_json.empty() || Before(time, sequence, first_json_time_, first_json_sequence_)) {
      figures.first_json = value.json;
      first_json_time_ = time;
      first_json_sequence_ = sequence;
    }
    if (figures.last_json.empty() || Before(last_json_time_, last_json_sequence_, time, sequence)) {
      figures.last_json = value.json;
      last_json_time_ = time;
      last_json_sequence_ = sequence;
    }
  }
  if (retention_.count() <= 0) return;

  AggregatePoint point;
  point.first_time = point.last_time = time;
  point.first_sequence = point.last_sequence = sequence;
  point.count = 1;
  if (value.number) {
    point.numeric_count = 1;
    point.sum = point.min = point.max = *value.number;
  }
  if (has_json) point.first_json = point.last_json = value.json;
  AddPoint(std::move(point));
}

void EventAggregate::Merge(const EventAggregate& other) {
  const AggregateFigures& theirs = other.lifetime_;
  AggregateFigures& ours = lifetime_;
  if (theirs.count > 0) {
    if (ours.count == 0 || Before(*theirs.first_time, other.first_sequence_, *ours.first_time, first_sequence_)) {
      ours.first_time = theirs.first_time;
      first_sequence_ = other.first_sequence_;
    }
    if (ours.count == 0 || Before(*ours.last_time, last_sequence_, *theirs.last_time, other.last_sequence_)) {
      ours.last_time = theirs.last_time;
      last_sequence_ = other.last_sequence_;
    }
  }
  ours.count += theirs.count;
  ours.numeric_count += theirs.numeric_count;
  ours.sum += theirs.sum;
  if (theirs.min) CombineMinMax(ours.min, ours.max, *theirs.min, *theirs.max);
  if (!theirs.first_json.empty() &&
      (ours.first_json.empty() ||
       Before(other.first_json_time_, other.first_json_sequence_, first_json_time_, first_json_sequence_))) {
    ours.first_json = theirs.first_json;
    first_json_time_ = other.first_json_time_;
    first_json_sequence_ = other.first_json_sequence_;
  }
  if (!theirs.last_json.empty() &&
      (ours.last_json.empty() ||
       Before(last_json_time_, last_json_sequence_, other.last_json_time_, other.last_json_sequence_))) {
    ours.last_json = theirs.last_json;
    last_json_time_ = other.last_json_time_;
    last_json_sequence_ = other.last_json_sequence_;
  }

  // A longer retention keeps more: the other side's points may then be older than ours allowed.
  retention_ = std::max(retention_, other.retention_);
  if (other.points_.empty()) return;
  std::vector<AggregatePoint> merged;
  merged.reserve(points_.size() + other.points_.size());
  std::merge(points_.begin(), points_.end(), other.points_.begin(), other.points_.end(), std::back_inserter(merged),
             PointOrder);
  points_ = std::move(merged);
  Prune();
  Coalesce();
}

AggregateFigures EventAggregate::Since(Timestamp since) const {
  if (retention_.count() <= 0) return since == Timestamp::min() ? lifetime_ : AggregateFigures{};
  AggregateFigures figures;
  const AggregatePoint* first_json_point = nullptr;
  const AggregatePoint* last_json_point = nullptr;
  auto it = std::partition_point(points_.begin(), points_.end(),
                                 [&](const AggregatePoint& point) { return point.last_time < since; });
  uint64_t first_sequence = 0;
  for (; it != points_.end(); ++it) {
    const AggregatePoint& point = *it;
    if (figures.count == 0 || Before(point.first_time, point.first_sequence, *figures.first_time, first_sequence)) {
      figures.first_time = point.first_time;
      first_sequence = point.first_sequence;
    }
    // Points are in (last_time, last_sequence) order: each is the newest so far.
    figures.last_time = point.last_time;
    figures.count += point.count;
    if (point.numeric_count > 0) {
      figures.numeric_count += point.numeric_count;
      figures.sum += point.sum;
      CombineMinMax(figures.min, figures.max, point.min, point.max);
    }
    if (!point.first_json.empty() &&
        (first_json_point == nullptr || Before(point.first_time, point.first_sequence, first_json_point->first_time,
                                               first_json_point->first_sequence))) {
      first_json_point = &point;
    }
    if (!point.last_json.empty()) last_json_point = &point;
  }
  if (first_json_point != nullptr) figures.first_json = first_json_point->first_json;
  if (last_json_point != nullptr) figures.last_json = last_json_point->last_json;
  return figures;
}

void EventAggregate::AddPoint(AggregatePoint point) {
  auto it = std::upper_bound(points_.begin(), points_.end(), point, PointOrder);
  points_.insert(it, std::move(point));
  Prune();
  Coalesce();
}

void EventAggregate::Prune() {
  if (points_.empty()) return;
  int64_t cutoff = 0;
  // A retention reaching before the earliest representable time keeps everything.
  if (__builtin_sub_overflow(Micros(points_.back().last_time), retention_.count(), &cutoff)) return;
  auto keep = std::partition_point(points_.begin(), points_.end(),
                                   [&](const AggregatePoint& point) { return Micros(point.last_time) < cutoff; });
  points_.erase(points_.begin(), keep);
}

void EventAggregate::Coalesce() {
  while (points_.size() > kMaxPoints) {
    // The neighbours whose combined point would span the least time; the oldest pair on a tie.
    size_t best = 0;
    __int128 best_span = 0;
    for (size_t i = 0; i + 1 < points_.size(); ++i) {
      const Timestamp start = std::min(points_[i].first_time, points_[i + 1].first_time);
      const __int128 span = static_cast<__int128>(Micros(points_[i + 1].last_time)) - Micros(start);
      if (i == 0 || span < best_span) {
        best = i;
        best_span = span;
      }
    }
    points_[best] = CombinePoints(points_[best], points_[best + 1]);
    points_.erase(points_.begin() + static_cast<ptrdiff_t>(best) + 1);
  }
}

// Layout (all integers varints, times zig-zag varint microseconds, doubles fixed 8 bytes):
//   retention, count, numeric_count, sum, parts (AggregateParts), [min], [max], [first_time],
//   [last_time], first_sequence, last_sequence, [first_json, its time, its sequence],
//   [last_json, its time, its sequence], point count, then per point: first_time, last_time,
//   first_sequence, last_sequence, count, numeric_count, sum, min, max, first_json, last_json.
void EventAggregate::Encode(std::string& out) const {
  const AggregateFigures& figures = lifetime_;
  base::PutVarintSigned64(out, retention_.count());
  base::PutVarint64(out, figures.count);
  base::PutVarint64(out, figures.numeric_count);
  base::PutDouble(out, figures.sum);
  const uint8_t parts = (figures.min ? kHasMin : 0) | (figures.max ? kHasMax : 0) |
                        (figures.first_time ? kHasFirstTime : 0) | (figures.last_time ? kHasLastTime : 0) |
                        (figures.first_json.empty() ? 0 : kHasFirstJson) |
                        (figures.last_json.empty() ? 0 : kHasLastJson);
  out.push_back(static_cast<char>(parts));
  if (figures.min) base::PutDouble(out, *figures.min);
  if (figures.max) base::PutDouble(out, *figures.max);
  if (figures.first_time) base::PutVarintSigned64(out, Micros(*figures.first_time));
  if (figures.last_time) base::PutVarintSigned64(out, Micros(*figures.last_time));
  base::PutVarint64(out, first_sequence_);
  base::PutVarint64(out, last_sequence_);
  if (!figures.first_json.empty()) {
    base::PutLengthPrefixed(out, figures.first_json);
    base::PutVarintSigned64(out, Micros(first_json_time_));
    base::PutVarint64(out, first_json_sequence_);
  }
  if (!figures.last_json.empty()) {
    base::PutLengthPrefixed(out, figures.last_json);
    base::PutVarintSigned64(out, Micros(last_json_time_));
    base::PutVarint64(out, last_json_sequence_);
  }
  base::PutVarint64(out, points_.size());
  for (const AggregatePoint& point : points_) {
    base::PutVarintSigned64(out, Micros(point.first_time));
    base::PutVarintSigned64(out, Micros(point.last_time));
    base::PutVarint64(out, point.first_sequence);
    base::PutVarint64(out, point.last_sequence);
    base::PutVarint64(out, point.count);
    base::PutVarint64(out, point.numeric_count);
    base::PutDouble(out, point.sum);
    base::PutDouble(out, point.min);
    base::PutDouble(out, point.max);
    base::PutLengthPrefixed(out, point.first_json);
    base::PutLengthPrefixed(out, point.last_json);
  }
}

bool EventAggregate::Decode(std::string_view bytes, EventAggregate& out) {
  base::ByteReader reader(bytes);
  EventAggregate aggregate;
  AggregateFigures& figures = aggregate.lifetime_;
  int64_t retention = 0;
  uint8_t parts = 0;
  if (!reader.ReadVarintSigned64(retention) || retention < 0 || !reader.ReadVarint64(figures.count) ||
      !reader.ReadVarint64(figures.numeric_count) || !reader.ReadDouble(figures.sum) ||
      !reader.ReadByte(parts) || (parts & ~0x3f) != 0) {
    return false;
  }
  aggregate.retention_ = std::chrono::microseconds(retention);
  double number = 0;
  Timestamp time;
  if (parts & kHasMin) {
    if (!reader.ReadDouble(number)) return false;
    figures.min = number;
  }
  if (parts & kHasMax) {
    if (!reader.ReadDouble(number)) return false;
    figures.max = number;
  }
  if (parts & kHasFirstTime) {
    if (!ReadTime(reader, time)) return false;
    figures.first_time = time;
  }
  if (parts & kHasLastTime) {
    if (!ReadTime(reader, time)) return false;
    figures.last_time = time;
  }
  if (!reader.ReadVarint64(aggregate.first_sequence_) || !reader.ReadVarint64(aggregate.last_sequence_))
    return false;
  if ((parts & kHasFirstJson) &&
      (!reader.ReadLengthPrefixed(figures.first_json) || figures.first_json.empty() ||
       !ReadTime(reader, aggregate.first_json_time_) ||
       !reader.ReadVarint64(aggregate.first_json_sequence_))) {
    return false;
  }
  if ((parts & kHasLastJson) &&
      (!reader.ReadLengthPrefixed(figures.last_json) || figures.last_json.empty() ||
       !ReadTime(reader, aggregate.last_json_time_) || !reader.ReadVarint64(aggregate.last_json_sequence_))) {
    return false;
  }
  uint64_t point_count = 0;
  if (!reader.ReadVarint64(point_count) || point_count > kMaxPoints) return false;
  for (uint64_t i = 0; i < point_count; ++i) {
    AggregatePoint point;
    if (!ReadTime(reader, point.first_time) || !ReadTime(reader, point.last_time) ||
        !reader.ReadVarint64(point.first_sequence) || !reader.ReadVarint64(point.last_sequence) ||
        !reader.ReadVarint64(point.count) || !reader.ReadVarint64(point.numeric_count) ||
        !reader.ReadDouble(point.sum) || !reader.ReadDouble(point.min) || !reader.ReadDouble(point.max) ||
        !reader.ReadLengthPrefixed(point.first_json) || !reader.ReadLengthPrefixed(point.last_json)) {
      return false;
    }
    if (point.last_time < point.first_time) return false;
    if (!aggregate.points_.empty() && PointOrder(point, aggregate.points_.back())) return false;
    aggregate.points_.push_back(std::move(point));
  }
  if (!reader.empty() || !aggregate.Consistent()) return false;
  out = std::move(aggregate);
  return true;
}

bool EventAggregate::Consistent() const {
  // The figures must hang together: reading them must not meet a missing first time, say.
  const AggregateFigures& figures = lifetime_;
  return figures.numeric_count <= figures.count && figures.min.has_value() == figures.max.has_value() &&
         figures.min.has_value() == (figures.numeric_count > 0) &&
         figures.first_time.has_value() == (figures.count > 0) &&
         figures.last_time.has_value() == (figures.count > 0) &&
         (retention_.count() > 0 || points_.empty()) && points_.size() <= kMaxPoints;
}

}  // namespace tessera::profile_store
