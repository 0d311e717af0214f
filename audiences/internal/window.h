#pragma once

// Internal to audiences/: reading a Window from a definition ("30d", "12h", "90m" or
// {"days":N,"timeZone":"..."}), and how long events must be kept to answer for it.

#include <chrono>
#include <cstdint>
#include <string_view>

#include "absl/status/statusor.h"
#include "audiences/definitions.h"
#include "audiences/internal/parsing.h"

namespace tessera::audiences::internal {

// Ten years: longer than any sensible window, and far from overflowing a Timestamp subtraction.
constexpr int64_t kMaxWindowDays = 3660;

std::chrono::microseconds RetentionOf(const Window& window);

absl::StatusOr<Window> ParseWindow(element value, std::string_view path);

}  // namespace tessera::audiences::internal
