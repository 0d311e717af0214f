// Reading of aggregates as version 0 profile records stored them (JSON objects inside the profile's
// JSON document), so that stores written before the binary encoding still read. Nothing writes
// this form any more.

#include <cmath>
#include <limits>
#include <tuple>

#include "base/json_reading.h"
#include "profile_store/aggregate.h"
#include "simdjson.h"

namespace tessera::profile_store {
namespace {

namespace od = simdjson::ondemand;

Timestamp FromMicros(int64_t micros) { return Timestamp(std::chrono::microseconds(micros)); }

bool PointOrder(const AggregatePoint& a, const AggregatePoint& b) {
  return std::tie(a.last_time, a.last_sequence, a.first_time, a.first_sequence) <
         std::tie(b.last_time, b.last_sequence, b.first_time, b.first_sequence);
}

// Events are ordered by event time, then by log sequence.
bool Before(Timestamp time, uint64_t sequence, Timestamp other_time, uint64_t other_sequence) {
  return std::tie(time, sequence) < std::tie(other_time, other_sequence);
}

// Doubles were numbers, or the strings "NaN", "Infinity" and "-Infinity" for the non-finite ones.
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

bool EventAggregate::DecodeJson(std::string_view json, EventAggregate& out) {
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
  if (!aggregate.Consistent()) return false;
  out = std::move(aggregate);
  return true;
}

}  // namespace tessera::profile_store
