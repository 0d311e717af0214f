// tessera: the one binary. `tessera serve` runs the server; other subcommands operate on a store.

#include <algorithm>
#include <cstdio>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tools/command_help.h"
#include "tools/commands.h"

namespace {

bool IsHelpFlag(std::string_view arg) { return arg == "--help" || arg == "-h"; }

// `tessera help [COMMAND]`, `tessera --help`, `tessera COMMAND --help`: usage on stdout, exit 0.
int PrintHelp(std::string_view command) {
  if (command.empty()) {
    std::fputs(tessera::tools::UsageOfAllCommands().c_str(), stdout);
    return 0;
  }
  const std::optional<std::string> usage = tessera::tools::UsageOfCommand(command);
  if (!usage) {
    std::fprintf(stderr, "tessera: unknown command \"%.*s\"\n\n%s", static_cast<int>(command.size()),
                 command.data(), tessera::tools::UsageOfAllCommands().c_str());
    return 2;
  }
  std::fputs(usage->c_str(), stdout);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string_view> args(argv + 1, argv + argc);
  if (args.empty()) {
    std::fputs(tessera::tools::UsageOfAllCommands().c_str(), stderr);
    return 2;
  }
  if (IsHelpFlag(args[0])) return PrintHelp("");
  if (args[0] == "help") return PrintHelp(args.size() > 1 ? args[1] : std::string_view());
  const std::string_view command = args[0];
  std::span<const std::string_view> rest(args.data() + 1, args.size() - 1);
  // --help anywhere after a known command asks for its usage (no option of ours takes "--help" as a value).
  if (std::any_of(rest.begin(), rest.end(), IsHelpFlag) && tessera::tools::UsageOfCommand(command)) {
    return PrintHelp(command);
  }
  if (command == "serve") return tessera::tools::ServeCommand(rest);
  if (command == "log") return tessera::tools::LogCommand(rest);
  if (command == "import") return tessera::tools::ImportCommand(rest);
  if (command == "export") return tessera::tools::ExportCommand(rest);
  if (command == "rebuild") return tessera::tools::RebuildCommand(rest);
  if (command == "backup") return tessera::tools::BackupCommand(rest);
  if (command == "destinations") return tessera::tools::DestinationsCommand(rest);
  if (command == "restore") return tessera::tools::RestoreCommand(rest);
  if (command == "verify") return tessera::tools::VerifyCommand(rest);
  if (command == "cluster") return tessera::tools::ClusterCommand(rest);
  if (command == "keys") return tessera::tools::KeysCommand(rest);
  if (command == "encrypt") return tessera::tools::EncryptCommand(rest);
  if (command == "decrypt") return tessera::tools::DecryptCommand(rest);
  if (command == "bench") return tessera::tools::BenchCommand(rest);
  if (command == "match") return tessera::tools::MatchCommand(rest);
  return PrintHelp(command);  // Unknown: says so, with the overview, exit 2.
}
