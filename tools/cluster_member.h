#pragma once

// A `tessera serve` process's part in a cluster (docs/cluster.md), by its configured roles:
//   gateway:  accepted events are published to each space's JetStream stream (StreamWriter);
//   resolver: each space's stream is copied into the local log and applied, and the process
//             contends for the space's lease (SpaceApplier);
//   replica:  the same without the lease; it serves reads.
// Every member announces its roles and positions (tessera cluster status) and exports them on
// /metrics.

#include <atomic>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "activation/delivery_gate.h"
#include "cluster/cluster_suppression.h"
#include "cluster/member_registry.h"
#include "cluster/nats_connection.h"
#include "cluster/shared_records.h"
#include "cluster/space_applier.h"
#include "cluster/space_lease.h"
#include "cluster/stream_fill.h"
#include "config/config.h"
#include "ingest/event_sink.h"
#include "ingest/ingest_metrics.h"
#include "pipeline/ingest_pipeline.h"
#include "profile_store/store.h"

namespace tessera::tools {

// A member is also the gate of its destinations' delivery (activation/delivery_gate.h): it says
// whether it holds a space's lease, and keeps the shared delivery records in the bucket
// `tessera_delivery`.
class ClusterMember : public activation::DeliveryGate {
 public:
  // Connects to the configured NATS servers (in the background if none answers yet), makes sure each
  // space's stream exists when NATS answers within the publish timeout (a warning otherwise;
  // `tessera cluster init` makes them too), and for the gateway role builds the publishing sink,
  // which counts into `metrics` as the local log's writer would. Every member follows the
  // cluster's suppression list (its hashing borrows `store`'s handle).
  static absl::StatusOr<std::unique_ptr<ClusterMember>> Connect(const config::Config& config,
                                                                profile_store::Store& store,
                                                                ingest::IngestMetrics& metrics);
  ~ClusterMember() override;  // Stops.

  // Whether this process applies the stream (resolver or replica): its pipeline then resolves.
  bool applies() const { return applies_; }
  // The gateway's sink for the pipeline (null without the gateway role). Once.
  std::unique_ptr<ingest::EventSink> TakeGatewaySink() { return std::move(gateway_sink_); }
  // The cluster's shared suppression list, for the pipeline (IngestPipeline::SetSharedSuppression).
  privacy::SharedSuppression* suppression() { return suppression_.get(); }

  // Starts following each space (resolver and replica roles) and announcing this member, once the
  // pipeline runs and the server is bound to `host`:`port` (where its API answers). Its name is
  // cluster.name, or the host name and the port. Whatever needs NATS starts when NATS first answers.
  absl::Status Start(pipeline::IngestPipeline& pipeline, profile_store::Store& store, const std::string& host,
                     unsigned port);
  // Stops following (releasing leases) and announcing. Call before the pipeline stops.
  void Stop();

  // The stream sequence the space's applied state reflects (0 when unknown or not applied here).
  uint64_t AppliedPosition(std::string_view space) const;
  // tessera_cluster_* gauges of the followed spaces.
  void AppendPrometheus(std::string& out) const;
  const std::string& name() const { return name_; }

  // activation::DeliveryGate. Unavailable until NATS has first answered.
  bool MaySend(std::string_view space) const override;
  absl::StatusOr<std::optional<std::string>> Load(const std::string& key) override;
  absl::Status Store(const std::string& key, std::string_view value) override;

 private:
  ClusterMember(const config::Config& config) : config_(config) {}
  std::string Report() const;
  // The member's thread: sets up the buckets and followers once NATS answers, then announces.
  void Run();
  absl::Status SetUp();

  // The lease holder's scrubbing of each space's stream (cluster/stream_scrubber.h): a pass is due
  // when the suppression list grew or this member carried out an erasure, and reaches as far as
  // every member has applied; passes go on until they have covered every erasure carried out.
  void Scrub();
  // The stream sequence every member applying `space` has applied (0: none known), members that
  // report they cannot follow aside.
  uint64_t Horizon(std::string_view space);

  struct ScrubState {
    size_t seen_list_size = 0;
    uint64_t seen_erasures = 0;
    bool full_pass_due = false;   // The list grew: everything up to the horizon is read again.
    uint64_t scrubbed_through = 0;
    uint64_t due_through = 0;     // An erasure was carried out at or before this position.
    uint64_t erased = 0;          // Messages erased by this process.
  };

  const config::Config& config_;
  bool applies_ = false;
  std::string name_;
  std::string http_address_;
  std::unique_ptr<cluster::NatsConnection> nats_;  // Outlives everything below.
  std::unique_ptr<cluster::StreamFill> fill_;      // The gateway's; outlives its sink.
  std::unique_ptr<cluster::ClusterSuppression> suppression_;
  std::unique_ptr<ingest::EventSink> gateway_sink_;
  std::unique_ptr<cluster::SpaceLeases> leases_;
  std::unique_ptr<cluster::MemberRegistry> members_;
  std::atomic<cluster::SharedRecords*> shared_{nullptr};  // Set once by SetUp (resolvers), owned below.
  std::unique_ptr<cluster::SharedRecords> shared_owner_;
  pipeline::IngestPipeline* pipeline_ = nullptr;
  profile_store::Store* store_ = nullptr;

  mutable std::mutex mutex_;
  std::vector<std::unique_ptr<cluster::SpaceApplier>> appliers_;  // Guarded by mutex_ (made once).
  std::condition_variable wake_;
  bool stopping_ = false;  // Guarded by mutex_.
  std::thread announcer_;
  std::map<std::string, ScrubState> scrub_;  // By space; the scrubber thread's own.
  std::thread scrubber_;
};

}  // namespace tessera::tools
