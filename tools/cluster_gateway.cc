#include "tools/cluster_gateway.h"

#include <algorithm>
#include <cstdio>
#include <set>
#include <string>

#include "absl/strings/str_cat.h"
#include "cluster/event_stream.h"
#include "cluster/stream_writer.h"

namespace tessera::tools {

absl::StatusOr<GatewaySink> StartGatewaySink(const config::Config& config, ingest::IngestMetrics& metrics) {
  const config::ClusterOptions& options = *config.cluster;
  for (const std::string& role : options.roles) {
    if (role != "gateway") {
      return absl::InvalidArgumentError(absl::StrCat(
          "cluster.role: this build serves the gateway role only; \"", role,
          "\" (applying the stream into a store) comes in a later step (docs/cluster.md)"));
    }
  }
  auto nats = cluster::NatsConnection::Connect({.urls = options.nats_urls,
                                                .name = options.name.empty() ? "tessera gateway" : options.name,
                                                .request_timeout = options.publish_timeout});
  if (!nats.ok()) return nats.status();

  std::set<std::string> spaces;
  for (const config::Source& source : config.sources) spaces.insert(source.space);
  if ((*nats)->WaitConnected(options.publish_timeout)) {
    cluster::EventStream streams(**nats, {.replicas = options.stream_replicas,
                                          .duplicate_window = options.duplicate_window});
    for (const std::string& space : spaces) {
      if (absl::Status status = streams.Ensure(space); !status.ok()) {
        std::fprintf(stderr, "tessera serve: warning: stream of space %s: %s\n", space.c_str(),
                     std::string(status.message()).c_str());
      }
    }
  } else {
    std::fprintf(stderr, "tessera serve: warning: no NATS server answered yet; events are refused with 503 until "
                         "one does\n");
  }
  auto writer = std::make_unique<cluster::StreamWriter>(
      **nats, cluster::StreamWriterOptions{.publish_timeout = options.publish_timeout,
                                           .max_pending_events = config.group_commit.queue_capacity_events},
      &metrics);
  return GatewaySink{.nats = *std::move(nats), .sink = std::move(writer)};
}

}  // namespace tessera::tools
