#include "ingest/accepted_log.h"

#include <memory>

#include "absl/strings/str_cat.h"

namespace tessera::ingest {
using profile_store::ColumnFamily;

std::string AcceptedLog::Key(std::string_view space, uint64_t sequence) {
  std::string key;
  key.reserve(space.size() + 9);
  key.append(space);
  key.push_back('\0');
  profile_store::AppendBigEndian64(key, sequence);
  return key;
}

absl::Status AcceptedLog::Recover() {
  auto value = store_.Get(ColumnFamily::kIntakeMeta, profile_store::kLogNextSequenceKey);
  if (value.ok()) {
    if (value->size() != 8) return absl::DataLossError("meta log/next_sequence: expected 8 bytes");
    next_sequence_ = profile_store::ReadBigEndian64(*value);
    return absl::OkStatus();
  }
  if (absl::IsNotFound(value.status())) {
    next_sequence_ = 1;
    return absl::OkStatus();
  }
  return value.status();
}

uint64_t AcceptedLog::AddToBatch(std::string_view space, std::string_view record, rocksdb::WriteBatch& batch) {
  const uint64_t sequence = next_sequence_++;
  const std::string key = Key(space, sequence);
  batch.Put(store_.handle(ColumnFamily::kLog), key, rocksdb::Slice(record.data(), record.size()));
  return sequence;
}

void AcceptedLog::FinishBatch(rocksdb::WriteBatch& batch) {
  std::string value;
  profile_store::AppendBigEndian64(value, next_sequence_);
  batch.Put(store_.handle(ColumnFamily::kIntakeMeta), profile_store::kLogNextSequenceKey, value);
}

absl::Status AcceptedLog::Scan(std::string_view space, uint64_t from_sequence,
                               const std::function<bool(uint64_t, std::string_view)>& visit) const {
  std::string prefix(space);
  prefix.push_back('\0');
  const std::string start = Key(space, from_sequence);
  rocksdb::ReadOptions read_options;
  // The upper bound keeps the iterator inside this space's keys.
  std::string upper(space);
  upper.push_back('\1');
  rocksdb::Slice upper_slice(upper);
  read_options.iterate_upper_bound = &upper_slice;
  std::unique_ptr<rocksdb::Iterator> it(
      store_.db(ColumnFamily::kLog)->NewIterator(read_options, store_.handle(ColumnFamily::kLog)));
  for (it->Seek(start); it->Valid(); it->Next()) {
    const rocksdb::Slice key = it->key();
    if (key.size() != prefix.size() + 8 || !key.starts_with(prefix)) {
      return absl::DataLossError(absl::StrCat("log key of unexpected shape in space ", std::string(space)));
    }
    const uint64_t sequence = profile_store::ReadBigEndian64(std::string_view(key.data() + prefix.size(), 8));
    if (!visit(sequence, std::string_view(it->value().data(), it->value().size()))) break;
  }
  return profile_store::ToAbslStatus(it->status(), "scanning the accepted-event log");
}

}  // namespace tessera::ingest
