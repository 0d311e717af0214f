#pragma once

// SuppressionList is the in-memory form of the privacy store's suppression list: for each space,
// the salted hashes of identifiers whose person was erased. Ingestion consults it before an event
// reaches the log (a suppressed event is rejected with code "suppressed"), and the resolver again
// before it applies a logged event (one accepted before the erasure but not yet applied is then
// deleted from the log instead). Checking costs nothing while a space has no suppressed identifier.
//
// Thread-safety: all methods may be called concurrently.

#include <atomic>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "identity/identifier.h"
#include "identity/normalizer.h"
#include "ingest/identifier_extractor.h"
#include "privacy/privacy_store.h"

namespace tessera::privacy {

// The normalized identifiers of an extraction, as far as they can be known without the graph: an
// alias previousId counts both as user id and as anonymous id. Phones are read in the regions of
// `phone` (PhoneContextOf the event), as the resolver reads them. Invalid and blocked values are
// left out.
std::vector<identity::Identifier> NormalizedIdentifiers(const ingest::ExtractedIdentifiers& extracted,
                                                        const identity::PhoneContext& phone,
                                                        const identity::Normalizer& normalizer);

class SuppressionList {
 public:
  explicit SuppressionList(const privacy::PrivacyStore& privacy) : privacy_(privacy) {}

  // Reads the stored suppression list of `space`.
  absl::Status Load(std::string_view space);
  void Add(std::string_view space, std::string hash);

  bool Empty() const { return size_.load(std::memory_order_acquire) == 0; }
  // Hashes held, over every space (it only grows).
  size_t size() const { return size_.load(std::memory_order_acquire); }
  bool Contains(std::string_view space, std::string_view type, std::string_view normalized_value) const;

  // The type of the first identifier of `extracted` (of an event from `source` of `space`) that is
  // suppressed in `space`, normalized as the resolver would (alias previousIds are checked both as
  // user id and as anonymous id; phones are read in the event's regions).
  std::optional<std::string> FirstSuppressed(std::string_view space, std::string_view source,
                                             const ingest::ExtractedIdentifiers& extracted,
                                             const identity::Normalizer& normalizer) const;

  const privacy::PrivacyStore& privacy() const { return privacy_; }

 private:
  const privacy::PrivacyStore& privacy_;
  mutable std::shared_mutex mutex_;
  absl::flat_hash_map<std::string, absl::flat_hash_set<std::string>> hashes_;  // by space
  std::atomic<size_t> size_{0};
};

}  // namespace tessera::privacy
