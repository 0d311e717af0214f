#include "profile_store/profile.h"

#include <algorithm>
#include <charconv>
#include <cstring>
#include <tuple>

#include "base/json_reading.h"
#include "base/json_writer.h"
#include "profile_store/store.h"
#include "simdjson.h"

namespace tessera::profile_store {
namespace {

namespace od = simdjson::ondemand;

int64_t Micros(Timestamp time) { return time.time_since_epoch().count(); }
Timestamp FromMicros(int64_t micros) { return Timestamp(std::chrono::microseconds(micros)); }

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

absl::Status Damaged(std::string_view what) {
  return absl::DataLossError("damaged profile record: " + std::string(what));
}

// Reads a member that maps names to records, such as "traits": {name: {"v":..,"t":..}}, into
// `records`. `read_member(record, member_name, member_value)` reads one member of a record and
// returns false when its value is damaged; members it does not know are its to skip.
template <typename Record, typename ReadMember>
absl::Status ReadRecords(od::value value, const std::string& key, std::map<std::string, Record>& records,
                         ReadMember&& read_member) {
  od::object object;
  if (value.get_object().get(object)) return Damaged(key);
  for (auto field : object) {
    std::string_view name;
    if (field.unescaped_key().get(name)) return Damaged(key + " key");
    std::string record_name(name);
    od::object record_object;
    if (field.value().get_object().get(record_object)) return Damaged(key + "." + record_name);
    Record record;
    for (auto member : record_object) {
      std::string_view member_name;
      od::value member_value;
      if (member.unescaped_key().get(member_name) || member.value().get(member_value) ||
          !read_member(record, member_name, member_value)) {
        return Damaged(key + "." + record_name + "." + std::string(member_name));
      }
    }
    records.insert_or_assign(std::move(record_name), std::move(record));
  }
  return absl::OkStatus();
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
  // `audiences` stays as it is: memberships follow from the merged profile's state, and the
  // resolver re-evaluates the winner and records the loser leaving its audiences.
}

void EncodeProfile(const Profile& profile, std::string& out) {
  base::JsonWriter json(out);
  json.BeginObject();
  json.Key("id").String(FormatProfileId(profile.id));
  if (profile.merged_into) {
    json.Key("mergedInto").String(FormatProfileId(*profile.merged_into));
    json.EndObject();
    return;
  }
  json.Key("firstSeen").Int(Micros(profile.first_seen));
  json.Key("lastSeen").Int(Micros(profile.last_seen));
  json.Key("eventCount").Uint(profile.event_count);
  json.Key("identities").BeginArray();
  for (const IdentityRecord& identity : profile.identities) {
    json.BeginObject();
    json.Key("type").String(identity.type);
    json.Key("value").String(identity.value);
    json.Key("firstSeen").Int(Micros(identity.first_seen));
    json.Key("lastSeen").Int(Micros(identity.last_seen));
    json.Key("sources").BeginArray();
    for (const std::string& source : identity.sources) json.String(source);
    json.EndArray();
    json.EndObject();
  }
  json.EndArray();
  json.Key("traits").BeginObject();
  for (const auto& [name, trait] : profile.traits) {
    json.Key(name).BeginObject();
    json.Key("v").Raw(trait.json);
    json.Key("t").Int(Micros(trait.time));
    json.Key("s").Uint(trait.sequence);
    if (trait.set_once) json.Key("once").Bool(true);
    json.EndObject();
  }
  json.EndObject();
  json.Key("channels").BeginObject();
  for (const auto& [name, channel] : profile.channels) {
    json.Key(name).BeginObject();
    json.Key("firstSeen").Int(Micros(channel.first_seen));
    json.Key("lastSeen").Int(Micros(channel.last_seen));
    json.Key("events").Uint(channel.events);
    json.EndObject();
  }
  json.EndObject();
  json.Key("mergedFrom").BeginArray();
  for (ProfileId id : profile.merged_from) json.String(FormatProfileId(id));
  json.EndArray();
  // Written only when there is some, so that records of profiles without consent keep the bytes
  // they had before consent was kept.
  if (!profile.consent.empty()) {
    json.Key("consent").BeginObject();
    for (const auto& [purpose, record] : profile.consent) {
      json.Key(purpose).BeginObject();
      json.Key("g").Bool(record.granted);
      json.Key("t").Int(Micros(record.time));
      json.Key("s").Uint(record.sequence);
      json.Key("source").String(record.source);
      json.Key("channel").String(record.channel);
      json.EndObject();
    }
    json.EndObject();
  }
  if (!profile.aggregates.empty()) {
    json.Key("aggregates").BeginObject();
    std::string encoded;
    for (const auto& [key, aggregate] : profile.aggregates) {
      encoded.clear();
      aggregate.Encode(encoded);
      json.Key(key).Raw(encoded);
    }
    json.EndObject();
  }
  if (!profile.audiences.empty()) {
    json.Key("audiences").BeginObject();
    for (const auto& [name, entered] : profile.audiences) json.Key(name).Int(Micros(entered));
    json.EndObject();
  }
  json.EndObject();
}

absl::StatusOr<Profile> DecodeProfile(std::string_view record) {
  thread_local base::ReusableJsonParser parser;
  od::document doc;
  if (parser.Iterate(record).get(doc)) return Damaged("not JSON");
  od::object root;
  if (doc.get_object().get(root)) return Damaged("not an object");

  Profile profile;
  auto read_id = [](od::value value, ProfileId& id) -> bool {
    std::string_view text;
    if (value.get_string().get(text)) return false;
    auto parsed = ParseProfileId(text);
    if (!parsed) return false;
    id = *parsed;
    return true;
  };
  auto read_time = [](od::value value, Timestamp& time) -> bool {
    int64_t micros = 0;
    if (value.get_int64().get(micros)) return false;
    time = FromMicros(micros);
    return true;
  };

  for (auto field : root) {
    std::string_view key;
    if (field.unescaped_key().get(key)) return Damaged("bad key");
    od::value value;
    if (field.value().get(value)) return Damaged(key);
    if (key == "id") {
      if (!read_id(value, profile.id)) return Damaged("id");
    } else if (key == "mergedInto") {
      ProfileId into;
      if (!read_id(value, into)) return Damaged("mergedInto");
      profile.merged_into = into;
    } else if (key == "firstSeen") {
      if (!read_time(value, profile.first_seen)) return Damaged(key);
    } else if (key == "lastSeen") {
      if (!read_time(value, profile.last_seen)) return Damaged(key);
    } else if (key == "eventCount") {
      if (value.get_uint64().get(profile.event_count)) return Damaged(key);
    } else if (key == "identities") {
      od::array array;
      if (value.get_array().get(array)) return Damaged(key);
      for (auto element : array) {
        od::object object;
        if (element.get_object().get(object)) return Damaged("identities[]");
        IdentityRecord identity;
        for (auto member : object) {
          std::string_view name;
          if (member.unescaped_key().get(name)) return Damaged("identities[] key");
          od::value member_value;
          if (member.value().get(member_value)) return Damaged("identities[] value");
          std::string_view text;
          if (name == "type" || name == "value") {
            if (member_value.get_string().get(text)) return Damaged("identities[].type/value");
            (name == "type" ? identity.type : identity.value).assign(text);
          } else if (name == "firstSeen") {
            if (!read_time(member_value, identity.first_seen)) return Damaged("identities[].firstSeen");
          } else if (name == "lastSeen") {
            if (!read_time(member_value, identity.last_seen)) return Damaged("identities[].lastSeen");
          } else if (name == "sources") {
            od::array sources;
            if (member_value.get_array().get(sources)) return Damaged("identities[].sources");
            for (auto source : sources) {
              if (source.get_string().get(text)) return Damaged("identities[].sources[]");
              identity.sources.emplace_back(text);
            }
          }
        }
        profile.identities.push_back(std::move(identity));
      }
    } else if (key == "traits") {
      auto read_trait = [&](TraitRecord& trait, std::string_view name, od::value member) {
        if (name == "v") {
          std::string_view raw;
          if (base::RawJsonOf(member, raw)) return false;
          trait.json.assign(raw);
        }
        if (name == "t") return read_time(member, trait.time);
        if (name == "s") return !member.get_uint64().get(trait.sequence);
        if (name == "once") return !member.get_bool().get(trait.set_once);
        return true;
      };
      if (absl::Status read = ReadRecords(value, "traits", profile.traits, read_trait); !read.ok())
        return read;
    } else if (key == "channels") {
      auto read_channel = [&](ChannelRecord& channel, std::string_view name, od::value member) {
        if (name == "firstSeen") return read_time(member, channel.first_seen);
        if (name == "lastSeen") return read_time(member, channel.last_seen);
        if (name == "events") return !member.get_uint64().get(channel.events);
        return true;
      };
      if (absl::Status read = ReadRecords(value, "channels", profile.channels, read_channel); !read.ok())
        return read;
    } else if (key == "mergedFrom") {
      od::array array;
      if (value.get_array().get(array)) return Damaged(key);
      for (auto element : array) {
        ProfileId id;
        od::value element_value;
        if (element.get(element_value) || !read_id(element_value, id)) return Damaged("mergedFrom[]");
        profile.merged_from.push_back(id);
      }
    } else if (key == "consent") {
      auto read_record = [&](ConsentRecord& record, std::string_view name, od::value member) {
        if (name == "g") return !member.get_bool().get(record.granted);
        if (name == "t") return read_time(member, record.time);
        if (name == "s") return !member.get_uint64().get(record.sequence);
        if (name == "source" || name == "channel") {
          std::string_view text;
          if (member.get_string().get(text)) return false;
          (name == "source" ? record.source : record.channel).assign(text);
        }
        return true;
      };
      if (absl::Status read = ReadRecords(value, "consent", profile.consent, read_record); !read.ok())
        return read;
    } else if (key == "aggregates") {
      od::object aggregates;
      if (value.get_object().get(aggregates)) return Damaged(key);
      for (auto aggregate_field : aggregates) {
        std::string_view name;
        if (aggregate_field.unescaped_key().get(name)) return Damaged("aggregates key");
        std::string aggregate_key(name);
        od::value aggregate_value;
        std::string_view raw;
        EventAggregate aggregate;
        if (aggregate_field.value().get(aggregate_value) || base::RawJsonOf(aggregate_value, raw) ||
            !EventAggregate::Decode(raw, aggregate)) {
          return Damaged("aggregates." + aggregate_key);
        }
        profile.aggregates.insert_or_assign(std::move(aggregate_key), std::move(aggregate));
      }
    } else if (key == "audiences") {
      od::object audiences;
      if (value.get_object().get(audiences)) return Damaged(key);
      for (auto audience_field : audiences) {
        std::string_view name;
        if (audience_field.unescaped_key().get(name)) return Damaged("audiences key");
        std::string audience_name(name);
        od::value entered_value;
        Timestamp entered;
        if (audience_field.value().get(entered_value) || !read_time(entered_value, entered)) {
          return Damaged("audiences." + audience_name);
        }
        profile.audiences.insert_or_assign(std::move(audience_name), entered);
      }
    }
  }
  if (profile.id.value == 0) return Damaged("missing id");
  return profile;
}

std::string ProfileKey(std::string_view space, ProfileId id) {
  std::string key;
  key.reserve(space.size() + 9);
  AppendSpacePrefix(key, space);
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
