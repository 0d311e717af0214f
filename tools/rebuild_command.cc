// `tessera rebuild`: replay the accepted-event log into fresh derived state (identity graph,
// profiles, timelines), e.g. after the identity rules changed. Run with the server stopped.

#include <chrono>
#include <cstdio>
#include <memory>

#include "profile_store/store.h"
#include "resolve/rebuild.h"
#include "tools/commands.h"
#include "tools/options_parsing.h"

namespace tessera::tools {

int RebuildCommand(std::span<const std::string_view> args) {
  constexpr std::string_view kKnown[] = {"config", "data-dir"};
  auto flags = ParseFlags(args, kKnown);
  if (!flags.ok()) {
    std::fprintf(stderr, "tessera rebuild: %s\n", std::string(flags.status().message()).c_str());
    return 2;
  }
  bool uses_dev_keys = false;
  absl::StatusOr<config::Config> config = ConfigFromFlags(*flags, uses_dev_keys);
  if (!config.ok()) {
    std::fprintf(stderr, "tessera rebuild: invalid configuration: %s\n", std::string(config.status().message()).c_str());
    return 2;
  }
  auto store = OpenStore(*config);
  if (!store.ok()) {
    std::fprintf(stderr, "tessera rebuild: %s\n", std::string(store.status().message()).c_str());
    return StoreOpenExitCode(store.status());
  }
  const auto start = std::chrono::steady_clock::now();
  auto report = resolve::Rebuild(**store, PipelineOptionsFrom(*config));
  if (!report.ok()) {
    std::fprintf(stderr, "tessera rebuild: %s\n", std::string(report.status().message()).c_str());
    return 1;
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("rebuilt %zu space(s) from the log: %llu events applied (%llu dead-lettered), %llu profiles created, "
              "%llu merges, in %.2f s (%.0f events/s)\n",
              report->spaces.size(), static_cast<unsigned long long>(report->events),
              static_cast<unsigned long long>(report->dead_letters), static_cast<unsigned long long>(report->profiles),
              static_cast<unsigned long long>(report->merges), seconds,
              seconds > 0 ? static_cast<double>(report->events) / seconds : 0.0);
  if (absl::Status closed = (*store)->Close(); !closed.ok()) {
    std::fprintf(stderr, "tessera rebuild: %s\n", std::string(closed.message()).c_str());
    return 1;
  }
  return 0;
}

}  // namespace tessera::tools
