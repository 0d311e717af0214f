// `tessera log`: print the accepted-event log as NDJSON, for operators and for checking
// durability by hand.

#include <cstdio>
#include <charconv>
#include <memory>
#include <optional>

#include "absl/strings/str_cat.h"
#include "base/json_writer.h"
#include "base/time.h"
#include "ingest/accepted_log.h"
#include "ingest/log_command.h"
#include "ingest/stewardship_command.h"
#include "ingest/event_codec.h"
#include "profile_store/store.h"
#include "tools/commands.h"
#include "tools/options_parsing.h"

namespace tessera::tools {

int LogCommand(std::span<const std::string_view> args) {
  constexpr std::string_view kKnown[] = {"config", "data-dir", "space", "from", "limit"};
  auto flags = ParseFlags(args, kKnown);
  if (!flags.ok()) {
    std::fprintf(stderr, "tessera log: %s\n", std::string(flags.status().message()).c_str());
    return 2;
  }
  bool uses_dev_keys = false;
  absl::StatusOr<config::Config> config = ConfigFromFlags(*flags, uses_dev_keys);
  if (!config.ok()) {
    std::fprintf(stderr, "tessera log: invalid configuration: %s\n", std::string(config.status().message()).c_str());
    return 2;
  }
  auto number_flag = [&](const char* name, uint64_t fallback) -> std::optional<uint64_t> {
    auto it = flags->find(name);
    if (it == flags->end()) return fallback;
    uint64_t value = 0;
    auto [end, error] = std::from_chars(it->second.data(), it->second.data() + it->second.size(), value);
    if (error != std::errc() || end != it->second.data() + it->second.size()) return std::nullopt;
    return value;
  };
  const std::optional<uint64_t> from = number_flag("from", 1);
  const std::optional<uint64_t> limit = number_flag("limit", UINT64_MAX);
  if (!from || !limit) {
    std::fprintf(stderr, "tessera log: --from and --limit take non-negative integers\n");
    return 2;
  }
  const std::string space = flags->contains("space") ? flags->at("space") : "default";

  auto store = OpenStore(*config);  // With the configuration's master keys when it is encrypted.
  if (!store.ok()) {
    std::fprintf(stderr, "tessera log: %s\n", std::string(store.status().message()).c_str());
    return StoreOpenExitCode(store.status());
  }
  ingest::AcceptedLog log(**store);
  uint64_t printed = 0;
  uint64_t damaged = 0;
  std::string line;
  absl::Status status = log.Scan(space, *from, [&](uint64_t sequence, std::string_view record) {
    if (printed >= *limit) return false;
    ++printed;
    // A command not yet carried out (cluster mode): what it is, never the identifier's value.
    if (absl::StatusOr<ingest::ErasureCommand> command = ingest::DecodeErasureCommand(record); command.ok()) {
      line.clear();
      base::JsonWriter json(line);
      json.BeginObject();
      json.Key("sequence").Uint(sequence);
      json.Key("command").BeginObject();
      json.Key("kind").String("erasure");
      json.Key("requestId").String(command->request_id);
      json.Key("identifierType").String(command->identifier_type);
      json.EndObject();
      json.EndObject();
      line.push_back('\n');
      std::fwrite(line.data(), 1, line.size(), stdout);
      return true;
    }
    // An admin's decision about the identity graph, kept in the log (docs/stewardship.md).
    if (ingest::IsStewardshipCommand(record)) {
      absl::StatusOr<ingest::StewardshipCommand> decision = ingest::DecodeStewardshipCommand(record);
      if (!decision.ok()) {
        std::fprintf(stderr, "tessera log: record %llu: %s\n", static_cast<unsigned long long>(sequence),
                     std::string(decision.status().message()).c_str());
        ++damaged;
        return true;
      }
      line.clear();
      base::JsonWriter json(line);
      json.BeginObject();
      json.Key("sequence").Uint(sequence);
      json.Key("command").BeginObject();
      json.Key("kind").String(decision->kind == ingest::StewardshipCommand::Kind::kMerge ? "merge" : "separate");
      json.Key("requestId").String(decision->request_id);
      json.Key("a").String(identity::ToString(decision->a));
      json.Key("b").String(identity::ToString(decision->b));
      json.Key("requestedBy").String(decision->requested_by);
      json.Key("note").String(decision->note);
      json.Key("requestedAt").String(base::FormatIso8601(decision->requested_at));
      json.EndObject();
      json.EndObject();
      line.push_back('\n');
      std::fwrite(line.data(), 1, line.size(), stdout);
      return true;
    }
    // Records are binary since v1; each is printed as the JSON object the API serves for it.
    absl::StatusOr<std::string> event = ingest::RecordAsJson(record);
    if (!event.ok()) {
      std::fprintf(stderr, "tessera log: record %llu: %s\n", static_cast<unsigned long long>(sequence),
                   std::string(event.status().message()).c_str());
      ++damaged;
      return true;
    }
    line.clear();
    absl::StrAppend(&line, "{\"sequence\":", sequence, ",\"event\":");
    line.append(*event);
    line.append("}\n");
    std::fwrite(line.data(), 1, line.size(), stdout);
    return true;
  });
  if (!status.ok()) {
    std::fprintf(stderr, "tessera log: %s\n", std::string(status.message()).c_str());
    return 1;
  }
  if (damaged > 0) {
    std::fprintf(stderr, "tessera log: %llu damaged records were left out\n",
                 static_cast<unsigned long long>(damaged));
    return 1;
  }
  return 0;
}

}  // namespace tessera::tools
