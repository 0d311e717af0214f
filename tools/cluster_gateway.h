#pragma once

// The gateway role of cluster mode (docs/cluster.md) for `tessera serve`: the NATS connection and
// the sink that publishes accepted events to each space's JetStream stream.

#include <memory>

#include "absl/status/statusor.h"
#include "cluster/nats_connection.h"
#include "config/config.h"
#include "ingest/event_sink.h"
#include "ingest/ingest_metrics.h"

namespace tessera::tools {

struct GatewaySink {
  std::unique_ptr<cluster::NatsConnection> nats;  // Must outlive `sink`.
  std::unique_ptr<ingest::EventSink> sink;
};

// Connects to the configured NATS servers (in the background if none answers yet: requests are then
// answered 503 until one does), makes sure each configured space's stream exists when NATS answers
// within the publish timeout (a warning otherwise; `tessera cluster init` makes them too), and
// builds the publishing sink. InvalidArgument for a role this build does not serve.
// The sink counts into `metrics` as the local log's writer would.
absl::StatusOr<GatewaySink> StartGatewaySink(const config::Config& config, ingest::IngestMetrics& metrics);

}  // namespace tessera::tools
