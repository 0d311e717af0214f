#pragma once

// GenerationalCache is a bounded map for hot lookups in front of RocksDB: two generations of at
// most `capacity` entries each. Inserts go to the young generation; a hit in the old one promotes
// the entry. When the young generation is full it becomes the old one and the previous old one is
// dropped, so memory stays under 2 x capacity entries and recently used entries survive.
//
// Not thread-safe.

#include <cstddef>
#include <optional>
#include <utility>

#include "absl/container/flat_hash_map.h"

namespace tessera::identity::internal {

template <typename Key, typename Value>
class GenerationalCache {
 public:
  explicit GenerationalCache(size_t capacity) : capacity_(capacity == 0 ? 1 : capacity) {}

  // A copy of the value, or nullopt.
  std::optional<Value> Find(const Key& key) {
    if (auto it = young_.find(key); it != young_.end()) return it->second;
    if (auto it = old_.find(key); it != old_.end()) {
      Value value = std::move(it->second);
      old_.erase(it);
      Insert(key, value);
      return value;
    }
    return std::nullopt;
  }

  void Insert(const Key& key, Value value) {
    if (young_.size() >= capacity_ && !young_.contains(key)) {
      old_ = std::move(young_);
      young_ = {};
      young_.reserve(capacity_);
    }
    old_.erase(key);
    young_.insert_or_assign(key, std::move(value));
  }

  void Clear() {
    young_.clear();
    old_.clear();
  }

  size_t size() const { return young_.size() + old_.size(); }
  size_t capacity() const { return capacity_; }

 private:
  size_t capacity_;
  absl::flat_hash_map<Key, Value> young_;
  absl::flat_hash_map<Key, Value> old_;
};

}  // namespace tessera::identity::internal
