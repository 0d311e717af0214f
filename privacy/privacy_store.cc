#include "privacy/privacy_store.h"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "base/json_reading.h"
#include "base/json_writer.h"

namespace tessera::privacy {
namespace {

namespace od = simdjson::ondemand;

constexpr std::string_view kSaltKey = "privacy/salt";
constexpr size_t kSaltBytes = 32;

std::string PrivacyKey(std::string_view space, char kind, std::string_view rest) {
  std::string key;
  key.reserve(space.size() + 3 + rest.size());
  key.append(space);
  key.push_back('\0');
  key.push_back(kind);
  key.push_back('\0');
  key.append(rest);
  return key;
}

const char* StateName(ErasureRequest::State state) {
  return state == ErasureRequest::State::kPending ? "pending" : "completed";
}

}  // namespace

absl::StatusOr<std::unique_ptr<PrivacyStore>> PrivacyStore::Open(profile_store::Store& store) {
  absl::StatusOr<std::string> salt = store.Get(profile_store::ColumnFamily::kMeta, kSaltKey);
  if (absl::IsNotFound(salt.status())) {
    if (store.options().read_only)
      return std::unique_ptr<PrivacyStore>(new PrivacyStore(store, std::string()));
    absl::StatusOr<std::string> fresh = NewSalt();
    if (!fresh.ok()) return fresh.status();
    rocksdb::WriteBatch batch;
    batch.Put(store.handle(profile_store::ColumnFamily::kMeta), kSaltKey, *fresh);
    if (absl::Status status = store.Write(batch); !status.ok()) return status;
    salt = std::move(fresh);
  }
  if (!salt.ok()) return salt.status();
  return std::unique_ptr<PrivacyStore>(new PrivacyStore(store, *std::move(salt)));
}

std::unique_ptr<PrivacyStore> PrivacyStore::WithSalt(profile_store::Store& store, std::string salt) {
  return std::unique_ptr<PrivacyStore>(new PrivacyStore(store, std::move(salt)));
}

absl::StatusOr<std::string> PrivacyStore::NewSalt() {
  std::string fresh(kSaltBytes, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(fresh.data()), static_cast<int>(fresh.size())) != 1) {
    return absl::InternalError("privacy: could not draw a random salt");
  }
  return fresh;
}

std::string PrivacyStore::SuppressionHash(std::string_view type, std::string_view normalized_value) const {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_MD_CTX* context = EVP_MD_CTX_new();
  EVP_DigestInit_ex(context, EVP_sha256(), nullptr);
  EVP_DigestUpdate(context, salt_.data(), salt_.size());
  EVP_DigestUpdate(context, type.data(), type.size());
  EVP_DigestUpdate(context, "\0", 1);
  EVP_DigestUpdate(context, normalized_value.data(), normalized_value.size());
  EVP_DigestFinal_ex(context, digest, &length);
  EVP_MD_CTX_free(context);
  return std::string(reinterpret_cast<const char*>(digest), length);
}

std::string PrivacyStore::RequestKey(std::string_view space, std::string_view id) {
  return PrivacyKey(space, 'r', id);
}

std::string PrivacyStore::NewRequestId() {
  unsigned char bytes[8];
  if (RAND_bytes(bytes, sizeof(bytes)) != 1) {
    // Uniqueness, not secrecy, is what matters here; the clock is a fine fallback.
    const uint64_t now = static_cast<uint64_t>(std::chrono::system_clock::now().time_since_epoch().count());
    for (int i = 0; i < 8; ++i) bytes[i] = static_cast<unsigned char>(now >> (8 * i));
  }
  return absl::StrCat("er_",
                      absl::BytesToHexString(absl::string_view(reinterpret_cast<const char*>(bytes), 8)));
}

std::string PrivacyStore::EncodeRequest(const ErasureRequest& request) {
  std::string json;
  base::JsonWriter writer(json);
  writer.BeginObject();
  writer.Key("id").String(request.id);
  writer.Key("state").String(StateName(request.state));
  writer.Key("identifierType").String(request.identifier_type);
  if (!request.identifier_value.empty()) writer.Key("identifierValue").String(request.identifier_value);
  writer.Key("requestedAt").Int(request.requested_at.time_since_epoch().count());
  writer.Key("requestedBy").String(request.requested_by);
  if (request.state == ErasureRequest::State::kCompleted) {
    writer.Key("completedAt").Int(request.completed_at.time_since_epoch().count());
    writer.Key("profiles").Uint(request.profiles);
    writer.Key("events").Uint(request.events);
    writer.Key("identifiers").Uint(request.identifiers);
    writer.Key("deadLetters").Uint(request.dead_letters);
  }
  writer.EndObject();
  return json;
}

absl::StatusOr<ErasureRequest> PrivacyStore::DecodeRequest(std::string_view json) {
  thread_local base::ReusableJsonParser parser;
  od::document doc;
  od::object object;
  if (parser.Iterate(json).get(doc) || doc.get_object().get(object)) {
    return absl::DataLossError("erasure request: not a JSON object");
  }
  ErasureRequest request;
  for (auto field : object) {
    std::string_view name;
    if (field.unescaped_key().get(name)) return absl::DataLossError("erasure request: bad member name");
    std::string_view text;
    int64_t number = 0;
    uint64_t count = 0;
    auto bad = [&] { return absl::DataLossError(absl::StrCat("erasure request: bad ", std::string(name))); };
    if (name == "id" || name == "identifierType" || name == "identifierValue" || name == "requestedBy" ||
        name == "state") {
      if (field.value().get_string().get(text)) return bad();
      if (name == "id") request.id.assign(text);
      if (name == "identifierType") request.identifier_type.assign(text);
      if (name == "identifierValue") request.identifier_value.assign(text);
      if (name == "requestedBy") request.requested_by.assign(text);
      if (name == "state") {
        request.state =
            text == "completed" ? ErasureRequest::State::kCompleted : ErasureRequest::State::kPending;
      }
    } else if (name == "requestedAt" || name == "completedAt") {
      if (field.value().get_int64().get(number)) return bad();
      (name == "requestedAt" ? request.requested_at : request.completed_at) =
          Timestamp(std::chrono::microseconds(number));
    } else if (name == "profiles" || name == "events" || name == "identifiers" || name == "deadLetters") {
      if (field.value().get_uint64().get(count)) return bad();
      (name == "profiles"      ? request.profiles
       : name == "events"      ? request.events
       : name == "identifiers" ? request.identifiers
                               : request.dead_letters) = count;
    }
  }
  return request;
}

void PrivacyStore::PutRequest(std::string_view space, const ErasureRequest& request,
                              rocksdb::WriteBatch& batch) const {
  batch.Put(store_.handle(profile_store::ColumnFamily::kPrivacy), PrivacyKey(space, 'r', request.id),
            EncodeRequest(request));
}

absl::StatusOr<ErasureRequest> PrivacyStore::GetRequest(std::string_view space, std::string_view id) const {
  absl::StatusOr<std::string> value =
      store_.Get(profile_store::ColumnFamily::kPrivacy, PrivacyKey(space, 'r', id));
  if (!value.ok()) return value.status();
  return DecodeRequest(*value);
}

absl::StatusOr<std::vector<ErasureRequest>> PrivacyStore::PendingRequests(std::string_view space) const {
  std::vector<ErasureRequest> pending;
  absl::Status failed;
  absl::Status scanned = store_.ScanPrefix(profile_store::ColumnFamily::kPrivacy, PrivacyKey(space, 'r', ""),
                                           [&](std::string_view, std::string_view value) {
                                             absl::StatusOr<ErasureRequest> request = DecodeRequest(value);
                                             if (!request.ok()) {
                                               failed.Update(request.status());
                                             } else if (request->state == ErasureRequest::State::kPending) {
                                               pending.push_back(*std::move(request));
                                             }
                                           });
  if (!scanned.ok()) return scanned;
  if (!failed.ok()) return failed;
  std::sort(pending.begin(), pending.end(),
            [](const ErasureRequest& a, const ErasureRequest& b) { return a.requested_at < b.requested_at; });
  return pending;
}

void PrivacyStore::PutSuppression(std::string_view space, std::string_view hash, std::string_view request_id,
                                  std::string_view type, Timestamp time, rocksdb::WriteBatch& batch) const {
  std::string json;
  base::JsonWriter writer(json);
  writer.BeginObject();
  writer.Key("request").String(request_id);
  writer.Key("type").String(type);
  writer.Key("time").Int(time.time_since_epoch().count());
  writer.EndObject();
  batch.Put(store_.handle(profile_store::ColumnFamily::kPrivacy), PrivacyKey(space, 's', hash), json);
}

absl::Status PrivacyStore::ForEachSuppression(std::string_view space,
                                              const std::function<void(std::string_view hash)>& visit) const {
  const std::string prefix = PrivacyKey(space, 's', "");
  return store_.ScanPrefix(profile_store::ColumnFamily::kPrivacy, prefix,
                           [&](std::string_view key, std::string_view) { visit(key.substr(prefix.size())); });
}

}  // namespace tessera::privacy
