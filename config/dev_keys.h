#pragma once

// Development keys for a server started without a configuration file. They are generated once,
// from the operating system's random source, and kept in `<data_dir>/dev_keys.json` so that a
// restart keeps the same keys (clients configured with them keep working).

#include <string>

#include "absl/status/statusor.h"
#include "config/config.h"

namespace tessera::config {

struct DevKeys {
  std::string write_key;
  std::string read_key;
  std::string admin_key;
};

// Loads `<data_dir>/dev_keys.json`, or creates it (and the directory) with fresh random keys.
absl::StatusOr<DevKeys> LoadOrCreateDevKeys(const std::string& data_dir);

// Adds the development keys to `config`: one source (space "default", channel "server") for the
// write key, plus the read and admin keys.
void ApplyDevKeys(const DevKeys& keys, Config& config);

}  // namespace tessera::config
