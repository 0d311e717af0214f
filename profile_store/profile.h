#pragma once

// Profile: the unified record of one person in one space, as the resolver keeps it. It is stored
// as one binary record per profile (kProfiles; profile_codec.cc has the layout), rewritten once per
// resolver batch that changes it. A profile that
// was merged into another keeps only a redirect (`merged_into`), so its old id still resolves.
//
// Merge semantics (Profile::Absorb and the update functions) are deterministic functions of the
// events' contents and log order, never of wall-clock time, so replaying the log rebuilds
// byte-identical profiles.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "base/time.h"
#include "profile_store/aggregate.h"
#include "profile_store/purchase_history.h"
#include "profile_store/service_history.h"

namespace tessera::profile_store {

using Timestamp = base::Timestamp;

// Profile ids are allocated per space in log order: 1, 2, 3, ...
struct ProfileId {
  uint64_t value = 0;
  friend bool operator==(ProfileId, ProfileId) = default;
  friend auto operator<=>(ProfileId, ProfileId) = default;
  template <typename H>
  friend H AbslHashValue(H state, ProfileId id) {
    return H::combine(std::move(state), id.value);
  }
};

// "p" + 16 lower-case hex digits, as APIs show it; ParseProfileId is the inverse.
std::string FormatProfileId(ProfileId id);
std::optional<ProfileId> ParseProfileId(std::string_view text);

struct IdentityRecord {
  std::string type;
  std::string value;
  Timestamp first_seen{};
  Timestamp last_seen{};
  std::vector<std::string> sources;  // Sources that reported it, sorted, unique.
};

struct TraitRecord {
  std::string json;  // The value as minified JSON.
  Timestamp time{};  // Event time of the write that set it.
  uint64_t sequence = 0;
  bool set_once = false;  // Kept from the first write ($set_once), never overwritten by later ones.
};

// A person's consent to one purpose (privacy/consent_purpose.h), as the newest event that
// reported it said.
struct ConsentRecord {
  bool granted = false;
  Timestamp time{};       // Event time of the event that reported it.
  uint64_t sequence = 0;  // Its log sequence (breaks ties between events of the same time).
  std::string source;     // The name of the source that sent the event.
  std::string channel;    // That source's channel ("web", "app", ...).
  friend bool operator==(const ConsentRecord&, const ConsentRecord&) = default;
};

struct ChannelRecord {
  Timestamp first_seen{};
  Timestamp last_seen{};
  uint64_t events = 0;
};

struct Profile {
  ProfileId id;
  std::optional<ProfileId> merged_into;  // Set on a redirect record; nothing else is then kept.
  Timestamp first_seen{};
  Timestamp last_seen{};
  uint64_t event_count = 0;
  std::vector<IdentityRecord> identities;      // Sorted by (type, value).
  std::map<std::string, TraitRecord> traits;   // By trait name.
  std::map<std::string, ChannelRecord> channels;
  std::vector<ProfileId> merged_from;          // Every profile merged into this one, sorted.
  std::map<std::string, ConsentRecord> consent;  // By purpose; the newest report per purpose.
  // Computed-trait and audience-condition state, by aggregate key (audiences/definitions.h). Kept
  // for exactly the aggregates the space's definitions need; see resolve/resolver.h.
  std::map<std::string, EventAggregate> aggregates;
  // Audiences the profile is a member of, with the time it entered (wall-clock, not event time).
  // Not merged by Absorb: the resolver re-evaluates the winner and records the loser leaving.
  std::map<std::string, Timestamp> audiences;
  // Purchases by local day, for the purchase models (profile_store/purchase_history.h).
  PurchaseHistory purchases;
  // Tickets, contacts and satisfaction ratings of the service channel (profile_store/service_history.h).
  ServiceHistory service;

  // Finds an identity; nullptr when absent.
  const IdentityRecord* FindIdentity(std::string_view type, std::string_view value) const;
  // Distinct values of one identifier type.
  size_t CountIdentities(std::string_view type) const;
  // Adds the identity or refreshes its first/last seen and sources.
  void TouchIdentity(std::string_view type, std::string_view value, Timestamp time, std::string_view source);
  // Counts one event seen on `channel` at `time`.
  void TouchChannel(std::string_view channel, Timestamp time);
  // Sets a trait if this write is newer (event time, then log sequence) than the stored one; for
  // set_once, only if the trait is absent or was set by a later event.
  void SetTrait(std::string_view name, std::string_view json, Timestamp time, uint64_t sequence, bool set_once);
  // Records consent to `purpose` if this report is newer (event time, then log sequence) than the
  // stored one, as traits are.
  void SetConsent(std::string_view purpose, const ConsentRecord& record);
  // Takes over everything `other` knows (identities, traits and consent by the same
  // rules, channels, history, purchases, service history).
  void Absorb(const Profile& other);
};

// The stored record (profile_codec.cc): EncodeProfile appends version 1; DecodeProfile reads
// version 1 and the JSON documents of version 0, and answers DataLoss naming the damaged part.
void EncodeProfile(const Profile& profile, std::string& out);
absl::StatusOr<Profile> DecodeProfile(std::string_view record);

// Keys of the profile families (see KEYS.md). Every key starts with "space\0".
std::string ProfileKey(std::string_view space, ProfileId id);
std::string IdentifierKey(std::string_view space, std::string_view type, std::string_view value);
std::string MergeKey(std::string_view space, ProfileId id, uint64_t sequence, uint32_t ordinal);
std::string MergePrefix(std::string_view space, ProfileId id);
std::string TimelineKey(std::string_view space, ProfileId id, Timestamp event_time, uint64_t sequence);
std::string TimelinePrefix(std::string_view space, ProfileId id);
// `privacy` family: a profile id erasure retired (kept, like every privacy row, through rebuilds),
// so that a rebuild from the log without the erased person's events gives everyone else the ids
// they had (identity/identity_graph.h).
std::string RetiredProfileKey(std::string_view space, ProfileId id);
std::string RetiredProfilePrefix(std::string_view space);

}  // namespace tessera::profile_store
