// `tessera destinations replay|pause|resume NAME`: asks the running server (POST
// /v1/destinations/NAME/ACTION, api/destination_handler.h) to send a destination's dead letters
// again, or to pause or resume it. Delivery runs in the server, so these go through it.

#include <cstdio>
#include <map>
#include <string>

#include "absl/strings/str_cat.h"
#include "simdjson.h"
#include "tools/commands.h"
#include "tools/http_client.h"
#include "tools/options_parsing.h"
#include "tools/running_server.h"

namespace tessera::tools {
namespace {

int Fail(int code, const std::string& message) {
  std::fprintf(stderr, "tessera: %s\n", message.c_str());
  return code;
}

constexpr std::string_view kUsage =
    "usage: tessera destinations replay|pause|resume NAME [--config FILE | --data-dir DIR] [--server URL] "
    "[--admin-key KEY]";

}  // namespace

int DestinationsCommand(std::span<const std::string_view> args) {
  if (args.size() < 2 || args[0].starts_with("--") || args[1].starts_with("--")) return Fail(2, std::string(kUsage));
  const std::string action(args[0]);
  const std::string name(args[1]);
  if (action != "replay" && action != "pause" && action != "resume") return Fail(2, std::string(kUsage));
  constexpr std::string_view kKnown[] = {"config", "data-dir", "server", "admin-key"};
  auto flags = ParseFlags(args.subspan(2), kKnown);
  if (!flags.ok()) return Fail(2, std::string(flags.status().message()));
  bool uses_dev_keys = false;
  absl::StatusOr<config::Config> config = ConfigFromFlags(*flags, uses_dev_keys);
  if (!config.ok()) return Fail(2, absl::StrCat("invalid configuration: ", config.status().message()));
  std::optional<HttpEndpoint> server;
  if (auto it = flags->find("server"); it != flags->end()) {
    absl::StatusOr<HttpEndpoint> parsed = ParseHttpUrl(it->second);
    if (!parsed.ok()) return Fail(2, absl::StrCat("--server: ", parsed.status().message()));
    server = *parsed;
  }
  absl::StatusOr<HttpEndpoint> endpoint = RunningServerEndpoint(server, *config);
  if (!endpoint.ok()) return Fail(2, std::string(endpoint.status().message()));
  const std::string admin_key = AdminKeyFromFlags(*flags, *config, uses_dev_keys);
  if (admin_key.empty()) {
    return Fail(2, "an admin key is needed: pass --admin-key KEY or set TESSERA_ADMIN_KEY");
  }
  absl::StatusOr<HttpAnswer> answer =
      PostJson(*endpoint, absl::StrCat("/v1/destinations/", name, "/", action), "{}",
               {{"Authorization", absl::StrCat("Bearer ", admin_key)}}, std::chrono::seconds(30));
  if (!answer.ok()) {
    return Fail(1, absl::StrCat("cannot reach the server at ", endpoint->Url(), ": ", answer.status().message()));
  }
  if (answer->status != 200) {
    return Fail(answer->status == 401 || answer->status == 403 || answer->status == 404 ? 2 : 1,
                absl::StrCat("the server at ", endpoint->Url(), " answered ", answer->status, ": ",
                             ServerErrorMessage(answer->body)));
  }
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (parser.parse(answer->body).get(root) != simdjson::SUCCESS) {
    return Fail(1, absl::StrCat("unexpected answer from the server: ", answer->body));
  }
  if (action == "replay") {
    uint64_t letters = 0;
    if (root["deadLetters"].get(letters) != simdjson::SUCCESS) {
      return Fail(1, absl::StrCat("unexpected answer from the server: ", answer->body));
    }
    std::printf("destination %s: %llu dead letter%s to send again; GET /v1/destinations/%s shows the progress\n",
                name.c_str(), static_cast<unsigned long long>(letters), letters == 1 ? "" : "s", name.c_str());
  } else {
    std::printf("destination %s: %s\n", name.c_str(), action == "pause" ? "paused" : "resumed");
  }
  return 0;
}

}  // namespace tessera::tools
