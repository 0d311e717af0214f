#include "tools/options_parsing.h"

#include <algorithm>
#include <charconv>
#include <memory>

#include "absl/strings/str_cat.h"
#include "resolve/duplicate_index.h"
#include "base/time_zone.h"
#include "audiences/definitions.h"
#include "api/connector_handler.h"
#include "config/master_keys.h"
#include "connectors/contact_log_csv.h"
#include "connectors/pos_csv.h"
#include "openssl/crypto.h"
#include "ingest/free_text.h"
#include "privacy/consent_purpose.h"

namespace tessera::tools {

absl::StatusOr<std::map<std::string, std::string>> ParseFlags(std::span<const std::string_view> args,
                                                              std::span<const std::string_view> known) {
  std::map<std::string, std::string> flags;
  for (size_t i = 0; i < args.size(); ++i) {
    std::string_view arg = args[i];
    if (!arg.starts_with("--")) return absl::InvalidArgumentError(absl::StrCat("unexpected argument \"", std::string(arg), "\""));
    std::string_view name = arg.substr(2);
    std::string value;
    if (size_t eq = name.find('='); eq != std::string_view::npos) {
      value = std::string(name.substr(eq + 1));
      name = name.substr(0, eq);
    } else {
      if (i + 1 >= args.size()) return absl::InvalidArgumentError(absl::StrCat("--", std::string(name), " needs a value"));
      value = std::string(args[++i]);
    }
    if (std::find(known.begin(), known.end(), name) == known.end()) {
      return absl::InvalidArgumentError(absl::StrCat("unknown option --", std::string(name)));
    }
    flags[std::string(name)] = std::move(value);
  }
  return flags;
}

absl::StatusOr<config::Config> ConfigFromFlags(const std::map<std::string, std::string>& flags, bool& uses_dev_keys) {
  config::Config config;
  uses_dev_keys = true;
  if (auto it = flags.find("config"); it != flags.end()) {
    absl::StatusOr<config::Config> loaded = config::LoadConfigFile(it->second);
    if (!loaded.ok()) return loaded.status();
    config = *std::move(loaded);
    uses_dev_keys = false;
  }
  if (auto it = flags.find("data-dir"); it != flags.end()) config.data_dir = it->second;
  if (auto it = flags.find("address"); it != flags.end()) config.listen.address = it->second;
  if (auto it = flags.find("port"); it != flags.end()) {
    unsigned port = 0;
    const std::string& text = it->second;
    auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), port);
    if (error != std::errc() || end != text.data() + text.size() || port > 65535) {
      return absl::InvalidArgumentError(absl::StrCat("--port: \"", text, "\" is not a port number (0-65535)"));
    }
    config.listen.port = static_cast<uint16_t>(port);
  }
  absl::Status status = ValidateConnectorSettings(config);
  if (status.ok()) status = ValidateDefinitions(config);
  if (status.ok()) status = ValidateMatching(config);
  if (!status.ok()) {
    if (auto it = flags.find("config"); it != flags.end()) {
      return absl::InvalidArgumentError(absl::StrCat(it->second, ": ", status.message()));
    }
    return status;
  }
  return config;
}

absl::Status ValidateConnectorSettings(const config::Config& config) {
  for (size_t i = 0; i < config.sources.size(); ++i) {
    const config::Source& source = config.sources[i];
    if (source.connectors.contact_log) {
      absl::StatusOr<connectors::ContactLogImporter> importer = connectors::ContactLogImporter::Create(
          api::ContactLogMappingFrom(*source.connectors.contact_log), ingest::Timestamp());
      if (!importer.ok()) {
        return absl::InvalidArgumentError(absl::StrCat("sources[", i, "].connectors.contact_log (source \"",
                                                       source.name, "\"): ", importer.status().message()));
      }
    }
    if (!source.connectors.csv) continue;
    absl::StatusOr<connectors::CsvImporter> importer =
        connectors::CsvImporter::Create(api::CsvMappingFrom(*source.connectors.csv), ingest::Timestamp());
    if (!importer.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("sources[", i, "].connectors.csv (source \"", source.name,
                                                     "\"): ", importer.status().message()));
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateMatching(const config::Config& config) {
  for (size_t i = 0; i < config.matching.size(); ++i) {
    const config::MatchingConfig& matching = config.matching[i];
    absl::StatusOr<resolve::DuplicateOptions> options = resolve::MakeDuplicateOptions(
        matching.enabled, matching.auto_merge_probability, matching.model_json, matching.max_block, matching.traits);
    if (!options.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("matching[", i, "] (", matching.model, "): ", options.status().message()));
    }
  }
  return absl::OkStatus();
}

std::map<std::string, resolve::DuplicateOptions> DuplicateOptionsFrom(const config::Config& config) {
  std::map<std::string, resolve::DuplicateOptions> by_space;
  for (const config::MatchingConfig& matching : config.matching) {
    absl::StatusOr<resolve::DuplicateOptions> options = resolve::MakeDuplicateOptions(
        matching.enabled, matching.auto_merge_probability, matching.model_json, matching.max_block, matching.traits);
    if (options.ok()) by_space[matching.space] = *std::move(options);  // Checked by ValidateMatching.
  }
  return by_space;
}

absl::Status ValidateDefinitions(const config::Config& config) {
  std::map<std::string, std::vector<std::shared_ptr<const audiences::ComputedTrait>>> computed;
  for (size_t i = 0; i < config.computed_traits.size(); ++i) {
    const config::DefinitionConfig& definition = config.computed_traits[i];
    auto trait = audiences::ParseComputedTrait(definition.json, definition.name);
    if (!trait.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("computed_traits[", i, "] (", definition.name, "): ", trait.status().message()));
    }
    computed[definition.space].push_back(std::make_shared<const audiences::ComputedTrait>(*std::move(trait)));
  }
  for (size_t i = 0; i < config.audiences.size(); ++i) {
    const config::DefinitionConfig& definition = config.audiences[i];
    auto audience = audiences::ParseAudience(definition.name, definition.json, computed[definition.space]);
    if (!audience.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("audiences[", i, "] (", definition.name, "): ", audience.status().message()));
    }
  }
  return absl::OkStatus();
}

std::string StorePath(const config::Config& config) { return config.data_dir + "/store"; }

std::vector<std::string> KnownIdentifierTypes(const config::Config& config) {
  namespace types = identity::identifier_type;
  std::vector<std::string> known;
  for (std::string_view type : {types::kUserId, types::kAnonymousId, types::kEmail, types::kPhone, types::kDeviceId,
                                types::kIdfa, types::kGaid, types::kLoyaltyId, types::kFacebookPsid,
                                types::kInstagramSid, types::kShopifyCustomerId, types::kZendeskUserId,
                                types::kFreshdeskContactId, types::kTwilioCallSid}) {
    known.emplace_back(type);
  }
  for (const config::IdentifierRule& rule : config.identity.rules) known.push_back(rule.type);
  for (const config::IdentifierMappingConfig& mapping : config.identity.identifier_mappings) {
    known.push_back(mapping.type);
  }
  return known;
}

absl::StatusOr<std::shared_ptr<const profile_store::KeyRing>> EncryptionKeysFrom(const config::Config& config) {
  if (!config.encryption) return std::shared_ptr<const profile_store::KeyRing>();
  absl::StatusOr<std::vector<std::string>> keys = config::LoadMasterKeys(*config.encryption);
  if (!keys.ok()) return keys.status();
  absl::StatusOr<std::shared_ptr<const profile_store::KeyRing>> ring = profile_store::KeyRing::FromKeys(*keys);
  for (std::string& key : *keys) OPENSSL_cleanse(key.data(), key.size());
  if (!ring.ok()) return absl::InvalidArgumentError(absl::StrCat("encryption: ", ring.status().message()));
  return ring;
}

absl::StatusOr<std::unique_ptr<profile_store::Store>> OpenStore(const config::Config& config, bool read_only) {
  absl::StatusOr<profile_store::StoreOptions> options = StoreOptionsFrom(config);
  if (!options.ok()) return options.status();
  options->read_only = read_only;
  return profile_store::Store::Open(*options);
}

int StoreOpenExitCode(const absl::Status& status) {
  return absl::IsInvalidArgument(status) || absl::IsFailedPrecondition(status) || absl::IsDataLoss(status) ? 2 : 1;
}

absl::StatusOr<profile_store::StoreOptions> StoreOptionsFrom(const config::Config& config) {
  profile_store::StoreOptions options;
  absl::StatusOr<std::shared_ptr<const profile_store::KeyRing>> keys = EncryptionKeysFrom(config);
  if (!keys.ok()) return keys.status();
  options.encryption_keys = *std::move(keys);
  options.path = StorePath(config);
  options.block_cache_bytes = config.store.block_cache_bytes;
  options.write_buffer_bytes = config.store.write_buffer_bytes;
  options.sync_writes = config.store.sync_writes;
  options.dedup_retention = config.dedup_window;
  return options;
}

absl::StatusOr<std::vector<activation::DestinationSpec>> DestinationSpecsFrom(const config::Config& config) {
  std::vector<activation::DestinationSpec> specs;
  for (size_t i = 0; i < config.destinations.size(); ++i) {
    const config::DestinationConfig& destination = config.destinations[i];
    activation::DestinationSpec spec;
    spec.name = destination.name;
    spec.space = destination.space;
    if (!activation::ParseDestinationType(destination.type, spec.type)) {
      return absl::InvalidArgumentError(absl::StrCat("destinations[", i, "].type: unknown"));
    }
    spec.url = destination.url;
    spec.secret = destination.secret;
    spec.event_types = destination.event_types;
    spec.event_names = destination.event_names;
    spec.audiences = destination.audiences;
    if (!destination.consent.empty()) {
      std::optional<std::string> purpose = privacy::NormalizeConsentPurpose(destination.consent);
      if (!purpose) {
        return absl::InvalidArgumentError(absl::StrCat("destinations[", i, "].consent: ",
                                                       std::string(privacy::kConsentPurposeForm)));
      }
      spec.consent = *purpose;
    }
    spec.batch_events = destination.batch_events;
    spec.requests_per_second = destination.requests_per_second;
    spec.timeout = destination.timeout;
    spec.dead_letter_after = destination.dead_letter_after;
    spec.options_json = destination.options_json;
    spec.retry_initial = destination.retry_initial;
    spec.retry_max = destination.retry_max;
    spec.ca_file = destination.ca_file;
    // The names are checked here, against ingest's one list: config does not depend on ingest.
    for (size_t j = 0; j < destination.free_text.size(); ++j) {
      if (!ingest::IsFreeTextProperty(destination.free_text[j])) {
        return absl::InvalidArgumentError(absl::StrCat("destinations[", i, "].free_text[", j, "]: \"",
                                                       destination.free_text[j], "\" is not one of ",
                                                       ingest::FreeTextPropertyList()));
      }
    }
    spec.free_text = destination.free_text;
    specs.push_back(std::move(spec));
  }
  return specs;
}

std::map<std::string, api::PurchaseModelSettings> PurchaseModelSettingsFrom(const config::Config& config) {
  std::map<std::string, api::PurchaseModelSettings> settings;
  for (const config::PurchaseConfig& purchase : config.purchases) {
    settings[purchase.space] = api::PurchaseModelSettings{.time_zone = base::TimeZone::Parse(purchase.time_zone),
                                                          .currency = purchase.currency,
                                                          .monthly_discount_rate = purchase.monthly_discount_rate};
  }
  return settings;
}

pipeline::PipelineOptions PipelineOptionsFrom(const config::Config& config) {
  pipeline::PipelineOptions options;
  for (const config::Source& source : config.sources) options.spaces.push_back(source.space);
  options.normalizer.default_phone_region = config.identity.default_phone_region;
  for (const config::Source& source : config.sources) {
    if (source.phone_region.empty()) continue;
    options.normalizer.source_phone_regions.push_back(
        {.space = source.space, .source = source.name, .region = source.phone_region});
  }
  const identity::IdentityRules defaults;
  for (const config::IdentifierRule& rule : config.identity.rules) {
    identity::IdentifierRule merged = defaults.For(rule.type);
    merged.type = rule.type;
    if (rule.priority) merged.priority = *rule.priority;
    if (rule.limit) merged.limit = *rule.limit;
    options.rules.push_back(std::move(merged));
    // The normalizer blocks values for every type; a value blocked for one type is not a useful
    // identifier of another either.
    options.normalizer.blocked_values.insert(options.normalizer.blocked_values.end(), rule.blocked.begin(),
                                             rule.blocked.end());
  }
  const config::IdentityOptions& identity = config.identity;
  options.normalizer.blocked_values.insert(options.normalizer.blocked_values.end(), identity.blocked_values.begin(),
                                           identity.blocked_values.end());
  options.normalizer.blocked_patterns = identity.blocked_patterns;
  options.normalizer.email_strip_plus_tag = identity.email_strip_plus_tag;
  options.normalizer.email_strip_gmail_dots = identity.email_strip_gmail_dots;
  for (const config::IdentifierMappingConfig& mapping : identity.identifier_mappings) {
    options.mappings.push_back({.type = mapping.type, .field = mapping.field});
  }
  options.resolver.batch_events = identity.resolver_batch_events;
  options.resolver.retention = config.retention.events;
  options.resolver.retention_interval = config.retention.interval;
  options.resolver.audiences.sweep_interval = config.audience_sweep.interval;
  options.resolver.audiences.sweep_chunk_profiles = config.audience_sweep.chunk_profiles;
  for (const config::DefinitionConfig& definition : config.computed_traits) {
    options.definitions[definition.space].computed_traits.push_back({definition.name, definition.json});
  }
  for (const config::DefinitionConfig& definition : config.audiences) {
    options.definitions[definition.space].audiences.push_back({definition.name, definition.json});
  }
  for (const config::PurchaseConfig& purchase : config.purchases) {
    resolve::PurchaseRules& rules = options.resolver.purchases[purchase.space];
    rules.events = purchase.events;
    rules.value_properties = purchase.value_properties;
    rules.currency = purchase.currency;
    rules.time_zone = base::TimeZone::Parse(purchase.time_zone);  // Checked by the config's reader.
    rules.monthly_discount_rate = purchase.monthly_discount_rate;
    rules.refit_interval = purchase.refit_interval;
  }
  options.resolver.duplicates =
      std::make_shared<const std::map<std::string, resolve::DuplicateOptions>>(DuplicateOptionsFrom(config));
  options.resolver.graph.identifier_cache_entries = identity.cache_entries;
  options.resolver.graph.profile_cache_entries = identity.profile_cache_entries;
  options.group_commit.max_batch_events = config.group_commit.max_batch_events;
  options.group_commit.max_batch_bytes = config.group_commit.max_batch_bytes;
  options.group_commit.max_delay = config.group_commit.max_delay;
  options.group_commit.queue_capacity_events = config.group_commit.queue_capacity_events;
  options.group_commit.dedup_window = config.dedup_window;
  return options;
}

}  // namespace tessera::tools
