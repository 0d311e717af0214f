#pragma once

// Version 0 profile records (JSON documents; see profile_store/profile_codec.cc, which reads them
// through this).

#include <string_view>

#include "absl/status/statusor.h"
#include "profile_store/profile.h"

namespace tessera::profile_store::internal {

// DataLoss naming the damaged member ("consent.sms.g") when the record is not a profile.
absl::StatusOr<Profile> DecodeProfileJsonV0(std::string_view record);

}  // namespace tessera::profile_store::internal
