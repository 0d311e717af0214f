// The configuration document: the top-level keys and the section each is read by
// (config/internal/sections.h), the checks that span several keys, and ParseConfig and
// LoadConfigFile.

#include "config/config.h"

#include <algorithm>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "config/internal/json_reader.h"
#include "config/internal/read_file.h"
#include "config/internal/sections.h"
#include "simdjson.h"

namespace tessera::config {
namespace internal {
namespace {

absl::Status ReadDocument(element root, Config& config) {
  return ReadObject(
      root, "",
      {{"listen", [&](element v, const std::string& p) { return ReadListen(v, p, config.listen); }},
       {"data_dir",
        [&](element v, const std::string& p) { return ReadNonEmptyString(v, p, config.data_dir); }},
       {"sources",
        [&](element v, const std::string& p) {
          config.sources.clear();
          return ReadArray(v, p, [&](element item, const std::string& item_path) {
            return ReadSource(item, item_path, config.sources.emplace_back());
          });
        }},
       {"cors", [&](element v, const std::string& p) { return ReadCors(v, p, config.cors); }},
       {"read_keys", StringListReader(config.read_keys)},
       {"admin_keys", StringListReader(config.admin_keys)},
       {"retention", [&](element v, const std::string& p) { return ReadRetention(v, p, config.retention); }},
       {"dedup", [&](element v, const std::string& p) { return ReadDedup(v, p, config.dedup_window); }},
       {"limits", [&](element v, const std::string& p) { return ReadLimits(v, p, config.limits); }},
       {"group_commit",
        [&](element v, const std::string& p) { return ReadGroupCommit(v, p, config.group_commit); }},
       {"stream", [&](element v, const std::string& p) { return ReadStream(v, p, config.stream); }},
       {"threads", [&](element v, const std::string& p) { return ReadThreads(v, p, config.threads); }},
       {"store", [&](element v, const std::string& p) { return ReadStore(v, p, config.store); }},
       {"identity", [&](element v, const std::string& p) { return ReadIdentity(v, p, config.identity); }},
       {"computed_traits",
        [&](element v, const std::string& p) {
          config.computed_traits.clear();
          return ReadArray(v, p, [&](element item, const std::string& item_path) {
            return ReadDefinition(item, item_path, /*keep_name=*/true, config.computed_traits.emplace_back());
          });
        }},
       {"audiences",
        [&](element v, const std::string& p) {
          config.audiences.clear();
          return ReadArray(v, p, [&](element item, const std::string& item_path) {
            return ReadDefinition(item, item_path, /*keep_name=*/false, config.audiences.emplace_back());
          });
        }},
       {"audience_sweep",
        [&](element v, const std::string& p) { return ReadAudienceSweep(v, p, config.audience_sweep); }},
       {"cluster", [&](element v, const std::string& p) { return ReadCluster(v, p, config.cluster.emplace()); }},
       {"destinations", [&](element v, const std::string& p) { return ReadDestinations(v, p, config.destinations); }},
       {"purchases", [&](element v, const std::string& p) { return ReadPurchases(v, p, config.purchases); }},
       {"matching", [&](element v, const std::string& p) { return ReadMatching(v, p, config.matching); }},
       {"encryption",
        [&](element v, const std::string& p) { return ReadEncryption(v, p, config.encryption.emplace()); }},
       {"shutdown_grace_seconds", DurationReader(config.shutdown_grace, 0, kMaxSeconds)},
       {"tls", [&](element v, const std::string& p) { return ReadTls(v, p, config.tls.emplace()); }}});
}

// Checks that span several keys, once every key has been read. Key values are secrets, so the
// messages say where the clash is rather than repeating the key.
absl::Status ValidateAcrossKeys(const Config& config) {
  if (config.limits.max_event_bytes > config.limits.max_request_bytes) {
    return Invalid("limits.max_event_bytes",
                   absl::StrCat(config.limits.max_event_bytes, " is larger than limits.max_request_bytes (",
                                config.limits.max_request_bytes, "); an event must fit in a request"));
  }
  if (absl::Status status = ValidateKeys(config); !status.ok()) return status;
  // Events record their source's name, not its key: sources of a space that share a name must
  // agree on the phone region, or replaying the log could not tell which one an event came from.
  for (size_t i = 0; i < config.sources.size(); ++i) {
    for (size_t j = 0; j < i; ++j) {
      const Source& a = config.sources[j];
      const Source& b = config.sources[i];
      if (a.space != b.space || a.name != b.name || a.phone_region == b.phone_region) continue;
      auto shown = [](const std::string& region) {
        return region.empty() ? std::string("none") : Quote(region);
      };
      return Invalid(
          absl::StrCat(IndexPath("sources", i), ".phone_region"),
          absl::StrCat(shown(b.phone_region), " differs from ", IndexPath("sources", j), ".phone_region (",
                       shown(a.phone_region), ") of the same source name ", Quote(a.name), " in space ",
                       Quote(a.space), "; give the sources different names"));
    }
  }
  for (const auto* list : {&config.computed_traits, &config.audiences}) {
    const char* key = list == &config.audiences ? "audiences" : "computed_traits";
    for (size_t i = 0; i < list->size(); ++i) {
      const DefinitionConfig& definition = (*list)[i];
      bool known_space = false;
      for (const Source& source : config.sources) known_space |= source.space == definition.space;
      if (!known_space) {
        return Invalid(absl::StrCat(IndexPath(key, i), ".space"),
                       absl::StrCat(Quote(definition.space), " is the space of no source"));
      }
      for (size_t j = 0; j < i; ++j) {
        if ((*list)[j].space == definition.space && (*list)[j].name == definition.name) {
          return Invalid(absl::StrCat(IndexPath(key, i), ".name"),
                         absl::StrCat(Quote(definition.name), " is already defined by ", IndexPath(key, j)));
        }
      }
    }
  }
  // A destination's audiences may be defined later through the API, so only its space is checked;
  // purchase settings name a space too.
  auto spaces_of = [](const auto& entries) {
    std::vector<std::string> spaces;
    for (const auto& entry : entries) spaces.push_back(entry.space);
    return spaces;
  };
  for (const auto& [key, spaces] : {std::pair{"destinations", spaces_of(config.destinations)},
                                    std::pair{"purchases", spaces_of(config.purchases)},
                                    std::pair{"matching", spaces_of(config.matching)}}) {
    for (size_t i = 0; i < spaces.size(); ++i) {
      if (std::none_of(config.sources.begin(), config.sources.end(),
                       [&](const Source& source) { return source.space == spaces[i]; })) {
        return Invalid(absl::StrCat(IndexPath(key, i), ".space"),
                       absl::StrCat(Quote(spaces[i]), " is the space of no source"));
      }
    }
  }
  const std::vector<IdentifierMappingConfig>& mappings = config.identity.identifier_mappings;
  for (size_t i = 0; i < mappings.size(); ++i) {
    for (size_t j = 0; j < i; ++j) {
      if (mappings[j].type == mappings[i].type && mappings[j].field == mappings[i].field) {
        return Invalid(IndexPath("identity.mappings", i),
                       absl::StrCat("same type and field as ", IndexPath("identity.mappings", j)));
      }
    }
  }
  const std::vector<IdentifierRule>& rules = config.identity.rules;
  for (size_t i = 0; i < rules.size(); ++i) {
    for (size_t j = 0; j < i; ++j) {
      if (rules[j].type == rules[i].type) {
        return Invalid(
            absl::StrCat(IndexPath("identity.rules", i), ".type"),
            absl::StrCat(Quote(rules[i].type), " is already used by ", IndexPath("identity.rules", j)));
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace
}  // namespace internal

absl::StatusOr<Config> ParseConfig(std::string_view json) {
  // The DOM parser needs padding after the text; padded_string provides it with one copy, which
  // is nothing for a file read once at start-up.
  simdjson::padded_string padded(json.data(), json.size());
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (simdjson::error_code error = parser.parse(padded).get(root); error != simdjson::SUCCESS) {
    return absl::InvalidArgumentError(absl::StrCat("malformed JSON: ", simdjson::error_message(error)));
  }
  Config config;
  if (absl::Status status = internal::ReadDocument(root, config); !status.ok()) return status;
  if (absl::Status status = internal::ValidateAcrossKeys(config); !status.ok()) return status;
  return config;
}

absl::StatusOr<Config> LoadConfigFile(const std::string& path) {
  absl::StatusOr<std::string> contents = internal::ReadWholeFile(path, "config file");
  if (!contents.ok()) return contents.status();
  absl::StatusOr<Config> config = ParseConfig(*contents);
  if (!config.ok()) {
    return absl::Status(config.status().code(), absl::StrCat(path, ": ", config.status().message()));
  }
  return config;
}

}  // namespace tessera::config
