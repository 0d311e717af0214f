// Reading of version 0 profile records: the JSON documents Tessera stored before the binary
// encoding (profile_store/profile_codec.cc), so that those stores still read. Nothing writes them.

#include "profile_store/internal/profile_json_v0.h"

#include <map>
#include <string>

#include "base/json_reading.h"
#include "simdjson.h"

namespace tessera::profile_store::internal {
namespace {

namespace od = simdjson::ondemand;

Timestamp FromMicros(int64_t micros) { return Timestamp(std::chrono::microseconds(micros)); }

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

absl::StatusOr<Profile> DecodeProfileJsonV0(std::string_view record) {
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
            !EventAggregate::DecodeJson(raw, aggregate)) {
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

}  // namespace tessera::profile_store::internal
