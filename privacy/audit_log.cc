#include "privacy/audit_log.h"

#include <cstdio>
#include <memory>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "base/json_reading.h"
#include "base/json_writer.h"

namespace tessera::privacy {
namespace {

namespace od = simdjson::ondemand;

std::string AuditKey(Timestamp time, uint32_t ordinal) {
  std::string key;
  profile_store::AppendBigEndian64(key, static_cast<uint64_t>(time.time_since_epoch().count()));
  for (int shift = 24; shift >= 0; shift -= 8) key.push_back(static_cast<char>((ordinal >> shift) & 0xff));
  return key;
}

std::string TimeKey(Timestamp time) {
  std::string key;
  profile_store::AppendBigEndian64(key, static_cast<uint64_t>(time.time_since_epoch().count()));
  return key;
}

}  // namespace

AuditLog::AuditLog(profile_store::Store& store, std::function<void()> before_write)
    : store_(store), before_write_(std::move(before_write)), flusher_([this] { RunFlusher(); }) {}

AuditLog::~AuditLog() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  flusher_.join();
  if (absl::Status status = WritePending(/*sync=*/false); !status.ok()) {
    std::fprintf(stderr, "tessera: audit log: %s\n", std::string(status.message()).c_str());
  }
}

absl::Status AuditLog::WritePending(bool sync) {
  std::lock_guard write_lock(write_mutex_);
  rocksdb::WriteBatch taken;
  {
    std::lock_guard lock(mutex_);
    std::swap(taken, pending_);
  }
  if (before_write_) before_write_();
  if (taken.Count() == 0) {
    if (!sync) return absl::OkStatus();
    // A durable entry taken by an earlier, unsynced write (complete: write_mutex_): sync that.
    return profile_store::ToAbslStatus(store_.db()->SyncWAL(), "syncing the audit log");
  }
  // A synced write also syncs the WAL that earlier unsynced writes of taken entries went to.
  return sync ? store_.Write(taken) : store_.WriteUnsynced(taken);
}

void AuditLog::RunFlusher() {
  for (;;) {
    {
      std::unique_lock lock(mutex_);
      wake_.wait_for(lock, kFlushInterval, [this] { return stopping_ || pending_.Count() >= kBatchEntries; });
      if (stopping_) return;  // The destructor writes the rest.
    }
    if (absl::Status status = WritePending(/*sync=*/false); !status.ok()) {
      std::fprintf(stderr, "tessera: audit log: %s\n", std::string(status.message()).c_str());
    }
  }
}

std::string AuditLog::Encode(const AuditEntry& entry) {
  std::string json;
  base::JsonWriter writer(json);
  writer.BeginObject();
  writer.Key("time").String(base::FormatIso8601(entry.time));
  writer.Key("key").String(entry.key);
  writer.Key("action").String(entry.action);
  writer.Key("target").String(entry.target);
  writer.Key("space").String(entry.space);
  writer.Key("status").Int(entry.status);
  writer.Key("micros").Int(entry.time.time_since_epoch().count());
  writer.EndObject();
  return json;
}

absl::StatusOr<AuditEntry> AuditLog::Decode(std::string_view json) {
  thread_local base::ReusableJsonParser parser;
  od::document doc;
  od::object object;
  if (parser.Iterate(json).get(doc) || doc.get_object().get(object)) {
    return absl::DataLossError("audit entry: not a JSON object");
  }
  AuditEntry entry;
  for (auto field : object) {
    std::string_view name;
    if (field.unescaped_key().get(name)) return absl::DataLossError("audit entry: bad member name");
    std::string_view text;
    int64_t number = 0;
    if (name == "micros") {
      if (field.value().get_int64().get(number)) return absl::DataLossError("audit entry: bad micros");
      entry.time = Timestamp(std::chrono::microseconds(number));
    } else if (name == "status") {
      if (field.value().get_int64().get(number)) return absl::DataLossError("audit entry: bad status");
      entry.status = static_cast<int>(number);
    } else if (name == "key" || name == "action" || name == "target" || name == "space") {
      if (field.value().get_string().get(text))
        return absl::DataLossError(absl::StrCat("audit entry: bad ", std::string(name)));
      std::string& out = name == "key"      ? entry.key
                         : name == "action" ? entry.action
                         : name == "target" ? entry.target
                                            : entry.space;
      out.assign(text);
    }
  }
  return entry;
}

absl::Status AuditLog::Append(const AuditEntry& entry, bool durable) {
  const std::string key = AuditKey(entry.time, ordinal_.fetch_add(1, std::memory_order_relaxed));
  const std::string value = Encode(entry);
  bool full = false;
  {
    std::lock_guard lock(mutex_);
    pending_.Put(store_.handle(profile_store::ColumnFamily::kAudit), key, value);
    full = pending_.Count() >= kBatchEntries;
  }
  // Durable: the entry is either still waiting, and goes with this synced write, or was taken by a
  // write that completes first (write_mutex_) and is then synced by this one.
  if (durable) return WritePending(/*sync=*/true);
  if (full) wake_.notify_one();
  return absl::OkStatus();
}

absl::StatusOr<AuditPage> AuditLog::Query(const AuditQuery& query) {
  if (absl::Status status = WritePending(/*sync=*/false); !status.ok()) return status;
  std::string start = query.since ? TimeKey(*query.since) : std::string();
  if (!query.cursor.empty()) {
    std::string decoded;
    if (!absl::WebSafeBase64Unescape(query.cursor, &decoded) || decoded.size() != 12) {
      return absl::InvalidArgumentError("cursor: not a cursor this endpoint returned");
    }
    start = std::max(start, decoded);
  }
  const std::string end = query.until ? TimeKey(*query.until) : std::string();
  rocksdb::ReadOptions options;
  rocksdb::Slice upper(end);
  if (!end.empty()) options.iterate_upper_bound = &upper;
  std::unique_ptr<rocksdb::Iterator> it(
      store_.db()->NewIterator(options, store_.handle(profile_store::ColumnFamily::kAudit)));
  AuditPage page;
  for (it->Seek(start); it->Valid(); it->Next()) {
    absl::StatusOr<AuditEntry> entry = Decode(std::string_view(it->value().data(), it->value().size()));
    if (!entry.ok()) return entry.status();
    if (!query.key.empty() && entry->key != query.key) continue;
    if (!query.action_prefix.empty() && !absl::StartsWith(entry->action, query.action_prefix)) continue;
    if (page.entries.size() == query.limit) {
      page.next = absl::WebSafeBase64Escape(absl::string_view(it->key().data(), it->key().size()));
      break;
    }
    page.entries.push_back(*std::move(entry));
  }
  if (!it->status().ok()) return profile_store::ToAbslStatus(it->status(), "reading the audit log");
  return page;
}

}  // namespace tessera::privacy
