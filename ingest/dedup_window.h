#pragma once

// DedupWindow remembers which message ids each space has accepted, so that a retried or replayed
// event is stored once. An id counts as seen for `window` after its first acceptance; older entries
// are ignored on lookup and removed by compaction (profile_store's dedup compaction filter).
//
// Key (kDedup): space, 0x00, XXH3-128 of (space, 0x00, messageId) as 16 big-endian bytes.
// Value: first receive time (µs since epoch, big-endian 64) and the log sequence (big-endian 64).
// 128 bits make an accidental collision (one event wrongly dropped) practically impossible.
//
// Thread-safety: used by the single writer only.

#include <chrono>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "ingest/event.h"
#include "profile_store/store.h"

namespace tessera::ingest {

class DedupWindow {
 public:
  DedupWindow(profile_store::Store& store, std::chrono::seconds window) : store_(store), window_(window) {}

  static std::string Key(std::string_view space, std::string_view message_id);

  // True when `key` was accepted within the window before `now`, or earlier in the current batch.
  absl::StatusOr<bool> Seen(const std::string& key, Timestamp now);

  // What Seen answers for each of a batch's keys, before any of them is added: keys[i] against
  // times[i]. One RocksDB MultiGet for the batch, whose sorted probes share the filter and index
  // blocks they read, instead of one Get per event. Keys repeated within the batch are the
  // caller's to catch (IsPending) as it adds them.
  absl::StatusOr<std::vector<bool>> SeenInStore(std::span<const std::string_view> keys,
                                                std::span<const Timestamp> times) const;
  // True when `key` was added to the current batch.
  bool IsPending(const std::string& key) const { return pending_.contains(key); }

  // Records `key` as accepted in `batch` (and in the current batch's memory).
  void AddToBatch(const std::string& key, Timestamp received_at, uint64_t sequence, rocksdb::WriteBatch& batch);
  // Forgets the current batch's memory; call after the batch is written (or dropped).
  void EndBatch() { pending_.clear(); }

 private:
  profile_store::Store& store_;
  std::chrono::seconds window_;
  absl::flat_hash_set<std::string> pending_;
};

}  // namespace tessera::ingest
