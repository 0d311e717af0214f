#pragma once

// ProfileReader: the read side of profiles, for the profile query API. It resolves identifiers to
// canonical profiles (following merge redirects), loads profiles, pages through a profile's
// timeline (its own and every merged-away profile's, newest first), and reads merge records and
// accepted-log records. It never writes.
//
// Thread-safety: every method is const and only reads the Store, so any number of threads may call
// one ProfileReader concurrently. Each Timeline call reads one RocksDB snapshot, so a page is
// consistent even while the resolver writes.
//
// Timeline paging: a TimelineCursor is a position (event time, log sequence) in the newest-first
// order, not an offset, so a cursor stays valid while new events arrive: events newer than the
// cursor are not returned by later pages of the same traversal; events inserted older than it are.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "profile_store/profile.h"
#include "profile_store/store.h"
#include "profile_store/timeline_summary.h"

namespace tessera::profile_store {

// A position in a timeline: the last entry a page returned. Opaque to clients (see EncodeCursor).
struct TimelineCursor {
  Timestamp time{};
  uint64_t sequence = 0;
  friend bool operator==(const TimelineCursor&, const TimelineCursor&) = default;
};

// URL-safe text (unpadded base64url of a version byte, the time in µs and the sequence, 17 bytes).
std::string EncodeCursor(const TimelineCursor& cursor);
// The inverse of EncodeCursor; nullopt for anything EncodeCursor could not have produced.
std::optional<TimelineCursor> DecodeCursor(std::string_view text);

// Which timeline entries a page returns. Empty lists match everything; a non-empty list matches an
// entry whose field equals one of its values (an entry without an `event` never matches `events`).
struct TimelineFilter {
  std::vector<std::string> types;     // Event types ("track", "identify", ...).
  std::vector<std::string> events;    // Track event names.
  std::vector<std::string> channels;  // Channels ("web", "server", ...).
  std::optional<Timestamp> since;     // Only entries at or after this time (inclusive).
  std::optional<Timestamp> until;     // Only entries before this time (exclusive).
};

struct TimelineEntry {
  ProfileId profile;      // The profile whose timeline holds it (the profile or one merged into it).
  Timestamp time{};       // Event time (times before the epoch are stored as the epoch).
  uint64_t sequence = 0;  // Log sequence of the event (read it with LogRecord).
  TimelineSummary summary;  // Type, event name, channel and warnings (timeline_summary.h).
};

struct TimelinePage {
  std::vector<TimelineEntry> entries;  // Newest first: (time, sequence) descending.
  std::optional<TimelineCursor> next;  // Set when more matching entries follow; pass it as `after`.
};

class ProfileReader {
 public:
  // Longest chain of merge redirects followed before the store is declared damaged.
  static constexpr int kMaxRedirects = 64;

  explicit ProfileReader(Store& store);

  // The canonical profile an identifier belongs to; nullopt when the identifier is unknown.
  // `normalized_value` must already be normalized as the identity graph stores it. The profile is
  // returned whole, read once: a lookup by identifier is the API's hottest read.
  absl::StatusOr<std::optional<Profile>> FindByIdentifier(std::string_view space, std::string_view type,
                                                          std::string_view normalized_value) const;

  // The profile `id` ends up in after following merge redirects; nullopt when `id` is unknown.
  // DataLoss when the chain is longer than kMaxRedirects (a loop).
  absl::StatusOr<std::optional<ProfileId>> Canonical(std::string_view space, ProfileId id) const;

  // The canonical profile of `id` (never a redirect record); nullopt when `id` is unknown.
  absl::StatusOr<std::optional<Profile>> Load(std::string_view space, ProfileId id) const;

  // One page of `profile`'s timeline and those of every profile in profile.merged_from, newest
  // first, filtered, at most `limit` (>= 1) entries, starting after `after` (from the newest when
  // absent). Entries of the same event in several of those timelines are returned once.
  absl::StatusOr<TimelinePage> Timeline(std::string_view space, const Profile& profile,
                                        const TimelineFilter& filter, size_t limit,
                                        std::optional<TimelineCursor> after) const;

  // The merge and refused-merge records (JSON) kept under `profile` and its merged_from profiles,
  // ordered by log sequence, then ordinal. A record stored identically under several of those
  // profiles (a refused merge is recorded on each profile involved) is returned once.
  absl::StatusOr<std::vector<std::string>> MergeRecords(std::string_view space, const Profile& profile) const;

  // The accepted-log record of `sequence` as stored (ingest/event_codec.h: ingest::RecordAsJson
  // renders it as JSON); nullopt when absent.
  absl::StatusOr<std::optional<std::string>> LogRecord(std::string_view space, uint64_t sequence) const;

 private:
  Store& store_;
};

}  // namespace tessera::profile_store
