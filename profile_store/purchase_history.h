#pragma once

// PurchaseHistory: a profile's purchases as the purchase models read them (prediction/), one entry
// per local calendar day with a purchase: how many orders that day and their summed value. Days
// are counted in the space's time zone when the resolver records them (resolve/purchase_recorder.h),
// so a day here is the papers' transaction: purchases on the same day are one, worth their sum.
//
// It is derived state like the rest of the profile: a deterministic function of the purchase
// events and their log order, merged by Absorb (day by day) and rebuilt by replaying the log.

#include <cstdint>
#include <string>
#include <vector>

#include "base/coding.h"

namespace tessera::profile_store {

struct PurchaseDay {
  int32_t day = 0;     // Days since 1970-01-01 in the space's time zone.
  uint32_t orders = 0;  // Purchases that day.
  double value = 0;     // Their summed value, in the space's currency (free orders and refunds included).
  friend bool operator==(const PurchaseDay&, const PurchaseDay&) = default;
};

struct PurchaseHistory {
  std::vector<PurchaseDay> days;  // By day, ascending, one entry per day.
  // Purchases not recorded because they named another currency than the space's.
  uint64_t other_currency = 0;

  bool empty() const { return days.empty() && other_currency == 0; }
  // Records one purchase of `value` on local day `day`.
  void Add(int32_t day, double value);
  // Adds `other`'s purchases (a merged profile's), day by day.
  void Merge(const PurchaseHistory& other);

  // Storage inside the profile record (profile_codec.cc): Encode appends, Decode reads exactly
  // what Encode wrote and returns false on damage (days out of order, counts past the bytes).
  void Encode(std::string& out) const;
  bool Decode(base::ByteReader& reader);

  friend bool operator==(const PurchaseHistory&, const PurchaseHistory&) = default;
};

}  // namespace tessera::profile_store
