#pragma once

// PrivacyStore keeps what privacy requests need to outlive: erasure requests (pending until the
// resolver has deleted the person, then a record without the identifier's value) and the
// suppression list, whose entries are salted SHA-256 hashes of (type, normalized value), never the
// values themselves. The salt is random per store (kMeta `privacy/salt`), created on first open, so
// a copied suppression list cannot be matched against a dictionary of emails without the store.
// Key layouts are in KEYS.md (`privacy` column family). None of it is derived state: rebuilds
// keep it.
//
// Thread-safety: after Open, all methods may be called concurrently.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "base/time.h"
#include "profile_store/store.h"

namespace tessera::privacy {

using Timestamp = base::Timestamp;

struct ErasureRequest {
  enum class State { kPending, kCompleted };
  std::string id = {};  // "er_" + 16 hex digits.
  std::string identifier_type = {};
  std::string identifier_value = {};  // Normalized. Empty once the request is completed.
  Timestamp requested_at{};
  std::string requested_by = {};  // Key label of the admin key that asked.
  State state = State::kPending;
  Timestamp completed_at{};
  // What the erasure removed.
  uint64_t profiles = 0;     // Profile records, merged-away ones included.
  uint64_t events = 0;       // Log records (and their timeline entries).
  uint64_t identifiers = 0;  // Identifiers unlinked and suppressed.
  uint64_t dead_letters = 0;
};

class PrivacyStore {
 public:
  // Reads the store's salt, creating it (synced) on first use.
  static absl::StatusOr<std::unique_ptr<PrivacyStore>> Open(profile_store::Store& store);
  // A privacy store whose suppression hashes use `salt` instead of the store's own: a cluster's
  // gateways share one salt (cluster/cluster_suppression.h) so that they can check one list.
  static std::unique_ptr<PrivacyStore> WithSalt(profile_store::Store& store, std::string salt);
  // A fresh random salt; Internal when no random bytes can be drawn.
  static absl::StatusOr<std::string> NewSalt();

  // The salted hash (32 bytes) that stands for an identifier on the suppression list.
  std::string SuppressionHash(std::string_view type, std::string_view normalized_value) const;

  // kPrivacy key of a request's record.
  static std::string RequestKey(std::string_view space, std::string_view id);

  // A fresh request id.
  static std::string NewRequestId();

  // Adds the request's record to `batch`.
  void PutRequest(std::string_view space, const ErasureRequest& request, rocksdb::WriteBatch& batch) const;
  // NotFound when there is no such request.
  absl::StatusOr<ErasureRequest> GetRequest(std::string_view space, std::string_view id) const;
  // Pending requests of a space, oldest first.
  absl::StatusOr<std::vector<ErasureRequest>> PendingRequests(std::string_view space) const;

  // Adds a suppression entry (hash from SuppressionHash) to `batch`.
  void PutSuppression(std::string_view space, std::string_view hash, std::string_view request_id,
                      std::string_view type, Timestamp time, rocksdb::WriteBatch& batch) const;
  // Calls `visit` with every suppression hash of `space`.
  absl::Status ForEachSuppression(std::string_view space,
                                  const std::function<void(std::string_view hash)>& visit) const;

  static std::string EncodeRequest(const ErasureRequest& request);
  static absl::StatusOr<ErasureRequest> DecodeRequest(std::string_view json);

 private:
  PrivacyStore(profile_store::Store& store, std::string salt) : store_(store), salt_(std::move(salt)) {}

  profile_store::Store& store_;
  const std::string salt_;
};

}  // namespace tessera::privacy
