#pragma once

// Resolver applies the accepted-event log of one space, in log order, to the identity graph and
// the profiles: extract and normalize identifiers, resolve them (create / attach / merge under the
// rules), update the profile (channel summary, traits, consent per purpose as
// ingest/consent_extractor.h reads it, last seen), add a timeline entry, and record its log
// position, all in one RocksDB WriteBatch per group of events. On restart it continues from the
// recorded position, so no event is applied twice or skipped. An event it cannot apply
// (undecodable, or without any usable identifier) goes to the dead-letter family with the reason.
//
// Derived state is written without fsync: the log is durable, and after a crash the resolver
// replays whatever suffix of its own writes was lost.
//
// Thread-safety: CatchUp is for one thread at a time. Start runs it on an internal thread, woken by
// NotifyCommitted; Stop drains and joins.

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "audiences/space_audiences.h"
#include "identity/identity_graph.h"
#include "ingest/audience_maintenance.h"
#include "identity/identity_rules.h"
#include "identity/normalizer.h"
#include "ingest/identifier_extractor.h"
#include "profile_store/store.h"

namespace tessera::ingest {

struct ResolverOptions {
  size_t batch_events = 10000;  // Events applied per WriteBatch.
  identity::GraphOptions graph;
  AudienceOptions audiences;
};

// Counters of one space's resolver (read by /metrics while it runs).
struct ResolverMetrics {
  std::atomic<uint64_t> events_applied{0};
  std::atomic<uint64_t> events_dead_lettered{0};
  std::atomic<uint64_t> profiles_created{0};
  std::atomic<uint64_t> merges{0};
  std::atomic<uint64_t> refused_merges{0};
  std::atomic<uint64_t> position{0};         // Last applied log sequence.
  std::atomic<uint64_t> log_last_seen{0};    // Newest sequence the resolver has been told about.
  std::atomic<uint64_t> caught_up_to{0};     // Log sequence up to which nothing remains for this space.
  std::atomic<uint64_t> errors{0};           // Store errors (the batch is retried).

  uint64_t lag() const {
    const uint64_t done = std::max(position.load(), caught_up_to.load());
    const uint64_t last = log_last_seen.load();
    return last > done ? last - done : 0;
  }
};

// Key of a space's resolver position in kMeta.
std::string ResolverPositionKey(std::string_view space);
// Dead-letter key: space, 0x00, sequence (big-endian).
std::string DeadLetterKey(std::string_view space, uint64_t sequence);

class Resolver {
 public:
  // `audiences` (may be null: no computed traits or audiences) must outlive the resolver.
  Resolver(profile_store::Store& store, std::string space, const identity::Normalizer& normalizer,
           const IdentifierExtractor& extractor, identity::IdentityRules rules, ResolverOptions options,
           audiences::SpaceAudiences* audiences = nullptr);
  ~Resolver();

  // Reads the position and the graph's counters. Call once first.
  absl::Status Recover();

  // Applies everything in the log after the position; returns how many events it applied
  // (including dead-lettered ones).
  absl::StatusOr<uint64_t> CatchUp();

  // Evaluates every profile against the audiences now (a complete sweep), on the calling thread.
  // Not while the background thread runs.
  absl::Status EvaluateAudiences();

  // Background mode. Between batches the thread also runs audience sweeps, chunk by chunk.
  void Start();
  void NotifyCommitted(uint64_t last_sequence);
  // Applies what is already in the log, then stops the thread.
  void Stop();

  uint64_t position() const { return position_; }
  const std::string& space() const { return space_; }
  ResolverMetrics& metrics() { return metrics_; }
  identity::IdentityGraph& graph() { return graph_; }
  // Null without audiences.
  AudienceMaintenance* audience_maintenance() { return maintenance_.get(); }

 private:
  // Applies one log record into `batch` (and the graph's unit). Errors are the store's; events
  // that cannot be applied are dead-lettered into `batch` and count as applied.
  absl::Status ApplyRecord(uint64_t sequence, std::string_view record, rocksdb::WriteBatch& batch);
  void DeadLetter(uint64_t sequence, std::string_view record, std::string_view reason,
                  const std::vector<std::string>& warnings, rocksdb::WriteBatch& batch);
  void Run();

  profile_store::Store& store_;
  const std::string space_;
  const identity::Normalizer& normalizer_;
  const IdentifierExtractor& extractor_;
  const ResolverOptions options_;
  identity::IdentityGraph graph_;
  audiences::SpaceAudiences* const audiences_;
  std::unique_ptr<AudienceMaintenance> maintenance_;
  uint64_t position_ = 0;
  ResolverMetrics metrics_;

  std::mutex mutex_;
  std::condition_variable wake_;
  uint64_t notified_ = 0;
  bool definitions_changed_ = false;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace tessera::ingest
