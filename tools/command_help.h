#pragma once

// What `tessera --help`, `tessera help [COMMAND]` and `tessera COMMAND --help` print: every
// subcommand's synopsis and description, in one table.

#include <optional>
#include <string>
#include <string_view>

namespace tessera::tools {

// The overview: every command with its synopsis and description.
std::string UsageOfAllCommands();

// One command's synopsis and description; nullopt for an unknown command.
std::optional<std::string> UsageOfCommand(std::string_view command);

}  // namespace tessera::tools
