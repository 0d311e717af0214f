#include "profile_store/profile.h"

#include <algorithm>
#include <charconv>
#include <cstring>
#include <tuple>

#include "profile_store/store.h"

namespace tessera::profile_store {
namespace {

int64_t Micros(Timestamp time) { return time.time_since_epoch().count(); }

void InsertSorted(std::vector<std::string>& values, std::string_view value) {
  auto it = std::lower_bound(values.begin(), values.end(), value);
  if (it == values.end() || *it != value) values.insert(it, std::string(value));
}

// True when a write at (time, sequence) is newer than one at (other_time, other_sequence).
bool Newer(Timestamp time, uint64_t sequence, Timestamp other_time, uint64_t other_sequence) {
  return std::tie(time, sequence) > std::tie(other_time, other_sequence);
}

void AppendSpacePrefix(std::string& key, std::string_view space) {
  key.append(space);
  key.push_back('\0');
}

}  // namespace

std::string FormatProfileId(ProfileId id) {
  char text[18] = {'p'};
  static constexpr char kHex[] = "0123456789abcdef";
  for (int i = 0; i < 16; ++i) text[1 + i] = kHex[(id.value >> (60 - 4 * i)) & 0xf];
  return std::string(text, 17);
}

std::optional<ProfileId> ParseProfileId(std::string_view text) {
  if (text.size() != 17 || text[0] != 'p') return std::nullopt;
  uint64_t value = 0;
  auto [end, error] = std::from_chars(text.data() + 1, text.data() + text.size(), value, 16);
  if (error != std::errc() || end != text.data() + text.size()) return std::nullopt;
  for (char c : text.substr(1)) {
    if (c >= 'A' && c <= 'F') return std::nullopt;  // one spelling per id
  }
  if (value == 0) return std::nullopt;
  return ProfileId{value};
}

const IdentityRecord* Profile::FindIdentity(std::string_view type, std::string_view value) const {
  auto it = std::lower_bound(identities.begin(), identities.end(), std::pair(type, value),
                             [](const IdentityRecord& record, const std::pair<std::string_view, std::string_view>& key) {
                               return std::tie(record.type, record.value) < std::tie(key.first, key.second);
                             });
  if (it == identities.end() || it->type != type || it->value != value) return nullptr;
  return &*it;
}

size_t Profile::CountIdentities(std::string_view type) const {
  size_t count = 0;
  for (const IdentityRecord& record : identities) count += record.type == type;
  return count;
}

void Profile::TouchIdentity(std::string_view type, std::string_view value, Timestamp time, std::string_view source) {
  auto it = std::lower_bound(identities.begin(), identities.end(), std::pair(type, value),
                             [](const IdentityRecord& record, const std::pair<std::string_view, std::string_view>& key) {
                               return std::tie(record.type, record.value) < std::tie(key.first, key.second);
                             });
  if (it == identities.end() || it->type != type || it->value != value) {
    IdentityRecord record{std::string(type), std::string(value), time, time, {}};
    if (!source.empty()) record.sources.emplace_back(source);
    identities.insert(it, std::move(record));
    return;
  }
  it->first_seen = std::min(it->first_seen, time);
  it->last_seen = std::max(it->last_seen, time);
  if (!source.empty()) InsertSorted(it->sources, source);
}

void Profile::TouchChannel(std::string_view channel, Timestamp time) {
  auto [it, inserted] = channels.try_emplace(std::string(channel));
  ChannelRecord& record = it->second;
  if (inserted || time < record.first_seen) record.first_seen = time;
  if (inserted || time > record.last_seen) record.last_seen = time;
  ++record.events;
  if (event_count == 0 || time < first_seen) first_seen = time;
  if (event_count == 0 || time > last_seen) last_seen = time;
  ++event_count;
}

void Profile::SetTrait(std::string_view name, std::string_view json, Timestamp time, uint64_t sequence,
                       bool set_once) {
  auto [it, inserted] = traits.try_emplace(std::string(name));
  TraitRecord& record = it->second;
  bool replace = inserted;
  if (!inserted) {
    if (set_once) {
      // The first value wins: replace only a later write, or a plain (non-once) one.
      replace = !record.set_once || Newer(record.time, record.sequence, time, sequence);
    } else {
      replace = !record.set_once && Newer(time, sequence, record.time, record.sequence);
    }
  }
  if (!replace) return;
  record.json.assign(json);
  record.time = time;
  record.sequence = sequence;
  record.set_once = set_once;
}

void Profile::SetConsent(std::string_view purpose, const ConsentRecord& record) {
  auto [it, inserted] = consent.try_emplace(std::string(purpose), record);
  if (!inserted && Newer(record.time, record.sequence, it->second.time, it->second.sequence))
    it->second = record;
}

void Profile::Absorb(const Profile& other) {
  for (const IdentityRecord& identity : other.identities) {
    for (const std::string& source : identity.sources) {
      TouchIdentity(identity.type, identity.value, identity.first_seen, source);
      TouchIdentity(identity.type, identity.value, identity.last_seen, source);
    }
    if (identity.sources.empty()) {
      TouchIdentity(identity.type, identity.value, identity.first_seen, {});
      TouchIdentity(identity.type, identity.value, identity.last_seen, {});
    }
  }
  for (const auto& [name, trait] : other.traits) SetTrait(name, trait.json, trait.time, trait.sequence, trait.set_once);
  for (const auto& [purpose, record] : other.consent) SetConsent(purpose, record);
  for (const auto& [name, channel] : other.channels) {
    auto [it, inserted] = channels.try_emplace(name, channel);
    if (!inserted) {
      it->second.first_seen = std::min(it->second.first_seen, channel.first_seen);
      it->second.last_seen = std::max(it->second.last_seen, channel.last_seen);
      it->second.events += channel.events;
    }
  }
  if (other.event_count > 0) {
    if (event_count == 0 || other.first_seen < first_seen) first_seen = other.first_seen;
    if (event_count == 0 || other.last_seen > last_seen) last_seen = other.last_seen;
    event_count += other.event_count;
  }
  auto add_merged = [&](ProfileId id) {
    auto it = std::lower_bound(merged_from.begin(), merged_from.end(), id);
    if (it == merged_from.end() || *it != id) merged_from.insert(it, id);
  };
  add_merged(other.id);
  for (ProfileId id : other.merged_from) add_merged(id);
  for (const auto& [key, aggregate] : other.aggregates) {
    auto [it, inserted] = aggregates.try_emplace(key, aggregate);
    if (!inserted) it->second.Merge(aggregate);
  }
  purchases.Merge(other.purchases);
  service.Merge(other.service);
  // `audiences` stays as it is: memberships follow from the merged profile's state, and the
  // resolver re-evaluates the winner and records the loser leaving its audiences.
}

std::string ProfileKey(std::string_view space, ProfileId id) {
  std::string key;
  key.reserve(space.size() + 9);
  AppendSpacePrefix(key, space);
  AppendBigEndian64(key, id.value);
  return key;
}

std::string RetiredProfilePrefix(std::string_view space) {
  std::string key;
  key.reserve(space.size() + 3);
  AppendSpacePrefix(key, space);
  key.push_back('p');
  key.push_back('\0');
  return key;
}

std::string RetiredProfileKey(std::string_view space, ProfileId id) {
  std::string key = RetiredProfilePrefix(space);
  AppendBigEndian64(key, id.value);
  return key;
}

std::string IdentifierKey(std::string_view space, std::string_view type, std::string_view value) {
  std::string key;
  key.reserve(space.size() + type.size() + value.size() + 2);
  AppendSpacePrefix(key, space);
  key.append(type);
  key.push_back('\0');
  key.append(value);
  return key;
}

std::string MergePrefix(std::string_view space, ProfileId id) { return ProfileKey(space, id); }

std::string MergeKey(std::string_view space, ProfileId id, uint64_t sequence, uint32_t ordinal) {
  std::string key = ProfileKey(space, id);
  AppendBigEndian64(key, sequence);
  char bytes[4] = {static_cast<char>(ordinal >> 24), static_cast<char>(ordinal >> 16), static_cast<char>(ordinal >> 8),
                   static_cast<char>(ordinal)};
  key.append(bytes, 4);
  return key;
}

std::string TimelinePrefix(std::string_view space, ProfileId id) { return ProfileKey(space, id); }

std::string TimelineKey(std::string_view space, ProfileId id, Timestamp event_time, uint64_t sequence) {
  std::string key = ProfileKey(space, id);
  // Newest first: a forward scan from the prefix returns the latest events. Times before 1970 sort
  // after all later ones only if negative; clamp them to the epoch's key.
  const int64_t micros = std::max<int64_t>(0, Micros(event_time));
  AppendBigEndian64(key, ~static_cast<uint64_t>(micros));
  AppendBigEndian64(key, ~sequence);
  return key;
}

}  // namespace tessera::profile_store
