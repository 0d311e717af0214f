#pragma once

// Internal to audiences/: what audience conditions need to know about the computed traits they
// name.

#include <string_view>

#include "audiences/definitions.h"

namespace tessera::audiences::internal {

std::string_view KindName(ComputedKind kind);

// Whether the trait's value changes with time alone (a window, days since, churn risk, rfm), so
// that audiences reading it must be re-evaluated by the sweep.
bool IsTimeDependent(const ComputedTrait& trait);

}  // namespace tessera::audiences::internal
