#pragma once

// OutboxWriter is the resolver's side of delivery for one space: as the resolver applies an event
// or records an audience change, it writes a row into the outbox of every destination of the space
// that wants it (activation/outbox.h), into the same WriteBatch, so what a destination receives is
// exactly what the state says happened, in the same order. Consent is enforced here first: a
// profile that has not granted a destination's purpose gets no row, and when a profile withdraws
// it, the destination's audiences it is in are sent as exits ("consent withdrawn"). Delivery checks
// again when it sends (the profile may have withdrawn or been erased since).
//
// Sequences are numbered per destination from where the outbox and the delivered cursor left off
// (Recover). Rows count as written once the batch is: Committed / Aborted follow each batch.
//
// Thread-safety: the resolver's thread only (commit listeners are called on it).

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "activation/destination.h"
#include "activation/outbox.h"
#include "ingest/event.h"
#include "profile_store/profile.h"
#include "profile_store/store.h"
#include "rocksdb/write_batch.h"

namespace tessera::activation {

class OutboxWriter {
 public:
  // Called after a batch with rows for `destination` was written, with its last sequence.
  using CommitListener = std::function<void(const std::string& destination, uint64_t last_sequence)>;

  // `destinations`: the space's, in configuration order.
  OutboxWriter(profile_store::Store& store, std::string space, std::vector<DestinationSpec> destinations);

  // Finds each destination's next sequence. Call once before the first row.
  absl::Status Recover();
  void SetCommitListener(CommitListener listener) { listener_ = std::move(listener); }
  // The holdout share of an audience (0 when it keeps none): its held-out members' entries and
  // exits are never written (activation/holdout.h), so no destination ever receives them.
  using HoldoutShare = std::function<double(std::string_view audience)>;
  void SetHoldout(HoldoutShare holdout) { holdout_ = std::move(holdout); }

  // Before an event is applied to `profile`: remembers which destinations' consent it had.
  void BeforeEvent(const profile_store::Profile& profile);
  // After `event` (log `sequence`) was applied to `profile` (the resolution's profile).
  void OnEvent(const ingest::CanonicalEvent& event, uint64_t sequence, const profile_store::Profile& profile,
               rocksdb::WriteBatch& batch);
  // An audience entry or exit of `profile`, at `time`.
  void OnAudienceChange(const profile_store::Profile& profile, const std::string& audience, bool entered,
                        base::Timestamp time, std::string_view reason, rocksdb::WriteBatch& batch);

  // An erasure: deletes the waiting rows and dead letters of these profiles, except exits (which
  // carry what the providers need to remove the person, and nothing more is ever sent).
  absl::Status Forget(const std::vector<uint64_t>& profile_ids, rocksdb::WriteBatch& batch);

  void Committed();
  void Aborted();

  const std::vector<DestinationSpec>& destinations() const { return destinations_; }

 private:
  struct Cursor {
    uint64_t committed_next = 1;
    uint64_t next = 1;
  };
  bool Consents(const DestinationSpec& destination, const profile_store::Profile& profile) const;
  bool HeldOut(const profile_store::Profile& profile, std::string_view audience) const;
  void Put(size_t index, const OutboxItem& item, rocksdb::WriteBatch& batch);
  OutboxItem ChangeItem(const profile_store::Profile& profile, const std::string& audience, bool entered,
                        base::Timestamp time, std::string_view reason) const;

  profile_store::Store& store_;
  const std::string space_;
  const std::vector<DestinationSpec> destinations_;
  std::vector<Cursor> cursors_;            // By destination index.
  std::vector<bool> consented_before_;     // BeforeEvent's snapshot, by destination index.
  uint64_t before_profile_ = 0;            // Whose snapshot it is.
  CommitListener listener_;
  HoldoutShare holdout_;
  std::string encoded_;  // Reused row buffer.
};

// The profile's identifiers and ids as a row names them.
void DescribeProfile(const profile_store::Profile& profile, OutboxItem& item);
// The profile's traits as one JSON object.
void AppendTraitsJson(const profile_store::Profile& profile, std::string& out);

}  // namespace tessera::activation
