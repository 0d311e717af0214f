#pragma once

// IngestPipeline is ingestion's front door for every transport (HTTP now, WebSocket and connectors
// later): it takes a parsed request from an authenticated source, stamps the source's space and
// channel on each event, counts rejections, and hands the valid events to the group-commit writer.
// Its callback reports, per request, which message ids became durable, which were duplicates and
// which were rejected, and why.

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "activation/activation.h"
#include "audiences/space_audiences.h"
#include "identity/identity_rules.h"
#include "identity/normalizer.h"
#include "ingest/event_feed.h"
#include "ingest/group_commit_writer.h"
#include "ingest/identifier_extractor.h"
#include "ingest/ingest_metrics.h"
#include "ingest/segment_parser.h"
#include "ingest/stewardship_command.h"
#include "privacy/privacy_store.h"
#include "privacy/shared_suppression.h"
#include "privacy/suppression.h"
#include "profile_store/store.h"
#include "resolve/derived_state_options.h"
#include "resolve/resolver.h"

namespace tessera::pipeline {

struct IngestResult {
  // OK; ResourceExhausted (queue full: retry later); Unavailable (shutting down); FailedPrecondition
  // (strict mode and some event was rejected: nothing stored); InvalidArgument (no valid event);
  // or the store's error. Unless OK, no event of the request was stored.
  absl::Status status;
  std::vector<std::string> accepted;            // Message ids now durable.
  std::vector<std::string> duplicates;          // Message ids already accepted within the dedup window.
  std::vector<ingest::RejectedEvent> rejected;  // Invalid events, by index.
  size_t event_count = 0;
  // Cluster mode: the stream position the request's events reached (for min_position); 0 else.
  uint64_t position = 0;
};

using IngestCallback = std::function<void(IngestResult result)>;

// The derived-state options (resolver, normalizer, rules, mappings, definitions) and how the
// pipeline runs.
struct PipelineOptions : resolve::DerivedStateOptions {
  ingest::GroupCommitOptions group_commit;
  // Resolution of the log into the identity graph and profiles, one resolver per space.
  bool resolve = true;
  std::vector<std::string> spaces;  // Spaces to resolve (those of the configured sources).
  // Destinations (null: none): each space's resolver writes its outbox. Recovered before Start;
  // it must outlive the pipeline.
  activation::Activation* activation = nullptr;
};

class IngestPipeline {
 public:
  // Accepted events go to the store's accepted-event log, which the resolvers follow.
  IngestPipeline(profile_store::Store& store, PipelineOptions options, ingest::IngestMetrics& metrics);
  // Cluster mode: accepted events go to `sink` (a gateway's JetStream stream), or are refused with
  // Unimplemented when it is null (a process that only applies the stream). With `options.resolve`
  // the pipeline has a local log too, which stream followers fill (log_writer()) and the resolvers
  // follow.
  IngestPipeline(profile_store::Store& store, PipelineOptions options, ingest::IngestMetrics& metrics,
                 std::unique_ptr<ingest::EventSink> sink);
  ~IngestPipeline();

  // Cluster mode: the suppression list the cluster's members share. A gateway then checks events
  // against it (and takes none until it has been read), takes erasure requests by publishing them
  // to the space's stream, and the resolvers add what they suppress to it. Before Start; it must
  // outlive the pipeline.
  void SetSharedSuppression(privacy::SharedSuppression* shared) { shared_ = shared; }

  // Starts the resolvers (each first catches up with the log) and the writer.
  absl::Status Start();
  // Makes everything already accepted durable and reports it (later requests get Unavailable),
  // then lets the resolvers apply it.
  void Stop();

  // The local log's writer (null without one): in cluster mode the stream followers copy each
  // space's stream into it. Valid from Start until Stop; stop its users before Stop.
  ingest::GroupCommitWriter* log_writer() { return log_writer_.get(); }

  // Whether this pipeline has resolvers (and so profiles to serve).
  bool resolves() const { return options_.resolve; }
  // The normalizer the resolvers use (null before Start, or without resolvers and a shared
  // suppression list), so that lookups normalize identifiers exactly as ingestion did.
  const identity::Normalizer* normalizer() const { return normalizer_.get(); }
  // The identifier extractor the resolvers use (null before Start or without resolvers).
  const ingest::IdentifierExtractor* extractor() const { return extractor_.get(); }
  // The resolver of `space`, or nullptr when it has none.
  resolve::Resolver* resolver(std::string_view space);
  // The audiences of `space` (null for a space without a resolver).
  audiences::SpaceAudiences* audiences(std::string_view space);
  // Ingestion and resolver metrics in Prometheus text format, then each added source's.
  void AppendPrometheus(std::string& out) const;
  // Adds metrics of a part outside the pipeline (cluster mode's followers). Before serving.
  void AddPrometheusSource(std::function<void(std::string&)> source) {
    prometheus_sources_.push_back(std::move(source));
  }

  // Accepts `request` (already parsed; request_error must be empty) from `source`. `done` is
  // called exactly once, possibly on the writer thread, possibly before Accept returns.
  // In strict mode a request with any rejected event stores nothing. Events of a service source
  // without keep_free_text lose their free-text properties (ingest/free_text.h) before they are
  // logged; nothing else about them changes.
  void Accept(const ingest::SourceRef& source, ingest::ParsedRequest request, bool strict,
              IngestCallback done);

  // Privacy erasure (docs/privacy.md): normalizes the identifier like ingestion, records a pending
  // request and suppresses the identifier (synced, so from now on events carrying it are rejected),
  // and wakes the space's resolver, which deletes the person and suppresses all their identifiers.
  // A phone without a country code is read in `phone_region` (an ISO 3166-1 alpha-2 code; empty
  // for none) if it is possible there, else in identity.default_phone_region.
  // InvalidArgument for an unknown type, an unsupported region or a value that does not normalize;
  // NotFound for a space without a resolver.
  // A cluster gateway instead adds the identifier to the shared suppression list and publishes the
  // request to the space's stream as a command (ingest/log_command.h), which every member's
  // resolver carries out at that position; `position` (if not null) is then set to the command's
  // stream position. Unavailable or ResourceExhausted as for events when NATS cannot take it;
  // Unimplemented on a member that takes no events.
  absl::StatusOr<privacy::ErasureRequest> RequestErasure(std::string_view space, std::string_view type,
                                                         std::string_view value,
                                                         std::string_view requested_by,
                                                         std::string_view phone_region = {},
                                                         uint64_t* position = nullptr);
  // A request of `space` by id; NotFound when there is none.
  absl::StatusOr<privacy::ErasureRequest> ErasureStatus(std::string_view space, std::string_view id) const;

  // Stewardship (docs/stewardship.md): logs an admin's decision that the profiles of `a` and `b`
  // are one person (merge) or that `a` and `b` are not the same person (separate). The identifiers
  // are normalized like ingestion's (a phone in `phone_region` first) and must both be linked to
  // a profile now. The decision is durable when this returns; the space's resolver carries it out
  // at its place in the log. `logged.sequence` is its local log sequence (0 at a cluster gateway,
  // which publishes it to the space's stream: `logged.position` is then its stream position).
  // InvalidArgument for an unknown type, a bad value or region, or the same identifier twice;
  // NotFound for an unknown space or an identifier no profile holds; errors of the log otherwise.
  struct DecisionRequest {
    ingest::StewardshipCommand::Kind kind = ingest::StewardshipCommand::Kind::kMerge;
    identity::Identifier a = {};  // As given: the type and the value before normalization.
    identity::Identifier b = {};
    std::string phone_region = {};
    std::string requested_by = {};
    std::string note = {};
  };
  struct LoggedDecision {
    ingest::StewardshipCommand command = {};
    uint64_t sequence = 0;
    uint64_t position = 0;
  };
  absl::StatusOr<LoggedDecision> LogDecision(std::string_view space, const DecisionRequest& request);

  ingest::IngestMetrics& metrics() { return metrics_; }
  // Accepted events, for live observers (GET /v1/tail).
  ingest::EventFeed& feed() { return feed_; }

 private:
  // Moves events carrying an identifier on `list` from `request.events` to `result.rejected`.
  void DropSuppressed(const privacy::SuppressionList& list, const ingest::SourceRef& source,
                      ingest::ParsedRequest& request, IngestResult& result);
  // The list events are checked against at the door: the shared one at a cluster gateway (null
  // until read), else the store's.
  const privacy::SuppressionList* DoorSuppression() const;
  // RequestErasure's cluster part, once the value is normalized.
  absl::StatusOr<privacy::ErasureRequest> PublishErasure(std::string_view space, privacy::ErasureRequest request,
                                                         uint64_t* position);

  profile_store::Store& store_;
  ingest::IngestMetrics& metrics_;
  PipelineOptions options_;
  // Counts of the local log's writer when events arrive through an outside sink (which counts into
  // metrics_): the copies from the stream are not accepted events a second time.
  ingest::IngestMetrics copy_metrics_;
  std::unique_ptr<ingest::GroupCommitWriter> log_writer_;  // Null for a gateway that resolves nothing.
  std::unique_ptr<ingest::EventSink> outside_sink_;
  ingest::EventSink* sink_;  // log_writer_ or outside_sink_; null when this process takes no events.
  ingest::EventFeed feed_;
  std::unique_ptr<identity::Normalizer> normalizer_;
  std::unique_ptr<ingest::IdentifierExtractor> extractor_;
  std::vector<std::unique_ptr<audiences::SpaceAudiences>> audiences_;  // Outlive the resolvers.
  std::vector<std::unique_ptr<resolve::Resolver>> resolvers_;
  std::unique_ptr<privacy::PrivacyStore> privacy_;
  std::unique_ptr<privacy::SuppressionList> suppression_;
  privacy::SharedSuppression* shared_ = nullptr;
  std::vector<std::function<void(std::string&)>> prometheus_sources_;
  std::atomic<int64_t> last_suppression_log_{0};  // Seconds; suppressed events are logged once a second.
};

}  // namespace tessera::pipeline
