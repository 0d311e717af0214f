#include "cluster/cluster_suppression.h"

#include <cstdio>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "cluster/internal/kv_bucket.h"
#include "cluster/internal/nats_error.h"
#include "cluster/internal/nats_handles.h"

namespace tessera::cluster {
namespace {

constexpr char kSaltKey[] = "salt";
constexpr char kHashKeys[] = "h.>";
constexpr auto kWatchPoll = std::chrono::milliseconds(500);  // How often a waiting watcher checks for Stop.
constexpr auto kSaltReadWait = std::chrono::milliseconds(2'000);

using EntryPtr = std::unique_ptr<kvEntry, decltype(&kvEntry_Destroy)>;

// The salt the bucket holds, drawn and written first when it holds none (a member racing to write
// its own loses, and reads the winner's). Read from the bucket stream's leader, not with
// kvStore_Get, which a replica that has not caught up may answer directly (or not at all).
absl::StatusOr<std::string> ReadOrDrawSalt(NatsConnection& nats, kvStore* bucket, const std::string& name) {
  const std::string stream = "KV_" + name;
  const std::string subject = "$KV." + name + "." + kSaltKey;
  // A bucket that members made at the same moment may leave the first reads unanswered for a
  // while: each read waits briefly, and the caller tries again.
  jsOptions options;
  jsOptions_Init(&options);
  options.Wait = kSaltReadWait.count();
  for (int attempt = 0; attempt < 2; ++attempt) {
    natsMsg* raw = nullptr;
    jsErrCode js_error = static_cast<jsErrCode>(0);
    natsStatus status = js_GetLastMsg(&raw, nats.jetstream(), stream.c_str(), subject.c_str(), &options, &js_error);
    internal::NatsMsgPtr message(raw);
    if (status == NATS_OK) {
      std::string salt(natsMsg_GetData(message.get()), static_cast<size_t>(natsMsg_GetDataLength(message.get())));
      if (salt.empty()) return absl::DataLossError("the suppression bucket's salt is empty");
      return salt;
    }
    if (status != NATS_NOT_FOUND) return internal::FromNats(status, "read the suppression salt", js_error);
    absl::StatusOr<std::string> fresh = privacy::PrivacyStore::NewSalt();
    if (!fresh.ok()) return fresh.status();
    uint64_t revision = 0;
    if (kvStore_Create(&revision, bucket, kSaltKey, fresh->data(), static_cast<int>(fresh->size())) == NATS_OK) {
      return fresh;
    }
  }
  return absl::UnavailableError("the suppression salt could be neither read nor written");
}

// `hex` as bytes into `out`; false unless it is an even number of hex digits.
bool FromHex(std::string_view hex, std::string& out) {
  if (hex.empty() || hex.size() % 2 != 0) return false;
  for (char c : hex) {
    if (!absl::ascii_isxdigit(static_cast<unsigned char>(c))) return false;
  }
  out = absl::HexStringToBytes(absl::string_view(hex.data(), hex.size()));
  return true;
}

}  // namespace

ClusterSuppression::ClusterSuppression(NatsConnection& nats, profile_store::Store& store,
                                       ClusterSuppressionOptions options)
    : nats_(nats), store_(store), options_(std::move(options)) {}

ClusterSuppression::~ClusterSuppression() {
  Stop();
  if (bucket_ != nullptr) kvStore_Destroy(bucket_);
}

std::string ClusterSuppression::KeyOf(std::string_view space, std::string_view hash) {
  return absl::StrCat("h.", absl::BytesToHexString(absl::string_view(space.data(), space.size())), ".",
                      absl::BytesToHexString(absl::string_view(hash.data(), hash.size())));
}

absl::Status ClusterSuppression::Ensure(NatsConnection& nats, const ClusterSuppressionOptions& options,
                                       std::chrono::milliseconds timeout) {
  absl::StatusOr<kvStore*> bucket = internal::OpenBucket(
      nats, {.name = options.bucket, .ttl = {}, .replicas = options.replicas, .what = "suppression bucket"},
      /*create=*/true);
  if (!bucket.ok()) return bucket.status();
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  absl::StatusOr<std::string> salt = ReadOrDrawSalt(nats, *bucket, options.bucket);
  while (absl::IsUnavailable(salt.status()) && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(options.retry_wait);
    salt = ReadOrDrawSalt(nats, *bucket, options.bucket);
  }
  kvStore_Destroy(*bucket);
  return salt.status();
}

void ClusterSuppression::Start() {
  thread_ = std::thread([this] { Run(); });
}

void ClusterSuppression::Stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  changed_.notify_all();
  if (thread_.joinable()) thread_.join();
}

bool ClusterSuppression::WaitLoaded(std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mutex_);
  return changed_.wait_for(lock, timeout, [this] { return list() != nullptr; });
}

void ClusterSuppression::Wait(std::chrono::milliseconds duration) {
  std::unique_lock lock(mutex_);
  changed_.wait_for(lock, duration, [this] { return stopping_; });
}

absl::Status ClusterSuppression::Prepare() {
  if (bucket_ == nullptr) {
    absl::StatusOr<kvStore*> bucket = internal::OpenBucket(
        nats_, {.name = options_.bucket, .ttl = {}, .replicas = options_.replicas, .what = "suppression bucket"},
        /*create=*/true);
    if (!bucket.ok()) return bucket.status();
    bucket_ = *bucket;
  }
  if (hashing_ == nullptr) {
    absl::StatusOr<std::string> salt = ReadOrDrawSalt(nats_, bucket_, options_.bucket);
    if (!salt.ok()) return salt.status();
    hashing_ = privacy::PrivacyStore::WithSalt(store_, *std::move(salt));
    owned_ = std::make_unique<privacy::SuppressionList>(*hashing_);
  }
  return absl::OkStatus();
}

absl::Status ClusterSuppression::Follow() {
  kvWatchOptions watch_options;
  kvWatchOptions_Init(&watch_options);
  watch_options.IgnoreDeletes = true;
  kvWatcher* watcher = nullptr;
  if (natsStatus status = kvStore_Watch(&watcher, bucket_, kHashKeys, &watch_options); status != NATS_OK) {
    return internal::FromNats(status, "watch the suppression list");
  }
  absl::Status result = absl::OkStatus();
  for (;;) {
    {
      std::lock_guard lock(mutex_);
      if (stopping_) break;
    }
    kvEntry* raw = nullptr;
    natsStatus status = kvWatcher_Next(&raw, watcher, kWatchPoll.count());
    if (status == NATS_TIMEOUT) continue;
    if (status != NATS_OK) {
      result = internal::FromNats(status, "follow the suppression list");
      break;
    }
    if (raw == nullptr) {  // Every value the bucket held is read: the list is complete.
      {
        std::lock_guard lock(mutex_);
        list_.store(owned_.get(), std::memory_order_release);
      }
      changed_.notify_all();
      continue;
    }
    EntryPtr entry(raw, kvEntry_Destroy);
    // h.<hex space>.<hex hash>
    const std::string_view key = kvEntry_Key(entry.get());
    const size_t dot = key.find('.', 2);
    std::string space;
    std::string hash;
    if (!key.starts_with("h.") || dot == std::string_view::npos ||
        !FromHex(key.substr(2, dot - 2), space) || !FromHex(key.substr(dot + 1), hash)) {
      std::fprintf(stderr, "tessera: suppression list: ignoring key %s (not h.<hex>.<hex>)\n",
                   std::string(key).c_str());
      continue;
    }
    owned_->Add(space, std::move(hash));
  }
  kvWatcher_Destroy(watcher);
  return result;
}

void ClusterSuppression::Run() {
  std::string last_error;
  for (;;) {
    {
      std::lock_guard lock(mutex_);
      if (stopping_) return;
    }
    absl::Status status = nats_.connected() ? Prepare() : absl::UnavailableError("no NATS server answers");
    if (status.ok()) status = Follow();
    if (!status.ok() && std::string(status.message()) != last_error) {
      last_error = std::string(status.message());
      std::fprintf(stderr, "tessera: suppression list (retried): %s\n", last_error.c_str());
    }
    Wait(options_.retry_wait);
  }
}

namespace {

std::string ScrubMarkKey(std::string_view space) {
  return absl::StrCat("w.", absl::BytesToHexString(absl::string_view(space.data(), space.size())));
}

// The mark and its revision (0: no mark).
struct StoredMark {
  ClusterSuppression::ScrubMark mark;
  uint64_t revision = 0;
};

absl::StatusOr<StoredMark> ReadMark(NatsConnection& nats, const std::string& bucket, std::string_view space) {
  const std::string stream = "KV_" + bucket;
  const std::string subject = absl::StrCat("$KV.", bucket, ".", ScrubMarkKey(space));
  natsMsg* raw = nullptr;
  jsErrCode js_error = static_cast<jsErrCode>(0);
  natsStatus status = js_GetLastMsg(&raw, nats.jetstream(), stream.c_str(), subject.c_str(), nullptr, &js_error);
  internal::NatsMsgPtr message(raw);
  if (status == NATS_NOT_FOUND || js_error == JSNoMessageFoundErr || js_error == JSStreamNotFoundErr) {
    return StoredMark{};
  }
  if (status != NATS_OK) return internal::FromNats(status, "read the scrub mark", js_error);
  StoredMark stored;
  stored.revision = natsMsg_GetSequence(message.get());
  const std::string text(natsMsg_GetData(message.get()), static_cast<size_t>(natsMsg_GetDataLength(message.get())));
  const size_t blank = text.find(' ');
  if (blank == std::string::npos || !absl::SimpleAtoi(text.substr(0, blank), &stored.mark.sequence) ||
      !absl::SimpleAtoi(text.substr(blank + 1), &stored.mark.stream_created_ns)) {
    return absl::DataLossError(absl::StrCat("the scrub mark of space ", std::string(space), " is damaged"));
  }
  return stored;
}

}  // namespace

absl::StatusOr<ClusterSuppression::ScrubMark> ClusterSuppression::ScrubbedThrough(std::string_view space) const {
  absl::StatusOr<StoredMark> stored = ReadMark(nats_, options_.bucket, space);
  if (!stored.ok()) return stored.status();
  return stored->mark;
}

absl::Status ClusterSuppression::RaiseScrubbedThrough(std::string_view space, ScrubMark mark) {
  if (list() == nullptr) {
    return absl::UnavailableError("the cluster's suppression list is not read yet (is NATS reachable?)");
  }
  const std::string key = ScrubMarkKey(space);
  const std::string value = absl::StrCat(mark.sequence, " ", mark.stream_created_ns);
  for (int attempt = 0; attempt < 5; ++attempt) {
    absl::StatusOr<StoredMark> current = ReadMark(nats_, options_.bucket, space);
    if (!current.ok()) return current.status();
    if (current->mark.stream_created_ns == mark.stream_created_ns && current->mark.sequence >= mark.sequence) {
      return absl::OkStatus();
    }
    uint64_t revision = 0;
    natsStatus status =
        current->revision == 0
            ? kvStore_Create(&revision, bucket_, key.c_str(), value.data(), static_cast<int>(value.size()))
            : kvStore_Update(&revision, bucket_, key.c_str(), value.data(), static_cast<int>(value.size()),
                             current->revision);
    if (status == NATS_OK) return absl::OkStatus();
    // Another writer came between: read again.
  }
  return absl::AbortedError("the scrub mark kept changing under this writer");
}

absl::Status ClusterSuppression::Suppress(std::string_view space, const std::vector<identity::Identifier>& identifiers,
                                          std::string_view request_id) {
  const privacy::SuppressionList* loaded = list();
  if (loaded == nullptr) {
    return absl::UnavailableError("the cluster's suppression list is not read yet (is NATS reachable?)");
  }
  std::vector<std::string> hashes;
  for (const identity::Identifier& identifier : identifiers) {
    hashes.push_back(hashing_->SuppressionHash(identifier.type, identifier.value));
    const std::string key = KeyOf(space, hashes.back());
    uint64_t revision = 0;
    natsStatus status =
        kvStore_Put(&revision, bucket_, key.c_str(), request_id.data(), static_cast<int>(request_id.size()));
    if (status != NATS_OK) return internal::FromNats(status, "suppress an identifier in the cluster");
  }
  for (std::string& hash : hashes) owned_->Add(space, std::move(hash));
  return absl::OkStatus();
}

}  // namespace tessera::cluster
