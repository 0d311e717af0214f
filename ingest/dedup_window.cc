#include "ingest/dedup_window.h"

#include <algorithm>

#include "xxhash.h"

namespace tessera::ingest {

using profile_store::ColumnFamily;

std::string DedupWindow::Key(std::string_view space, std::string_view message_id) {
  std::string key;
  key.reserve(space.size() + 1 + std::max<size_t>(message_id.size(), 16));
  key.append(space);
  key.push_back('\0');
  // Hash "space\0messageId", then keep the "space\0" prefix and put the hash after it.
  key.append(message_id);
  const XXH128_hash_t hash = XXH3_128bits(key.data(), key.size());
  key.resize(space.size() + 1);
  profile_store::AppendBigEndian64(key, hash.high64);
  profile_store::AppendBigEndian64(key, hash.low64);
  return key;
}

namespace {

// Whether a stored entry `value` still counts at `now`.
absl::StatusOr<bool> WithinWindow(std::string_view value, Timestamp now, std::chrono::seconds window) {
  if (value.size() < 8) return absl::DataLossError("dedup entry shorter than 8 bytes");
  const Timestamp first_received{
      std::chrono::microseconds(static_cast<int64_t>(profile_store::ReadBigEndian64(value.substr(0, 8))))};
  // Outside the window the id may be used again (the entry is then overwritten).
  return now - first_received < window;
}

}  // namespace

absl::StatusOr<bool> DedupWindow::Seen(const std::string& key, Timestamp now) {
  if (pending_.contains(key)) return true;
  auto value = store_.Get(ColumnFamily::kDedup, key);
  if (absl::IsNotFound(value.status())) return false;
  if (!value.ok()) return value.status();
  return WithinWindow(*value, now, window_);
}

absl::StatusOr<std::vector<bool>> DedupWindow::SeenInStore(std::span<const std::string_view> keys,
                                                           std::span<const Timestamp> times) const {
  std::vector<rocksdb::Slice> slices(keys.begin(), keys.end());
  std::vector<rocksdb::PinnableSlice> values(keys.size());
  std::vector<rocksdb::Status> statuses(keys.size());
  store_.db(ColumnFamily::kDedup)
      ->MultiGet(rocksdb::ReadOptions(), store_.handle(ColumnFamily::kDedup), slices.size(), slices.data(),
                 values.data(), statuses.data());
  std::vector<bool> seen(keys.size(), false);
  for (size_t i = 0; i < keys.size(); ++i) {
    if (statuses[i].IsNotFound()) continue;
    if (!statuses[i].ok()) return profile_store::ToAbslStatus(statuses[i], "reading the dedup window");
    absl::StatusOr<bool> within = WithinWindow(values[i].ToStringView(), times[i], window_);
    if (!within.ok()) return within.status();
    seen[i] = *within;
  }
  return seen;
}

void DedupWindow::AddToBatch(const std::string& key, Timestamp received_at, uint64_t sequence,
                             rocksdb::WriteBatch& batch) {
  std::string value;
  value.reserve(16);
  profile_store::AppendBigEndian64(value, static_cast<uint64_t>(received_at.time_since_epoch().count()));
  profile_store::AppendBigEndian64(value, sequence);
  batch.Put(store_.handle(ColumnFamily::kDedup), key, value);
  pending_.insert(key);
}

}  // namespace tessera::ingest
