#pragma once

// Resolver applies the accepted-event log of one space, in log order, to the identity graph and
// the profiles: extract and normalize identifiers, resolve them (create / attach / merge under the
// rules), update the profile (channel summary, traits, consent per purpose as
// privacy/consent_extractor.h reads it, last seen), add a timeline entry, and record its log
// position, all in one RocksDB WriteBatch per group of events. On restart it continues from the
// recorded position, so no event is applied twice or skipped. An event it cannot apply
// (undecodable, or without any usable identifier) goes to the dead-letter family with the reason.
//
// Derived state is written without fsync: the log is durable, and after a crash the resolver
// replays whatever suffix of its own writes was lost. What it deletes from the log (suppressed
// events, erasure, retention) goes to the store's intake database before the state records it.
//
// Thread-safety: CatchUp is for one thread at a time. Start runs it on an internal thread, woken by
// NotifyCommitted; Stop drains and joins.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "activation/outbox_writer.h"
#include "audiences/space_audiences.h"
#include "identity/identity_graph.h"
#include "identity/identity_rules.h"
#include "identity/normalizer.h"
#include "ingest/identifier_extractor.h"
#include "ingest/log_command.h"
#include "ingest/stewardship_command.h"
#include "privacy/shared_suppression.h"
#include "privacy/suppression.h"
#include "profile_store/store.h"
#include "resolve/audience_maintenance.h"
#include "resolve/duplicate_index.h"
#include "resolve/event_preparer.h"
#include "resolve/log_prefetcher.h"
#include "resolve/purchase_recorder.h"
#include "resolve/service_recorder.h"

namespace tessera::resolve {

struct ResolverOptions {
  // Which events are purchases, by space (resolve/purchase_recorder.h); a space not named here
  // counts `Order Completed` by the default rules.
  std::map<std::string, PurchaseRules> purchases;
  // Duplicate profiles by space (resolve/duplicate_index.h, docs/duplicates.md); a space not named
  // here keeps the index with the built-in model and never auto-merges.
  // Null: none named.
  std::shared_ptr<const std::map<std::string, DuplicateOptions>> duplicates = nullptr;
  size_t batch_events = 10000;  // Events applied per WriteBatch.
  // Events older than this leave the log (by receive time) and the timelines (by event time);
  // profiles keep what they learned from them. Zero keeps everything.
  std::chrono::seconds retention{0};
  std::chrono::seconds retention_interval{3600};  // How often the background thread applies it.
  identity::GraphOptions graph;
  AudienceOptions audiences;
  // Decode, normalize and read traits of the next records on a second thread while this one
  // applies (resolve/log_prefetcher.h). Off: the same work inline, with the same results. Off by
  // default: on 2 cores, where the HTTP, log-writer and resolver threads already share both, the
  // extra thread made `tessera bench pipeline` 12% slower (docs/benchmarks.md, issue 20).
  bool prefetch = false;
  PrefetchOptions prefetch_options;
};

// Counters of one space's resolver (read by /metrics while it runs).
struct ResolverMetrics {
  std::atomic<uint64_t> events_applied{0};
  std::atomic<uint64_t> events_dead_lettered{0};
  std::atomic<uint64_t> profiles_created{0};
  std::atomic<uint64_t> merges{0};
  std::atomic<uint64_t> refused_merges{0};
  std::atomic<uint64_t> auto_merges{0};            // Probabilistic merges (resolve/duplicate_index.h).
  std::atomic<uint64_t> position{0};           // Last applied log sequence.
  std::atomic<uint64_t> log_last_seen{0};      // Newest sequence the resolver has been told about.
  std::atomic<uint64_t> caught_up_to{0};       // Log sequence up to which nothing remains for this space.
  std::atomic<uint64_t> errors{0};             // Store errors (the batch is retried).
  std::atomic<uint64_t> events_suppressed{0};  // Logged events dropped: they carry an erased identifier.
  std::atomic<uint64_t> erasures{0};           // Erasure requests completed.
  std::atomic<uint64_t> retention_removed{0};  // Timeline entries removed by retention.

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

struct RetentionReport {
  uint64_t log_records = 0;          // Log records removed (with their dead letters).
  uint64_t first_kept_sequence = 0;  // Every record of the space below this sequence is gone.
  uint64_t timeline_entries = 0;     // Timeline entries removed.
};

class Resolver {
 public:
  // `audiences` (may be null: no computed traits or audiences) must outlive the resolver.
  Resolver(profile_store::Store& store, std::string space, const identity::Normalizer& normalizer,
           const ingest::IdentifierExtractor& extractor, identity::IdentityRules rules,
           ResolverOptions options, audiences::SpaceAudiences* audiences = nullptr);
  ~Resolver();

  // Reads the position and the graph's counters. Call once first.
  absl::Status Recover();

  // Applies everything in the log after the position; returns how many events it applied
  // (including dead-lettered ones).
  absl::StatusOr<uint64_t> CatchUp();

  // Privacy: with a suppression list, logged events carrying a suppressed identifier are deleted
  // from the log instead of applied, and pending erasure requests of this space are carried out
  // (privacy/erasure.h) between batches. Call before Start; the list must outlive the resolver.
  void SetSuppressionList(privacy::SuppressionList* suppression) { suppression_ = suppression; }
  // Cluster mode: every identifier an erasure suppresses is added to the list the cluster's
  // gateways check too (retried each round while it cannot be reached). Call before Start; it must
  // outlive the resolver.
  void SetSharedSuppression(privacy::SharedSuppression* shared) { shared_ = shared; }
  // Destinations (activation/outbox_writer.h): every applied event and audience change is offered
  // to the space's outbox in the batch that applies it. Call before Start; it must outlive the
  // resolver. Rebuild and verify leave it unset: a replay sends nothing.
  void SetOutbox(activation::OutboxWriter* outbox);
  // Wakes the background thread to carry out pending erasure requests.
  void NotifyErasureRequested();
  // Carries out every pending erasure request of this space now (the background thread does this
  // by itself; tests and tools call it directly). Returns how many it completed.
  absl::StatusOr<uint64_t> ApplyErasures();

  // Retention: removes log records of this space received before `cutoff` (only ones already
  // applied, with their dead letters) and timeline entries of events timed before it. Profiles,
  // their aggregates and audience memberships are kept. The background thread runs it every
  // retention_interval with cutoff = now - retention.
  absl::StatusOr<RetentionReport> ApplyRetention(base::Timestamp cutoff);

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
  // Applies up to options_.batch_events log records after `last` into `batch`, counting them in
  // `count` and moving `last`; fewer when the log has no more, and none from a command record on
  // (which, met first, is left in command_ for CatchUp to carry out).
  absl::Status ApplyBatch(rocksdb::WriteBatch& batch, size_t& count, uint64_t& last);
  // Applies one prepared log record into `batch` (and the graph's unit). Errors are the store's;
  // events that cannot be applied are dead-lettered into `batch` and count as applied.
  absl::Status ApplyPrepared(PreparedEvent& prepared, rocksdb::WriteBatch& batch);
  // `record_text`: the event as JSON (ingest::RecordAsJson), or an undecodable record's bytes.
  void DeadLetter(uint64_t sequence, std::string_view record_text, std::string_view reason,
                  const std::vector<std::string>& warnings, rocksdb::WriteBatch& batch);
  // Carries out the erasure command logged at `sequence`, exactly there: it records the request
  // with the position (synced), deletes the command's record (which holds the identifier's
  // value), then carries the request out (ApplyErasures). FailedPrecondition without a privacy
  // store (SetSuppressionList), and nothing moves.
  absl::Status CarryOut(uint64_t sequence, const ingest::ErasureCommand& command);
  absl::Status DeleteCommandRecord(uint64_t sequence);
  // Ends a unit of work: flushes the graph into `batch`, records `last` as the position, writes it
  // all (unsynced), and lets every part keep the unit's state; when the write fails, AbortUnit.
  absl::Status WriteUnit(rocksdb::WriteBatch& batch, uint64_t last);
  // Every part (graph, audiences, outbox, duplicate index) forgets the unit's state.
  void AbortUnit();
  // Carries out the stewardship decision logged at `sequence` (resolve/stewardship.cc): a merge
  // merges the two identifiers' profiles under the identity rules; a separation records it and,
  // when the two share a profile, recomputes that profile's component from its logged events and
  // decisions. Written in one batch with the position.
  absl::Status CarryOutDecision(uint64_t sequence, const ingest::StewardshipCommand& decision);
  // Erasure: the admins' decisions about the erased person hold their identifiers' values. Their
  // log records (found through the person's merge records) go into `intake_batch`, and the
  // separations of `identifiers` into `batch`.
  absl::Status ForgetDecisions(const profile_store::Profile& profile,
                               const std::vector<identity::Identifier>& identifiers, rocksdb::WriteBatch& batch,
                               rocksdb::WriteBatch& intake_batch);
  // A separation's recompute, into `batch` (the graph's and maintenance's unit): `profile` is the
  // live profile both identifiers are in.
  absl::Status Recompute(profile_store::ProfileId profile, rocksdb::WriteBatch& batch);
  // Carries out the merge `decision` (logged at `sequence`) into the unit; `replaying` when a
  // recompute applies it again.
  absl::Status MergeByDecision(uint64_t sequence, const ingest::StewardshipCommand& decision,
                               rocksdb::WriteBatch& batch, bool replaying);
  // Adds what erasures suppressed to the shared list (unshared_), as far as it can be reached.
  void ShareSuppressed();
  void Run();
  // Adds the unit's timeline entries to `batch` in key order (see timeline_entries_).
  void FlushTimeline(rocksdb::WriteBatch& batch);

  profile_store::Store& store_;
  const std::string space_;
  const identity::Normalizer& normalizer_;
  const ingest::IdentifierExtractor& extractor_;
  const ResolverOptions options_;
  const PurchaseRules purchase_rules_;  // The space's, from options_.purchases.
  identity::IdentityGraph graph_;
  audiences::SpaceAudiences* const audiences_;
  std::unique_ptr<AudienceMaintenance> maintenance_;
  // The space's duplicate index; null when it is off. Its creation's error, reported by Recover.
  std::unique_ptr<DuplicateIndex> duplicates_;
  absl::Status duplicates_status_;
  uint64_t position_ = 0;
  ResolverMetrics metrics_;
  privacy::SuppressionList* suppression_ = nullptr;
  privacy::SharedSuppression* shared_ = nullptr;
  activation::OutboxWriter* outbox_ = nullptr;
  // Erasures carried out whose identifiers the shared list does not hold yet (request id, them):
  // tried again every round until it can be reached. Every applier of the space adds them, so one
  // that dies with some here is covered by the others.
  std::vector<std::pair<std::string, std::vector<identity::Identifier>>> unshared_;
  // A command record met at the head of a batch, and its sequence.
  std::optional<ingest::ErasureCommand> command_;
  std::optional<ingest::StewardshipCommand> decision_;  // Or a stewardship decision.
  uint64_t command_sequence_ = 0;
  // Pending erasure requests are carried out before anything else is applied: one recorded from
  // a command whose carrying out a crash cut short must come before the events after it.
  bool erase_first_ = true;
  EventPreparer preparer_;
  std::unique_ptr<LogPrefetcher> prefetcher_;  // Null when options_.prefetch is off.
  // The prefetcher must read from position_ + 1 anew: at the start, after an error, and after
  // erasure or retention changed the log.
  bool restart_prefetch_ = true;
  // The unit's timeline entries (key, summary), put into the batch sorted when the unit ends: the
  // memtable's skip list then inserts each next to the previous one instead of searching from the
  // top for every random profile key.
  std::vector<std::pair<std::string, std::string>> timeline_entries_;
  // The unit's deletions from the intake (log records and dedup entries of suppressed events). They
  // are written, synced, before the state batch that moves the position past those events: after a
  // crash between the two the events are replayed, find nothing, and the deletions hold.
  rocksdb::WriteBatch intake_deletes_;

  std::mutex mutex_;
  bool erasures_requested_ = true;                          // Pending requests may have survived a restart.
  std::chrono::steady_clock::time_point next_retention_{};  // Resolver thread only; due at start.
  std::condition_variable wake_;
  uint64_t notified_ = 0;
  bool definitions_changed_ = false;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace tessera::resolve
