#pragma once

// For the subcommands that, finding the store locked by a running server, ask that server instead
// of opening the store (`tessera backup`, `tessera import`): where it listens and what it said.

#include <map>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "config/config.h"
#include "tools/http_client.h"

namespace tessera::tools {

// `server` (from --server) when given, else the configured listen address (a wildcard address is
// reached on loopback). InvalidArgument when the configured port is 0 (chosen at start, so unknown
// here), or when the listener speaks TLS (the tools' client is plain HTTP): the caller must be told
// to pass --server.
absl::StatusOr<HttpEndpoint> RunningServerEndpoint(const std::optional<HttpEndpoint>& server,
                                                   const config::Config& config);

// The admin key for asking the server: --admin-key, $TESSERA_ADMIN_KEY, or the development keys
// of the data directory when the server runs on them (no --config). Empty when none is known.
std::string AdminKeyFromFlags(const std::map<std::string, std::string>& flags, const config::Config& config,
                              bool uses_dev_keys);

// The message of an {"error":{"message":...}} answer, or the body itself.
std::string ServerErrorMessage(const std::string& body);

}  // namespace tessera::tools
