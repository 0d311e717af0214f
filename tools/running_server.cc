#include "tools/running_server.h"

#include <cstdlib>
#include <filesystem>
#include <string_view>

#include "config/dev_keys.h"

#include "simdjson.h"

namespace tessera::tools {

absl::StatusOr<HttpEndpoint> RunningServerEndpoint(const std::optional<HttpEndpoint>& server,
                                                   const config::Config& config) {
  if (server) return *server;
  if (config.tls) {
    return absl::InvalidArgumentError(
        "a server holds the store, but it speaks HTTPS (tls in the configuration), which this command "
        "cannot; stop the server, or pass --server http://HOST:PORT of a plain-HTTP listener in front of it");
  }
  if (config.listen.port == 0) {
    return absl::InvalidArgumentError(
        "a server holds the store, but its port is chosen at start (listen.port 0); pass --server "
        "http://HOST:PORT");
  }
  HttpEndpoint endpoint;
  // A server listening on every interface is reachable on the loopback one.
  const std::string& address = config.listen.address;
  endpoint.host = address == "0.0.0.0" || address == "::" || address.empty() ? "127.0.0.1" : address;
  endpoint.port = config.listen.port;
  return endpoint;
}

std::string AdminKeyFromFlags(const std::map<std::string, std::string>& flags, const config::Config& config,
                              bool uses_dev_keys) {
  if (auto it = flags.find("admin-key"); it != flags.end()) return it->second;
  if (const char* from_env = std::getenv("TESSERA_ADMIN_KEY"); from_env != nullptr && *from_env != '\0') {
    return from_env;
  }
  std::error_code ignored;
  if (uses_dev_keys && std::filesystem::exists(std::filesystem::path(config.data_dir) / "dev_keys.json", ignored)) {
    absl::StatusOr<config::DevKeys> keys = config::LoadOrCreateDevKeys(config.data_dir);
    if (keys.ok()) return keys->admin_key;
  }
  return "";
}

std::string ServerErrorMessage(const std::string& body) {
  simdjson::dom::parser parser;
  std::string_view message;
  if (parser.parse(body)["error"]["message"].get(message) == simdjson::SUCCESS) return std::string(message);
  return body;
}

}  // namespace tessera::tools
