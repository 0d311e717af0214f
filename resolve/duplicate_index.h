#pragma once

// DuplicateIndex keeps the `candidates` family (profile_store/KEYS.md), the derived index that
// finds profiles which may be the same person by their person traits (name, birth date, e-mail,
// phone, city, postcode, address; matching/profile_matching.h), and carries out probabilistic
// auto-merge (docs/duplicates.md).
//
// For each profile with person traits the family holds one row per blocking key of its current
// traits (space, key, profile id), plus the profile's own rows (its fingerprint and the keys it
// is filed under), so that the next change can remove exactly what this one wrote. The resolver
// calls AfterEvent once per applied event, after the event's traits were set: the rows of profiles
// merged away go, those of the event's profile follow its traits, and, when its person traits
// changed and the space's auto_merge_probability is set, it is scored against the profiles
// sharing a block with it; the best at or above the threshold that no admin separated from it is
// merged through IdentityGraph::MergeProfiles (which refuses what the limits or a separation
// forbid) with the reason "probabilistic p=0.9934". Every decision is a function of the log up to
// that event (never of the batch, the clock or the thread), so `tessera rebuild` gives the same
// graph and rows.
//
// Work happens in the resolver's units: rows are written into the unit's WriteBatch and kept in an
// overlay that later lookups of the unit read before the store; Commit (the batch was written) and
// Abort (it was not) drop the overlay.
//
// A block with more than max_block profiles is skipped when looking for candidates (a common name
// born in a common year says little, and would make each change cost thousands of reads).
//
// Thread-safety: none; one per space, on the resolver's thread. FindDuplicates (below) reads the
// store and may run on any thread.

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "identity/identity_graph.h"
#include "matching/match_model.h"
#include "matching/normalizer.h"
#include "matching/profile_matching.h"
#include "profile_store/profile.h"
#include "profile_store/profile_reader.h"
#include "profile_store/store.h"
#include "resolve/event_preparer.h"

namespace tessera::resolve {

// Duplicate detection of one space (config: matching[]).
struct DuplicateOptions {
  bool enabled = true;                  // Keep the index (and answer /duplicates) for the space.
  double auto_merge_probability = 0;    // Merge the best candidate at or above this; 0: never (the default).
  // matching::ProfileModelFrom; null: built in. Shared, not held: options are copied around, and
  // a model in place made GCC 12 misread their std::function members (-Wmaybe-uninitialized).
  std::shared_ptr<const matching::MatchModel> model = nullptr;
  matching::PersonTraitNames traits = {};  // Which traits hold the person fields.
  size_t max_block = 200;               // Blocks with more profiles than this are skipped.
};

// DuplicateOptions from the config's plain values (config::MatchingConfig, which tools/ hands
// over field by field): `model_json` is a model's text from `tessera match --model` ("" for the
// built-in one), fitted with matching::ProfileModelFrom; `traits` maps a person field (name,
// first_name, last_name, birth_date, email, phone, city, postcode, address) to its trait names.
// InvalidArgument naming what does not fit.
absl::StatusOr<DuplicateOptions> MakeDuplicateOptions(bool enabled, double auto_merge_probability,
                                                      std::string_view model_json, size_t max_block,
                                                      const std::map<std::string, std::vector<std::string>>& traits);

// A profile that may be the same person as the one asked about.
struct DuplicateCandidate {
  profile_store::ProfileId profile;
  matching::PersonRecord person;         // Its person fields as its traits hold them.
  matching::PairExplanation explanation;  // The asked-about profile on the left.
};

class DuplicateIndex {
 public:
  // InvalidArgument when options.model does not fit profile matching; Internal when ICU fails.
  static absl::StatusOr<std::unique_ptr<DuplicateIndex>> Create(profile_store::Store& store, std::string space,
                                                                DuplicateOptions options);

  // After `event` was applied: `resolution` is what the graph decided for it and `traits` the
  // traits it wrote (into resolution.profile). Auto-merges it carries out are appended to
  // `auto_merges` (at most one per event) for the resolver's bookkeeping; their rows are already
  // in `batch`. Errors are the store's.
  absl::Status AfterEvent(const identity::Resolution& resolution, identity::IdentityGraph& graph,
                          const identity::GraphEvent& event, const std::vector<TraitWrite>& traits,
                          rocksdb::WriteBatch& batch, std::vector<identity::Resolution>& auto_merges);

  // Brings the rows of `id` in line with the graph's view of it: the profile's current traits when
  // `id` is a live profile, none when it was merged away or does not exist. For changes made
  // outside AfterEvent (a stewardship merge's loser and winner, a recompute's profiles).
  absl::Status Refresh(profile_store::ProfileId id, identity::IdentityGraph& graph, rocksdb::WriteBatch& batch);
  // Removes every row of `id`, whatever the graph holds: for a recompute, right after
  // IdentityGraph::BeginRecompute, so that the replayed events file the component's profiles anew
  // (and score them as the first time) instead of finding their old fingerprints.
  absl::Status Remove(profile_store::ProfileId id, rocksdb::WriteBatch& batch);

  // The profiles sharing a block with `id` (live, not `id`, not separated from it), scored, most
  // probable first (then by id), as the unit sees them.
  absl::StatusOr<std::vector<DuplicateCandidate>> Candidates(profile_store::ProfileId id,
                                                             identity::IdentityGraph& graph);

  void Commit() { overlay_.clear(); }
  // The unit's rows were not written: what `filed_records_` says of them is void too.
  void Abort() {
    overlay_.clear();
    filed_records_.clear();
  }

  const DuplicateOptions& options() const { return options_; }
  uint64_t auto_merges() const { return auto_merges_; }                  // Carried out.
  uint64_t refused_auto_merges() const { return refused_auto_merges_; }  // Refused by the graph.
  uint64_t blocks_skipped() const { return blocks_skipped_; }            // Lookups past max_block.

 private:
  DuplicateIndex(profile_store::Store& store, std::string space, DuplicateOptions options,
                 matching::ProfileMatcher matcher, std::unique_ptr<matching::Normalizer> normalizer);

  // What the family holds for one profile.
  struct Filed {
    std::optional<uint64_t> fingerprint;  // Unset: no rows.
    std::vector<std::string> keys;
  };
  absl::StatusOr<Filed> ReadFiled(profile_store::ProfileId id) const;
  // Rewrites `id`'s rows for `profile` (null: removes them). True when it now has a person record
  // whose fingerprint differs from the one filed before.
  absl::StatusOr<bool> File(profile_store::ProfileId id, const profile_store::Profile* profile,
                            rocksdb::WriteBatch& batch);
  void Put(const std::string& key, std::string value, rocksdb::WriteBatch& batch);
  void Delete(const std::string& key, rocksdb::WriteBatch& batch);

  profile_store::Store& store_;
  const std::string space_;
  const DuplicateOptions options_;
  const matching::ProfileMatcher matcher_;
  std::unique_ptr<matching::Normalizer> normalizer_;
  // The unit's writes to the family: key -> value, or nullopt for a deletion.
  std::map<std::string, std::optional<std::string>> overlay_;
  // A digest (XXH3-128) of the person record each profile was last filed with by this process.
  // An event that rewrites a profile's person traits with the values they had (an identify at
  // every login) leaves its rows as they are: this skips the store read and the normalization
  // that would find so. Only a shortcut: forgotten on Abort and when full, the rows decide.
  absl::flat_hash_map<profile_store::ProfileId, std::pair<uint64_t, uint64_t>> filed_records_;
  uint64_t auto_merges_ = 0;
  uint64_t refused_auto_merges_ = 0;
  uint64_t blocks_skipped_ = 0;
};

// The candidates of `profile` (a live profile, as ProfileReader::Load returns it) as the store
// holds them now, for the API: most probable first, at most `limit`, each with a probability of
// at least `min_probability`; profiles an admin separated from it (any identifier of one from any
// of the other) are left out. `normalizer` is the calling thread's.
absl::StatusOr<std::vector<DuplicateCandidate>> FindDuplicates(const profile_store::Store& store,
                                                               const profile_store::ProfileReader& reader,
                                                               std::string_view space,
                                                               const profile_store::Profile& profile,
                                                               const DuplicateOptions& options,
                                                               const matching::Normalizer& normalizer, size_t limit,
                                                               double min_probability);

// The person record `traits` names in a profile's traits.
matching::PersonRecord PersonOf(const profile_store::Profile& profile, const matching::PersonTraitNames& traits);

}  // namespace tessera::resolve
