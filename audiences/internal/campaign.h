#pragma once

// Internal to audiences/: the campaign part of an audience definition, its holdout share and what
// counts as a conversion (audiences/definitions.h: Audience::holdout, Conversion).

#include "absl/status/status.h"
#include "audiences/definitions.h"
#include "audiences/internal/parsing.h"

namespace tessera::audiences::internal {

// Reads "holdout" (a number from 0 to 0.5) and "conversion" ({"event", "within_days", "revenue"},
// each optional) from an audience's members into `audience`; errors name the node.
absl::Status ParseCampaign(const Members& members, Audience& audience);

}  // namespace tessera::audiences::internal
