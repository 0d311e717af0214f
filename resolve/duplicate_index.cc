#include "resolve/duplicate_index.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <set>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_format.h"
#include "identity/separations.h"
#include "matching/model_json.h"
#include "xxhash.h"

namespace tessera::resolve {
namespace {

using profile_store::ColumnFamily;
using profile_store::Profile;
using profile_store::ProfileId;
using profile_store::Store;
using Overlay = std::map<std::string, std::optional<std::string>>;

constexpr char kFiledVersion = '\x01';
// Profiles whose filed record DuplicateIndex remembers, at most (about 40 bytes each).
constexpr size_t kMaxRememberedRecords = 1 << 18;

std::pair<uint64_t, uint64_t> RecordDigest(const matching::PersonRecord& record) {
  std::string text;
  for (const std::string* field : {&record.name, &record.birth_date, &record.email, &record.phone, &record.city,
                                   &record.postcode, &record.address}) {
    text.append(*field).push_back('\0');
  }
  const XXH128_hash_t hash = XXH3_128bits(text.data(), text.size());
  return {hash.low64, hash.high64};
}

// Visits the rows of the candidates family under `prefix` in key order, the overlay's (the unit's
// writes) in place of the store's, until `visit` returns false. An iterator rather than
// Store::ScanPrefix, so that a huge block is not read to its end.
absl::Status VisitRows(const Store& store, const Overlay* overlay, std::string_view prefix,
                       const std::function<bool(std::string_view key, std::string_view value)>& visit) {
  const std::string end = profile_store::PrefixEnd(std::string(prefix));
  Overlay::const_iterator next_written, written_end;
  if (overlay != nullptr) {
    next_written = overlay->lower_bound(std::string(prefix));
    written_end = overlay->lower_bound(end);
  }
  auto written_left = [&] { return overlay != nullptr && next_written != written_end; };
  rocksdb::ColumnFamilyHandle* handle = store.handle(ColumnFamily::kCandidates);
  std::unique_ptr<rocksdb::Iterator> it;
  rocksdb::Slice upper(end);
  if (handle != nullptr) {  // A store opened read-only from before the family existed: empty.
    rocksdb::ReadOptions read;
    read.iterate_upper_bound = &upper;
    it.reset(store.db(ColumnFamily::kCandidates)->NewIterator(read, handle));
    it->Seek(rocksdb::Slice(prefix.data(), prefix.size()));
  }
  for (;;) {
    const bool stored_left = it != nullptr && it->Valid();
    if (!stored_left && !written_left()) break;
    const std::string_view stored_key =
        stored_left ? std::string_view(it->key().data(), it->key().size()) : std::string_view();
    const bool take_written = written_left() && (!stored_left || std::string_view(next_written->first) <= stored_key);
    bool go_on = true;
    if (take_written) {
      if (stored_left && std::string_view(next_written->first) == stored_key) it->Next();
      if (next_written->second.has_value()) go_on = visit(next_written->first, *next_written->second);
      ++next_written;
    } else {
      go_on = visit(stored_key, std::string_view(it->value().data(), it->value().size()));
      it->Next();
    }
    if (!go_on) return absl::OkStatus();
  }
  return it != nullptr ? profile_store::ToAbslStatus(it->status(), "reading the candidates family")
                       : absl::OkStatus();
}

// The profile ids filed under `keys`, sorted and unique (some may since have been merged away).
// Blocks over `max_block` are skipped and counted in `skipped`.
absl::StatusOr<std::vector<ProfileId>> BlockMembers(const Store& store, const Overlay* overlay, std::string_view space,
                                                    const std::vector<std::string>& keys, size_t max_block,
                                                    uint64_t& skipped) {
  std::set<ProfileId> members;
  for (const std::string& key : keys) {
    const std::string prefix = profile_store::CandidateBlockPrefix(space, key);
    std::vector<ProfileId> block;
    absl::Status visited = VisitRows(store, overlay, prefix, [&](std::string_view row, std::string_view) {
      if (row.size() == prefix.size() + 8) block.push_back(ProfileId{profile_store::ReadBigEndian64(row.substr(prefix.size()))});
      return block.size() <= max_block;
    });
    if (!visited.ok()) return visited;
    if (block.size() > max_block) {
      ++skipped;
      continue;
    }
    members.insert(block.begin(), block.end());
  }
  return std::vector<ProfileId>(members.begin(), members.end());
}

absl::StatusOr<matching::ProfileMatcher> MatcherFor(const DuplicateOptions& options) {
  if (!options.model) return matching::ProfileMatcher::Default();
  return matching::ProfileMatcher::Create(*options.model);
}

// One profile's person record, normalized, with its keys.
struct Person {
  matching::PersonRecord record;
  matching::NormalizedPerson normalized;
};

Person PersonFor(const Profile& profile, const DuplicateOptions& options, const matching::ProfileMatcher& matcher,
                 const matching::Normalizer& normalizer) {
  Person person;
  person.record = PersonOf(profile, options.traits);
  person.normalized = matcher.Normalize(person.record, normalizer);
  return person;
}

void SortCandidates(std::vector<DuplicateCandidate>& candidates) {
  std::sort(candidates.begin(), candidates.end(), [](const DuplicateCandidate& a, const DuplicateCandidate& b) {
    if (a.explanation.match_probability != b.explanation.match_probability) {
      return a.explanation.match_probability > b.explanation.match_probability;
    }
    return a.profile < b.profile;
  });
}

// "probabilistic p=0.9934": four decimals, rounded down so that a merge never claims more.
std::string MergeReason(double probability) {
  return absl::StrFormat("probabilistic p=%.4f", std::floor(probability * 1e4) / 1e4);
}

}  // namespace

absl::StatusOr<DuplicateOptions> MakeDuplicateOptions(bool enabled, double auto_merge_probability,
                                                      std::string_view model_json, size_t max_block,
                                                      const std::map<std::string, std::vector<std::string>>& traits) {
  DuplicateOptions options;
  options.enabled = enabled;
  if (auto_merge_probability != 0 && !(auto_merge_probability > 0.5 && auto_merge_probability <= 1)) {
    return absl::InvalidArgumentError("auto_merge_probability must be 0 (off) or in (0.5, 1]");
  }
  options.auto_merge_probability = auto_merge_probability;
  if (max_block < 1) return absl::InvalidArgumentError("max_block must be at least 1");
  options.max_block = max_block;
  if (!model_json.empty()) {
    absl::StatusOr<matching::MatchModel> trained = matching::ModelFromJson(model_json);
    if (!trained.ok()) return trained.status();
    absl::StatusOr<matching::MatchModel> fitted = matching::ProfileModelFrom(*trained);
    if (!fitted.ok()) return fitted.status();
    options.model = std::make_shared<const matching::MatchModel>(*std::move(fitted));
  }
  matching::PersonTraitNames& names = options.traits;
  const std::pair<const char*, std::vector<std::string>*> fields[] = {
      {"name", &names.name},   {"first_name", &names.first_name}, {"last_name", &names.last_name},
      {"birth_date", &names.birth_date}, {"email", &names.email}, {"phone", &names.phone},
      {"city", &names.city},   {"postcode", &names.postcode},     {"address", &names.address}};
  for (const auto& [field, list] : traits) {
    auto known = std::find_if(std::begin(fields), std::end(fields), [&](const auto& f) { return field == f.first; });
    if (known == std::end(fields)) return absl::InvalidArgumentError("traits." + field + ": not a person field");
    if (list.empty()) return absl::InvalidArgumentError("traits." + field + ": name at least one trait");
    *known->second = list;
  }
  return options;
}

matching::PersonRecord PersonOf(const Profile& profile, const matching::PersonTraitNames& traits) {
  return matching::PersonRecordFromTraits(
      [&](std::string_view name) -> const std::string* {
        auto it = profile.traits.find(std::string(name));
        return it == profile.traits.end() ? nullptr : &it->second.json;
      },
      traits);
}

DuplicateIndex::DuplicateIndex(Store& store, std::string space, DuplicateOptions options,
                               matching::ProfileMatcher matcher, std::unique_ptr<matching::Normalizer> normalizer)
    : store_(store),
      space_(std::move(space)),
      options_(std::move(options)),
      matcher_(std::move(matcher)),
      normalizer_(std::move(normalizer)) {}

absl::StatusOr<std::unique_ptr<DuplicateIndex>> DuplicateIndex::Create(Store& store, std::string space,
                                                                       DuplicateOptions options) {
  absl::StatusOr<matching::ProfileMatcher> matcher = MatcherFor(options);
  if (!matcher.ok()) return matcher.status();
  absl::StatusOr<std::unique_ptr<matching::Normalizer>> normalizer = matching::Normalizer::Create();
  if (!normalizer.ok()) return normalizer.status();
  return std::unique_ptr<DuplicateIndex>(new DuplicateIndex(store, std::move(space), std::move(options),
                                                            *std::move(matcher), *std::move(normalizer)));
}

void DuplicateIndex::Put(const std::string& key, std::string value, rocksdb::WriteBatch& batch) {
  batch.Put(store_.handle(ColumnFamily::kCandidates), key, value);
  overlay_.insert_or_assign(key, std::move(value));
}

void DuplicateIndex::Delete(const std::string& key, rocksdb::WriteBatch& batch) {
  batch.Delete(store_.handle(ColumnFamily::kCandidates), key);
  overlay_.insert_or_assign(key, std::nullopt);
}

absl::StatusOr<DuplicateIndex::Filed> DuplicateIndex::ReadFiled(ProfileId id) const {
  const std::string prefix = profile_store::CandidateProfilePrefix(space_, id.value);
  Filed filed;
  absl::Status visited = VisitRows(store_, &overlay_, prefix, [&](std::string_view key, std::string_view value) {
    if (key.size() == prefix.size()) {
      if (value.size() == 9 && value[0] == kFiledVersion) filed.fingerprint = profile_store::ReadBigEndian64(value.substr(1));
    } else {
      filed.keys.emplace_back(key.substr(prefix.size()));
    }
    return true;
  });
  if (!visited.ok()) return visited;
  // Keys without a readable fingerprint row (a newer version's) are still removed when refiled.
  if (!filed.fingerprint && !filed.keys.empty()) filed.fingerprint = 0;
  return filed;
}

absl::StatusOr<bool> DuplicateIndex::File(ProfileId id, const Profile* profile, rocksdb::WriteBatch& batch) {
  absl::StatusOr<Filed> before = ReadFiled(id);
  if (!before.ok()) return before.status();
  std::optional<uint64_t> fingerprint;
  std::vector<std::string> keys;
  filed_records_.erase(id);
  if (profile != nullptr) {
    const Person person = PersonFor(*profile, options_, matcher_, *normalizer_);
    if (!person.record.Empty()) {
      fingerprint = person.normalized.Fingerprint();
      keys = matcher_.BlockingKeys(person.normalized);
    }
    if (filed_records_.size() >= kMaxRememberedRecords) filed_records_.clear();
    filed_records_.emplace(id, RecordDigest(person.record));
  }
  if (fingerprint == before->fingerprint && keys == before->keys) return false;
  const std::string own = profile_store::CandidateProfilePrefix(space_, id.value);
  for (const std::string& key : before->keys) {
    if (std::binary_search(keys.begin(), keys.end(), key)) continue;
    Delete(profile_store::CandidateKey(space_, key, id.value), batch);
    Delete(own + key, batch);
  }
  for (const std::string& key : keys) {
    if (std::binary_search(before->keys.begin(), before->keys.end(), key)) continue;
    Put(profile_store::CandidateKey(space_, key, id.value), "", batch);
    Put(own + key, "", batch);
  }
  if (fingerprint) {
    std::string value(1, kFiledVersion);
    profile_store::AppendBigEndian64(value, *fingerprint);
    Put(own, std::move(value), batch);
  } else if (before->fingerprint) {
    Delete(own, batch);
  }
  return fingerprint.has_value() && fingerprint != before->fingerprint;
}

absl::Status DuplicateIndex::Refresh(ProfileId id, identity::IdentityGraph& graph, rocksdb::WriteBatch& batch) {
  if (!options_.enabled) return absl::OkStatus();
  absl::StatusOr<std::shared_ptr<const Profile>> profile = graph.ReadProfile(id);
  if (!profile.ok()) return profile.status();
  // ReadProfile follows redirects: a merged-away id answers with its winner, and keeps no rows.
  const Profile* live = *profile != nullptr && (*profile)->id == id ? profile->get() : nullptr;
  return File(id, live, batch).status();
}

absl::Status DuplicateIndex::Remove(ProfileId id, rocksdb::WriteBatch& batch) {
  if (!options_.enabled) return absl::OkStatus();
  return File(id, nullptr, batch).status();
}

absl::Status DuplicateIndex::AfterEvent(const identity::Resolution& resolution, identity::IdentityGraph& graph,
                                        const identity::GraphEvent& event, const std::vector<TraitWrite>& traits,
                                        rocksdb::WriteBatch& batch, std::vector<identity::Resolution>& auto_merges) {
  if (!options_.enabled) return absl::OkStatus();
  for (ProfileId loser : resolution.merged) {
    if (absl::StatusOr<bool> removed = File(loser, nullptr, batch); !removed.ok()) return removed.status();
  }
  // Most events write no person trait and merge nothing: they cannot change the rows, and cost
  // no read here.
  const bool person_written = std::any_of(traits.begin(), traits.end(), [&](const TraitWrite& trait) {
    return matching::IsPersonTrait(trait.name, options_.traits);
  });
  if (resolution.merged.empty() && !person_written) return absl::OkStatus();
  absl::StatusOr<std::shared_ptr<const Profile>> profile = graph.ReadProfile(resolution.profile);
  if (!profile.ok()) return profile.status();
  if (*profile == nullptr) return absl::OkStatus();
  if (resolution.merged.empty()) {
    auto filed = filed_records_.find(resolution.profile);
    if (filed != filed_records_.end() && filed->second == RecordDigest(PersonOf(**profile, options_.traits))) {
      return absl::OkStatus();  // The same record as filed: File would change nothing.
    }
  }
  absl::StatusOr<bool> changed = File(resolution.profile, profile->get(), batch);
  if (!changed.ok()) return changed.status();
  if (!*changed || options_.auto_merge_probability <= 0) return absl::OkStatus();
  absl::StatusOr<std::vector<DuplicateCandidate>> candidates = Candidates(resolution.profile, graph);
  if (!candidates.ok()) return candidates.status();
  if (candidates->empty()) return absl::OkStatus();
  const DuplicateCandidate& best = candidates->front();
  if (best.explanation.match_probability < options_.auto_merge_probability) return absl::OkStatus();

  identity::GraphEvent asking = event;
  asking.identifiers.clear();  // A decision: it links nothing itself.
  absl::StatusOr<identity::Resolution> merged =
      graph.MergeProfiles(resolution.profile, best.profile, asking, MergeReason(best.explanation.match_probability));
  if (!merged.ok()) return merged.status();
  if (!merged->decision.empty()) {
    // Refused (a limit): the graph recorded why on both profiles; nothing more to do.
    ++refused_auto_merges_;
    return absl::OkStatus();
  }
  for (ProfileId loser : merged->merged) {
    if (absl::StatusOr<bool> removed = File(loser, nullptr, batch); !removed.ok()) return removed.status();
  }
  absl::StatusOr<std::shared_ptr<const Profile>> winner = graph.ReadProfile(merged->profile);
  if (!winner.ok()) return winner.status();
  if (absl::StatusOr<bool> filed = File(merged->profile, winner->get(), batch); !filed.ok()) return filed.status();
  ++auto_merges_;
  auto_merges.push_back(*std::move(merged));
  return absl::OkStatus();
}

absl::StatusOr<std::vector<DuplicateCandidate>> DuplicateIndex::Candidates(ProfileId id,
                                                                           identity::IdentityGraph& graph) {
  absl::StatusOr<std::shared_ptr<const Profile>> self = graph.ReadProfile(id);
  if (!self.ok()) return self.status();
  if (*self == nullptr) return std::vector<DuplicateCandidate>();
  const Person person = PersonFor(**self, options_, matcher_, *normalizer_);
  if (person.record.Empty()) return std::vector<DuplicateCandidate>();
  absl::StatusOr<std::vector<ProfileId>> members = BlockMembers(
      store_, &overlay_, space_, matcher_.BlockingKeys(person.normalized), options_.max_block, blocks_skipped_);
  if (!members.ok()) return members.status();
  std::vector<DuplicateCandidate> candidates;
  absl::flat_hash_set<ProfileId> seen = {(*self)->id};
  for (ProfileId member : *members) {
    absl::StatusOr<std::shared_ptr<const Profile>> other = graph.ReadProfile(member);
    if (!other.ok()) return other.status();
    if (*other == nullptr || !seen.insert((*other)->id).second) continue;
    absl::StatusOr<bool> separated = graph.Separated((*self)->id, (*other)->id);
    if (!separated.ok()) return separated.status();
    if (*separated) continue;
    Person candidate = PersonFor(**other, options_, matcher_, *normalizer_);
    matching::PairExplanation explanation =
        matcher_.Explain(person.record, person.normalized, candidate.record, candidate.normalized);
    candidates.push_back({(*other)->id, std::move(candidate.record), std::move(explanation)});
  }
  SortCandidates(candidates);
  return candidates;
}

absl::StatusOr<std::vector<DuplicateCandidate>> FindDuplicates(const Store& store,
                                                               const profile_store::ProfileReader& reader,
                                                               std::string_view space, const Profile& profile,
                                                               const DuplicateOptions& options,
                                                               const matching::Normalizer& normalizer, size_t limit,
                                                               double min_probability) {
  std::vector<DuplicateCandidate> candidates;
  if (!options.enabled) return candidates;
  absl::StatusOr<matching::ProfileMatcher> matcher = MatcherFor(options);
  if (!matcher.ok()) return matcher.status();
  const Person person = PersonFor(profile, options, *matcher, normalizer);
  if (person.record.Empty()) return candidates;
  uint64_t skipped = 0;
  absl::StatusOr<std::vector<ProfileId>> members =
      BlockMembers(store, nullptr, space, matcher->BlockingKeys(person.normalized), options.max_block, skipped);
  if (!members.ok()) return members.status();
  // Everyone an admin separated from one of this person's identifiers.
  absl::flat_hash_set<identity::Identifier> separated;
  for (const profile_store::IdentityRecord& identity : profile.identities) {
    absl::StatusOr<std::vector<identity::Identifier>> partners =
        identity::SeparatedPartners(store, space, identity::Identifier{identity.type, identity.value});
    if (!partners.ok()) return partners.status();
    separated.insert(partners->begin(), partners->end());
  }
  absl::flat_hash_set<ProfileId> seen = {profile.id};
  for (ProfileId member : *members) {
    absl::StatusOr<std::optional<Profile>> other = reader.Load(space, member);
    if (!other.ok()) return other.status();
    if (!other->has_value() || !seen.insert((*other)->id).second) continue;
    const bool is_separated =
        std::any_of((*other)->identities.begin(), (*other)->identities.end(), [&](const profile_store::IdentityRecord& identity) {
          return separated.contains(identity::Identifier{identity.type, identity.value});
        });
    if (is_separated) continue;
    Person candidate = PersonFor(**other, options, *matcher, normalizer);
    matching::PairExplanation explanation =
        matcher->Explain(person.record, person.normalized, candidate.record, candidate.normalized);
    if (explanation.match_probability < min_probability) continue;
    candidates.push_back({(*other)->id, std::move(candidate.record), std::move(explanation)});
  }
  SortCandidates(candidates);
  if (candidates.size() > limit) candidates.resize(limit);
  return candidates;
}

}  // namespace tessera::resolve
