// `tessera cluster init|status`: the NATS JetStream side of cluster mode (docs/cluster.md), with
// the configuration's cluster section: the event stream of every configured space and the lease
// bucket of the resolvers.

#include <chrono>
#include <cstdio>
#include <memory>
#include <set>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "cluster/cluster_suppression.h"
#include "cluster/event_stream.h"
#include "cluster/member_registry.h"
#include "cluster/nats_connection.h"
#include "cluster/space_lease.h"
#include "simdjson.h"
#include "tools/commands.h"
#include "tools/options_parsing.h"

namespace tessera::tools {
namespace {

int Fail(int code, const std::string& message) {
  std::fprintf(stderr, "tessera cluster: %s\n", message.c_str());
  return code;
}

std::set<std::string> SpacesOf(const config::Config& config) {
  std::set<std::string> spaces;
  for (const config::Source& source : config.sources) spaces.insert(source.space);
  return spaces;
}

cluster::LeaseOptions LeaseOptionsOf(const config::ClusterOptions& options) {
  return {.ttl = options.lease_ttl, .replicas = options.stream_replicas};
}

int Init(const config::Config& config, cluster::NatsConnection& nats) {
  const config::ClusterOptions& options = *config.cluster;
  cluster::EventStream streams(nats, {.replicas = options.stream_replicas, .duplicate_window = options.duplicate_window,
                                          .max_bytes = options.stream_max_bytes});
  for (const std::string& space : SpacesOf(config)) {
    if (absl::Status s = streams.Ensure(space); !s.ok()) return Fail(1, std::string(s.message()));
    std::printf("stream %s for space %s: ready (%d replicas, duplicate window %llds)\n",
                cluster::StreamName(space).c_str(), space.c_str(), options.stream_replicas,
                static_cast<long long>(options.duplicate_window.count()));
  }
  auto leases = cluster::SpaceLeases::Open(nats, LeaseOptionsOf(options));
  if (!leases.ok()) return Fail(1, std::string(leases.status().message()));
  std::printf("lease bucket %s: ready (TTL %llds)\n", (*leases)->options().bucket.c_str(),
              static_cast<long long>(options.lease_ttl.count()));
  auto members = cluster::MemberRegistry::Open(nats, {.replicas = options.stream_replicas});
  if (!members.ok()) return Fail(1, std::string(members.status().message()));
  std::printf("member bucket tessera_members: ready\n");
  const cluster::ClusterSuppressionOptions suppression{.replicas = options.stream_replicas};
  if (absl::Status s = cluster::ClusterSuppression::Ensure(nats, suppression, nats.options().request_timeout);
      !s.ok()) {
    return Fail(1, std::string(s.message()));
  }
  std::printf("suppression bucket %s: ready\n", suppression.bucket.c_str());
  return 0;
}

// Reads a field of a member's report when it is there with the expected type (a report from
// another build may lack it).
template <typename T>
void ReadField(simdjson::simdjson_result<simdjson::dom::element> field, T& out) {
  if (field.get(out) != simdjson::SUCCESS) return;
}

// Each member's report (tools/cluster_member.cc) as rows: one per space it applies, or one for a
// gateway. Lag is the stream's last sequence as that member last saw it, less what it applied.
void PrintMembers(cluster::NatsConnection& nats, const config::ClusterOptions& options) {
  auto members = cluster::MemberRegistry::Open(nats, {.replicas = options.stream_replicas}, /*create=*/false);
  if (!members.ok()) {
    std::printf("\nmembers: none announced yet (%s)\n", std::string(members.status().message()).c_str());
    return;
  }
  auto listed = (*members)->List();
  if (!listed.ok()) {
    std::printf("\nmembers: %s\n", std::string(listed.status().message()).c_str());
    return;
  }
  std::printf("\n%-28s %-24s %-22s %-16s %12s %12s %10s  %s\n", "member", "roles", "http", "space", "copied",
              "applied", "lag", "lease");
  simdjson::dom::parser parser;
  for (const auto& [key, report] : *listed) {
    simdjson::dom::element root;
    if (parser.parse(report).get(root) != simdjson::SUCCESS) {
      std::printf("%-28s (unreadable report)\n", key.c_str());
      continue;
    }
    std::string_view name = key, http;
    std::string roles;
    ReadField(root["name"], name);
    ReadField(root["http"], http);
    simdjson::dom::array role_list;
    if (root["roles"].get(role_list) == simdjson::SUCCESS) {
      for (simdjson::dom::element role : role_list) {
        std::string_view text;
        if (role.get(text) != simdjson::SUCCESS) continue;
        if (!roles.empty()) roles += ",";
        roles += text;
      }
    }
    simdjson::dom::object spaces;
    bool printed = false;
    if (root["spaces"].get(spaces) == simdjson::SUCCESS) {
      for (auto [space, fields] : spaces) {
        uint64_t copied = 0, applied = 0, last = 0;
        bool lease = false;
        ReadField(fields["copied"], copied);
        ReadField(fields["applied"], applied);
        ReadField(fields["stream_last"], last);
        ReadField(fields["lease"], lease);
        std::string_view error;
        const bool failed = fields["error"].get(error) == simdjson::SUCCESS;
        std::printf("%-28.*s %-24s %-22.*s %-16.*s %12llu %12llu %10llu  %s%s%.*s\n", static_cast<int>(name.size()),
                    name.data(), roles.c_str(), static_cast<int>(http.size()), http.data(),
                    static_cast<int>(space.size()), space.data(), static_cast<unsigned long long>(copied),
                    static_cast<unsigned long long>(applied),
                    static_cast<unsigned long long>(last > applied ? last - applied : 0), lease ? "held" : "-",
                    failed ? "  error: " : "", failed ? static_cast<int>(error.size()) : 0, failed ? error.data() : "");
        printed = true;
      }
    }
    if (!printed) {
      std::printf("%-28.*s %-24s %-22.*s %-16s %12s %12s %10s  %s\n", static_cast<int>(name.size()), name.data(),
                  roles.c_str(), static_cast<int>(http.size()), http.data(), "-", "-", "-", "-", "-");
    }
  }
}

int Status(const config::Config& config, cluster::NatsConnection& nats) {
  const config::ClusterOptions& options = *config.cluster;
  cluster::EventStream streams(nats, {.replicas = options.stream_replicas});
  auto leases = cluster::SpaceLeases::Open(nats, LeaseOptionsOf(options), /*create=*/false);
  if (!leases.ok() && !absl::IsNotFound(leases.status())) return Fail(1, std::string(leases.status().message()));
  std::printf("%-20s %-36s %12s %12s %14s %8s  %s\n", "space", "stream", "events", "last_seq", "bytes", "replicas",
              "resolver");
  int missing = 0;
  for (const std::string& space : SpacesOf(config)) {
    std::string resolver = leases.ok() ? "(none)" : "(no lease bucket)";
    if (leases.ok()) {
      auto holder = (*leases)->Holder(space);
      if (!holder.ok()) return Fail(1, std::string(holder.status().message()));
      if (holder->has_value()) resolver = **holder;
    }
    auto state = streams.State(space);
    if (absl::IsNotFound(state.status())) {
      ++missing;
      std::printf("%-20s %-36s %12s %12s %14s %8s  %s\n", space.c_str(), "(none: run tessera cluster init)", "-",
                  "-", "-", "-", resolver.c_str());
      continue;
    }
    if (!state.ok()) return Fail(1, std::string(state.status().message()));
    std::printf("%-20s %-36s %12llu %12llu %14llu %8lld  %s\n", space.c_str(), cluster::StreamName(space).c_str(),
                static_cast<unsigned long long>(state->messages), static_cast<unsigned long long>(state->last_sequence),
                static_cast<unsigned long long>(state->bytes), static_cast<long long>(state->replicas),
                resolver.c_str());
  }
  PrintMembers(nats, options);
  return missing > 0 ? 1 : 0;
}

}  // namespace

int ClusterCommand(std::span<const std::string_view> args) {
  if (args.empty() || (args[0] != "init" && args[0] != "status")) {
    return Fail(2, "expected `cluster init` or `cluster status` (tessera help cluster)");
  }
  const std::string_view action = args[0];
  constexpr std::string_view kKnown[] = {"config", "timeout-ms"};
  auto flags = ParseFlags(args.subspan(1), kKnown);
  if (!flags.ok()) return Fail(2, std::string(flags.status().message()));
  if (!flags->contains("config")) return Fail(2, "--config FILE is required (its cluster section names the servers)");
  bool uses_dev_keys = false;
  absl::StatusOr<config::Config> config = ConfigFromFlags(*flags, uses_dev_keys);
  if (!config.ok()) return Fail(2, absl::StrCat("invalid configuration: ", config.status().message()));
  if (!config->cluster) return Fail(2, "the configuration has no cluster section (docs/cluster.md)");
  int timeout_ms = 5'000;
  if (auto it = flags->find("timeout-ms"); it != flags->end()) {
    if (!absl::SimpleAtoi(it->second, &timeout_ms) || timeout_ms < 1) {
      return Fail(2, "--timeout-ms takes a positive number of milliseconds");
    }
  }

  const auto timeout = std::chrono::milliseconds(timeout_ms);
  auto nats = cluster::NatsConnection::Connect(
      {.urls = config->cluster->nats_urls, .name = "tessera cluster " + std::string(action), .request_timeout = timeout});
  if (!nats.ok()) return Fail(1, std::string(nats.status().message()));
  if (!(*nats)->WaitConnected(timeout)) {
    return Fail(1, absl::StrCat("no NATS server answered within ", timeout_ms, " ms at ",
                                absl::StrJoin(config->cluster->nats_urls, ", ")));
  }
  return action == "init" ? Init(*config, **nats) : Status(*config, **nats);
}

}  // namespace tessera::tools
