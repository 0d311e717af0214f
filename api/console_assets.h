#pragma once

// The web console's built files (console/, built by Vite), embedded in the binary at build time:
// CMake runs `npm ci` and `vite build`, then cmake/embed_assets.cmake writes a .cc of byte arrays
// into the build directory (console_assets_data.cc), which defines ConsoleAssets(). Only that
// file and console_handler.cc know about it, so a front-end change recompiles one small file.

#include <span>
#include <string_view>

namespace tessera::api {

struct StaticAsset {
  std::string_view path;  // Relative to /console/, e.g. "index.html", "assets/index-3f9a1c.js".
  std::string_view data;  // The file's bytes.
};

// Every embedded file, sorted by path. Empty when the console was not built (TESSERA_CONSOLE=OFF).
std::span<const StaticAsset> ConsoleAssets();

}  // namespace tessera::api
