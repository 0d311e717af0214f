#pragma once

// What derived state is a function of, besides the accepted-event log: how identifiers are found
// and normalized, the identity rules, the resolver's settings, and the definitions of computed
// traits and audiences. Live resolution, `tessera rebuild` and `tessera verify` take the same
// options, so that the same log and the same options give the same derived state.

#include <map>
#include <string>
#include <vector>

#include "audiences/space_audiences.h"
#include "identity/identity_rules.h"
#include "identity/normalizer.h"
#include "ingest/identifier_extractor.h"
#include "resolve/resolver.h"

namespace tessera::resolve {

// Computed traits and audiences from the config file, for one space.
struct SpaceDefinitions {
  std::vector<audiences::ConfiguredDefinition> computed_traits;
  std::vector<audiences::ConfiguredDefinition> audiences;
};

struct DerivedStateOptions {
  ResolverOptions resolver;                         // Batching, dead letters, retention.
  identity::NormalizerOptions normalizer;           // Default phone region, blocked values.
  std::vector<identity::IdentifierRule> rules;      // Priorities and limits per identifier type.
  std::vector<ingest::IdentifierMapping> mappings;  // Configured identifier fields.
  // By space; spaces without any still get audiences, defined through the API.
  std::map<std::string, SpaceDefinitions> definitions;
};

}  // namespace tessera::resolve
