#pragma once

// Internal to config/: the readers of the configuration's sections, one file per concept. The
// document reader (config.cc) hands each top-level key to one of them; each reader fills its part
// of Config and returns the first error, naming the key path (config/internal/json_reader.h).

#include <chrono>
#include <string>

#include "absl/status/status.h"
#include "config/config.h"
#include "config/internal/json_reader.h"

namespace tessera::config::internal {

// ----- The HTTP and WebSocket server (server_sections.cc) -----

absl::Status ReadListen(element value, const std::string& path, ListenOptions& listen);
// tls: both files or no "tls" at all; a half-configured listener is a mistake, not plain HTTP.
absl::Status ReadTls(element value, const std::string& path, TlsOptions& tls);
absl::Status ReadCors(element value, const std::string& path, CorsOptions& cors);
absl::Status ReadLimits(element value, const std::string& path, LimitOptions& limits);
absl::Status ReadStream(element value, const std::string& path, StreamOptions& stream);
absl::Status ReadThreads(element value, const std::string& path, ThreadOptions& threads);

// ----- Writing and keeping events (storage_sections.cc) -----

absl::Status ReadRetention(element value, const std::string& path, RetentionOptions& retention);
absl::Status ReadDedup(element value, const std::string& path, std::chrono::seconds& dedup_window);
absl::Status ReadGroupCommit(element value, const std::string& path, GroupCommitOptions& group_commit);
absl::Status ReadStore(element value, const std::string& path, StoreOptions& store);
// destinations[]: each one's envelope (DestinationConfig); unique names, known types and event types.
absl::Status ReadDestinations(element value, const std::string& path, std::vector<DestinationConfig>& destinations);
// encryption: exactly one of key_file, key_env, key_command.
absl::Status ReadEncryption(element value, const std::string& path, EncryptionOptions& encryption);

// ----- Cluster mode (cluster_section.cc) -----

absl::Status ReadCluster(element value, const std::string& path, ClusterOptions& cluster);

// ----- Sources and keys (sources_section.cc) -----

absl::Status ReadSource(element value, const std::string& path, Source& source);
// Every key (sources[].write_key, read_keys[], admin_keys[]) is the secret itself or its digest
// (config/key_digest.h). Keys are compared by digest, so a clash is found whichever way each side
// is written. A key in both read_keys and admin_keys is allowed: it is an admin key.
absl::Status ValidateKeys(const Config& config);

// ----- A source's connector settings (connectors_section.cc) -----

absl::Status ReadConnectorSettings(element value, const std::string& path, ConnectorSettings& settings);

// ----- Identity (identity_section.cc) -----

absl::Status ReadIdentity(element value, const std::string& path, IdentityOptions& identity);
// identity.default_phone_region and sources[i].phone_region. Whether libphonenumber supports the
// region is checked when the normalizer is built (identity::Normalizer::Create), at start-up too.
ValueReader PhoneRegionReader(std::string& region);

// ----- Computed traits and audiences (audiences_sections.cc) -----

// A definition object: "space" is taken out, "name" is required, the rest is kept as JSON for the
// audiences component to validate (it knows the formats; config only carries them).
// Audience bodies (as PUT takes them) have no "name": `keep_name` false leaves it out of `json`.
absl::Status ReadDefinition(element value, const std::string& path, bool keep_name,
                            DefinitionConfig& definition);
absl::Status ReadAudienceSweep(element value, const std::string& path, AudienceSweepOptions& audience_sweep);

// ----- Purchases and their models (purchases_section.cc) -----

// purchases[]: one entry per space; time zones, currencies and value paths checked here.
absl::Status ReadPurchases(element value, const std::string& path, std::vector<PurchaseConfig>& purchases);

// ----- Duplicate profiles (matching_section.cc) -----
// matching: one object (for its space) or an array of them, one per space.
absl::Status ReadMatching(element value, const std::string& path, std::vector<MatchingConfig>& matching);

}  // namespace tessera::config::internal
