#include "profile_store/purchase_history.h"

#include <algorithm>
#include <climits>
#include <cmath>

namespace tessera::profile_store {

void PurchaseHistory::Add(int32_t day, double value) {
  auto it = std::lower_bound(days.begin(), days.end(), day,
                             [](const PurchaseDay& entry, int32_t wanted) { return entry.day < wanted; });
  if (it == days.end() || it->day != day) it = days.insert(it, PurchaseDay{.day = day});
  ++it->orders;
  it->value += value;
}

void PurchaseHistory::Merge(const PurchaseHistory& other) {
  other_currency += other.other_currency;
  std::vector<PurchaseDay> merged;
  merged.reserve(days.size() + other.days.size());
  auto mine = days.begin();
  auto theirs = other.days.begin();
  while (mine != days.end() || theirs != other.days.end()) {
    if (theirs == other.days.end() || (mine != days.end() && mine->day < theirs->day)) {
      merged.push_back(*mine++);
    } else if (mine == days.end() || theirs->day < mine->day) {
      merged.push_back(*theirs++);
    } else {
      // The winner's figure first, then the loser's: the same merge gives the same sum.
      merged.push_back(PurchaseDay{.day = mine->day, .orders = mine->orders + theirs->orders,
                                   .value = mine->value + theirs->value});
      ++mine;
      ++theirs;
    }
  }
  days = std::move(merged);
}

// count, then per day: the difference from the previous day (the first from 0, zig-zag), orders,
// value (8 bytes); then other_currency.
void PurchaseHistory::Encode(std::string& out) const {
  base::PutVarint64(out, days.size());
  int64_t previous = 0;
  for (const PurchaseDay& day : days) {
    base::PutVarintSigned64(out, int64_t{day.day} - previous);
    previous = day.day;
    base::PutVarint64(out, day.orders);
    base::PutDouble(out, day.value);
  }
  base::PutVarint64(out, other_currency);
}

bool PurchaseHistory::Decode(base::ByteReader& reader) {
  uint64_t count = 0;
  // Each day takes at least ten bytes.
  if (!reader.ReadVarint64(count) || count > reader.rest().size() / 10) return false;
  days.clear();
  days.reserve(count);
  int64_t previous = 0;
  for (uint64_t i = 0; i < count; ++i) {
    int64_t delta = 0;
    uint64_t orders = 0;
    double value = 0;
    if (!reader.ReadVarintSigned64(delta) || !reader.ReadVarint64(orders) || !reader.ReadDouble(value)) return false;
    const int64_t day = previous + delta;
    if ((i > 0 && delta <= 0) || day < INT32_MIN || day > INT32_MAX || orders == 0 || orders > UINT32_MAX ||
        !std::isfinite(value)) {
      return false;
    }
    previous = day;
    days.push_back(PurchaseDay{.day = static_cast<int32_t>(day), .orders = static_cast<uint32_t>(orders),
                               .value = value});
  }
  return reader.ReadVarint64(other_currency);
}

}  // namespace tessera::profile_store
