#pragma once

// The accepted-event log: every event Tessera has acknowledged, in acceptance order, in the kLog
// column family of the store's intake database. It is the source of truth; all derived state
// (identity graph, profiles) can be rebuilt by replaying it.
//
// Key: space, 0x00, sequence (big-endian uint64) -> EncodeEvent record. Sequences are global and
// increase by one per event; the next one is kept in kIntakeMeta under "log/next_sequence" and
// written in the same batch as the events, so a crash can never reuse a sequence.
//
// Thread-safety: AddToBatch is for the single writer (GroupCommitWriter); reads are safe anywhere.

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "profile_store/store.h"

namespace tessera::ingest {

class AcceptedLog {
 public:
  explicit AcceptedLog(profile_store::Store& store) : store_(store) {}

  // Reads the next sequence from the store. Call once before AddToBatch.
  absl::Status Recover();

  // Adds `record` under the next sequence to `batch`, and returns that sequence.
  uint64_t AddToBatch(std::string_view space, std::string_view record, rocksdb::WriteBatch& batch);
  // Records the next sequence in `batch`; call once per batch after the last AddToBatch.
  void FinishBatch(rocksdb::WriteBatch& batch);
  // Forgets the sequences handed out since `next_sequence` after a batch failed to be written.
  void AbandonBatch(uint64_t next_sequence) { next_sequence_ = next_sequence; }

  uint64_t next_sequence() const { return next_sequence_; }

  static std::string Key(std::string_view space, uint64_t sequence);

  // Calls `visit(sequence, record)` for the space's entries from `from_sequence` on, in order,
  // until it returns false or the log ends.
  absl::Status Scan(std::string_view space, uint64_t from_sequence,
                    const std::function<bool(uint64_t, std::string_view)>& visit) const;

 private:
  profile_store::Store& store_;
  uint64_t next_sequence_ = 1;
};

}  // namespace tessera::ingest
