#include "audiences/space_audiences.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "base/json_reading.h"
#include "base/json_writer.h"
#include "simdjson.h"

namespace tessera::audiences {
namespace {

namespace od = simdjson::ondemand;
using profile_store::DefinitionKind;
using profile_store::StoredDefinition;

template <typename List>
auto FindByName(List& list, std::string_view name) {
  return std::find_if(list.begin(), list.end(), [&](const auto& item) { return item->name == name; });
}

template <typename T>
void InsertByName(std::vector<std::shared_ptr<const T>>& list, std::shared_ptr<const T> item) {
  auto it = FindByName(list, item->name);
  if (it != list.end()) {
    *it = std::move(item);
    return;
  }
  auto position = std::lower_bound(list.begin(), list.end(), item->name,
                                   [](const auto& existing, const std::string& name) { return existing->name < name; });
  list.insert(position, std::move(item));
}

// Names of the computed traits a condition tree uses.
void CollectComputed(const Condition& condition, std::vector<std::string>& names) {
  if (condition.kind == Condition::Kind::kComputed) names.push_back(condition.name);
  for (const ConditionPtr& child : condition.children) CollectComputed(*child, names);
}

std::string EncodeRfm(const RfmTable& table) {
  std::string json;
  base::JsonWriter writer(json);
  writer.BeginObject();
  for (const auto& [name, cuts] : table) {
    writer.Key(name).BeginObject();
    auto list = [&](std::string_view key, const std::vector<double>& values) {
      writer.Key(key).BeginArray();
      for (double value : values) writer.Double(value);
      writer.EndArray();
    };
    list("recencyDays", cuts.recency_days);
    list("frequency", cuts.frequency);
    list("monetary", cuts.monetary);
    writer.EndObject();
  }
  writer.EndObject();
  return json;
}

std::optional<RfmTable> DecodeRfm(std::string_view json) {
  thread_local base::ReusableJsonParser parser;
  od::document doc;
  od::object object;
  if (parser.Iterate(json).get(doc) || doc.get_object().get(object)) return std::nullopt;
  RfmTable table;
  for (auto field : object) {
    std::string_view name;
    od::object cuts;
    if (field.unescaped_key().get(name) || field.value().get_object().get(cuts)) return std::nullopt;
    RfmCutPoints& points = table[std::string(name)];
    for (auto member : cuts) {
      std::string_view key;
      od::array values;
      if (member.unescaped_key().get(key) || member.value().get_array().get(values)) return std::nullopt;
      std::vector<double>* out = key == "recencyDays" ? &points.recency_days
                                 : key == "frequency" ? &points.frequency
                                 : key == "monetary"  ? &points.monetary
                                                      : nullptr;
      if (out == nullptr) return std::nullopt;
      for (auto value : values) {
        double number = 0;
        if (value.get_double().get(number)) return std::nullopt;
        out->push_back(number);
      }
    }
  }
  return table;
}

}  // namespace

bool IsBuiltInComputedTrait(std::string_view name) {
  for (const auto& trait : DefinitionSet::BuiltInTraits()) {
    if (trait->name == name) return true;
  }
  return false;
}

std::string RfmKey(std::string_view space) { return absl::StrCat("audiences/rfm/", std::string(space)); }

SpaceAudiences::SpaceAudiences(profile_store::Store& store, std::string space)
    : store_(store), space_(std::move(space)) {
  auto set = std::make_shared<DefinitionSet>();
  set->computed = DefinitionSet::BuiltInTraits();
  definitions_ = std::move(set);
}

absl::Status SpaceAudiences::LoadStored() { return Load({}, {}, /*read_only=*/true); }

absl::Status SpaceAudiences::Load(const std::vector<ConfiguredDefinition>& computed_traits,
                                  const std::vector<ConfiguredDefinition>& audiences) {
  return Load(computed_traits, audiences, /*read_only=*/false);
}

absl::Status SpaceAudiences::Load(const std::vector<ConfiguredDefinition>& computed_traits,
                                  const std::vector<ConfiguredDefinition>& audiences, bool read_only) {
  auto stored_traits = profile_store::ReadDefinitions(store_, space_, DefinitionKind::kComputedTrait);
  if (!stored_traits.ok()) return stored_traits.status();
  auto stored_audiences = profile_store::ReadDefinitions(store_, space_, DefinitionKind::kAudience);
  if (!stored_audiences.ok()) return stored_audiences.status();

  rocksdb::WriteBatch batch;
  auto set = std::make_shared<DefinitionSet>();
  std::map<std::string, bool, std::less<>> trait_config;
  std::map<std::string, bool, std::less<>> audience_config;

  // The built-in traits are always there; config comes next: it owns its names. Stored
  // definitions config once had and no longer has go.
  for (const auto& built_in : DefinitionSet::BuiltInTraits()) InsertByName(set->computed, built_in);
  for (const ConfiguredDefinition& configured : computed_traits) {
    if (IsBuiltInComputedTrait(configured.name)) {
      return absl::InvalidArgumentError(
          absl::StrCat("computed trait ", configured.name, ": the name of a built-in computed trait"));
    }
    auto trait = ParseComputedTrait(configured.json, configured.name);
    if (!trait.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("computed trait ", configured.name, ": ", trait.status().message()));
    }
    InsertByName(set->computed, std::make_shared<const ComputedTrait>(*std::move(trait)));
    trait_config[configured.name] = true;
    profile_store::PutDefinition(store_, batch, space_, DefinitionKind::kComputedTrait,
                                 StoredDefinition{configured.name, configured.json, true});
  }
  for (const StoredDefinition& stored : *stored_traits) {
    if (trait_config.contains(stored.name)) continue;
    if (stored.from_config && !read_only) {
      batch.Delete(store_.handle(profile_store::ColumnFamily::kDefinitions),
                   profile_store::DefinitionKey(space_, DefinitionKind::kComputedTrait, stored.name));
      continue;
    }
    auto trait = ParseComputedTrait(stored.json, stored.name);
    if (!trait.ok()) {
      return absl::DataLossError(absl::StrCat("stored computed trait ", stored.name, ": ", trait.status().message()));
    }
    InsertByName(set->computed, std::make_shared<const ComputedTrait>(*std::move(trait)));
    trait_config[stored.name] = stored.from_config;
  }
  for (const ConfiguredDefinition& configured : audiences) {
    auto audience = ParseAudience(configured.name, configured.json, set->computed);
    if (!audience.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("audience ", configured.name, ": ", audience.status().message()));
    }
    InsertByName(set->audiences, std::make_shared<const Audience>(*std::move(audience)));
    audience_config[configured.name] = true;
    profile_store::PutDefinition(store_, batch, space_, DefinitionKind::kAudience,
                                 StoredDefinition{configured.name, configured.json, true});
  }
  for (const StoredDefinition& stored : *stored_audiences) {
    if (audience_config.contains(stored.name)) continue;
    if (stored.from_config && !read_only) {
      batch.Delete(store_.handle(profile_store::ColumnFamily::kDefinitions),
                   profile_store::DefinitionKey(space_, DefinitionKind::kAudience, stored.name));
      continue;
    }
    auto audience = ParseAudience(stored.name, stored.json, set->computed);
    if (!audience.ok()) {
      return absl::FailedPreconditionError(absl::StrCat(
          "stored audience ", stored.name, " no longer parses (was a computed trait it uses removed from the config?): ",
          audience.status().message()));
    }
    InsertByName(set->audiences, std::make_shared<const Audience>(*std::move(audience)));
    audience_config[stored.name] = stored.from_config;
  }
  set->Compile();
  if (!read_only) {
    if (absl::Status written = store_.Write(batch); !written.ok()) return written;
  }

  std::map<std::string, profile_store::AudienceCounters, std::less<>> counters;
  for (const auto& audience : set->audiences) {
    auto value = store_.Get(profile_store::ColumnFamily::kMeta, profile_store::AudienceCountersKey(space_, audience->name));
    if (absl::IsNotFound(value.status())) continue;
    if (!value.ok()) return value.status();
    auto decoded = profile_store::DecodeAudienceCounters(*value);
    if (!decoded) return absl::DataLossError("damaged counters of audience " + audience->name);
    counters[audience->name] = *decoded;
  }
  RfmTable rfm;
  auto rfm_value = store_.Get(profile_store::ColumnFamily::kMeta, RfmKey(space_));
  if (rfm_value.ok()) {
    auto decoded = DecodeRfm(*rfm_value);
    if (!decoded) return absl::DataLossError("damaged RFM cut points of space " + space_);
    rfm = *std::move(decoded);
  } else if (!absl::IsNotFound(rfm_value.status())) {
    return rfm_value.status();
  }

  std::shared_ptr<const PurchaseModelState> purchase_model;
  auto model_value = store_.Get(profile_store::ColumnFamily::kMeta, PurchaseModelKey(space_));
  if (model_value.ok()) {
    std::optional<PurchaseModelState> decoded = DecodePurchaseModel(*model_value);
    if (!decoded) return absl::DataLossError("damaged purchase model of space " + space_);
    purchase_model = std::make_shared<const PurchaseModelState>(*std::move(decoded));
  } else if (!absl::IsNotFound(model_value.status())) {
    return model_value.status();
  }

  std::unique_lock lock(mutex_);
  definitions_ = std::move(set);
  purchase_model_ = std::move(purchase_model);
  computed_from_config_ = std::move(trait_config);
  audience_from_config_ = std::move(audience_config);
  counters_ = std::move(counters);
  rfm_ = std::move(rfm);
  Publish(lock);
  return absl::OkStatus();
}

std::shared_ptr<const DefinitionSet> SpaceAudiences::definitions() const {
  std::lock_guard lock(mutex_);
  return definitions_;
}

uint64_t SpaceAudiences::generation() const {
  std::lock_guard lock(mutex_);
  return generation_;
}

absl::Status SpaceAudiences::Persist(DefinitionKind kind, const StoredDefinition* put, std::string_view erase) {
  rocksdb::WriteBatch batch;
  if (put != nullptr) profile_store::PutDefinition(store_, batch, space_, kind, *put);
  if (!erase.empty()) {
    batch.Delete(store_.handle(profile_store::ColumnFamily::kDefinitions),
                 profile_store::DefinitionKey(space_, kind, erase));
  }
  return store_.Write(batch);
}

void SpaceAudiences::Publish(std::unique_lock<std::mutex>& lock) {
  ++generation_;
  std::function<void()> listener = listener_;
  lock.unlock();
  if (listener) listener();
}

absl::StatusOr<std::shared_ptr<const ComputedTrait>> SpaceAudiences::PutComputedTrait(std::string_view name,
                                                                                       std::string_view json) {
  if (IsBuiltInComputedTrait(name)) {
    return absl::FailedPreconditionError(absl::StrCat(std::string(name), " is a built-in computed trait"));
  }
  auto parsed = ParseComputedTrait(json, name);
  if (!parsed.ok()) return parsed.status();
  auto trait = std::make_shared<const ComputedTrait>(*std::move(parsed));
  std::unique_lock lock(mutex_);
  if (auto it = computed_from_config_.find(name); it != computed_from_config_.end() && it->second) {
    return absl::FailedPreconditionError(absl::StrCat("computed trait ", std::string(name),
                                                      " is defined in the config file; change it there"));
  }
  auto set = std::make_shared<DefinitionSet>(*definitions_);
  InsertByName(set->computed, trait);
  // Audiences that use the trait are parsed again: what they may ask of it (a sub-path) and
  // whether they depend on time follow from its kind and window.
  for (auto& audience : set->audiences) {
    std::vector<std::string> used;
    if (audience->condition) CollectComputed(*audience->condition, used);
    if (std::find(used.begin(), used.end(), name) == used.end()) continue;
    auto reparsed = ParseAudience(audience->name, audience->source_json, set->computed);
    if (!reparsed.ok()) {
      return absl::FailedPreconditionError(absl::StrCat("audience ", audience->name, " uses computed trait ",
                                                        std::string(name), " and would no longer be valid: ",
                                                        reparsed.status().message()));
    }
    audience = std::make_shared<const Audience>(*std::move(reparsed));
  }
  const StoredDefinition stored{std::string(name), trait->source_json, false};
  if (absl::Status written = Persist(DefinitionKind::kComputedTrait, &stored, {}); !written.ok()) return written;
  set->Compile();
  definitions_ = std::move(set);
  computed_from_config_[std::string(name)] = false;
  Publish(lock);
  return trait;
}

absl::Status SpaceAudiences::DeleteComputedTrait(std::string_view name) {
  if (IsBuiltInComputedTrait(name)) {
    return absl::FailedPreconditionError(absl::StrCat(std::string(name), " is a built-in computed trait"));
  }
  std::unique_lock lock(mutex_);
  auto known = computed_from_config_.find(name);
  if (known == computed_from_config_.end()) {
    return absl::NotFoundError(absl::StrCat("no computed trait ", std::string(name)));
  }
  if (known->second) {
    return absl::FailedPreconditionError(absl::StrCat("computed trait ", std::string(name),
                                                      " is defined in the config file; change it there"));
  }
  for (const auto& audience : definitions_->audiences) {
    std::vector<std::string> used;
    if (audience->condition) CollectComputed(*audience->condition, used);
    if (std::find(used.begin(), used.end(), name) != used.end()) {
      return absl::FailedPreconditionError(
          absl::StrCat("computed trait ", std::string(name), " is used by audience ", audience->name));
    }
  }
  if (absl::Status written = Persist(DefinitionKind::kComputedTrait, nullptr, name); !written.ok()) return written;
  auto set = std::make_shared<DefinitionSet>(*definitions_);
  set->computed.erase(FindByName(set->computed, name));
  set->Compile();
  definitions_ = std::move(set);
  computed_from_config_.erase(known);
  Publish(lock);
  return absl::OkStatus();
}

absl::StatusOr<std::shared_ptr<const Audience>> SpaceAudiences::PutAudience(std::string_view name,
                                                                            std::string_view json) {
  std::unique_lock lock(mutex_);
  if (auto it = audience_from_config_.find(name); it != audience_from_config_.end() && it->second) {
    return absl::FailedPreconditionError(absl::StrCat("audience ", std::string(name),
                                                      " is defined in the config file; change it there"));
  }
  auto parsed = ParseAudience(name, json, definitions_->computed);
  if (!parsed.ok()) return parsed.status();
  auto audience = std::make_shared<const Audience>(*std::move(parsed));
  const StoredDefinition stored{std::string(name), audience->source_json, false};
  if (absl::Status written = Persist(DefinitionKind::kAudience, &stored, {}); !written.ok()) return written;
  auto set = std::make_shared<DefinitionSet>(*definitions_);
  InsertByName(set->audiences, audience);
  set->Compile();
  definitions_ = std::move(set);
  audience_from_config_[std::string(name)] = false;
  Publish(lock);
  return audience;
}

absl::Status SpaceAudiences::DeleteAudience(std::string_view name) {
  std::unique_lock lock(mutex_);
  auto known = audience_from_config_.find(name);
  if (known == audience_from_config_.end()) return absl::NotFoundError(absl::StrCat("no audience ", std::string(name)));
  if (known->second) {
    return absl::FailedPreconditionError(absl::StrCat("audience ", std::string(name),
                                                      " is defined in the config file; change it there"));
  }
  if (absl::Status written = Persist(DefinitionKind::kAudience, nullptr, name); !written.ok()) return written;
  auto set = std::make_shared<DefinitionSet>(*definitions_);
  set->audiences.erase(FindByName(set->audiences, name));
  set->Compile();
  definitions_ = std::move(set);
  audience_from_config_.erase(known);
  counters_.erase(std::string(name));
  Publish(lock);
  return absl::OkStatus();
}

bool SpaceAudiences::IsFromConfig(std::string_view name, DefinitionKind kind) const {
  std::lock_guard lock(mutex_);
  const auto& owners = kind == DefinitionKind::kAudience ? audience_from_config_ : computed_from_config_;
  auto it = owners.find(name);
  return it != owners.end() && it->second;
}

std::optional<AudienceStatus> SpaceAudiences::Status(std::string_view name) const {
  std::lock_guard lock(mutex_);
  const Audience* audience = definitions_->FindAudience(name);
  if (audience == nullptr) return std::nullopt;
  AudienceStatus status;
  status.audience = *FindByName(definitions_->audiences, name);
  auto owner = audience_from_config_.find(name);
  status.from_config = owner != audience_from_config_.end() && owner->second;
  if (auto it = counters_.find(name); it != counters_.end()) status.counters = it->second;
  status.evaluated = evaluated_generation_ >= generation_;
  return status;
}

std::vector<AudienceStatus> SpaceAudiences::AllStatuses() const {
  std::vector<std::string> names;
  {
    std::lock_guard lock(mutex_);
    for (const auto& audience : definitions_->audiences) names.push_back(audience->name);
  }
  std::vector<AudienceStatus> statuses;
  for (const std::string& name : names) {
    if (auto status = Status(name)) statuses.push_back(*std::move(status));
  }
  return statuses;
}

void SpaceAudiences::SetCounters(const std::string& audience, const profile_store::AudienceCounters& counters) {
  std::lock_guard lock(mutex_);
  if (definitions_->FindAudience(audience) == nullptr) return;  // deleted meanwhile
  counters_[audience] = counters;
}

profile_store::AudienceCounters SpaceAudiences::Counters(const std::string& audience) const {
  std::lock_guard lock(mutex_);
  auto it = counters_.find(audience);
  return it == counters_.end() ? profile_store::AudienceCounters{} : it->second;
}

void SpaceAudiences::MarkEvaluated(uint64_t generation, base::Timestamp finished) {
  std::lock_guard lock(mutex_);
  evaluated_generation_ = std::max(evaluated_generation_, generation);
  for (const auto& audience : definitions_->audiences) counters_[audience->name].last_evaluated = finished;
}

RfmTable SpaceAudiences::rfm() const {
  std::lock_guard lock(mutex_);
  return rfm_;
}

void SpaceAudiences::SetRfm(RfmTable rfm) {
  std::lock_guard lock(mutex_);
  rfm_ = std::move(rfm);
}

std::shared_ptr<const PurchaseModelState> SpaceAudiences::purchase_model() const {
  std::lock_guard lock(mutex_);
  return purchase_model_;
}

void SpaceAudiences::SetPurchaseModel(std::shared_ptr<const PurchaseModelState> model) {
  std::lock_guard lock(mutex_);
  purchase_model_ = std::move(model);
}

SpaceFigures SpaceAudiences::figures() const {
  std::lock_guard lock(mutex_);
  return SpaceFigures{.rfm = rfm_, .purchase_model = purchase_model_};
}

void SpaceAudiences::SetChangeListener(std::function<void()> listener) {
  std::lock_guard lock(mutex_);
  listener_ = std::move(listener);
}

std::string EncodeRfmTable(const RfmTable& table) { return EncodeRfm(table); }

}  // namespace tessera::audiences
