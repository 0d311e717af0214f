// `tessera verify`: check that the store's derived state (identity graph, profiles, merges,
// timelines) is what a replay of its accepted-event log gives (resolve/verify.h), e.g. after a
// crash, a restore, or an upgrade. Run with the server stopped. The store's contents are not
// changed (opening it after a crash replays its write-ahead log, as any open does).

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "profile_store/backup.h"
#include "profile_store/store.h"
#include "resolve/verify.h"
#include "tools/commands.h"
#include "tools/options_parsing.h"

namespace tessera::tools {
namespace {

int Fail(int code, const std::string& message) {
  std::fprintf(stderr, "tessera verify: %s\n", message.c_str());
  return code;
}

// A value, or the part of it around `from` (where it starts to differ from the other copy's).
std::string Shown(const std::optional<std::string>& value, size_t from) {
  if (!value) return "(absent)";
  constexpr size_t kBefore = 80;
  constexpr size_t kMax = 400;
  const size_t start = from > kBefore ? std::min(from - kBefore, value->size()) : 0;
  std::string shown = start > 0 ? absl::StrCat("...", value->substr(start, kMax)) : value->substr(0, kMax);
  if (start + kMax < value->size()) absl::StrAppend(&shown, "... (", value->size(), " bytes)");
  return shown;
}

size_t FirstDifference(const std::optional<std::string>& a, const std::optional<std::string>& b) {
  if (!a || !b) return 0;
  const size_t common = std::min(a->size(), b->size());
  size_t at = 0;
  while (at < common && (*a)[at] == (*b)[at]) ++at;
  return at;
}

}  // namespace

int VerifyCommand(std::span<const std::string_view> args) {
  constexpr std::string_view kKnown[] = {"config", "data-dir", "work-dir", "max-differences"};
  auto flags = ParseFlags(args, kKnown);
  if (!flags.ok()) return Fail(2, std::string(flags.status().message()));
  bool uses_dev_keys = false;
  absl::StatusOr<config::Config> config = ConfigFromFlags(*flags, uses_dev_keys);
  if (!config.ok()) return Fail(2, absl::StrCat("invalid configuration: ", config.status().message()));
  resolve::VerifyOptions options;
  if (auto it = flags->find("work-dir"); it != flags->end()) options.work_dir = it->second;
  if (auto it = flags->find("max-differences"); it != flags->end()) {
    if (!absl::SimpleAtoi(it->second, &options.max_differences)) {
      return Fail(2, "--max-differences takes a non-negative integer");
    }
  }

  const std::string store_path = StorePath(*config);
  if (!profile_store::StoreExists(store_path)) {
    return Fail(1, absl::StrCat("no store at ", store_path, " (check --data-dir or data_dir in --config)"));
  }
  absl::StatusOr<bool> locked = profile_store::StoreIsLocked(store_path);
  if (!locked.ok()) return Fail(1, std::string(locked.status().message()));
  if (*locked)
    return Fail(
        1, absl::StrCat("a running process (a server?) holds the store at ", store_path, "; stop it first"));
  auto store = OpenStore(*config);
  if (!store.ok()) return Fail(StoreOpenExitCode(store.status()), std::string(store.status().message()));

  const auto start = std::chrono::steady_clock::now();
  absl::StatusOr<resolve::VerifyReport> report =
      resolve::VerifyDerivedState(**store, PipelineOptionsFrom(*config), options);
  if (!report.ok()) return Fail(1, std::string(report.status().message()));
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  for (const resolve::DerivedDifference& difference : report->differences) {
    const size_t at = FirstDifference(difference.live, difference.rebuilt);
    std::printf("differs: %s [%s]%s\n  live:    %s\n  rebuilt: %s\n", difference.family.c_str(),
                difference.key.c_str(), at > 0 ? absl::StrCat(" from byte ", at).c_str() : "",
                Shown(difference.live, at).c_str(), Shown(difference.rebuilt, at).c_str());
  }
  const std::string what = absl::StrCat(report->spaces.size(), " space(s), ", report->rows_compared,
                                        " rows of identifiers, profiles (audience memberships aside), "
                                        "merges, timeline, dead_letter and resolver "
                                        "positions; ",
                                        report->caught_up_events,
                                        " logged event(s) were not yet applied and were caught up first, ",
                                        report->replayed_events, " replayed");
  if (!report->identical()) {
    std::printf("derived state DIFFERS from a rebuild from the log: %llu row(s) differ (%s; %.2f s)\n",
                static_cast<unsigned long long>(report->differing_rows), what.c_str(), seconds);
    return 1;
  }
  std::printf("derived state equals a rebuild from the log (%s; %.2f s)\n", what.c_str(), seconds);
  return 0;
}

}  // namespace tessera::tools
