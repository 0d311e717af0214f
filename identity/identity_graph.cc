#include "identity/identity_graph.h"

#include <algorithm>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "base/json_writer.h"
#include "identity/separations.h"
#include "xxhash.h"

namespace tessera::identity {
namespace {

using base::JsonWriter;
using profile_store::ColumnFamily;
using profile_store::FormatProfileId;

// Longest redirect chain followed before the store is declared damaged (merges re-point
// identifiers, so real chains are a few links long).
constexpr int kMaxRedirects = 64;

int64_t Micros(Timestamp time) { return time.time_since_epoch().count(); }

std::string EncodeId(ProfileId id) {
  std::string value;
  profile_store::AppendBigEndian64(value, id.value);
  return value;
}

}  // namespace

std::string NextProfileIdKey(std::string_view space) {
  std::string key = "profiles/next_id/";
  key.append(space);
  return key;
}

struct IdentityGraph::Unit {
  absl::flat_hash_map<std::string, ProfileId> identifiers;               // changed index rows
  absl::flat_hash_map<ProfileId, std::shared_ptr<Profile>> profiles;      // loaded in this unit
  absl::flat_hash_set<ProfileId> dirty;                                   // to be written
  std::vector<std::pair<std::string, std::string>> records;               // merge/decision records
  // Records of one log sequence are numbered from 0; an event and a merge it causes share one.
  uint64_t record_sequence = 0;
  uint32_t record_ordinal = 0;
  // Separations recorded (true) or forgotten (false) in this unit, in order.
  std::vector<std::tuple<bool, Identifier, Identifier>> separation_changes;
  // A recompute: the ids CreateProfile hands out first (ascending), all of the component's ids,
  // and the ids deleted outright (none handed out again).
  std::vector<ProfileId> reusable;
  std::vector<ProfileId> component;
  std::vector<ProfileId> deleted;
  bool unlinked = false;  // Some identifier entry was removed (ProfileId 0 in `identifiers`).
};

IdentityGraph::KeyHash IdentityGraph::HashKey(std::string_view key) {
  const XXH128_hash_t hash = XXH3_128bits(key.data(), key.size());
  return KeyHash{hash.high64, hash.low64};
}

IdentityGraph::IdentityGraph(profile_store::Store& store, std::string space, IdentityRules rules, GraphOptions options)
    : store_(store),
      space_(std::move(space)),
      rules_(std::move(rules)),
      options_(options),
      identifier_cache_(options.identifier_cache_entries),
      profile_cache_(options.profile_cache_entries),
      unit_(std::make_unique<Unit>()) {}

IdentityGraph::~IdentityGraph() = default;

absl::Status IdentityGraph::Recover() {
  retired_.clear();
  const std::string retired_prefix = profile_store::RetiredProfilePrefix(space_);
  absl::Status scanned = store_.ScanPrefix(ColumnFamily::kPrivacy, retired_prefix,
                                           [&](std::string_view key, std::string_view) {
                                             if (key.size() == retired_prefix.size() + 8) {
                                               retired_.insert(profile_store::ReadBigEndian64(
                                                   key.substr(retired_prefix.size())));
                                             }
                                           });
  if (!scanned.ok()) return scanned;
  if (absl::Status separations = LoadSeparations(); !separations.ok()) return separations;
  auto value = store_.Get(ColumnFamily::kMeta, NextProfileIdKey(space_));
  if (absl::IsNotFound(value.status())) {
    committed_next_profile_id_ = 1;
  } else if (!value.ok()) {
    return value.status();
  } else if (value->size() != 8) {
    return absl::DataLossError("meta " + NextProfileIdKey(space_) + ": expected 8 bytes");
  } else {
    committed_next_profile_id_ = profile_store::ReadBigEndian64(*value);
  }
  // Past retired ids: written with the next unit when that moves it (a rebuild's first).
  next_profile_id_ = PastRetired(committed_next_profile_id_);
  return absl::OkStatus();
}

absl::Status IdentityGraph::LoadSeparations() {
  separated_.clear();
  absl::Status damaged = absl::OkStatus();
  absl::Status scanned = store_.ScanPrefix(ColumnFamily::kMeta, SeparationPrefix(space_),
                                           [&](std::string_view key, std::string_view) {
                                             auto pair = ParseSeparationKey(space_, key);
                                             if (!pair.ok()) {
                                               damaged = pair.status();
                                               return;
                                             }
                                             separated_[pair->first].push_back(std::move(pair->second));
                                           });
  return scanned.ok() ? damaged : scanned;
}

uint64_t IdentityGraph::PastRetired(uint64_t id) const {
  while (retired_.contains(id)) ++id;
  return id;
}

absl::StatusOr<std::shared_ptr<Profile>> IdentityGraph::LoadProfile(ProfileId id) {
  if (auto it = unit_->profiles.find(id); it != unit_->profiles.end()) return it->second;
  std::shared_ptr<Profile> profile;
  if (auto cached = profile_cache_.Find(id)) {
    profile = std::move(*cached);
  } else {
    auto record = store_.Get(ColumnFamily::kProfiles, profile_store::ProfileKey(space_, id));
    if (absl::IsNotFound(record.status())) return std::shared_ptr<Profile>();
    if (!record.ok()) return record.status();
    auto decoded = profile_store::DecodeProfile(*record);
    if (!decoded.ok()) return decoded.status();
    profile = std::make_shared<Profile>(*std::move(decoded));
    profile_cache_.Insert(id, profile);
  }
  unit_->profiles.emplace(id, profile);
  if (load_hook_ && !profile->merged_into) {
    absl::StatusOr<bool> changed = load_hook_(*profile);
    if (!changed.ok()) {
      unit_->profiles.erase(id);
      return changed.status();
    }
    if (*changed) unit_->dirty.insert(id);
  }
  return profile;
}

absl::StatusOr<std::optional<ProfileId>> IdentityGraph::LoadIdentifier(const std::string& key) {
  if (auto it = unit_->identifiers.find(key); it != unit_->identifiers.end()) {
    if (it->second.value == 0) return std::optional<ProfileId>();  // unlinked in this unit
    return it->second;
  }
  const KeyHash hash = HashKey(key);
  if (auto cached = identifier_cache_.Find(hash)) {
    ++identifier_hits_;
    return *cached;
  }
  ++identifier_misses_;
  auto value = store_.Get(ColumnFamily::kIdentifiers, key);
  if (absl::IsNotFound(value.status())) return std::optional<ProfileId>();
  if (!value.ok()) return value.status();
  if (value->size() != 8) return absl::DataLossError("identifier index entry: expected 8 bytes");
  const ProfileId id{profile_store::ReadBigEndian64(*value)};
  identifier_cache_.Insert(hash, id);
  return id;
}

absl::StatusOr<std::optional<ProfileId>> IdentityGraph::Canonical(ProfileId id) {
  for (int hop = 0; hop < kMaxRedirects; ++hop) {
    auto profile = LoadProfile(id);
    if (!profile.ok()) return profile.status();
    if (*profile == nullptr) return std::optional<ProfileId>();
    if (!(*profile)->merged_into) return id;
    id = *(*profile)->merged_into;
  }
  return absl::DataLossError(absl::StrCat("profile redirects loop past ", kMaxRedirects, " hops at ",
                                          FormatProfileId(id)));
}

absl::StatusOr<std::optional<ProfileId>> IdentityGraph::Lookup(const Identifier& identifier) {
  auto linked = LoadIdentifier(profile_store::IdentifierKey(space_, identifier.type, identifier.value));
  if (!linked.ok()) return linked.status();
  if (!linked->has_value()) return std::optional<ProfileId>();
  return Canonical(**linked);
}

absl::StatusOr<Profile*> IdentityGraph::MutableProfile(ProfileId id) {
  auto canonical = Canonical(id);
  if (!canonical.ok()) return canonical.status();
  if (!canonical->has_value()) return absl::NotFoundError("no profile " + FormatProfileId(id));
  auto profile = LoadProfile(**canonical);
  if (!profile.ok()) return profile.status();
  unit_->dirty.insert(**canonical);
  return profile->get();
}

ProfileId IdentityGraph::CreateProfile() {
  // Ids retired by erasure lie only below the next id of the graph that allocated them; a graph
  // rebuilt from the log without the erased events passes over them, and so gives every other
  // profile the id it had.
  ProfileId id;
  if (!unit_->reusable.empty()) {
    id = unit_->reusable.front();
    unit_->reusable.erase(unit_->reusable.begin());
  } else {
    id = ProfileId{PastRetired(next_profile_id_)};
    next_profile_id_ = PastRetired(id.value + 1);
  }
  auto profile = std::make_shared<Profile>();
  profile->id = id;
  unit_->profiles.insert_or_assign(id, profile);
  unit_->dirty.insert(id);
  return id;
}

void IdentityGraph::LinkIdentifier(const Identifier& identifier, ProfileId profile) {
  unit_->identifiers.insert_or_assign(profile_store::IdentifierKey(space_, identifier.type, identifier.value), profile);
}

void IdentityGraph::AddRecord(ProfileId profile, const GraphEvent& event, std::string json) {
  if (event.sequence != unit_->record_sequence) {
    unit_->record_sequence = event.sequence;
    }
  unit_->records.emplace_back(profile_store::MergeKey(space_, profile, event.sequence, unit_->record_ordinal++),
                              std::move(json));
}

absl::Status IdentityGraph::Merge(Profile& winner, ProfileId loser_id, const GraphEvent& event,
                                  std::string_view reason, Resolution& resolution) {
  auto loser = LoadProfile(loser_id);
  if (!loser.ok()) return loser.status();
  if (*loser == nullptr) return absl::DataLossError("merging a profile that does not exist: " + FormatProfileId(loser_id));
  winner.Absorb(**loser);
  resolution.absorbed.push_back(*loser);
  for (const profile_store::IdentityRecord& identity : (*loser)->identities) {
    LinkIdentifier(Identifier{identity.type, identity.value}, winner.id);
  }
  // The loser keeps only a redirect. A new object: the old one may still be shared by the cache.
  auto redirect = std::make_shared<Profile>();
  redirect->id = loser_id;
  redirect->merged_into = winner.id;
  unit_->profiles.insert_or_assign(loser_id, std::move(redirect));
  unit_->dirty.insert(loser_id);

  std::string json;
  JsonWriter writer(json);
  writer.BeginObject();
  writer.Key("kind").String("merge");
  writer.Key("winner").String(FormatProfileId(winner.id));
  writer.Key("loser").String(FormatProfileId(loser_id));
  writer.Key("messageId").String(event.message_id);
  writer.Key("sequence").Uint(event.sequence);
  writer.Key("time").Int(Micros(event.received_at));
  writer.Key("reason").String(reason);
  writer.EndObject();
  AddRecord(winner.id, event, std::move(json));
  return absl::OkStatus();
}

absl::StatusOr<Resolution> IdentityGraph::Apply(const GraphEvent& event) {
  if (event.identifiers.empty()) {
    return absl::FailedPreconditionError("the event has no usable identifier (all absent, blocked or invalid)");
  }
  unit_->record_ordinal = 0;

  // Which profile each identifier belongs to now.
  std::vector<std::optional<ProfileId>> links(event.identifiers.size());
  std::vector<ProfileId> profiles;
  for (size_t i = 0; i < event.identifiers.size(); ++i) {
    auto linked = Lookup(event.identifiers[i]);
    if (!linked.ok()) return linked.status();
    links[i] = *linked;
    if (*linked && std::find(profiles.begin(), profiles.end(), **linked) == profiles.end()) {
      profiles.push_back(**linked);
    }
  }
  std::sort(profiles.begin(), profiles.end());

  // Would one profile holding all of it respect every limit and separation?
  std::vector<std::shared_ptr<Profile>> loaded;
  for (ProfileId id : profiles) {
    auto profile = LoadProfile(id);
    if (!profile.ok()) return profile.status();
    if (*profile == nullptr) return absl::DataLossError("identifier points to missing profile " + FormatProfileId(id));
    loaded.push_back(*std::move(profile));
  }
  const std::vector<std::string> violations = Violations(loaded, event.identifiers);

  Resolution resolution;
  if (violations.empty()) {
    if (profiles.empty()) {
      resolution.profile = CreateProfile();
      resolution.created = true;
    } else {
      resolution.profile = profiles.front();
    }
    auto target = MutableProfile(resolution.profile);
    if (!target.ok()) return target.status();
    if (profiles.size() > 1) {
      std::string reason = "one event carries identifiers of several profiles:";
      for (size_t i = 0; i < event.identifiers.size(); ++i) {
        if (links[i]) absl::StrAppend(&reason, " ", ToString(event.identifiers[i]), " (", FormatProfileId(*links[i]), ")");
      }
      for (size_t p = 1; p < profiles.size(); ++p) {
        if (absl::Status merged = Merge(**target, profiles[p], event, reason, resolution); !merged.ok()) {
          return merged;
        }
        resolution.merged.push_back(profiles[p]);
      }
    }
    for (size_t i = 0; i < event.identifiers.size(); ++i) {
      if (!links[i]) {
        LinkIdentifier(event.identifiers[i], resolution.profile);
        resolution.attached.push_back(event.identifiers[i]);
      }
      (*target)->TouchIdentity(event.identifiers[i].type, event.identifiers[i].value, event.event_time, event.source);
    }
    return resolution;
  }

  // A merge would break a limit: the highest-priority identifier decides (first in the event on ties).
  std::vector<size_t> order(event.identifiers.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return rules_.Priority(event.identifiers[a].type) > rules_.Priority(event.identifiers[b].type);
  });
  const size_t lead = order.front();
  if (links[lead]) {
    resolution.profile = *links[lead];
  } else {
    resolution.profile = CreateProfile();
    resolution.created = true;
    LinkIdentifier(event.identifiers[lead], resolution.profile);
    resolution.attached.push_back(event.identifiers[lead]);
  }
  auto target = MutableProfile(resolution.profile);
  if (!target.ok()) return target.status();
  (*target)->TouchIdentity(event.identifiers[lead].type, event.identifiers[lead].value, event.event_time, event.source);
  resolution.decision = "not merged: one profile would hold ";
  for (size_t v = 0; v < violations.size(); ++v) absl::StrAppend(&resolution.decision, v ? ", " : "", violations[v]);
  absl::StrAppend(&resolution.decision, "; the event goes to the profile of ", ToString(event.identifiers[lead]));

  for (size_t k = 1; k < order.size(); ++k) {
    const size_t i = order[k];
    const Identifier& identifier = event.identifiers[i];
    if (links[i] && *links[i] == resolution.profile) {
      (*target)->TouchIdentity(identifier.type, identifier.value, event.event_time, event.source);
      continue;
    }
    if (links[i]) {
      resolution.refused.push_back(
          {identifier, links[i], "belongs to profile " + FormatProfileId(*links[i]) + ", which is not merged"});
      continue;
    }
    if (SeparatedFrom(identifier, **target)) {
      resolution.refused.push_back(
          {identifier, std::nullopt, "an admin decided it is not the same person as an identifier of the profile"});
      continue;
    }
    const int limit = rules_.Limit(identifier.type);
    const size_t held = (*target)->CountIdentities(identifier.type);
    if (limit > 0 && held >= static_cast<size_t>(limit)) {
      resolution.refused.push_back({identifier, std::nullopt,
                                    absl::StrCat("the profile already holds ", held, " ", identifier.type,
                                                 " values (limit ", limit, ")")});
      continue;
    }
    LinkIdentifier(identifier, resolution.profile);
    resolution.attached.push_back(identifier);
    (*target)->TouchIdentity(identifier.type, identifier.value, event.event_time, event.source);
  }

  // Record the decision where it will be looked for: on every profile involved.
  std::vector<ProfileId> involved = profiles;
  if (std::find(involved.begin(), involved.end(), resolution.profile) == involved.end()) {
    involved.push_back(resolution.profile);
  }
  for (ProfileId id : involved) AddRefusedRecord(id, profiles, event, resolution);
  return resolution;
}

void IdentityGraph::AddRefusedRecord(ProfileId profile, const std::vector<ProfileId>& involved,
                                     const GraphEvent& event, const Resolution& resolution) {
  std::string json;
  JsonWriter writer(json);
  writer.BeginObject();
  writer.Key("kind").String("refused_merge");
  writer.Key("profile").String(FormatProfileId(resolution.profile));
  writer.Key("profiles").BeginArray();
  for (ProfileId id : involved) writer.String(FormatProfileId(id));
  writer.EndArray();
  writer.Key("messageId").String(event.message_id);
  writer.Key("sequence").Uint(event.sequence);
  writer.Key("time").Int(Micros(event.received_at));
  writer.Key("reason").String(resolution.decision);
  writer.Key("refused").BeginArray();
  for (const RefusedIdentifier& refused : resolution.refused) {
    writer.BeginObject();
    writer.Key("identifier").String(ToString(refused.identifier));
    writer.Key("reason").String(refused.reason);
    writer.EndObject();
  }
  writer.EndArray();
  writer.EndObject();
  AddRecord(profile, event, std::move(json));
}

std::vector<std::string> IdentityGraph::Violations(const std::vector<std::shared_ptr<Profile>>& profiles,
                                                   const std::vector<Identifier>& extra) const {
  absl::flat_hash_map<std::string_view, absl::flat_hash_set<std::string_view>> limited_values;
  for (const auto& profile : profiles) {
    for (const profile_store::IdentityRecord& identity : profile->identities) {
      if (rules_.Limit(identity.type) > 0) limited_values[identity.type].insert(identity.value);
    }
  }
  for (const Identifier& identifier : extra) {
    if (rules_.Limit(identifier.type) > 0) limited_values[identifier.type].insert(identifier.value);
  }
  std::vector<std::string> violations;
  for (const auto& [type, values] : limited_values) {
    const int limit = rules_.Limit(type);
    if (values.size() > static_cast<size_t>(limit)) {
      violations.push_back(absl::StrCat(values.size(), " ", std::string(type), " values (limit ", limit, ")"));
    }
  }
  if (!separated_.empty()) {
    absl::flat_hash_set<Identifier> together(extra.begin(), extra.end());
    for (const auto& profile : profiles) {
      for (const profile_store::IdentityRecord& identity : profile->identities) {
        together.insert(Identifier{identity.type, identity.value});
      }
    }
    for (const Identifier& identifier : together) {
      auto partners = separated_.find(identifier);
      if (partners == separated_.end()) continue;
      for (const Identifier& partner : partners->second) {
        if (identifier < partner && together.contains(partner)) {
          violations.push_back(absl::StrCat(ToString(identifier), " and ", ToString(partner),
                                            ", which an admin decided are not the same person"));
        }
      }
    }
  }
  std::sort(violations.begin(), violations.end());
  return violations;
}

bool IdentityGraph::SeparatedFrom(const Identifier& identifier, const Profile& profile) const {
  auto partners = separated_.find(identifier);
  if (partners == separated_.end()) return false;
  for (const profile_store::IdentityRecord& identity : profile.identities) {
    if (std::find(partners->second.begin(), partners->second.end(), Identifier{identity.type, identity.value}) !=
        partners->second.end()) {
      return true;
    }
  }
  return false;
}

bool IdentityGraph::SetSeparated(const Identifier& a, const Identifier& b, bool separated) {
  for (const auto& [from, to] : {std::pair(&a, &b), std::pair(&b, &a)}) {
    std::vector<Identifier>& partners = separated_[*from];
    auto found = std::find(partners.begin(), partners.end(), *to);
    if ((found != partners.end()) == separated) {
      if (partners.empty()) separated_.erase(*from);
      return false;
    }
    if (separated) {
      partners.push_back(*to);
    } else {
      partners.erase(found);
      if (partners.empty()) separated_.erase(*from);
    }
  }
  return true;
}

void IdentityGraph::Separate(const Identifier& a, const Identifier& b) {
  if (SetSeparated(a, b, true)) unit_->separation_changes.emplace_back(true, a, b);
}

void IdentityGraph::Unseparate(const Identifier& a, const Identifier& b) {
  if (SetSeparated(a, b, false)) unit_->separation_changes.emplace_back(false, a, b);
}

absl::StatusOr<std::shared_ptr<const Profile>> IdentityGraph::ReadProfile(ProfileId id) {
  auto canonical = Canonical(id);
  if (!canonical.ok()) return canonical.status();
  if (!canonical->has_value()) return std::shared_ptr<const Profile>();
  auto profile = LoadProfile(**canonical);
  if (!profile.ok()) return profile.status();
  return std::shared_ptr<const Profile>(*std::move(profile));
}

absl::StatusOr<bool> IdentityGraph::Separated(ProfileId a, ProfileId b) {
  if (separated_.empty()) return false;
  auto left = ReadProfile(a);
  if (!left.ok()) return left.status();
  auto right = ReadProfile(b);
  if (!right.ok()) return right.status();
  if (*left == nullptr || *right == nullptr) return false;
  for (const profile_store::IdentityRecord& identity : (*left)->identities) {
    if (SeparatedFrom(Identifier{identity.type, identity.value}, **right)) return true;
  }
  return false;
}

absl::StatusOr<Resolution> IdentityGraph::MergeProfiles(ProfileId a, ProfileId b, const GraphEvent& event,
                                                       std::string_view reason) {
  std::vector<ProfileId> ids;
  for (ProfileId id : {a, b}) {
    auto canonical = Canonical(id);
    if (!canonical.ok()) return canonical.status();
    if (!canonical->has_value()) return absl::NotFoundError("no profile " + FormatProfileId(id));
    ids.push_back(**canonical);
  }
  std::sort(ids.begin(), ids.end());
  Resolution resolution;
  resolution.profile = ids.front();
  if (ids.front() == ids.back()) {
    resolution.decision = "not merged: both are already one profile, " + FormatProfileId(ids.front());
    return resolution;
  }
  std::vector<std::shared_ptr<Profile>> loaded;
  for (ProfileId id : ids) {
    auto profile = LoadProfile(id);
    if (!profile.ok()) return profile.status();
    loaded.push_back(*std::move(profile));
  }
  const std::vector<std::string> violations = Violations(loaded, {});
  if (!violations.empty()) {
    resolution.decision = "not merged: one profile would hold ";
    for (size_t v = 0; v < violations.size(); ++v) absl::StrAppend(&resolution.decision, v ? ", " : "", violations[v]);
    for (ProfileId id : ids) AddRefusedRecord(id, ids, event, resolution);
    return resolution;
  }
  auto winner = MutableProfile(ids.front());
  if (!winner.ok()) return winner.status();
  if (absl::Status merged = Merge(**winner, ids.back(), event, reason, resolution); !merged.ok()) return merged;
  resolution.merged.push_back(ids.back());
  return resolution;
}

absl::StatusOr<std::shared_ptr<const Profile>> IdentityGraph::BeginRecompute(ProfileId id) {
  auto profile = ReadProfile(id);
  if (!profile.ok()) return profile.status();
  if (*profile == nullptr) return absl::NotFoundError("no profile " + FormatProfileId(id));
  std::shared_ptr<const Profile> before = *profile;
  for (const profile_store::IdentityRecord& identity : before->identities) {
    unit_->identifiers.insert_or_assign(profile_store::IdentifierKey(space_, identity.type, identity.value),
                                        ProfileId{0});
  }
  unit_->unlinked = true;
  std::vector<ProfileId> component = before->merged_from;
  component.push_back(before->id);
  std::sort(component.begin(), component.end());
  for (ProfileId member : component) unit_->profiles.erase(member);
  unit_->component = component;
  unit_->reusable = std::move(component);
  return before;
}

void IdentityGraph::EndRecompute() {
  std::vector<ProfileId> handed_out;
  for (ProfileId member : unit_->component) {
    if (std::find(unit_->reusable.begin(), unit_->reusable.end(), member) == unit_->reusable.end()) {
      handed_out.push_back(member);
    }
  }
  for (ProfileId unused : unit_->reusable) {
    if (handed_out.empty()) {
      unit_->deleted.push_back(unused);
      continue;
    }
    auto redirect = std::make_shared<Profile>();
    redirect->id = unused;
    redirect->merged_into = handed_out.front();
    unit_->profiles.insert_or_assign(unused, std::move(redirect));
    unit_->dirty.insert(unused);
  }
  unit_->reusable.clear();
  unit_->component.clear();
}

void IdentityGraph::Flush(rocksdb::WriteBatch& batch) {
  // In key order within each family: the memtable's skip list then inserts each row next to the
  // previous one (it keeps the last insert's position) instead of searching from the top.
  std::vector<ProfileId> dirty(unit_->dirty.begin(), unit_->dirty.end());
  std::sort(dirty.begin(), dirty.end());
  std::string record;
  for (ProfileId id : dirty) {
    auto it = unit_->profiles.find(id);
    if (it == unit_->profiles.end()) continue;
    record.clear();
    profile_store::EncodeProfile(*it->second, record);
    batch.Put(store_.handle(ColumnFamily::kProfiles), profile_store::ProfileKey(space_, id), record);
  }
  std::vector<const std::pair<const std::string, ProfileId>*> identifiers;
  identifiers.reserve(unit_->identifiers.size());
  for (const auto& entry : unit_->identifiers) identifiers.push_back(&entry);
  std::sort(identifiers.begin(), identifiers.end(), [](const auto* a, const auto* b) { return a->first < b->first; });
  for (const auto* entry : identifiers) {
    if (entry->second.value == 0) {
      batch.Delete(store_.handle(ColumnFamily::kIdentifiers), entry->first);
    } else {
      batch.Put(store_.handle(ColumnFamily::kIdentifiers), entry->first, EncodeId(entry->second));
    }
  }
  for (ProfileId id : unit_->deleted) {
    batch.Delete(store_.handle(ColumnFamily::kProfiles), profile_store::ProfileKey(space_, id));
  }
  for (const auto& [recorded, a, b] : unit_->separation_changes) {
    for (const auto& [from, to] : {std::pair(&a, &b), std::pair(&b, &a)}) {
      if (recorded) {
        batch.Put(store_.handle(ColumnFamily::kMeta), SeparationKey(space_, *from, *to), "");
      } else {
        batch.Delete(store_.handle(ColumnFamily::kMeta), SeparationKey(space_, *from, *to));
      }
    }
  }
  std::sort(unit_->records.begin(), unit_->records.end());
  for (const auto& [key, json] : unit_->records) batch.Put(store_.handle(ColumnFamily::kMerges), key, json);
  if (next_profile_id_ != committed_next_profile_id_) {
    batch.Put(store_.handle(ColumnFamily::kMeta), NextProfileIdKey(space_), EncodeId(ProfileId{next_profile_id_}));
  }
}

void IdentityGraph::Commit() {
  if (unit_->unlinked) {
    // Removed entries cannot be cached as present; a recompute is rare enough to start cold.
    identifier_cache_.Clear();
    profile_cache_.Clear();
  }
  for (const auto& [key, id] : unit_->identifiers) {
    if (id.value != 0) identifier_cache_.Insert(HashKey(key), id);
  }
  for (ProfileId id : unit_->dirty) {
    if (auto it = unit_->profiles.find(id); it != unit_->profiles.end()) profile_cache_.Insert(id, it->second);
  }
  committed_next_profile_id_ = next_profile_id_;
  unit_ = std::make_unique<Unit>();
}

void IdentityGraph::Abort() {
  // Profiles are changed in place, and the cache may share them: drop the caches rather than
  // trust any entry the failed unit could have touched.
  identifier_cache_.Clear();
  profile_cache_.Clear();
  next_profile_id_ = committed_next_profile_id_;
  for (auto change = unit_->separation_changes.rbegin(); change != unit_->separation_changes.rend(); ++change) {
    const auto& [recorded, a, b] = *change;
    SetSeparated(a, b, !recorded);
  }
  unit_ = std::make_unique<Unit>();
}

}  // namespace tessera::identity
