#include "profile_store/timeline_summary.h"

#include "absl/strings/str_cat.h"
#include "base/coding.h"
#include "base/json_reading.h"
#include "base/json_writer.h"
#include "simdjson.h"

namespace tessera::profile_store {
namespace {

constexpr char kVersion1 = 0x01;

absl::Status Damaged(std::string_view what) {
  return absl::DataLossError(absl::StrCat("damaged timeline summary: ", std::string(what)));
}

absl::StatusOr<TimelineSummary> DecodeJsonV0(std::string_view json) {
  namespace od = simdjson::ondemand;
  thread_local base::ReusableJsonParser parser;
  od::document doc;
  od::object root;
  if (parser.Iterate(json).get(doc) || doc.get_object().get(root)) return Damaged("not a JSON object");
  TimelineSummary summary;
  for (auto field : root) {
    std::string_view key;
    if (field.unescaped_key().get(key)) return Damaged("bad key");
    std::string_view text;
    if (key == "sequence") {
      if (field.value().get_uint64().get(summary.sequence)) return Damaged("sequence");
    } else if (key == "type" || key == "event" || key == "channel") {
      if (field.value().get_string().get(text)) return Damaged(key);
      (key == "type" ? summary.type : key == "event" ? summary.event : summary.channel).assign(text);
    } else if (key == "warnings") {
      od::array warnings;
      if (field.value().get_array().get(warnings)) return Damaged("warnings");
      for (auto warning : warnings) {
        if (warning.get_string().get(text)) return Damaged("warnings[]");
        summary.warnings.emplace_back(text);
      }
    }
  }
  return summary;
}

}  // namespace

void EncodeTimelineSummary(const TimelineSummary& summary, std::string& out) {
  out.push_back(kVersion1);
  base::PutVarint64(out, summary.sequence);
  base::PutLengthPrefixed(out, summary.type);
  base::PutLengthPrefixed(out, summary.event);
  base::PutLengthPrefixed(out, summary.channel);
  base::PutVarint64(out, summary.warnings.size());
  for (const std::string& warning : summary.warnings) base::PutLengthPrefixed(out, warning);
}

absl::StatusOr<TimelineSummary> DecodeTimelineSummary(std::string_view bytes) {
  if (bytes.empty()) return Damaged("empty");
  if (bytes.front() == '{') return DecodeJsonV0(bytes);
  if (bytes.front() != kVersion1) {
    return Damaged(absl::StrCat("unknown version ", static_cast<int>(static_cast<uint8_t>(bytes.front()))));
  }
  base::ByteReader reader(bytes.substr(1));
  TimelineSummary summary;
  uint64_t warnings = 0;
  if (!reader.ReadVarint64(summary.sequence) || !reader.ReadLengthPrefixed(summary.type) ||
      !reader.ReadLengthPrefixed(summary.event) || !reader.ReadLengthPrefixed(summary.channel) ||
      !reader.ReadVarint64(warnings) || warnings > reader.rest().size()) {
    return Damaged("truncated");
  }
  summary.warnings.resize(warnings);
  for (std::string& warning : summary.warnings) {
    if (!reader.ReadLengthPrefixed(warning)) return Damaged("truncated warnings");
  }
  if (!reader.empty()) return Damaged("bytes after the last warning");
  return summary;
}

void AppendTimelineSummaryJson(const TimelineSummary& summary, std::string& out) {
  base::JsonWriter json(out);
  json.BeginObject();
  json.Key("sequence").Uint(summary.sequence);
  json.Key("type").String(summary.type);
  if (!summary.event.empty()) json.Key("event").String(summary.event);
  json.Key("channel").String(summary.channel);
  if (!summary.warnings.empty()) {
    json.Key("warnings").BeginArray();
    for (const std::string& warning : summary.warnings) json.String(warning);
    json.EndArray();
  }
  json.EndObject();
}

}  // namespace tessera::profile_store
