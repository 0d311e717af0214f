#include "privacy/suppression.h"

#include <mutex>

namespace tessera::privacy {

absl::Status SuppressionList::Load(std::string_view space) {
  absl::flat_hash_set<std::string> loaded;
  absl::Status status =
      privacy_.ForEachSuppression(space, [&](std::string_view hash) { loaded.emplace(hash); });
  if (!status.ok()) return status;
  std::unique_lock lock(mutex_);
  auto& set = hashes_[std::string(space)];
  for (const std::string& hash : loaded) {
    if (set.insert(hash).second) size_.fetch_add(1, std::memory_order_release);
  }
  return absl::OkStatus();
}

void SuppressionList::Add(std::string_view space, std::string hash) {
  std::unique_lock lock(mutex_);
  if (hashes_[std::string(space)].insert(std::move(hash)).second)
    size_.fetch_add(1, std::memory_order_release);
}

bool SuppressionList::Contains(std::string_view space, std::string_view type,
                               std::string_view normalized_value) const {
  if (Empty()) return false;
  const std::string hash = privacy_.SuppressionHash(type, normalized_value);
  std::shared_lock lock(mutex_);
  auto it = hashes_.find(absl::string_view(space.data(), space.size()));
  return it != hashes_.end() && it->second.contains(hash);
}

std::vector<identity::Identifier> NormalizedIdentifiers(const ingest::ExtractedIdentifiers& extracted,
                                                        const identity::PhoneContext& phone,
                                                        const identity::Normalizer& normalizer) {
  std::vector<identity::Identifier> out;
  for (const identity::RawIdentifier& raw : extracted.identifiers) {
    const bool previous_id = raw.type == ingest::kPreviousIdType;
    const std::string_view types[] = {
        previous_id ? identity::identifier_type::kUserId : std::string_view(raw.type),
        previous_id ? identity::identifier_type::kAnonymousId : std::string_view()};
    for (std::string_view type : types) {
      if (type.empty()) continue;
      identity::NormalizedValue normalized = normalizer.Normalize(type, raw.value, phone);
      if (normalized.outcome == identity::NormalizedValue::Outcome::kOk) {
        out.push_back(identity::Identifier{std::string(type), std::move(normalized.value)});
      }
    }
  }
  return out;
}

std::optional<std::string> SuppressionList::FirstSuppressed(std::string_view space, std::string_view source,
                                                            const ingest::ExtractedIdentifiers& extracted,
                                                            const identity::Normalizer& normalizer) const {
  if (Empty()) return std::nullopt;
  for (const identity::Identifier& identifier :
       NormalizedIdentifiers(extracted, ingest::PhoneContextOf(space, source, extracted), normalizer)) {
    if (Contains(space, identifier.type, identifier.value)) return identifier.type;
  }
  return std::nullopt;
}

}  // namespace tessera::privacy
