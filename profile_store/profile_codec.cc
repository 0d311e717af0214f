// The profile record (kProfiles values): EncodeProfile writes version 1, DecodeProfile reads
// version 1 and the JSON documents of version 0.
//
// Version 1 layout (base/coding.h: integers varints, times zig-zag varint microseconds, strings
// length-prefixed):
//   0x01, id,
//   then either a redirect: 0x01, merged_into
//   or a profile:           0x00, first_seen, last_seen, event_count,
//     identities:  count, then per identity: type, value, first_seen, last_seen, source count, sources
//     traits:      count, then per trait: name, json, time, sequence, set_once (0 or 1)
//     channels:    count, then per channel: name, first_seen, last_seen, events
//     merged_from: count, then ids as the difference from the previous id (they are sorted)
//     consent:     count, then per purpose: purpose, granted (0 or 1), time, sequence, source, channel
//     aggregates:  count, then per aggregate: key, length-prefixed EventAggregate::Encode bytes
//     audiences:   count, then per audience: name, entry time
//     purchases:   only when the profile has any: PurchaseHistory::Encode (purchase_history.cc);
//                  records written before purchases were kept end after the audiences
//     service:     only when the profile has any: ServiceHistory::Encode (service_history.cc), after
//                  the purchases (then written even when empty); older records end before it
// Maps are written in key order, so equal profiles give equal bytes (a rebuild compares them).

#include <string>

#include "absl/strings/str_cat.h"
#include "base/coding.h"
#include "profile_store/internal/profile_json_v0.h"
#include "profile_store/profile.h"

namespace tessera::profile_store {
namespace {

constexpr char kVersion1 = 0x01;

int64_t Micros(Timestamp time) { return time.time_since_epoch().count(); }

void PutTime(std::string& out, Timestamp time) { base::PutVarintSigned64(out, Micros(time)); }

bool ReadTime(base::ByteReader& reader, Timestamp& out) {
  int64_t micros = 0;
  if (!reader.ReadVarintSigned64(micros)) return false;
  out = Timestamp(std::chrono::microseconds(micros));
  return true;
}

bool ReadFlag(base::ByteReader& reader, bool& out) {
  uint8_t byte = 0;
  if (!reader.ReadByte(byte) || byte > 1) return false;
  out = byte == 1;
  return true;
}

// A count of elements that each take at least one byte: more than the bytes left is damage (and
// would otherwise reserve memory for nothing).
bool ReadCount(base::ByteReader& reader, uint64_t& out) {
  return reader.ReadVarint64(out) && out <= reader.rest().size();
}

absl::Status Damaged(std::string_view what) {
  return absl::DataLossError(absl::StrCat("damaged profile record (version 1): ", std::string(what)));
}

absl::StatusOr<Profile> DecodeVersion1(std::string_view record) {
  base::ByteReader reader(record.substr(1));
  Profile profile;
  uint8_t kind = 0;
  if (!reader.ReadVarint64(profile.id.value) || profile.id.value == 0) return Damaged("id");
  if (!reader.ReadByte(kind) || kind > 1) return Damaged("kind");
  if (kind == 1) {
    ProfileId into;
    if (!reader.ReadVarint64(into.value) || into.value == 0) return Damaged("mergedInto");
    profile.merged_into = into;
    if (!reader.empty()) return Damaged("bytes after the redirect");
    return profile;
  }
  uint64_t count = 0;
  if (!ReadTime(reader, profile.first_seen) || !ReadTime(reader, profile.last_seen) ||
      !reader.ReadVarint64(profile.event_count)) {
    return Damaged("times");
  }
  if (!ReadCount(reader, count)) return Damaged("identities");
  profile.identities.reserve(count);
  for (uint64_t i = 0; i < count; ++i) {
    IdentityRecord identity;
    uint64_t sources = 0;
    if (!reader.ReadLengthPrefixed(identity.type) || !reader.ReadLengthPrefixed(identity.value) ||
        !ReadTime(reader, identity.first_seen) || !ReadTime(reader, identity.last_seen) ||
        !ReadCount(reader, sources)) {
      return Damaged("identities[]");
    }
    identity.sources.resize(sources);
    for (std::string& source : identity.sources) {
      if (!reader.ReadLengthPrefixed(source)) return Damaged("identities[].sources");
    }
    profile.identities.push_back(std::move(identity));
  }
  if (!ReadCount(reader, count)) return Damaged("traits");
  for (uint64_t i = 0; i < count; ++i) {
    std::string name;
    TraitRecord trait;
    if (!reader.ReadLengthPrefixed(name) || !reader.ReadLengthPrefixed(trait.json) ||
        !ReadTime(reader, trait.time) || !reader.ReadVarint64(trait.sequence) ||
        !ReadFlag(reader, trait.set_once)) {
      return Damaged("traits");
    }
    profile.traits.emplace_hint(profile.traits.end(), std::move(name), std::move(trait));
  }
  if (!ReadCount(reader, count)) return Damaged("channels");
  for (uint64_t i = 0; i < count; ++i) {
    std::string name;
    ChannelRecord channel;
    if (!reader.ReadLengthPrefixed(name) || !ReadTime(reader, channel.first_seen) ||
        !ReadTime(reader, channel.last_seen) || !reader.ReadVarint64(channel.events)) {
      return Damaged("channels");
    }
    profile.channels.emplace_hint(profile.channels.end(), std::move(name), channel);
  }
  if (!ReadCount(reader, count)) return Damaged("mergedFrom");
  profile.merged_from.reserve(count);
  uint64_t previous = 0;
  for (uint64_t i = 0; i < count; ++i) {
    uint64_t delta = 0;
    if (!reader.ReadVarint64(delta) || delta == 0 || previous + delta < previous)
      return Damaged("mergedFrom");
    previous += delta;
    profile.merged_from.push_back(ProfileId{previous});
  }
  if (!ReadCount(reader, count)) return Damaged("consent");
  for (uint64_t i = 0; i < count; ++i) {
    std::string purpose;
    ConsentRecord consent;
    if (!reader.ReadLengthPrefixed(purpose) || !ReadFlag(reader, consent.granted) ||
        !ReadTime(reader, consent.time) || !reader.ReadVarint64(consent.sequence) ||
        !reader.ReadLengthPrefixed(consent.source) || !reader.ReadLengthPrefixed(consent.channel)) {
      return Damaged("consent");
    }
    profile.consent.emplace_hint(profile.consent.end(), std::move(purpose), std::move(consent));
  }
  if (!ReadCount(reader, count)) return Damaged("aggregates");
  for (uint64_t i = 0; i < count; ++i) {
    std::string key;
    std::string_view bytes;
    EventAggregate aggregate;
    if (!reader.ReadLengthPrefixed(key) || !reader.ReadLengthPrefixed(bytes)) return Damaged("aggregates");
    if (!EventAggregate::Decode(bytes, aggregate)) return Damaged("aggregates." + key);
    profile.aggregates.emplace_hint(profile.aggregates.end(), std::move(key), std::move(aggregate));
  }
  if (!ReadCount(reader, count)) return Damaged("audiences");
  for (uint64_t i = 0; i < count; ++i) {
    std::string name;
    Timestamp entered;
    if (!reader.ReadLengthPrefixed(name) || !ReadTime(reader, entered)) return Damaged("audiences");
    profile.audiences.emplace_hint(profile.audiences.end(), std::move(name), entered);
  }
  if (!reader.empty() && !profile.purchases.Decode(reader)) return Damaged("purchases");
  if (!reader.empty() && !profile.service.Decode(reader)) return Damaged("service");
  if (!reader.empty()) return Damaged("bytes after the last member");
  return profile;
}

}  // namespace

void EncodeProfile(const Profile& profile, std::string& out) {
  out.push_back(kVersion1);
  base::PutVarint64(out, profile.id.value);
  if (profile.merged_into) {
    out.push_back(1);
    base::PutVarint64(out, profile.merged_into->value);
    return;
  }
  out.push_back(0);
  PutTime(out, profile.first_seen);
  PutTime(out, profile.last_seen);
  base::PutVarint64(out, profile.event_count);
  base::PutVarint64(out, profile.identities.size());
  for (const IdentityRecord& identity : profile.identities) {
    base::PutLengthPrefixed(out, identity.type);
    base::PutLengthPrefixed(out, identity.value);
    PutTime(out, identity.first_seen);
    PutTime(out, identity.last_seen);
    base::PutVarint64(out, identity.sources.size());
    for (const std::string& source : identity.sources) base::PutLengthPrefixed(out, source);
  }
  base::PutVarint64(out, profile.traits.size());
  for (const auto& [name, trait] : profile.traits) {
    base::PutLengthPrefixed(out, name);
    base::PutLengthPrefixed(out, trait.json);
    PutTime(out, trait.time);
    base::PutVarint64(out, trait.sequence);
    out.push_back(trait.set_once ? 1 : 0);
  }
  base::PutVarint64(out, profile.channels.size());
  for (const auto& [name, channel] : profile.channels) {
    base::PutLengthPrefixed(out, name);
    PutTime(out, channel.first_seen);
    PutTime(out, channel.last_seen);
    base::PutVarint64(out, channel.events);
  }
  base::PutVarint64(out, profile.merged_from.size());
  uint64_t previous = 0;
  for (ProfileId id : profile.merged_from) {
    base::PutVarint64(out, id.value - previous);
    previous = id.value;
  }
  base::PutVarint64(out, profile.consent.size());
  for (const auto& [purpose, consent] : profile.consent) {
    base::PutLengthPrefixed(out, purpose);
    out.push_back(consent.granted ? 1 : 0);
    PutTime(out, consent.time);
    base::PutVarint64(out, consent.sequence);
    base::PutLengthPrefixed(out, consent.source);
    base::PutLengthPrefixed(out, consent.channel);
  }
  base::PutVarint64(out, profile.aggregates.size());
  std::string encoded;
  for (const auto& [key, aggregate] : profile.aggregates) {
    base::PutLengthPrefixed(out, key);
    encoded.clear();
    aggregate.Encode(encoded);
    base::PutLengthPrefixed(out, encoded);
  }
  base::PutVarint64(out, profile.audiences.size());
  for (const auto& [name, entered] : profile.audiences) {
    base::PutLengthPrefixed(out, name);
    PutTime(out, entered);
  }
  if (!profile.purchases.empty() || !profile.service.empty()) profile.purchases.Encode(out);
  if (!profile.service.empty()) profile.service.Encode(out);
}

absl::StatusOr<Profile> DecodeProfile(std::string_view record) {
  if (record.empty()) return absl::DataLossError("damaged profile record: empty");
  if (record.front() == '{') return internal::DecodeProfileJsonV0(record);
  if (record.front() == kVersion1) return DecodeVersion1(record);
  return absl::DataLossError(absl::StrCat("damaged profile record: unknown version ",
                                          static_cast<int>(static_cast<uint8_t>(record.front()))));
}

}  // namespace tessera::profile_store
