#include "resolve/rebuild.h"

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
        ColumnFamily::kDeadLetter, ColumnFamily::kMembers, ColumnFamily::kAudienceChanges}) {
    batch.DeleteRange(store.handle(family), begin, end);
  }
  // Per-space counters and positions in kMeta.
  for (std::string_view prefix :
       {std::string_view("resolver/position/"), std::string_view("profiles/next_id/"),
        std::string_view("audiences/counters/"), std::string_view("audiences/rfm/")}) {
    std::string prefix_end(prefix);
    prefix_end.back() = static_cast<char>(prefix_end.back() + 1);
    batch.DeleteRange(store.handle(ColumnFamily::kMeta), std::string(prefix), prefix_end);
  }
  if (absl::Status status = store.Write(batch); !status.ok()) return status;
  // Reclaim the space now rather than at some later compaction.
  for (ColumnFamily family :
       {ColumnFamily::kIdentifiers, ColumnFamily::kProfiles, ColumnFamily::kMerges, ColumnFamily::kTimeline,
        ColumnFamily::kDeadLetter, ColumnFamily::kMembers, ColumnFamily::kAudienceChanges}) {
    rocksdb::Status status =
        store.db()->CompactRange(rocksdb::CompactRangeOptions(), store.handle(family), nullptr, nullptr);
    if (!status.ok()) return profile_store::ToAbslStatus(status, "compacting derived state");
  }
  return absl::OkStatus();
}

namespace {

constexpr std::string_view kPositionPrefix = "resolver/position/";

// Every space's resolver position, by space.
absl::StatusOr<std::map<std::string, uint64_t>> ReadPositions(profile_store::Store& store) {
  std::map<std::string, uint64_t> positions;
  absl::Status scanned =
      store.ScanPrefix(ColumnFamily::kMeta, kPositionPrefix, [&](std::string_view key, std::string_view value) {
        if (value.size() == 8) {
          positions[std::string(key.substr(kPositionPrefix.size()))] = profile_store::ReadBigEndian64(value);
        }
      });
  if (!scanned.ok()) return scanned;
  return positions;
}

}  // namespace

absl::StatusOr<RebuildReport> Rebuild(profile_store::Store& store, const DerivedStateOptions& options) {
  auto spaces = LoggedSpaces(store);
  if (!spaces.ok()) return spaces.status();
  // A position may lie past the space's last logged event, when erasure, suppression or an
  // erasure command deleted the records at the log's end: the replay, which reads all that is
  // left, gets as far, so it keeps that position (never past the log's own end).
  auto positions = ReadPositions(store);
  if (!positions.ok()) return positions.status();
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
  rocksdb::WriteBatch kept;
  for (const auto& [space, position] : *positions) {
    absl::StatusOr<std::string> replayed = store.Get(ColumnFamily::kMeta, ResolverPositionKey(space));
    if (!replayed.ok() && !absl::IsNotFound(replayed.status())) return replayed.status();
    const uint64_t reached = replayed.ok() && replayed->size() == 8 ? profile_store::ReadBigEndian64(*replayed) : 0;
    if (position <= reached || position >= log.next_sequence()) continue;
    std::string value;
    profile_store::AppendBigEndian64(value, position);
    kept.Put(store.handle(ColumnFamily::kMeta), ResolverPositionKey(space), value);
  }
  if (kept.Count() > 0) {
    if (absl::Status status = store.Write(kept); !status.ok()) return status;
  }
  return report;
}

}  // namespace tessera::resolve
