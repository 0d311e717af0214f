// The sections on computed traits and audiences: their definition envelopes (computed_traits[],
// audiences[]) and audience_sweep.

#include <string>

#include "absl/status/status.h"
#include "config/internal/json_reader.h"
#include "config/internal/sections.h"
#include "simdjson.h"

namespace tessera::config::internal {

absl::Status ReadDefinition(element value, const std::string& path, bool keep_name,
                            DefinitionConfig& definition) {
  simdjson::dom::object object;
  if (value.get_object().get(object) != simdjson::SUCCESS) return Expected(path, "an object", value);
  definition.json = "{";
  bool first = true;
  for (simdjson::dom::key_value_pair member : object) {
    const std::string child_path = ChildPath(path, ToAbsl(member.key));
    if (member.key == "space") {
      if (absl::Status status = ReadNonEmptyString(member.value, child_path, definition.space);
          !status.ok()) {
        return status;
      }
      continue;
    }
    if (member.key == "name") {
      if (absl::Status status = ReadNonEmptyString(member.value, child_path, definition.name); !status.ok()) {
        return status;
      }
      if (!keep_name) continue;
    }
    if (!first) definition.json.push_back(',');
    first = false;
    for (char c : member.key) {
      if (c == '"' || c == '\\' || static_cast<unsigned char>(c) < 0x20) {
        return Invalid(child_path, "unexpected character in a key");
      }
    }
    definition.json.append("\"").append(member.key).append("\":");
    definition.json.append(simdjson::minify(member.value));
  }
  definition.json.push_back('}');
  if (definition.name.empty()) return Invalid(ChildPath(path, "name"), "missing");
  return absl::OkStatus();
}

absl::Status ReadAudienceSweep(element value, const std::string& path, AudienceSweepOptions& audience_sweep) {
  return ReadObject(value, path,
                    {{"interval_ms", DurationReader(audience_sweep.interval, 100, kMaxMilliseconds)},
                     {"chunk_profiles", SizeReader(audience_sweep.chunk_profiles, 1, 1'000'000)}});
}

}  // namespace tessera::config::internal
