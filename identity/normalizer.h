#pragma once

// Normalizer turns raw identifier values into the canonical form the graph links, so that the
// same person's identifier written two ways is one identifier:
//   email        trimmed, Unicode case-folded (ICU full case folding); must look like local@domain.
//                No provider-specific rewriting (dots, +tags) unless configured.
//   phone        E.164 via libphonenumber ("010-1234-5678" read in region KR -> "+821012345678").
//                A number is kept when libphonenumber calls it *possible* (its length fits its
//                country), even when IsValidNumber is false: the metadata Debian ships lags the
//                numbering plans (8.12 does not know Korea's 010-0xxx and 010-597x..599x mobile
//                ranges), and a CDP must not lose a customer's phone to a stale table. Such a value
//                has NormalizedValue::valid == false. Not kept: numbers that are not possible, and
//                local-only numbers (IS_POSSIBLE_LOCAL_ONLY, "555-0000" without its area code),
//                which E.164 cannot tell apart across area codes. A number the metadata does not
//                know whose national number is a placeholder (one digit repeated, or a run such as
//                1234567890) is blocked; a valid one is kept as before.
//                Where a number without a country code is from (see PhoneRegions): the event's
//                context.locale, then its context.location.country, then its source's configured
//                region, then default_phone_region. The number is read in the first of these
//                regions whose metadata knows it (IsValidNumber), else in the first in which it is
//                possible: "010-5971-9030" from a ko-KR user is Korean (possible only there), and
//                "(650) 253-0000" from the same user, possible in KR too but valid only in the US,
//                is American. A number possible in none is rejected naming each region and why.
//                The choice depends only on the event and the configuration, so replaying the log
//                gives the same identifiers. Numbers written with '+' ignore the regions;
//                international dialling prefixes ("001 ...", "00 ...") are those of the region
//                the number is read in. "Possible" is a length check: a short number such as
//                "38271" in a Korean context is kept (+8238271, valid == false).
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

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"

namespace tessera::identity {

// A source's configured phone region (config sources[i].phone_region). Events carry their source's
// name and space, never its write key, so that pair names the source.
struct SourcePhoneRegion {
  std::string space = {};
  std::string source = {};  // The source's name.
  std::string region = {};  // ISO 3166-1 alpha-2, upper case.
};

// What an event says about where its phone numbers are from. Every member may be empty; all are
// borrowed for the duration of one Normalize call.
struct PhoneContext {
  std::string_view locale = {};   // context.locale: "ko-KR", "ko_KR", or a bare language "ko".
  std::string_view country = {};  // context.location.country: "KR", "KOR" or an English name.
  std::string_view space = {};    // The event's space and source: pick a SourcePhoneRegion.
  std::string_view source = {};
};

struct NormalizerOptions {
  std::string default_phone_region = "US";   // ISO 3166-1 alpha-2, for numbers without a country code.
  std::vector<SourcePhoneRegion> source_phone_regions;  // Sources with a region of their own.
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
  // Phones: false when the number is possible but libphonenumber's metadata does not know its
  // range. Always true for other types.
  bool valid = true;
  // Phones without a country code: the region the number was read in. Empty otherwise.
  std::string phone_region;
};

class Normalizer {
 public:
  // InvalidArgument for a bad region or pattern, naming it.
  static absl::StatusOr<std::unique_ptr<Normalizer>> Create(NormalizerOptions options);

  // Phones without a country code are read in default_phone_region only.
  NormalizedValue Normalize(std::string_view type, std::string_view raw) const {
    return Normalize(type, raw, PhoneContext{});
  }
  NormalizedValue Normalize(std::string_view type, std::string_view raw, const PhoneContext& phone) const;

  // The regions a phone number without a country code is tried in, in order and without repeats:
  // RegionOfLocale(locale), RegionOfCountry(country), the source's region, default_phone_region.
  // Regions libphonenumber does not support are left out; the default is always last.
  std::vector<std::string> PhoneRegions(const PhoneContext& phone) const;

  // Whether libphonenumber's metadata knows the range of `e164`, a phone value Normalize produced.
  // Computed when asked, so that a newer libphonenumber changes the answer without a rebuild.
  static bool IsValidPhoneNumber(std::string_view e164);
  // Whether `region` is an upper-case ISO 3166-1 alpha-2 code libphonenumber supports.
  static bool IsSupportedPhoneRegion(std::string_view region);

 private:
  explicit Normalizer(NormalizerOptions options) : options_(std::move(options)) {}

  NormalizedValue NormalizePhone(std::string_view trimmed, const PhoneContext& phone) const;

  NormalizerOptions options_;
  absl::flat_hash_map<std::string, std::string> source_regions_;  // space '\0' source -> region
  absl::flat_hash_set<std::string> blocked_;  // lower-cased
  std::vector<std::regex> blocked_patterns_;
};

}  // namespace tessera::identity
