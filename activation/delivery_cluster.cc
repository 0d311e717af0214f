// Delivery in cluster mode: following the lease holder's shared record (activation/delivery_gate.h).
// The record is the text "1 <row> <paused 0|1> <fingerprint>": the last row the holder delivered
// or dead-lettered, the destination's pause switch, and what that row was (an event's message id,
// or an audience change's audience and profile: not its time, which each member stamps itself).

#include <charconv>

#include "absl/strings/str_cat.h"
#include "activation/delivery.h"
#include "rocksdb/db.h"

namespace tessera::activation {
namespace {

using profile_store::ColumnFamily;

constexpr std::chrono::seconds kFollowEvery{1};

struct SharedMark {
  uint64_t sequence = 0;
  bool paused = false;
  std::string fingerprint = {};
};

std::string Fingerprint(const OutboxItem& item) {
  switch (item.kind) {
    case OutboxKind::kEvent:
      return absl::StrCat("e:", item.message_id);
    case OutboxKind::kAudienceEntered:
      return absl::StrCat("+:", item.audience, ":", item.profile_id);
    case OutboxKind::kAudienceExited:
      return absl::StrCat("-:", item.audience, ":", item.profile_id);
  }
  return {};
}

std::string EncodeMark(const SharedMark& mark) {
  return absl::StrCat("1 ", mark.sequence, " ", mark.paused ? 1 : 0, " ", mark.fingerprint);
}

std::optional<SharedMark> DecodeMark(std::string_view text) {
  if (!text.starts_with("1 ")) return std::nullopt;
  text.remove_prefix(2);
  SharedMark mark;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), mark.sequence);
  if (error != std::errc() || end + 3 > text.data() + text.size() || end[0] != ' ' || end[2] != ' ') {
    return std::nullopt;
  }
  mark.paused = end[1] == '1';
  mark.fingerprint = std::string(end + 3, text.data() + text.size());
  return mark;
}

}  // namespace

std::string Delivery::SharedKey() const { return absl::StrCat(destination_.space, ".", destination_.name); }

absl::Status Delivery::SkipThrough(uint64_t last) {
  rocksdb::WriteBatch batch;
  batch.DeleteRange(store_.handle(ColumnFamily::kOutbox), OutboxKey(destination_.space, destination_.name, cursor_ + 1),
                    OutboxKey(destination_.space, destination_.name, last + 1));
  std::string cursor;
  profile_store::AppendBigEndian64(cursor, last);
  batch.Put(store_.handle(ColumnFamily::kMeta), DeliveredCursorKey(destination_.space, destination_.name), cursor);
  if (absl::Status written = store_.WriteUnsynced(batch); !written.ok()) return written;
  cursor_ = last;
  metrics_.cursor = last;
  return absl::OkStatus();
}

bool Delivery::FollowCluster() {
  const bool holds = options_.gate->MaySend(destination_.space);
  const auto now = std::chrono::steady_clock::now();
  if (holds == held_ && now - last_follow_ < kFollowEvery) return may_send_;
  last_follow_ = now;
  may_send_ = Follow(holds);
  return may_send_;
}

bool Delivery::Follow(bool holds) {
  absl::StatusOr<std::optional<std::string>> stored = options_.gate->Load(SharedKey());
  if (!stored.ok()) {
    RecordError(absl::StrCat("reading the cluster's delivery record: ", stored.status().message()));
    held_ = false;  // Read again at the next round.
    return false;  // Sending without knowing where the last holder stopped would repeat its work.
  }
  held_ = holds;
  std::optional<SharedMark> mark = stored->has_value() ? DecodeMark(**stored) : SharedMark{};
  if (!mark) {
    RecordError("the cluster's delivery record cannot be read; sending from this member's own cursor");
    return holds;
  }
  paused_ = mark->paused;
  uint64_t written = 0;
  {
    std::lock_guard lock(mutex_);
    written = written_;
  }
  if (mark->sequence <= cursor_ || mark->sequence == mismatch_at_) return holds;
  // The holder is ahead of this member's resolver: wait until the row is written here to compare.
  if (mark->sequence > written) return false;
  absl::StatusOr<std::string> row = store_.Get(ColumnFamily::kOutbox,
                                               OutboxKey(destination_.space, destination_.name, mark->sequence));
  bool same = false;
  if (absl::IsNotFound(row.status())) {
    same = true;  // Erased here, as on the holder at the same position.
  } else if (row.ok()) {
    absl::StatusOr<OutboxItem> item = DecodeOutboxItem(*row);
    same = item.ok() && Fingerprint(*item) == mark->fingerprint;
  } else {
    RecordError(std::string(row.status().message()));
    return false;
  }
  if (!same) {
    mismatch_at_ = mark->sequence;
    RecordError(absl::StrCat("row ", mark->sequence, " here is not the row the lease holder delivered: this member's "
                             "outbox is numbered differently, so it keeps its rows and sends from its own cursor"));
    return holds;
  }
  if (absl::Status skipped = SkipThrough(mark->sequence); !skipped.ok()) {
    RecordError(std::string(skipped.message()));
    return false;
  }
  return holds;
}

void Delivery::ShareProgress(const Row& last) {
  const SharedMark mark{.sequence = last.sequence, .paused = paused_.load(), .fingerprint = Fingerprint(last.item)};
  if (absl::Status stored = options_.gate->Store(SharedKey(), EncodeMark(mark)); !stored.ok()) {
    // The next holder then starts further back: rows are sent again, none is lost.
    RecordError(absl::StrCat("recording the delivery for the cluster: ", stored.message()));
  }
}

}  // namespace tessera::activation
