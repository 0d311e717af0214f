#include "activation/outbox.h"

#include "absl/strings/str_cat.h"
#include "base/coding.h"
#include <memory>

#include "profile_store/store.h"
#include "rocksdb/db.h"
#include "xxhash.h"

namespace tessera::activation {
namespace {

constexpr uint8_t kItemVersion = 1;
constexpr uint8_t kDeadLetterVersion = 1;

int64_t Micros(base::Timestamp time) { return time.time_since_epoch().count(); }
base::Timestamp FromMicros(int64_t micros) { return base::Timestamp(std::chrono::microseconds(micros)); }

absl::Status Damaged(std::string_view what) {
  return absl::DataLossError(absl::StrCat("damaged ", std::string(what), " row"));
}

}  // namespace

void EncodeOutboxItem(const OutboxItem& item, std::string& out) {
  out.push_back(static_cast<char>(kItemVersion));
  out.push_back(static_cast<char>(item.kind));
  base::PutVarint64(out, item.profile_id);
  base::PutVarint64(out, item.log_sequence);
  base::PutVarintSigned64(out, Micros(item.time));
  base::PutLengthPrefixed(out, item.message_id);
  base::PutLengthPrefixed(out, item.audience);
  base::PutLengthPrefixed(out, item.reason);
  base::PutLengthPrefixed(out, item.user_id);
  base::PutLengthPrefixed(out, item.anonymous_id);
  base::PutVarint64(out, item.identifiers.size());
  for (const auto& [type, value] : item.identifiers) {
    base::PutLengthPrefixed(out, type);
    base::PutLengthPrefixed(out, value);
  }
  base::PutLengthPrefixed(out, item.event_json);
  base::PutLengthPrefixed(out, item.traits_json);
}

absl::StatusOr<OutboxItem> DecodeOutboxItem(std::string_view row) {
  base::ByteReader reader(row);
  uint8_t version = 0;
  uint8_t kind = 0;
  if (!reader.ReadByte(version)) return Damaged("outbox");
  if (version != kItemVersion) {
    return absl::DataLossError(absl::StrCat("outbox row of unknown version ", version));
  }
  OutboxItem item;
  int64_t micros = 0;
  uint64_t identifiers = 0;
  if (!reader.ReadByte(kind) || kind > static_cast<uint8_t>(OutboxKind::kAudienceExited) ||
      !reader.ReadVarint64(item.profile_id) || !reader.ReadVarint64(item.log_sequence) ||
      !reader.ReadVarintSigned64(micros) || !reader.ReadLengthPrefixed(item.message_id) ||
      !reader.ReadLengthPrefixed(item.audience) || !reader.ReadLengthPrefixed(item.reason) ||
      !reader.ReadLengthPrefixed(item.user_id) || !reader.ReadLengthPrefixed(item.anonymous_id) ||
      !reader.ReadVarint64(identifiers) || identifiers > row.size()) {
    return Damaged("outbox");
  }
  item.kind = static_cast<OutboxKind>(kind);
  item.time = FromMicros(micros);
  item.identifiers.reserve(identifiers);
  for (uint64_t i = 0; i < identifiers; ++i) {
    std::string type;
    std::string value;
    if (!reader.ReadLengthPrefixed(type) || !reader.ReadLengthPrefixed(value)) return Damaged("outbox");
    item.identifiers.emplace_back(std::move(type), std::move(value));
  }
  if (!reader.ReadLengthPrefixed(item.event_json) || !reader.ReadLengthPrefixed(item.traits_json) ||
      !reader.empty()) {
    return Damaged("outbox");
  }
  return item;
}

std::string AudienceChangeId(std::string_view space, std::string_view audience, uint64_t profile_id, bool entered,
                             base::Timestamp time) {
  std::string key;
  key.append(space).push_back('\0');
  key.append(audience).push_back('\0');
  absl::StrAppend(&key, profile_id, entered ? "+" : "-", Micros(time));
  const XXH128_hash_t hash = XXH3_128bits(key.data(), key.size());
  std::string bytes;
  profile_store::AppendBigEndian64(bytes, hash.high64);
  profile_store::AppendBigEndian64(bytes, hash.low64);
  return absl::StrCat("aud-", base::LowerHex(bytes));
}

std::string OutboxPrefix(std::string_view space, std::string_view destination) {
  std::string prefix;
  prefix.reserve(space.size() + destination.size() + 2);
  prefix.append(space).push_back('\0');
  prefix.append(destination).push_back('\0');
  return prefix;
}

std::string OutboxKey(std::string_view space, std::string_view destination, uint64_t sequence) {
  std::string key = OutboxPrefix(space, destination);
  profile_store::AppendBigEndian64(key, sequence);
  return key;
}

uint64_t OutboxKeySequence(std::string_view key) {
  if (key.size() < 8) return 0;
  return profile_store::ReadBigEndian64(key.substr(key.size() - 8));
}

std::string DeliveredCursorKey(std::string_view space, std::string_view destination) {
  return absl::StrCat("activation/delivered/", std::string(space), "/", std::string(destination));
}

absl::StatusOr<uint64_t> ReadDeliveredCursor(const profile_store::Store& store, std::string_view space,
                                             std::string_view destination) {
  absl::StatusOr<std::string> cursor =
      store.Get(profile_store::ColumnFamily::kMeta, DeliveredCursorKey(space, destination));
  if (absl::IsNotFound(cursor.status())) return 0;
  if (!cursor.ok()) return cursor.status();
  if (cursor->size() != 8) return absl::DataLossError("damaged delivered cursor of destination " + std::string(destination));
  return profile_store::ReadBigEndian64(*cursor);
}

absl::StatusOr<uint64_t> NewestOutboxRow(const profile_store::Store& store, std::string_view space,
                                         std::string_view destination) {
  const std::string prefix = OutboxPrefix(space, destination);
  std::string upper = prefix;
  upper.back() = '\1';
  rocksdb::Slice upper_slice(upper);
  rocksdb::ReadOptions read;
  read.iterate_upper_bound = &upper_slice;
  std::unique_ptr<rocksdb::Iterator> it(
      store.db()->NewIterator(read, store.handle(profile_store::ColumnFamily::kOutbox)));
  it->SeekToLast();
  uint64_t newest = 0;
  if (it->Valid() && it->key().starts_with(prefix)) {
    newest = OutboxKeySequence(std::string_view(it->key().data(), it->key().size()));
  }
  if (!it->status().ok()) return profile_store::ToAbslStatus(it->status(), "reading the outbox");
  return newest;
}

void EncodeDeliveryDeadLetter(const DeliveryDeadLetter& letter, std::string& out) {
  out.push_back(static_cast<char>(kDeadLetterVersion));
  base::PutLengthPrefixed(out, letter.reason);
  base::PutVarintSigned64(out, letter.last_status);
  base::PutLengthPrefixed(out, letter.last_response);
  base::PutVarint64(out, letter.attempts);
  base::PutVarintSigned64(out, Micros(letter.first_attempt));
  base::PutVarintSigned64(out, Micros(letter.last_attempt));
  base::PutLengthPrefixed(out, letter.item);
}

absl::StatusOr<DeliveryDeadLetter> DecodeDeliveryDeadLetter(std::string_view row) {
  base::ByteReader reader(row);
  uint8_t version = 0;
  if (!reader.ReadByte(version)) return Damaged("delivery dead-letter");
  if (version != kDeadLetterVersion) {
    return absl::DataLossError(absl::StrCat("delivery dead-letter row of unknown version ", version));
  }
  DeliveryDeadLetter letter;
  int64_t status = 0;
  uint64_t attempts = 0;
  int64_t first = 0;
  int64_t last = 0;
  if (!reader.ReadLengthPrefixed(letter.reason) || !reader.ReadVarintSigned64(status) ||
      !reader.ReadLengthPrefixed(letter.last_response) || !reader.ReadVarint64(attempts) ||
      !reader.ReadVarintSigned64(first) || !reader.ReadVarintSigned64(last) ||
      !reader.ReadLengthPrefixed(letter.item) || !reader.empty()) {
    return Damaged("delivery dead-letter");
  }
  letter.last_status = static_cast<int>(status);
  letter.attempts = static_cast<uint32_t>(attempts);
  letter.first_attempt = FromMicros(first);
  letter.last_attempt = FromMicros(last);
  return letter;
}

}  // namespace tessera::activation
