#pragma once

// The `tessera` subcommands. Each takes its arguments (after the subcommand name) and returns the
// process exit code: 0 success, 1 runtime failure, 2 bad usage or configuration.

#include <span>
#include <string_view>

namespace tessera::tools {

int ServeCommand(std::span<const std::string_view> args);
int LogCommand(std::span<const std::string_view> args);
int ImportCommand(std::span<const std::string_view> args);
int ExportCommand(std::span<const std::string_view> args);
int RebuildCommand(std::span<const std::string_view> args);
int BackupCommand(std::span<const std::string_view> args);
int RestoreCommand(std::span<const std::string_view> args);
int VerifyCommand(std::span<const std::string_view> args);
int ClusterCommand(std::span<const std::string_view> args);
int KeysCommand(std::span<const std::string_view> args);
int EncryptCommand(std::span<const std::string_view> args);
int DecryptCommand(std::span<const std::string_view> args);
int DestinationsCommand(std::span<const std::string_view> args);
// `tessera match` (tools/match_command.cc): offline probabilistic matching of a CSV file.
int MatchCommand(std::span<const std::string_view> args);
int BenchCommand(std::span<const std::string_view> args);
// `tessera bench audiences` (tools/bench_audiences.cc), dispatched by BenchCommand.
int BenchAudiences(std::span<const std::string_view> args);
// `tessera bench purchase-fit` (tools/bench_prediction.cc), dispatched by BenchCommand.
int BenchPurchaseFit(std::span<const std::string_view> args);
// `tessera bench match` (tools/match_command.cc), dispatched by BenchCommand.
int BenchMatch(std::span<const std::string_view> args);
// The steps of tools/bench/run.sh (tools/bench_suite.cc): corpus, parse, store, pipeline, graph.
int BenchSuiteStep(std::string_view step, std::span<const std::string_view> args);

}  // namespace tessera::tools
