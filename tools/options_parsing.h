#pragma once

// Shared command-line handling of the subcommands: `--name value` flags and the configuration they
// point at (a file, or the defaults with a data directory).

#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "resolve/duplicate_index.h"
#include "activation/destination.h"
#include "api/model_handler.h"
#include "config/config.h"
#include "pipeline/ingest_pipeline.h"
#include "profile_store/store.h"

namespace tessera::tools {

// Parses `--name value` pairs; every name must be in `known`. InvalidArgument otherwise.
absl::StatusOr<std::map<std::string, std::string>> ParseFlags(std::span<const std::string_view> args,
                                                              std::span<const std::string_view> known);

// The configuration named by --config, or the defaults; --data-dir, --address and --port override
// it. `uses_dev_keys` tells whether the caller should add development keys (no --config given).
absl::StatusOr<config::Config> ConfigFromFlags(const std::map<std::string, std::string>& flags, bool& uses_dev_keys);

// Asks each connector whether the configured settings are usable (today: every source's
// connectors.csv and connectors.contact_log mappings, via CsvImporter::Create and
// ContactLogImporter::Create). InvalidArgument naming the source otherwise.
// ConfigFromFlags calls it, so a bad mapping stops every command with exit code 2.
absl::Status ValidateConnectorSettings(const config::Config& config);

// Parses every computed trait and audience of the config with the audiences component, so that a
// bad definition stops every command with exit code 2, naming the definition and the node.
absl::Status ValidateDefinitions(const config::Config& config);
// matching[]: each entry's model fits profile matching and its traits name person fields.
absl::Status ValidateMatching(const config::Config& config);
// The resolvers' (and /duplicates') duplicate options by space, from matching[] (validated).
std::map<std::string, resolve::DuplicateOptions> DuplicateOptionsFrom(const config::Config& config);

// Where the RocksDB database lives inside the data directory.
std::string StorePath(const config::Config& config);

// The master keys the configuration's encryption section names (config/master_keys.h); null when
// encryption is off. InvalidArgument naming the source (never a key) when they cannot be read.
absl::StatusOr<std::shared_ptr<const profile_store::KeyRing>> EncryptionKeysFrom(const config::Config& config);

// Each component's options, from the configuration. The store's carry its master keys, so this
// fails as EncryptionKeysFrom does.
absl::StatusOr<profile_store::StoreOptions> StoreOptionsFrom(const config::Config& config);
// Opens the configuration's store (StoreOptionsFrom, then Store::Open).
absl::StatusOr<std::unique_ptr<profile_store::Store>> OpenStore(const config::Config& config, bool read_only = false);
// The exit code for a store that did not open: 2 for what the operator must put right in the
// configuration, the keys or the files (a key that cannot be read, is missing or wrong, a plain
// store with keys or the reverse, an altered or cut-short file), 1 for the rest.
int StoreOpenExitCode(const absl::Status& status);
pipeline::PipelineOptions PipelineOptionsFrom(const config::Config& config);
// The purchase models' settings of each space listed in config `purchases`.
std::map<std::string, api::PurchaseModelSettings> PurchaseModelSettingsFrom(const config::Config& config);
// The destinations as delivery runs them (the configuration checked that a source writes to each
// one's space). InvalidArgument for a consent purpose that is not one.
absl::StatusOr<std::vector<activation::DestinationSpec>> DestinationSpecsFrom(const config::Config& config);

// Identifier types a profile lookup may name: the built-in ones and those the configuration adds.
std::vector<std::string> KnownIdentifierTypes(const config::Config& config);

}  // namespace tessera::tools
