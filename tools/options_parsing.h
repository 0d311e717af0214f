#pragma once

// Shared command-line handling of the subcommands: `--name value` flags and the configuration they
// point at (a file, or the defaults with a data directory).

#include <map>
#include <span>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
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
// connectors.csv mapping, via CsvImporter::Create). InvalidArgument naming the source otherwise.
// ConfigFromFlags calls it, so a bad mapping stops every command with exit code 2.
absl::Status ValidateConnectorSettings(const config::Config& config);

// Parses every computed trait and audience of the config with the audiences component, so that a
// bad definition stops every command with exit code 2, naming the definition and the node.
absl::Status ValidateDefinitions(const config::Config& config);

// Where the RocksDB database lives inside the data directory.
std::string StorePath(const config::Config& config);

// Each component's options, from the configuration.
profile_store::StoreOptions StoreOptionsFrom(const config::Config& config);
pipeline::PipelineOptions PipelineOptionsFrom(const config::Config& config);

// Identifier types a profile lookup may name: the built-in ones and those the configuration adds.
std::vector<std::string> KnownIdentifierTypes(const config::Config& config);

}  // namespace tessera::tools
