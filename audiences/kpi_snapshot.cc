#include "audiences/kpi_snapshot.h"

#include <algorithm>
#include <string_view>
#include <unordered_map>

#include "absl/strings/str_cat.h"
#include "audiences/purchase_traits.h"
#include "profile_store/audience_store.h"
#include "profile_store/profile.h"
#include "profile_store/timeline_summary.h"
#include "simdjson.h"

namespace tessera::audiences {
namespace {

using profile_store::ColumnFamily;

std::string SpacePrefix(std::string_view space) {
  std::string prefix(space);
  prefix.push_back('\0');
  return prefix;
}

// The profile id that follows the space prefix of a profiles, merges or timeline key.
uint64_t IdAfter(std::string_view key, size_t prefix_size) {
  return profile_store::ReadBigEndian64(key.substr(prefix_size, 8));
}

// A merge record's log sequence when it is a merge (not a refused one); nullopt otherwise.
std::optional<uint64_t> MergeSequence(simdjson::ondemand::parser& parser, std::string_view json) {
  simdjson::padded_string padded(json);
  simdjson::ondemand::document document;
  if (parser.iterate(padded).get(document)) return std::nullopt;
  std::string_view kind;
  if (document["kind"].get_string().get(kind) || kind != "merge") return std::nullopt;
  uint64_t sequence = 0;
  if (document["sequence"].get_uint64().get(sequence)) return std::nullopt;
  return sequence;
}

}  // namespace

absl::StatusOr<KpiSnapshot> ReadKpiSnapshot(const profile_store::Store& store, const std::string& space,
                                            const std::optional<base::TimeZone>& time_zone) {
  KpiSnapshot snapshot;
  snapshot.space = space;
  snapshot.time_zone = time_zone;
  snapshot.computed_at = std::chrono::time_point_cast<std::chrono::microseconds>(std::chrono::system_clock::now());
  const std::string prefix = SpacePrefix(space);
  absl::Status failure = absl::OkStatus();

  // Profiles: who was merged into whom, and each person's purchases.
  std::unordered_map<uint64_t, uint64_t> merged_into;
  std::unordered_map<uint64_t, size_t> person_of;
  absl::Status scanned = store.ScanPrefix(ColumnFamily::kProfiles, prefix, [&](std::string_view key, std::string_view value) {
    if (!failure.ok() || key.size() != prefix.size() + 8) return;
    absl::StatusOr<profile_store::Profile> profile = profile_store::DecodeProfile(value);
    if (!profile.ok()) {
      failure = profile.status();
      return;
    }
    const uint64_t id = IdAfter(key, prefix.size());
    if (profile->merged_into) {
      merged_into[id] = profile->merged_into->value;
      return;
    }
    person_of[id] = snapshot.people.size();
    snapshot.people.push_back(KpiPerson{.days = {}, .purchases = std::move(profile->purchases)});
  });
  if (!scanned.ok()) return scanned;
  if (!failure.ok()) return failure;
  // The person an id's events count for: follow redirects to the profile that absorbed it.
  auto person = [&](uint64_t id) -> std::optional<size_t> {
    for (int hops = 0; hops < 64; ++hops) {
      if (auto found = person_of.find(id); found != person_of.end()) return found->second;
      auto next = merged_into.find(id);
      if (next == merged_into.end()) return std::nullopt;
      id = next->second;
    }
    return std::nullopt;
  };

  // Merges, by the event that caused them.
  std::unordered_map<uint64_t, uint64_t> merges_by_sequence;
  simdjson::ondemand::parser parser;  // One for every record: a parser allocates its buffers.
  scanned = store.ScanPrefix(ColumnFamily::kMerges, prefix, [&](std::string_view, std::string_view value) {
    if (std::optional<uint64_t> sequence = MergeSequence(parser, value)) ++merges_by_sequence[*sequence];
  });
  if (!scanned.ok()) return scanned;

  // The timeline: one row per applied event.
  std::vector<std::string> channel_names;  // In order of appearance; sorted below.
  std::map<std::pair<int32_t, uint16_t>, uint64_t> events;
  auto channel_index = [&](const std::string& name) -> uint16_t {
    for (size_t i = 0; i < channel_names.size(); ++i) {
      if (channel_names[i] == name) return static_cast<uint16_t>(i);
    }
    channel_names.push_back(name);
    return static_cast<uint16_t>(channel_names.size() - 1);
  };
  uint64_t cached_id = 0;
  std::optional<size_t> cached_person;
  scanned = store.ScanPrefix(ColumnFamily::kTimeline, prefix, [&](std::string_view key, std::string_view value) {
    if (!failure.ok() || key.size() != prefix.size() + 24) return;
    absl::StatusOr<profile_store::TimelineSummary> summary = profile_store::DecodeTimelineSummary(value);
    if (!summary.ok()) {
      failure = summary.status();
      return;
    }
    const uint64_t id = IdAfter(key, prefix.size());
    const uint64_t micros = ~profile_store::ReadBigEndian64(key.substr(prefix.size() + 8, 8));
    const base::Timestamp time{std::chrono::microseconds(static_cast<int64_t>(micros))};
    const int32_t day = LocalDay(time_zone, time);
    const uint16_t channel = channel_index(summary->channel);
    ++events[{day, channel}];
    if (id != cached_id || cached_id == 0) {
      cached_id = id;
      cached_person = person(id);
    }
    if (cached_person) {
      std::vector<std::pair<int32_t, uint16_t>>& days = snapshot.people[*cached_person].days;
      if (days.empty() || days.back() != std::make_pair(day, channel)) days.emplace_back(day, channel);
    }
    if (auto merge = merges_by_sequence.find(summary->sequence); merge != merges_by_sequence.end()) {
      snapshot.merges[day] += merge->second;
      merges_by_sequence.erase(merge);  // The winner's row and the loser's name the same event.
    }
  });
  if (!scanned.ok()) return scanned;
  if (!failure.ok()) return failure;

  // Channels in name order: renumber.
  std::vector<std::string> sorted = channel_names;
  std::sort(sorted.begin(), sorted.end());
  std::vector<uint16_t> renumber(channel_names.size());
  for (size_t i = 0; i < channel_names.size(); ++i) {
    renumber[i] = static_cast<uint16_t>(std::lower_bound(sorted.begin(), sorted.end(), channel_names[i]) - sorted.begin());
  }
  snapshot.channels = std::move(sorted);
  for (const auto& [day_channel, count] : events) {
    snapshot.events[{day_channel.first, renumber[day_channel.second]}] += count;
  }
  if (!snapshot.events.empty()) {
    snapshot.first_day = snapshot.events.begin()->first.first;
    snapshot.last_day = snapshot.events.rbegin()->first.first;
  }
  for (KpiPerson& one : snapshot.people) {
    for (auto& [day, channel] : one.days) channel = renumber[channel];
    std::sort(one.days.begin(), one.days.end());
    one.days.erase(std::unique(one.days.begin(), one.days.end()), one.days.end());
  }

  // Audiences: their entries and exits, by the local day each was recorded.
  absl::StatusOr<std::vector<profile_store::StoredDefinition>> definitions =
      profile_store::ReadDefinitions(store, space, profile_store::DefinitionKind::kAudience);
  if (!definitions.ok()) return definitions.status();
  for (const profile_store::StoredDefinition& definition : *definitions) {
    KpiAudienceHistory history{.name = definition.name, .size = 0, .changes = {}};
    const std::string changes = profile_store::AudienceChangePrefix(space, definition.name);
    scanned = store.ScanPrefix(ColumnFamily::kAudienceChanges, changes, [&](std::string_view key, std::string_view value) {
      if (key.size() != changes.size() + 16) return;
      const uint64_t micros = profile_store::ReadBigEndian64(key.substr(changes.size(), 8));
      const base::Timestamp time{std::chrono::microseconds(static_cast<int64_t>(micros))};
      const bool entered = value.find("\"change\":\"enter\"") != std::string_view::npos;
      history.changes.emplace_back(LocalDay(time_zone, time), entered ? 1 : -1);
      history.size += entered ? 1 : -1;
    });
    if (!scanned.ok()) return scanned;
    std::sort(history.changes.begin(), history.changes.end());
    snapshot.audiences.push_back(std::move(history));
  }
  std::sort(snapshot.audiences.begin(), snapshot.audiences.end(),
            [](const KpiAudienceHistory& a, const KpiAudienceHistory& b) { return a.name < b.name; });
  return snapshot;
}

}  // namespace tessera::audiences
