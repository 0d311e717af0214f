#pragma once

// AudienceMaintenance keeps one space's computed-trait state and audience memberships fresh. It is
// the resolver's helper and runs only on the resolver's thread, inside its units of work, so every
// change it makes lands in the same WriteBatch as the events that caused it:
//   - When a profile enters a unit (IdentityGraph's load hook) its aggregates are brought up to
//     date with the current definitions: aggregates no definition needs are dropped, new ones are
//     filled from the profile's timeline (and the log records, when a property is needed). A
//     definition added through the API therefore applies to past events too.
//   - Each applied event is added to the profile's aggregates (AddEvent).
//   - At the end of a unit, each profile an event touched is evaluated against every audience at
//     the current time: entries and exits are written (member rows, change records, counters).
//     A profile merged away leaves its audiences ("merged into pX"); the winner, evaluated next,
//     enters with the loser's entry time when it is a member.
//   - A sweep re-evaluates every profile in chunks between the resolver's batches, after each
//     definition change and every `sweep_interval` while some definition depends on time (windows,
//     days since, churn risk, RFM). The sweep also recomputes the RFM quintile cut points.
//
// Thread-safety: none; the resolver's thread only.

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "activation/outbox_writer.h"
#include "audiences/space_audiences.h"
#include "identity/identity_graph.h"
#include "ingest/event.h"
#include "profile_store/store.h"
#include "resolve/purchase_models.h"
#include "resolve/purchase_recorder.h"

namespace tessera::resolve {

struct AudienceOptions {
  std::chrono::milliseconds sweep_interval{300'000};  // Time-dependent re-evaluation period.
  size_t sweep_chunk_profiles = 2000;                 // Profiles evaluated per sweep WriteBatch.
  // The clock memberships are evaluated at (tests set it); the system clock when empty.
  std::function<base::Timestamp()> clock;
};

// Figures of the audience work of one space, for /metrics and benchmarks.
struct AudienceMetrics {
  std::atomic<uint64_t> entries{0};
  std::atomic<uint64_t> exits{0};
  std::atomic<uint64_t> backfilled_profiles{0};  // Profiles whose aggregates were rebuilt from the timeline.
  std::atomic<uint64_t> sweeps{0};               // Completed sweeps.
  std::atomic<uint64_t> last_sweep_profiles{0};
  std::atomic<uint64_t> last_sweep_micros{0};  // Wall time of the last complete sweep.
  std::atomic<uint64_t> refits{0};             // Purchase models fitted by sweeps.
  std::atomic<uint64_t> refit_failures{0};     // Sweeps whose customers could not be fitted yet.
};

class AudienceMaintenance {
 public:
  AudienceMaintenance(profile_store::Store& store, std::string space, identity::IdentityGraph& graph,
                      audiences::SpaceAudiences& audiences, AudienceOptions options);

  // At the start of a unit: takes the newest definitions (dropping the rows of deleted audiences
  // into `batch`) and schedules a sweep when they changed.
  void BeginUnit(rocksdb::WriteBatch& batch);
  // The graph's load hook (see the header comment).
  absl::StatusOr<bool> Reconcile(profile_store::Profile& profile);
  // After an event was applied to `profile` (already the resolution's profile).
  void OnEvent(const ingest::CanonicalEvent& event, uint64_t sequence, const identity::Resolution& resolution,
               profile_store::Profile& profile, rocksdb::WriteBatch& batch);
  // Profiles were merged without an event (an admin's decision): the losers leave their
  // audiences, and the winner is evaluated at the end of the unit. OnEvent does this for events.
  void OnMerge(const identity::Resolution& resolution, rocksdb::WriteBatch& batch);
  // A profile's component is recomputed after a separation: it leaves every audience (its member
  // rows go); the profiles the recompute makes enter anew when the unit ends.
  void OnRecomputed(const profile_store::Profile& profile, rocksdb::WriteBatch& batch);
  // A profile was erased (its member rows are deleted by the erasure): it leaves its audiences,
  // counted as exits with the reason "erased".
  void OnErased(const profile_store::Profile& profile, rocksdb::WriteBatch& batch);
  // Before the graph is flushed: evaluates the touched profiles and writes membership changes.
  absl::Status EndUnit(rocksdb::WriteBatch& batch);
  // After the batch BeginUnit started was written (or not: then the next one repeats its removals).
  void Committed();
  void Aborted();

  // Whether a sweep is running or due now; and when the next one is due.
  bool SweepDue() const;
  std::optional<std::chrono::steady_clock::time_point> NextSweep() const;
  // Evaluates one chunk of profiles in its own unit and batch (written unsynced). Returns true when
  // the sweep finished with this chunk.
  absl::StatusOr<bool> SweepChunk();
  // Starts a sweep now (if none runs) and runs it to the end.
  absl::Status SweepAll();

  AudienceMetrics& metrics() { return metrics_; }
  // The space's purchase rules: the purchase model is refitted by the sweep at their time zone
  // and discount rate, every refit_interval, and sooner after 10% more purchases (at least 10).
  void SetPurchaseRules(const PurchaseRules& rules) { purchase_rules_ = rules; }
  // The resolver recorded a purchase.
  void NotePurchase() { ++purchases_since_fit_; }
  // Entries and exits are offered to `outbox` as they are recorded; its rows commit and abort with
  // the maintenance's units (null: none).
  void SetOutbox(activation::OutboxWriter* outbox) { outbox_ = outbox; }

 private:
  struct Sweep {
    uint64_t generation = 0;
    std::string resume_key;
    std::chrono::steady_clock::time_point started{};
    uint64_t profiles = 0;
    std::map<std::string, std::array<std::vector<double>, 3>> rfm_inputs;  // by rfm trait
    bool refit = false;  // This sweep gathers the customers' summaries and refits the purchase model.
    base::Timestamp now{};
    std::vector<prediction::CalibrationSummary> customers;
    SpacePurchaseFit purchases;  // The counts of the refit's customers.
  };
  // Whether the next sweep refits the purchase model.
  bool RefitDue() const;
  // At the end of a refitting sweep: fits, and puts the model into `batch`; null when it cannot.
  std::shared_ptr<const audiences::PurchaseModelState> Refit(rocksdb::WriteBatch& batch);

  base::Timestamp Now() const;
  // Evaluates `profile` against every audience; writes changes into `batch`. True when it changed.
  bool UpdateMemberships(profile_store::Profile& profile, base::Timestamp now, const audiences::SpaceFigures& figures,
                         rocksdb::WriteBatch& batch);
  bool MembershipDiffers(const profile_store::Profile& profile, base::Timestamp now,
                         const audiences::SpaceFigures& figures) const;
  void RecordChange(const std::string& audience, const profile_store::Profile& profile, bool entered,
                    base::Timestamp time, std::string_view reason, rocksdb::WriteBatch& batch);
  profile_store::AudienceCounters& PendingCounters(const std::string& audience);
  void WriteCounters(rocksdb::WriteBatch& batch);
  absl::Status Backfill(profile_store::Profile& profile,
                        const std::vector<const audiences::AggregateSpec*>& missing);

  profile_store::Store& store_;
  const std::string space_;
  identity::IdentityGraph& graph_;
  audiences::SpaceAudiences& audiences_;
  const AudienceOptions options_;
  activation::OutboxWriter* outbox_ = nullptr;
  AudienceMetrics metrics_;

  std::shared_ptr<const audiences::DefinitionSet> definitions_;
  uint64_t generation_ = 0;
  audiences::SpaceFigures figures_;
  PurchaseRules purchase_rules_;
  uint64_t purchases_since_fit_ = 0;
  uint64_t unfitted_orders_ = 0;  // The orders of the last refit that could not be made (0 after one that was).
  bool refit_requested_ = true;  // A first fit when the store has none (checked at the first sweep).

  // This unit's state.
  std::vector<profile_store::ProfileId> touched_;
  std::map<std::pair<uint64_t, std::string>, base::Timestamp> entry_hints_;  // (winner, audience)
  std::map<std::string, profile_store::AudienceCounters> pending_counters_;
  uint64_t unit_entries_ = 0;
  uint64_t unit_exits_ = 0;

  std::vector<std::string> deleted_audiences_;  // Whose rows are still to be removed.

  std::optional<Sweep> sweep_;
  bool sweep_requested_ = true;  // A sweep runs at start: time passed while the server was down.
  std::chrono::steady_clock::time_point next_sweep_{};
};

}  // namespace tessera::resolve
