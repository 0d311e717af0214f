#include "base/json_reading.h"

namespace tessera::base {

namespace od = simdjson::ondemand;

simdjson::simdjson_result<od::document> ReusableJsonParser::Iterate(std::string_view json) {
  buffer_.assign(json);
  buffer_.reserve(json.size() + simdjson::SIMDJSON_PADDING);
  return parser_.iterate(buffer_.data(), buffer_.size(), buffer_.capacity());
}

simdjson::error_code RawJsonOf(od::value value, std::string_view& out) {
  od::json_type type;
  if (auto error = value.type().get(type)) return error;
  if (type == od::json_type::object) {
    od::object object;
    if (auto error = value.get_object().get(object)) return error;
    return object.raw_json().get(out);
  }
  if (type == od::json_type::array) {
    od::array array;
    if (auto error = value.get_array().get(array)) return error;
    return array.raw_json().get(out);
  }
  out = value.raw_json_token();
  while (!out.empty() &&
         (out.back() == ' ' || out.back() == '\n' || out.back() == '\t' || out.back() == '\r')) {
    out.remove_suffix(1);
  }
  return simdjson::SUCCESS;
}

}  // namespace tessera::base
