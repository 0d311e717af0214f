#include "resolve/rebuild.h"

#include <functional>
#include <map>
#include <memory>

#include "absl/strings/str_cat.h"
#include "identity/identity_graph.h"
#include "ingest/accepted_log.h"
#include "resolve/resolver.h"

namespace tessera::resolve {

using profile_store::ColumnFamily;

absl::StatusOr<std::vector<std::string>> LoggedSpaces(profile_store::Store& store) {
  std::vector<std::string> spaces;
  std::unique_ptr<rocksdb::Iterator> it(
      store.db(ColumnFamily::kLog)->NewIterator(rocksdb::ReadOptions(), store.handle(ColumnFamily::kLog)));
  // Skip from space to space: after reading one space's first key, seek past all of its keys.
  for (it->SeekToFirst(); it->Valid();) {
    const std::string_view key(it->key().data(), it->key().size());
    const size_t separator = key.find('\0');
    if (separator == std::string_view::npos) return absl::DataLossError("log key without a space separator");
    std::string space(key.substr(0, separator));
    std::string next = space;
    next.push_back('\1');
    spaces.push_back(std::move(space));
    it->Seek(next);
  }
  if (!it->status().ok()) return profile_store::ToAbslStatus(it->status(), "listing logged spaces");
  return spaces;
}

absl::Status ClearDerivedState(profile_store::Store& store) {
  // Keys of these families start with a space name ([a-z0-9_-]), so they all sort below 0xff.
  const std::string begin;
  const std::string end(1, '\xff');
  rocksdb::WriteBatch batch;
  for (ColumnFamily family :
       {ColumnFamily::kIdentifiers, ColumnFamily::kProfiles, ColumnFamily::kMerges, ColumnFamily::kTimeline,
        ColumnFamily::kDeadLetter, ColumnFamily::kMembers, ColumnFamily::kAudienceChanges,
        ColumnFamily::kCandidates}) {
    batch.DeleteRange(store.handle(family), begin, end);
  }
  // Per-space counters and positions in kMeta.
  for (std::string_view prefix :
       {std::string_view("resolver/position/"), std::string_view("profiles/next_id/"),
        std::string_view("audiences/counters/"), std::string_view("audiences/rfm/"),
        std::string_view("prediction/purchase_model/"), std::string_view("identity/separated/")}) {
    std::string prefix_end(prefix);
    prefix_end.back() = static_cast<char>(prefix_end.back() + 1);
    batch.DeleteRange(store.handle(ColumnFamily::kMeta), std::string(prefix), prefix_end);
  }
  if (absl::Status status = store.Write(batch); !status.ok()) return status;
  // Reclaim the space now rather than at some later compaction.
  for (ColumnFamily family :
       {ColumnFamily::kIdentifiers, ColumnFamily::kProfiles, ColumnFamily::kMerges, ColumnFamily::kTimeline,
        ColumnFamily::kDeadLetter, ColumnFamily::kMembers, ColumnFamily::kAudienceChanges,
        ColumnFamily::kCandidates}) {
    rocksdb::Status status =
        store.db()->CompactRange(rocksdb::CompactRangeOptions(), store.handle(family), nullptr, nullptr);
    if (!status.ok()) return profile_store::ToAbslStatus(status, "compacting derived state");
  }
  return absl::OkStatus();
}

absl::StatusOr<ReplayPrivacy> OpenReplayPrivacy(profile_store::Store& store, const std::vector<std::string>& spaces) {
  ReplayPrivacy replay;
  absl::StatusOr<std::unique_ptr<privacy::PrivacyStore>> opened = privacy::PrivacyStore::Open(store);
  if (!opened.ok()) return opened.status();
  replay.store = *std::move(opened);
  replay.list = std::make_unique<privacy::SuppressionList>(*replay.store);
  for (const std::string& space : spaces) {
    if (absl::Status status = replay.list->Load(space); !status.ok()) return status;
  }
  return replay;
}

namespace {

constexpr std::string_view kPositionPrefix = "resolver/position/";
constexpr std::string_view kNextIdPrefix = "profiles/next_id/";

// The big-endian counters under `prefix` in kMeta (resolver positions, next profile ids), by key.
absl::StatusOr<std::map<std::string, uint64_t>> ReadCounters(profile_store::Store& store, std::string_view prefix) {
  std::map<std::string, uint64_t> counters;
  absl::Status scanned =
      store.ScanPrefix(ColumnFamily::kMeta, prefix, [&](std::string_view key, std::string_view value) {
        if (value.size() == 8) counters[std::string(key)] = profile_store::ReadBigEndian64(value);
      });
  if (!scanned.ok()) return scanned;
  return counters;
}

// Writes back each counter of `before` that the replay left lower (or unwritten), when `keep` says
// it may be kept.
absl::Status KeepHigher(profile_store::Store& store, const std::map<std::string, uint64_t>& before,
                        const std::function<bool(uint64_t)>& keep) {
  rocksdb::WriteBatch kept;
  for (const auto& [key, value] : before) {
    absl::StatusOr<std::string> replayed = store.Get(ColumnFamily::kMeta, key);
    if (!replayed.ok() && !absl::IsNotFound(replayed.status())) return replayed.status();
    const uint64_t reached = replayed.ok() && replayed->size() == 8 ? profile_store::ReadBigEndian64(*replayed) : 0;
    if (value <= reached || !keep(value)) continue;
    std::string encoded;
    profile_store::AppendBigEndian64(encoded, value);
    kept.Put(store.handle(ColumnFamily::kMeta), key, encoded);
  }
  return kept.Count() > 0 ? store.Write(kept) : absl::OkStatus();
}

}  // namespace

absl::StatusOr<RebuildReport> Rebuild(profile_store::Store& store, const DerivedStateOptions& options) {
  auto spaces = LoggedSpaces(store);
  if (!spaces.ok()) return spaces.status();
  // A position may lie past the space's last logged event, when erasure, suppression or an
  // erasure command deleted the records at the log's end: the replay, which reads all that is
  // left, gets as far, so it keeps that position (never past the log's own end). Likewise the next
  // profile id of a space whose every profile was erased: ids are never given twice.
  auto positions = ReadCounters(store, kPositionPrefix);
  if (!positions.ok()) return positions.status();
  auto next_ids = ReadCounters(store, kNextIdPrefix);
  if (!next_ids.ok()) return next_ids.status();
  auto replay_privacy = OpenReplayPrivacy(store, *spaces);
  if (!replay_privacy.ok()) return replay_privacy.status();
  ingest::AcceptedLog log(store);
  if (absl::Status status = log.Recover(); !status.ok()) return status;
  if (absl::Status status = ClearDerivedState(store); !status.ok()) return status;
  auto normalizer = identity::Normalizer::Create(options.normalizer);
  if (!normalizer.ok()) return normalizer.status();
  ingest::IdentifierExtractor extractor(options.mappings);

  RebuildReport report;
  report.spaces = *spaces;
  for (const std::string& space : *spaces) {
    audiences::SpaceAudiences audiences(store, space);
    auto defined = options.definitions.find(space);
    const SpaceDefinitions none;
    const SpaceDefinitions& definitions = defined == options.definitions.end() ? none : defined->second;
    if (absl::Status status = audiences.Load(definitions.computed_traits, definitions.audiences);
        !status.ok()) {
      return status;
    }
    Resolver resolver(store, space, **normalizer, extractor, identity::IdentityRules(options.rules),
                      options.resolver, &audiences);
    resolver.SetSuppressionList(replay_privacy->list.get());
    if (absl::Status status = resolver.Recover(); !status.ok()) return status;
    auto applied = resolver.CatchUp();
    if (!applied.ok()) return applied.status();
    // Memberships at the end of the replay are as of now, with fresh RFM cut points.
    if (absl::Status status = resolver.EvaluateAudiences(); !status.ok()) return status;
    report.events += *applied;
    report.dead_letters += resolver.metrics().events_dead_lettered.load();
    report.profiles += resolver.metrics().profiles_created.load();
    report.merges += resolver.metrics().merges.load();
  }
  if (absl::Status status =
          KeepHigher(store, *positions, [&](uint64_t position) { return position < log.next_sequence(); });
      !status.ok()) {
    return status;
  }
  if (absl::Status status = KeepHigher(store, *next_ids, [](uint64_t) { return true; }); !status.ok()) return status;
  return report;
}

}  // namespace tessera::resolve
