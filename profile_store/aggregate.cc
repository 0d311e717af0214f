#include "profile_store/aggregate.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <tuple>
#include <utility>

#include "base/json_reading.h"
#include "base/json_writer.h"
#include "simdjson.h"

namespace tessera::profile_store {
namespace {

namespace od = simdjson::ondemand;

int64_t Micros(Timestamp time) { return time.time_since_epoch().count(); }
Timestamp FromMicros(int64_t micros) { return Timestamp(std::chrono::microseconds(micros)); }

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

// Doubles as the shortest text that reads back exactly; the non-finite ones (a sum that overflowed)
// as strings, since JSON has no token for them.
void WriteDouble(base::JsonWriter& writer, double value) {
  if (std::isfinite(value)) {
    writer.Double(value);
  } else if (std::isnan(value)) {
    writer.String("NaN");
  } else {
    writer.String(value > 0 ? "Infinity" : "-Infinity");
  }
}

bool ReadDouble(od::value value, double& out) {
  od::json_type type;
  if (value.type().get(type)) return false;
  if (type == od::json_type::number) return !value.get_double().get(out);
  std::string_view text;
  if (type != od::json_type::string || value.get_string().get(text)) return false;
  if (text == "NaN") {
    out = std::numeric_limits<double>::quiet_NaN();
  } else if (text == "Infinity") {
    out = std::numeric_limits<double>::infinity();
  } else if (text == "-Infinity") {
    out = -std::numeric_limits<double>::infinity();
  } else {
    return false;
  }
  return true;
}

bool ReadTime(od::value value, Timestamp& out) {
  int64_t micros = 0;
  if (value.get_int64().get(micros)) return false;
  out = FromMicros(micros);
  return true;
}

bool ReadString(od::value value, std::string& out) {
  std::string_view text;
  if (value.get_string().get(text)) return false;
  out.assign(text);
  return true;
}

// [first_us, last_us, first_seq, last_seq, count, numeric_count, sum, min, max, first_json?, last_json?]
void WritePoint(base::JsonWriter& writer, const AggregatePoint& point) {
  writer.BeginArray();
  writer.Int(Micros(point.first_time)).Int(Micros(point.last_time));
  writer.Uint(point.first_sequence).Uint(point.last_sequence);
  writer.Uint(point.count).Uint(point.numeric_count);
  WriteDouble(writer, point.sum);
  WriteDouble(writer, point.min);
  WriteDouble(writer, point.max);
  if (!point.first_json.empty() || !point.last_json.empty()) writer.String(point.first_json);
  if (!point.last_json.empty()) writer.String(point.last_json);
  writer.EndArray();
}

bool ReadPoint(od::value value, AggregatePoint& point) {
  od::array array;
  if (value.get_array().get(array)) return false;
  size_t index = 0;
  for (auto element : array) {
    od::value item;
    if (element.get(item)) return false;
    bool ok = false;
    switch (index++) {
      case 0:
        ok = ReadTime(item, point.first_time);
        break;
      case 1:
        ok = ReadTime(item, point.last_time);
        break;
      case 2:
        ok = !item.get_uint64().get(point.first_sequence);
        break;
      case 3:
        ok = !item.get_uint64().get(point.last_sequence);
        break;
      case 4:
        ok = !item.get_uint64().get(point.count);
        break;
      case 5:
        ok = !item.get_uint64().get(point.numeric_count);
        break;
      case 6:
        ok = ReadDouble(item, point.sum);
        break;
      case 7:
        ok = ReadDouble(item, point.min);
        break;
      case 8:
        ok = ReadDouble(item, point.max);
        break;
      case 9:
        ok = ReadString(item, point.first_json);
        break;
      case 10:
        ok = ReadString(item, point.last_json);
        break;
      default:
        break;
    }
    if (!ok) return false;
  }
  return index >= 9 && point.count > 0 && point.numeric_count <= point.count &&
         !Before(point.last_time, point.last_sequence, point.first_time, point.first_sequence);
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

void EventAggregate::Encode(std::string& out) const {
  base::JsonWriter writer(out);
  writer.BeginObject();
  if (retention_.count() != 0) writer.Key("r").Int(retention_.count());
  const AggregateFigures& figures = lifetime_;
  if (figures.count != 0) writer.Key("n").Uint(figures.count);
  if (figures.numeric_count != 0) writer.Key("nn").Uint(figures.numeric_count);
  // Also a negative zero, so that it reads back as one.
  if (figures.sum != 0 || std::signbit(figures.sum)) {
    writer.Key("s");
    WriteDouble(writer, figures.sum);
  }
  if (figures.min) {
    writer.Key("lo");
    WriteDouble(writer, *figures.min);
  }
  if (figures.max) {
    writer.Key("hi");
    WriteDouble(writer, *figures.max);
  }
  if (figures.first_time) writer.Key("ft").Int(Micros(*figures.first_time));
  if (figures.last_time) writer.Key("lt").Int(Micros(*figures.last_time));
  if (first_sequence_ != 0) writer.Key("fs").Uint(first_sequence_);
  if (last_sequence_ != 0) writer.Key("ls").Uint(last_sequence_);
  // Values are kept as JSON strings of their text, so that they read back byte for byte.
  if (!figures.first_json.empty()) {
    writer.Key("fj").String(figures.first_json);
    writer.Key("fjt").Int(Micros(first_json_time_));
    writer.Key("fjs").Uint(first_json_sequence_);
  }
  if (!figures.last_json.empty()) {
    writer.Key("lj").String(figures.last_json);
    writer.Key("ljt").Int(Micros(last_json_time_));
    writer.Key("ljs").Uint(last_json_sequence_);
  }
  if (!points_.empty()) {
    writer.Key("p").BeginArray();
    for (const AggregatePoint& point : points_) WritePoint(writer, point);
    writer.EndArray();
  }
  writer.EndObject();
}

bool EventAggregate::Decode(std::string_view json, EventAggregate& out) {
  thread_local base::ReusableJsonParser parser;
  od::document doc;
  od::object object;
  if (parser.Iterate(json).get(doc) || doc.get_object().get(object)) return false;
  EventAggregate aggregate;
  AggregateFigures& figures = aggregate.lifetime_;
  for (auto field : object) {
    std::string_view key;
    od::value value;
    if (field.unescaped_key().get(key) || field.value().get(value)) return false;
    bool ok = true;
    if (key == "r") {
      int64_t micros = 0;
      ok = !value.get_int64().get(micros) && micros >= 0;
      aggregate.retention_ = std::chrono::microseconds(micros);
    } else if (key == "n") {
      ok = !value.get_uint64().get(figures.count);
    } else if (key == "nn") {
      ok = !value.get_uint64().get(figures.numeric_count);
    } else if (key == "s") {
      ok = ReadDouble(value, figures.sum);
    } else if (key == "lo" || key == "hi") {
      double number = 0;
      ok = ReadDouble(value, number);
      (key == "lo" ? figures.min : figures.max) = number;
    } else if (key == "ft" || key == "lt") {
      Timestamp time;
      ok = ReadTime(value, time);
      (key == "ft" ? figures.first_time : figures.last_time) = time;
    } else if (key == "fs") {
      ok = !value.get_uint64().get(aggregate.first_sequence_);
    } else if (key == "ls") {
      ok = !value.get_uint64().get(aggregate.last_sequence_);
    } else if (key == "fj") {
      ok = ReadString(value, figures.first_json);
    } else if (key == "lj") {
      ok = ReadString(value, figures.last_json);
    } else if (key == "fjt") {
      ok = ReadTime(value, aggregate.first_json_time_);
    } else if (key == "ljt") {
      ok = ReadTime(value, aggregate.last_json_time_);
    } else if (key == "fjs") {
      ok = !value.get_uint64().get(aggregate.first_json_sequence_);
    } else if (key == "ljs") {
      ok = !value.get_uint64().get(aggregate.last_json_sequence_);
    } else if (key == "p") {
      od::array array;
      if (value.get_array().get(array)) return false;
      for (auto element : array) {
        od::value point_value;
        AggregatePoint point;
        if (element.get(point_value) || !ReadPoint(point_value, point)) return false;
        if (!aggregate.points_.empty() && PointOrder(point, aggregate.points_.back())) return false;
        aggregate.points_.push_back(std::move(point));
      }
    }
    if (!ok) return false;
  }
  const char* trailing = nullptr;
  if (!doc.current_location().get(trailing)) return false;  // Text after the object.
  // The figures must hang together: reading them must not meet a missing first time, say.
  const bool consistent = figures.numeric_count <= figures.count && figures.min.has_value() == figures.max.has_value() &&
                          figures.min.has_value() == (figures.numeric_count > 0) &&
                          figures.first_time.has_value() == (figures.count > 0) &&
                          figures.last_time.has_value() == (figures.count > 0) &&
                          (aggregate.retention_.count() > 0 || aggregate.points_.empty()) &&
                          aggregate.points_.size() <= kMaxPoints;
  if (!consistent) return false;
  out = std::move(aggregate);
  return true;
}

}  // namespace tessera::profile_store
