#pragma once

// Normalizer turns raw identifier values into the canonical form the graph links, so that the
// same person's identifier written two ways is one identifier:
//   email        trimmed, Unicode case-folded (ICU full case folding); must look like local@domain.
//                No provider-specific rewriting (dots, +tags) unless configured.
//   phone        E.164 via libphonenumber with a default region for national numbers
//                ("010-1234-5678" with region KR -> "+821012345678"); invalid numbers are rejected.
//   device_id, idfa, gaid   trimmed, ASCII lower-cased.
//   anything else           trimmed (case kept: user ids are case-sensitive).
// Blocked values never link anything: the built-in list (empty, "null", "undefined", "none", "nil",
// "0", "-1", "anonymous", "unknown", "test@test.com", all-zero UUIDs and device ids), checked
// case-insensitively after normalization, plus configured values and patterns.
//
// Thread-safety: immutable after construction; Normalize may be called from any thread.

#include <memory>
#include <regex>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"

namespace tessera::identity {

struct NormalizerOptions {
  std::string default_phone_region = "US";   // ISO 3166-1 alpha-2, for numbers without a country code.
  std::vector<std::string> blocked_values;   // Extra blocked values (any type), compared after normalization.
  std::vector<std::string> blocked_patterns; // ECMAScript regexes; a normalized value matching one is blocked.
  bool email_strip_plus_tag = false;         // "a+news@x.com" -> "a@x.com" (all providers).
  bool email_strip_gmail_dots = false;       // "a.b@gmail.com" -> "ab@gmail.com" (gmail.com/googlemail.com).
};

struct NormalizedValue {
  enum class Outcome { kOk, kBlocked, kInvalid };
  Outcome outcome = Outcome::kOk;
  std::string value;   // The normalized value (also set for kBlocked, for messages).
  std::string reason;  // Why it is blocked or invalid, for the event's warnings.
};

class Normalizer {
 public:
  // InvalidArgument for a bad region or pattern, naming it.
  static absl::StatusOr<std::unique_ptr<Normalizer>> Create(NormalizerOptions options);

  NormalizedValue Normalize(std::string_view type, std::string_view raw) const;

 private:
  explicit Normalizer(NormalizerOptions options) : options_(std::move(options)) {}

  NormalizerOptions options_;
  absl::flat_hash_set<std::string> blocked_;  // lower-cased
  std::vector<std::regex> blocked_patterns_;
};

}  // namespace tessera::identity
