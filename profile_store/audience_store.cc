#include "profile_store/audience_store.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "base/json_reading.h"
#include "base/json_writer.h"
#include "simdjson.h"

namespace tessera::profile_store {
namespace {

namespace od = simdjson::ondemand;

int64_t Micros(Timestamp time) { return time.time_since_epoch().count(); }
Timestamp FromMicros(int64_t micros) { return Timestamp(std::chrono::microseconds(micros)); }

std::string SpacePrefix(std::string_view space) {
  std::string key(space);
  key.push_back('\0');
  return key;
}

std::string NamePrefix(std::string_view space, std::string_view name) {
  std::string key = SpacePrefix(space);
  key.append(name);
  key.push_back('\0');
  return key;
}

}  // namespace

std::string DefinitionPrefix(std::string_view space, DefinitionKind kind) {
  std::string key = SpacePrefix(space);
  key.push_back(static_cast<char>(kind));
  key.push_back('\0');
  return key;
}

std::string DefinitionKey(std::string_view space, DefinitionKind kind, std::string_view name) {
  return DefinitionPrefix(space, kind).append(name);
}

std::string MemberPrefix(std::string_view space, std::string_view audience) { return NamePrefix(space, audience); }

std::string MemberKey(std::string_view space, std::string_view audience, ProfileId profile) {
  std::string key = MemberPrefix(space, audience);
  AppendBigEndian64(key, profile.value);
  return key;
}

std::string AudienceChangePrefix(std::string_view space, std::string_view audience) {
  return NamePrefix(space, audience);
}

std::string AudienceChangeKey(std::string_view space, std::string_view audience, Timestamp time, ProfileId profile) {
  std::string key = AudienceChangePrefix(space, audience);
  AppendBigEndian64(key, static_cast<uint64_t>(std::max<int64_t>(0, Micros(time))));
  AppendBigEndian64(key, profile.value);
  return key;
}

std::string AudienceCountersKey(std::string_view space, std::string_view audience) {
  return absl::StrCat("audiences/counters/", std::string(space), "/", std::string(audience));
}

void PutDefinition(const Store& store, rocksdb::WriteBatch& batch, std::string_view space, DefinitionKind kind,
                   const StoredDefinition& definition) {
  std::string json;
  base::JsonWriter writer(json);
  writer.BeginObject();
  writer.Key("json").Raw(definition.json);
  writer.Key("fromConfig").Bool(definition.from_config);
  writer.EndObject();
  batch.Put(store.handle(ColumnFamily::kDefinitions), DefinitionKey(space, kind, definition.name), json);
}

absl::StatusOr<std::vector<StoredDefinition>> ReadDefinitions(const Store& store, std::string_view space,
                                                              DefinitionKind kind) {
  std::vector<StoredDefinition> definitions;
  const std::string prefix = DefinitionPrefix(space, kind);
  std::unique_ptr<rocksdb::Iterator> it(
      store.db()->NewIterator(rocksdb::ReadOptions(), store.handle(ColumnFamily::kDefinitions)));
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    StoredDefinition definition;
    definition.name = it->key().ToString().substr(prefix.size());
    thread_local base::ReusableJsonParser parser;
    od::document doc;
    od::object object;
    od::value json;
    std::string_view raw;
    bool from_config = false;
    if (parser.Iterate(std::string_view(it->value().data(), it->value().size())).get(doc) ||
        doc.get_object().get(object) || object["json"].get(json) || base::RawJsonOf(json, raw) ||
        object["fromConfig"].get_bool().get(from_config)) {
      return absl::DataLossError("damaged definition record of " + definition.name);
    }
    definition.json.assign(raw);
    definition.from_config = from_config;
    definitions.push_back(std::move(definition));
  }
  if (!it->status().ok()) return ToAbslStatus(it->status(), "reading definitions");
  return definitions;
}

std::string EncodeAudienceCounters(const AudienceCounters& counters) {
  std::string json;
  base::JsonWriter writer(json);
  writer.BeginObject();
  writer.Key("size").Int(counters.size);
  writer.Key("entered").Uint(counters.entered);
  writer.Key("left").Uint(counters.left);
  writer.Key("lastEvaluated").Int(Micros(counters.last_evaluated));
  writer.Key("lastChange").Int(Micros(counters.last_change));
  writer.EndObject();
  return json;
}

std::optional<AudienceCounters> DecodeAudienceCounters(std::string_view json) {
  thread_local base::ReusableJsonParser parser;
  od::document doc;
  od::object object;
  AudienceCounters counters;
  int64_t last_evaluated = 0;
  int64_t last_change = 0;
  if (parser.Iterate(json).get(doc) || doc.get_object().get(object) || object["size"].get_int64().get(counters.size) ||
      object["entered"].get_uint64().get(counters.entered) || object["left"].get_uint64().get(counters.left) ||
      object["lastEvaluated"].get_int64().get(last_evaluated) || object["lastChange"].get_int64().get(last_change)) {
    return std::nullopt;
  }
  counters.last_evaluated = FromMicros(last_evaluated);
  counters.last_change = FromMicros(last_change);
  return counters;
}

std::string EncodeAudienceChange(ProfileId profile, bool entered, Timestamp time, std::string_view reason) {
  std::string json;
  base::JsonWriter writer(json);
  writer.BeginObject();
  writer.Key("profile").String(FormatProfileId(profile));
  writer.Key("change").String(entered ? "enter" : "leave");
  writer.Key("time").Int(Micros(time));
  if (!reason.empty()) writer.Key("reason").String(reason);
  writer.EndObject();
  return json;
}

MemberScan::MemberScan(const Store& store, std::string space, std::string audience)
    : store_(store), space_(std::move(space)), prefix_(MemberPrefix(space_, audience)) {
  snapshot_ = store_.db()->GetSnapshot();
  rocksdb::ReadOptions options;
  options.snapshot = snapshot_;
  // A scan reads each member row once: keep them from pushing hot blocks out of the cache.
  options.fill_cache = false;
  iterator_.reset(store_.db()->NewIterator(options, store_.handle(ColumnFamily::kMembers)));
}

MemberScan::~MemberScan() {
  iterator_.reset();
  if (snapshot_ != nullptr) store_.db()->ReleaseSnapshot(snapshot_);
}

absl::StatusOr<std::optional<Member>> MemberScan::Next() {
  for (;;) {
    if (!started_) {
      iterator_->Seek(prefix_);
      started_ = true;
    } else {
      iterator_->Next();
    }
    if (!iterator_->Valid() || !iterator_->key().starts_with(prefix_)) {
      if (!iterator_->status().ok()) return ToAbslStatus(iterator_->status(), "scanning audience members");
      return std::optional<Member>();
    }
    const rocksdb::Slice key = iterator_->key();
    const rocksdb::Slice value = iterator_->value();
    if (key.size() != prefix_.size() + 8 || value.size() != 8) return absl::DataLossError("damaged member row");
    Member member;
    member.id = ProfileId{ReadBigEndian64(std::string_view(key.data() + prefix_.size(), 8))};
    member.entered = FromMicros(static_cast<int64_t>(ReadBigEndian64(std::string_view(value.data(), 8))));
    rocksdb::ReadOptions options;
    options.snapshot = snapshot_;
    std::string record;
    const std::string profile_key = ProfileKey(space_, member.id);
    rocksdb::Status status = store_.db()->Get(options, store_.handle(ColumnFamily::kProfiles), profile_key, &record);
    if (status.IsNotFound()) continue;
    if (!status.ok()) return ToAbslStatus(status, "reading a member's profile");
    absl::StatusOr<Profile> profile = DecodeProfile(record);
    if (!profile.ok()) return profile.status();
    if (profile->merged_into) continue;
    member.profile = *std::move(profile);
    return std::optional<Member>(std::move(member));
  }
}

}  // namespace tessera::profile_store
