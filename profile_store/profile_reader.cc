#include "profile_store/profile_reader.h"

#include <algorithm>
#include <limits>
#include <memory>
#include <queue>
#include <set>
#include <tuple>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

namespace tessera::profile_store {
namespace {

constexpr uint8_t kCursorVersion = 1;
constexpr size_t kCursorBytes = 1 + 8 + 8;

int64_t Micros(Timestamp time) { return time.time_since_epoch().count(); }
Timestamp FromMicros(int64_t micros) { return Timestamp(std::chrono::microseconds(micros)); }

// The profile, followed by its merged_from profiles, each once.
std::vector<ProfileId> TimelineOwners(const Profile& profile) {
  std::vector<ProfileId> ids;
  ids.reserve(profile.merged_from.size() + 1);
  ids.push_back(profile.id);
  ids.insert(ids.end(), profile.merged_from.begin(), profile.merged_from.end());
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  return ids;
}

// Releases a snapshot when a read is over.
class ScopedSnapshot {
 public:
  explicit ScopedSnapshot(rocksdb::DB* db) : db_(db), snapshot_(db->GetSnapshot()) {}
  ~ScopedSnapshot() { db_->ReleaseSnapshot(snapshot_); }
  ScopedSnapshot(const ScopedSnapshot&) = delete;
  ScopedSnapshot& operator=(const ScopedSnapshot&) = delete;
  const rocksdb::Snapshot* get() const { return snapshot_; }

 private:
  rocksdb::DB* db_;
  const rocksdb::Snapshot* snapshot_;
};

// One profile's timeline, read newest first within [seek position, upper bound).
struct TimelineSource {
  ProfileId id;
  size_t prefix_size = 0;
  std::string upper;
  rocksdb::Slice upper_slice;  // iterate_upper_bound points here; the source never moves.
  std::unique_ptr<rocksdb::Iterator> it;
  Timestamp time{};  // Of the current entry.
  uint64_t sequence = 0;
};

// Reads time and sequence of the iterator's current entry into `source`.
absl::Status DecodeHead(TimelineSource& source) {
  const rocksdb::Slice key = source.it->key();
  if (key.size() != source.prefix_size + 16) {
    return absl::DataLossError(absl::StrCat("timeline key of profile ", FormatProfileId(source.id),
                                            ": expected ", source.prefix_size + 16, " bytes, got ",
                                            key.size()));
  }
  const std::string_view suffix(key.data() + source.prefix_size, 16);
  source.time = FromMicros(static_cast<int64_t>(~ReadBigEndian64(suffix.substr(0, 8))));
  source.sequence = ~ReadBigEndian64(suffix.substr(8, 8));
  return absl::OkStatus();
}

// Ordering of the k-way merge: newest (time, sequence) first; ties by profile id so pages are
// deterministic.
struct NewerFirst {
  bool operator()(const TimelineSource* a, const TimelineSource* b) const {
    // priority_queue pops the greatest: "a < b" means b comes first.
    return std::tie(a->time, a->sequence, b->id) < std::tie(b->time, b->sequence, a->id);
  }
};

bool Contains(const std::vector<std::string>& values, std::string_view value) {
  return std::find(values.begin(), values.end(), value) != values.end();
}

// Whether a timeline summary passes the type/event/channel lists of `filter`.
bool MatchesSummary(const TimelineSummary& summary, const TimelineFilter& filter) {
  if (!filter.types.empty() && !Contains(filter.types, summary.type)) return false;
  // An entry without an event name never matches a list of names.
  if (!filter.events.empty() && (summary.event.empty() || !Contains(filter.events, summary.event)))
    return false;
  if (!filter.channels.empty() && !Contains(filter.channels, summary.channel)) return false;
  return true;
}

// The profile record stored under `id` (possibly a redirect); nullopt when there is none.
absl::StatusOr<std::optional<Profile>> LoadRecord(const Store& store, std::string_view space, ProfileId id) {
  auto record = store.Get(ColumnFamily::kProfiles, ProfileKey(space, id));
  if (absl::IsNotFound(record.status())) return std::optional<Profile>();
  if (!record.ok()) return record.status();
  auto profile = DecodeProfile(*record);
  if (!profile.ok()) {
    return absl::DataLossError(
        absl::StrCat("profile ", FormatProfileId(id), ": ", std::string(profile.status().message())));
  }
  if (profile->id != id) {
    return absl::DataLossError(
        absl::StrCat("profile record under ", FormatProfileId(id), " holds ", FormatProfileId(profile->id)));
  }
  return std::optional<Profile>(*std::move(profile));
}

// The canonical profile of `id`, following at most kMaxRedirects redirects.
absl::StatusOr<std::optional<Profile>> LoadCanonical(const Store& store, std::string_view space,
                                                     ProfileId id) {
  for (int hop = 0; hop <= ProfileReader::kMaxRedirects; ++hop) {
    auto profile = LoadRecord(store, space, id);
    if (!profile.ok()) return profile.status();
    if (!profile->has_value() || !(*profile)->merged_into) return profile;
    id = *(*profile)->merged_into;
  }
  return absl::DataLossError(absl::StrCat("profile redirects loop past ", ProfileReader::kMaxRedirects,
                                          " hops at ", FormatProfileId(id)));
}

}  // namespace

std::string EncodeCursor(const TimelineCursor& cursor) {
  std::string bytes;
  bytes.reserve(kCursorBytes);
  bytes.push_back(static_cast<char>(kCursorVersion));
  AppendBigEndian64(bytes, static_cast<uint64_t>(Micros(cursor.time)));
  AppendBigEndian64(bytes, cursor.sequence);
  return absl::WebSafeBase64Escape(absl::string_view(bytes.data(), bytes.size()));
}

std::optional<TimelineCursor> DecodeCursor(std::string_view text) {
  // 17 bytes are 23 characters of unpadded base64url; checking first keeps huge inputs cheap.
  if (text.size() != (kCursorBytes * 4 + 2) / 3) return std::nullopt;
  std::string bytes;
  if (!absl::WebSafeBase64Unescape(absl::string_view(text.data(), text.size()), &bytes)) return std::nullopt;
  if (bytes.size() != kCursorBytes || static_cast<uint8_t>(bytes[0]) != kCursorVersion) return std::nullopt;
  const uint64_t micros = ReadBigEndian64(std::string_view(bytes).substr(1, 8));
  // Timeline times are never before the epoch, so a negative time was not made by EncodeCursor.
  if (micros > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) return std::nullopt;
  TimelineCursor cursor{FromMicros(static_cast<int64_t>(micros)),
                        ReadBigEndian64(std::string_view(bytes).substr(9, 8))};
  // Only the canonical spelling is accepted (no padding, no stray low bits), so one position has
  // exactly one cursor text.
  if (EncodeCursor(cursor) != text) return std::nullopt;
  return cursor;
}

ProfileReader::ProfileReader(Store& store) : store_(store) {}

absl::StatusOr<std::optional<Profile>> ProfileReader::FindByIdentifier(
    std::string_view space, std::string_view type, std::string_view normalized_value) const {
  auto value = store_.Get(ColumnFamily::kIdentifiers, IdentifierKey(space, type, normalized_value));
  if (absl::IsNotFound(value.status())) return std::optional<Profile>();
  if (!value.ok()) return value.status();
  if (value->size() != 8) {
    return absl::DataLossError(absl::StrCat("identifier index entry ", std::string(type), ":",
                                            std::string(normalized_value), ": expected 8 bytes, got ",
                                            value->size()));
  }
  const ProfileId linked{ReadBigEndian64(*value)};
  auto canonical = LoadCanonical(store_, space, linked);
  if (!canonical.ok()) return canonical.status();
  // Profiles are never deleted (merged ones keep a redirect), so a dangling link is damage.
  if (!canonical->has_value()) {
    return absl::DataLossError(absl::StrCat("identifier ", std::string(type), ":",
                                            std::string(normalized_value), " points at profile ",
                                            FormatProfileId(linked), ", which has no record"));
  }
  return canonical;
}

absl::StatusOr<std::optional<ProfileId>> ProfileReader::Canonical(std::string_view space,
                                                                  ProfileId id) const {
  auto profile = LoadCanonical(store_, space, id);
  if (!profile.ok()) return profile.status();
  if (!profile->has_value()) return std::optional<ProfileId>();
  return std::optional<ProfileId>((*profile)->id);
}

absl::StatusOr<std::optional<Profile>> ProfileReader::Load(std::string_view space, ProfileId id) const {
  return LoadCanonical(store_, space, id);
}

absl::StatusOr<TimelinePage> ProfileReader::Timeline(std::string_view space, const Profile& profile,
                                                     const TimelineFilter& filter, size_t limit,
                                                     std::optional<TimelineCursor> after) const {
  if (limit == 0) return absl::InvalidArgumentError("limit: must be at least 1");
  TimelinePage page;
  // Keys clamp times to the epoch, so nothing is before an `until` at or before it.
  if (filter.until && Micros(*filter.until) <= 0) return page;
  if (filter.since && filter.until && *filter.since >= *filter.until) return page;

  rocksdb::DB* db = store_.db();
  ScopedSnapshot snapshot(db);
  std::vector<std::unique_ptr<TimelineSource>> sources;
  std::priority_queue<TimelineSource*, std::vector<TimelineSource*>, NewerFirst> heap;

  // Moves `source` to its next entry and back into the heap, or drops it at its end.
  auto advance = [&heap](TimelineSource& source, bool next) -> absl::Status {
    if (next) source.it->Next();
    if (!source.it->Valid()) {
      return ToAbslStatus(source.it->status(), "reading timeline of " + FormatProfileId(source.id));
    }
    if (absl::Status decoded = DecodeHead(source); !decoded.ok()) return decoded;
    heap.push(&source);
    return absl::OkStatus();
  };

  for (ProfileId id : TimelineOwners(profile)) {
    auto source = std::make_unique<TimelineSource>();
    source->id = id;
    const std::string prefix = TimelinePrefix(space, id);
    source->prefix_size = prefix.size();
    // Keys hold inverted times, so the oldest wanted time bounds the scan from above.
    source->upper = filter.since && Micros(*filter.since) > 0
                        ? TimelineKey(space, id, *filter.since - std::chrono::microseconds(1),
                                      std::numeric_limits<uint64_t>::max())
                        : PrefixEnd(prefix);
    source->upper_slice = rocksdb::Slice(source->upper);
    // Start at the newest wanted position: just below `until`, or at the cursor (skipped below).
    std::string start = prefix;
    if (filter.until) {
      start = std::max(start, TimelineKey(space, id, *filter.until - std::chrono::microseconds(1),
                                          std::numeric_limits<uint64_t>::max()));
    }
    if (after) start = std::max(start, TimelineKey(space, id, after->time, after->sequence));
    rocksdb::ReadOptions options;
    options.snapshot = snapshot.get();
    options.iterate_upper_bound = &source->upper_slice;
    source->it.reset(db->NewIterator(options, store_.handle(ColumnFamily::kTimeline)));
    source->it->Seek(start);
    if (absl::Status status = advance(*source, /*next=*/false); !status.ok()) return status;
    sources.push_back(std::move(source));
  }

  std::optional<std::pair<Timestamp, uint64_t>> previous;
  while (!heap.empty()) {
    TimelineSource& source = *heap.top();
    heap.pop();
    const Timestamp time = source.time;
    const uint64_t sequence = source.sequence;
    if (filter.since && time < *filter.since) break;  // Everything left is older.
    // The same event in two of the merged timelines is one entry.
    const bool duplicate = previous && previous->first == time && previous->second == sequence;
    previous.emplace(time, sequence);
    const bool wanted = !duplicate && (!filter.until || time < *filter.until) &&
                        (!after || std::tie(time, sequence) < std::tie(after->time, after->sequence));
    if (wanted) {
      const rocksdb::Slice value = source.it->value();
      absl::StatusOr<TimelineSummary> summary =
          DecodeTimelineSummary(std::string_view(value.data(), value.size()));
      if (!summary.ok()) {
        return absl::DataLossError(absl::StrCat("timeline of ", FormatProfileId(source.id), " at sequence ",
                                                sequence, ": ", std::string(summary.status().message())));
      }
      if (MatchesSummary(*summary, filter)) {
        if (page.entries.size() == limit) {
          // Another entry follows the page: continue after its last one.
          const TimelineEntry& last = page.entries.back();
          page.next = TimelineCursor{last.time, last.sequence};
          break;
        }
        page.entries.push_back(TimelineEntry{source.id, time, sequence, *std::move(summary)});
      }
    }
    if (absl::Status status = advance(source, /*next=*/true); !status.ok()) return status;
  }
  return page;
}

absl::StatusOr<std::vector<std::string>> ProfileReader::MergeRecords(std::string_view space,
                                                                     const Profile& profile) const {
  struct Record {
    uint64_t sequence;
    uint32_t ordinal;
    ProfileId owner;
    std::string json;
  };
  std::vector<Record> records;
  rocksdb::DB* db = store_.db();
  ScopedSnapshot snapshot(db);
  for (ProfileId id : TimelineOwners(profile)) {
    const std::string prefix = MergePrefix(space, id);
    const std::string end = PrefixEnd(prefix);
    const rocksdb::Slice end_slice(end);
    rocksdb::ReadOptions options;
    options.snapshot = snapshot.get();
    options.iterate_upper_bound = &end_slice;
    std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(options, store_.handle(ColumnFamily::kMerges)));
    for (it->Seek(prefix); it->Valid(); it->Next()) {
      const rocksdb::Slice key = it->key();
      if (key.size() != prefix.size() + 12) {
        return absl::DataLossError(absl::StrCat("merge record key of profile ", FormatProfileId(id),
                                                ": expected ", prefix.size() + 12, " bytes, got ",
                                                key.size()));
      }
      const auto* tail = reinterpret_cast<const uint8_t*>(key.data() + prefix.size());
      const uint64_t sequence = ReadBigEndian64(std::string_view(key.data() + prefix.size(), 8));
      const uint32_t ordinal = (uint32_t{tail[8]} << 24) | (uint32_t{tail[9]} << 16) |
                               (uint32_t{tail[10]} << 8) | uint32_t{tail[11]};
      records.push_back(Record{sequence, ordinal, id, it->value().ToString()});
    }
    if (!it->status().ok()) {
      return ToAbslStatus(it->status(), "reading merge records of " + FormatProfileId(id));
    }
  }
  std::sort(records.begin(), records.end(), [](const Record& a, const Record& b) {
    return std::tie(a.sequence, a.ordinal, a.owner) < std::tie(b.sequence, b.ordinal, b.owner);
  });
  std::vector<std::string> result;
  result.reserve(records.size());
  std::set<std::pair<uint64_t, std::string_view>> seen;
  for (const Record& record : records) {
    if (seen.emplace(record.sequence, record.json).second) result.push_back(record.json);
  }
  return result;
}

absl::StatusOr<std::optional<std::string>> ProfileReader::LogRecord(std::string_view space,
                                                                    uint64_t sequence) const {
  // Mirrors ingest::AcceptedLog::Key (space, 0x00, sequence u64 BE); profile_store may not depend
  // on ingest, and KEYS.md fixes the layout for both.
  std::string key;
  key.reserve(space.size() + 9);
  key.append(space);
  key.push_back('\0');
  AppendBigEndian64(key, sequence);
  auto value = store_.Get(ColumnFamily::kLog, key);
  if (absl::IsNotFound(value.status())) return std::optional<std::string>();
  if (!value.ok()) return value.status();
  return std::optional<std::string>(*std::move(value));
}

}  // namespace tessera::profile_store
