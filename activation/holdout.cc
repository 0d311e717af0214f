#include "activation/holdout.h"

#include <cstdint>
#include <string>

#include "xxhash.h"

namespace tessera::activation {

bool InHoldout(std::string_view space, std::string_view audience, std::string_view profile_id, double fraction) {
  if (fraction <= 0) return false;
  if (fraction >= 1) return true;
  std::string key;
  key.reserve(space.size() + audience.size() + profile_id.size() + 2);
  key.append(space).push_back('\0');
  key.append(audience).push_back('\0');
  key.append(profile_id);
  // The top 53 bits as a uniform number in [0, 1).
  const uint64_t hash = XXH3_64bits(key.data(), key.size());
  const double position = static_cast<double>(hash >> 11) * 0x1.0p-53;
  return position < fraction;
}

}  // namespace tessera::activation
