#pragma once

// IdentityGraph links identifiers to profiles for one space, under the identity rules. For each
// event it finds the profiles of the event's identifiers and then:
//   - none: creates a profile holding them;
//   - one or more, and their union (with the event's identifiers) respects every type's limit:
//     merges them all into the oldest profile (smallest id) and attaches the new identifiers;
//   - otherwise (a merge would break a limit, e.g. two different user_ids): links the event to
//     the profile of its highest-priority identifier (creating it if that identifier is new), does
//     not merge, does not attach identifiers that belong to other profiles or would break a limit,
//     and records that decision with its reason.
// Every merge is recorded (winner, loser, event, time, reason); a merged-away profile becomes a
// redirect, and its identifiers are re-pointed to the winner, so old ids and identifiers resolve.
//
// Work happens in units: Apply calls see each other's effects through an overlay; Flush puts all
// of it into a WriteBatch, which the caller writes together with its own changes (profile traits,
// timeline, resolver position); Commit then moves the overlay into the bounded caches, Abort drops
// it. Everything written is a deterministic function of the applied events, so replaying the same
// log gives a byte-identical graph.
//
// Thread-safety: none. One IdentityGraph per space, used only by that space's resolver thread
// (lookups fill caches and the unit); readers elsewhere read the store.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "identity/identifier.h"
#include "identity/internal/generational_cache.h"
#include "identity/identity_rules.h"
#include "profile_store/profile.h"
#include "profile_store/store.h"

namespace tessera::identity {

using profile_store::Profile;
using profile_store::ProfileId;

struct GraphOptions {
  size_t identifier_cache_entries = 1'000'000;  // identifier -> profile id entries kept in memory
  size_t profile_cache_entries = 100'000;       // decoded profiles kept in memory
};

// What the graph needs to know of an event.
struct GraphEvent {
  std::string_view message_id;
  uint64_t sequence = 0;       // log sequence
  Timestamp event_time{};      // corrected event timestamp
  Timestamp received_at{};     // when Tessera accepted it (merge records use this)
  std::string_view source;     // source name
  std::vector<Identifier> identifiers;  // normalized, unique, none blocked
};

struct RefusedIdentifier {
  Identifier identifier;
  std::optional<ProfileId> linked_to;  // The profile it belongs to, when that is why it was refused.
  std::string reason;
};

struct Resolution {
  ProfileId profile;                    // Where the event belongs.
  bool created = false;                 // The profile was created by this event.
  std::vector<ProfileId> merged;        // Profiles merged into `profile` by this event.
  // Those profiles as they were just before the merge (same order as `merged`).
  std::vector<std::shared_ptr<const Profile>> absorbed;
  std::vector<Identifier> attached;     // Identifiers newly linked to `profile`.
  std::vector<RefusedIdentifier> refused;
  std::string decision;                 // Why a merge was refused; empty when none was.
};

class IdentityGraph {
 public:
  IdentityGraph(profile_store::Store& store, std::string space, IdentityRules rules, GraphOptions options = {});
  ~IdentityGraph();

  // Reads the next profile id. Call once before the first Apply.
  absl::Status Recover();

  // Called once for each existing profile (never a redirect) when it enters a unit, before the unit
  // reads or changes it, with the profile as the store holds it. It may update the profile (the
  // resolver brings computed-trait state up to date with the definitions); returning true marks
  // the profile to be written. Its errors fail the Apply or MutableProfile that loaded the profile.
  using LoadHook = std::function<absl::StatusOr<bool>(Profile& profile)>;
  void SetLoadHook(LoadHook hook) { load_hook_ = std::move(hook); }

  // Resolves one event. FailedPrecondition when it has no identifier (the caller dead-letters it);
  // other errors are the store's.
  absl::StatusOr<Resolution> Apply(const GraphEvent& event);

  // The profile `id` in the current unit (loaded if needed), for the caller to update traits,
  // channels and identities' last-seen. Redirects are followed. Never null for an id that Apply
  // returned in this unit.
  absl::StatusOr<Profile*> MutableProfile(ProfileId id);

  // Which profile an identifier belongs to (following merges), if any. Sees the current unit.
  absl::StatusOr<std::optional<ProfileId>> Lookup(const Identifier& identifier);
  // The live profile an id stands for now (itself, or the one it was merged into).
  absl::StatusOr<std::optional<ProfileId>> Canonical(ProfileId id);

  // Stewardship decisions (identity/separations.h, docs/stewardship.md).
  // Records that `a` and `b` are not the same person: from now on no event and no merge puts them
  // into one profile (such a merge is refused as one breaking a limit is). Unseparate forgets it.
  void Separate(const Identifier& a, const Identifier& b);
  void Unseparate(const Identifier& a, const Identifier& b);
  // Whether an identifier of the profile `a` stands for is separated from one of `b`'s.
  absl::StatusOr<bool> Separated(ProfileId a, ProfileId b);
  // The live profile `id` stands for, as the unit sees it, without marking it changed; null when
  // there is none.
  absl::StatusOr<std::shared_ptr<const Profile>> ReadProfile(ProfileId id);
  // Merges the profiles `a` and `b` stand for (the smaller id wins) under the limits and
  // separations, for a decision rather than an event: `event` names the log record that asked (its
  // sequence, its request id as message id, its time; no identifiers). When refused, nothing
  // changes but a refused_merge record on both, and Resolution.decision says why; otherwise
  // `merged` and `absorbed` are as for Apply.
  absl::StatusOr<Resolution> MergeProfiles(ProfileId a, ProfileId b, const GraphEvent& event, std::string_view reason);

  // Recomputing a component after a separation split it. BeginRecompute(id) unlinks every
  // identifier of the live profile `id` (which holds those of the profiles merged into it), empties
  // it and the profiles merged into it, and makes their ids the ones CreateProfile hands out first,
  // smallest first. The caller applies the component's events again, then calls EndRecompute,
  // which turns each id not handed out again into a redirect to the smallest that was. Returns the
  // profile as it was.
  absl::StatusOr<std::shared_ptr<const Profile>> BeginRecompute(ProfileId id);
  void EndRecompute();
  // Reads the separations from the store again (after an erasure deleted some).
  absl::Status ReloadSeparations() { return LoadSeparations(); }

  // Adds everything the unit changed to `batch`.
  void Flush(rocksdb::WriteBatch& batch);
  // The batch was written: keep the unit's state in the caches. Or it was not: forget it.
  void Commit();
  void Abort();

  // Forgets every cached identifier and profile (after something other than Apply changed the
  // store, e.g. an erasure); the next lookups read the store.
  void ClearCaches() {
    identifier_cache_.Clear();
    profile_cache_.Clear();
  }

  const std::string& space() const { return space_; }
  uint64_t next_profile_id() const { return next_profile_id_; }

  // Cache statistics, for benchmarks and metrics.
  uint64_t identifier_cache_hits() const { return identifier_hits_; }
  uint64_t identifier_cache_misses() const { return identifier_misses_; }

 private:
  // Identifier keys are cached by their XXH3-128 hash: 16 bytes instead of the whole key.
  struct KeyHash {
    uint64_t high = 0;
    uint64_t low = 0;
    friend bool operator==(const KeyHash&, const KeyHash&) = default;
    template <typename H>
    friend H AbslHashValue(H state, const KeyHash& hash) {
      return H::combine(std::move(state), hash.high, hash.low);
    }
  };
  static KeyHash HashKey(std::string_view key);

  struct Unit;

  absl::StatusOr<std::shared_ptr<Profile>> LoadProfile(ProfileId id);
  // Why one profile may not hold all of `profiles`' identifiers and `extra`: the limits broken and
  // the separations joined, sorted; empty when it may.
  std::vector<std::string> Violations(const std::vector<std::shared_ptr<Profile>>& profiles,
                                      const std::vector<Identifier>& extra) const;
  // Whether `identifier` is separated from one `profile` holds.
  bool SeparatedFrom(const Identifier& identifier, const Profile& profile) const;
  // Records (or forgets) the separation in separated_ only; false when it already was so.
  bool SetSeparated(const Identifier& a, const Identifier& b, bool separated);
  absl::Status LoadSeparations();
  void AddRefusedRecord(ProfileId profile, const std::vector<ProfileId>& involved, const GraphEvent& event,
                        const Resolution& resolution);
  absl::StatusOr<std::optional<ProfileId>> LoadIdentifier(const std::string& key);
  ProfileId CreateProfile();
  void LinkIdentifier(const Identifier& identifier, ProfileId profile);
  absl::Status Merge(Profile& winner, ProfileId loser_id, const GraphEvent& event, std::string_view reason,
                     Resolution& resolution);
  void AddRecord(ProfileId profile, const GraphEvent& event, std::string json);

  profile_store::Store& store_;
  const std::string space_;
  const IdentityRules rules_;
  const GraphOptions options_;
  // The first id at or after `id` that erasure has not retired.
  uint64_t PastRetired(uint64_t id) const;

  // Separations by identifier (both directions), the unit's changes included (undone by Abort).
  absl::flat_hash_map<Identifier, std::vector<Identifier>> separated_;
  absl::flat_hash_set<uint64_t> retired_;  // Profile ids erasure retired (profile_store::RetiredProfileKey).
  uint64_t next_profile_id_ = 1;
  uint64_t committed_next_profile_id_ = 1;

  internal::GenerationalCache<KeyHash, ProfileId> identifier_cache_;
  internal::GenerationalCache<ProfileId, std::shared_ptr<Profile>> profile_cache_;
  std::unique_ptr<Unit> unit_;
  LoadHook load_hook_;
  uint64_t identifier_hits_ = 0;
  uint64_t identifier_misses_ = 0;
};

// Key of the next-profile-id counter of a space in kMeta.
std::string NextProfileIdKey(std::string_view space);

}  // namespace tessera::identity
