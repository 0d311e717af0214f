#pragma once

// Internal to config/: reading the configuration's JSON (a simdjson DOM) into typed fields, with
// errors that name the key path and the reason, e.g.
//   InvalidArgument("limits.max_event_bytes: expected a positive integer, got \"32k\"").
// The section readers (config/internal/sections.h) are built from these.

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "simdjson.h"

namespace tessera::config::internal {

using simdjson::dom::element;
using simdjson::dom::element_type;

constexpr uint64_t kUnbounded = std::numeric_limits<uint64_t>::max();

// Durations are later added to clock readings; a year keeps every sum far from overflow while
// being longer than any sensible timeout or window.
constexpr uint64_t kMaxSeconds = 365ull * 24 * 3600;
constexpr uint64_t kMaxMilliseconds = kMaxSeconds * 1000;
constexpr uint64_t kMaxMicroseconds = kMaxMilliseconds * 1000;

// The installed abseil has its own string_view type (ABSL_OPTION_USE_STD_STRING_VIEW is 0), which
// does not convert from std::string_view; text from simdjson passes through here on its way into
// absl::StrCat and friends.
absl::string_view ToAbsl(std::string_view text);

std::string ChildPath(absl::string_view parent, absl::string_view key);
std::string IndexPath(absl::string_view parent, size_t index);

absl::Status Invalid(absl::string_view path, absl::string_view reason);

// Quotes user text for an error message. Escaped so that control characters cannot garble a
// terminal or a log line, and shortened so that a pasted blob does not drown the message.
std::string Quote(absl::string_view text);

// How a value is shown after "got": scalars verbatim, containers by kind.
std::string Describe(element value);

absl::Status Expected(absl::string_view path, absl::string_view what, element got);

using ValueReader = std::function<absl::Status(element value, const std::string& path)>;

struct Field {
  absl::string_view key;
  ValueReader read;
};

// Reads an object whose keys must all be among `fields`. Absent keys keep their defaults; unknown
// and repeated keys are errors, because either one means the file does not say what its author
// thinks it says.
absl::Status ReadObject(element value, const std::string& path, std::initializer_list<Field> fields);

absl::Status ReadArray(element value, const std::string& path, const ValueReader& read_item);

absl::Status ReadString(element value, const std::string& path, std::string& out);
absl::Status ReadNonEmptyString(element value, const std::string& path, std::string& out);
absl::Status ReadBool(element value, const std::string& path, bool& out);

// Reads a whole number in [min, max]. Numbers written with a fraction or exponent ("1e3", "2.0")
// are refused like any other non-integer: a size is never fractional.
absl::StatusOr<uint64_t> ReadUnsigned(element value, const std::string& path, uint64_t min, uint64_t max);

ValueReader SizeReader(size_t& out, uint64_t min = 1, uint64_t max = kUnbounded);

ValueReader MegabytesReader(size_t& bytes_out);

template <typename Duration>
ValueReader DurationReader(Duration& out, uint64_t min, uint64_t max) {
  return [&out, min, max](element value, const std::string& path) -> absl::Status {
    absl::StatusOr<uint64_t> count = ReadUnsigned(value, path, min, max);
    if (!count.ok()) return count.status();
    out = Duration(static_cast<typename Duration::rep>(*count));
    return absl::OkStatus();
  };
}

ValueReader StringListReader(std::vector<std::string>& out);

// A list of allowed origins (config/allowed_origin.h), kept in canonical form.
ValueReader AllowedOriginsReader(std::vector<std::string>& out);

// [a-z0-9] plus the given extra characters, 1 to 64 of them.
bool IsSlug(std::string_view text, std::string_view extra);

}  // namespace tessera::config::internal
