// GCC 12 reports -Wmaybe-uninitialized inside libstdc++'s regex compiler when it is instantiated
// under -fsanitize=address,undefined (a false positive about a std::function in a freshly built
// NFA state). GCC checks the pragma state at the warning's location, which is inside <regex>, so
// <regex> is included here, before our own header, with the warning off for that header only.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <regex>
#pragma GCC diagnostic pop
#endif

#include <phonenumbers/logger.h>
#include <phonenumbers/phonenumber.pb.h>
#include <phonenumbers/phonenumberutil.h>
#include <unicode/stringpiece.h>
#include <unicode/uchar.h>  // U_FOLD_CASE_DEFAULT
#include <unicode/unistr.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <set>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "identity/identifier.h"
#include "identity/normalizer.h"
#include "identity/phone_region.h"

namespace tessera::identity {
namespace {

using i18n::phonenumbers::PhoneNumber;
using i18n::phonenumbers::PhoneNumberUtil;

// Longest value accepted, in bytes after trimming. Longer values are garbage or abuse, never ids.
constexpr size_t kMaxValueBytes = 512;

// Values that SDKs and forms send when they have no identifier; they would link strangers together.
constexpr std::string_view kBuiltInBlocked[] = {
    "", "null", "undefined", "none", "nil", "0", "-1", "anonymous", "unknown", "test@test.com", "n/a",
};

// All-zero UUIDs, IDFAs (with tracking disabled) and device ids are this long at least.
constexpr size_t kMinAllZeroLength = 8;

// Debian's abseil has its own string_view type; this is the one place we convert.
absl::string_view ToAbsl(std::string_view s) { return absl::string_view(s.data(), s.size()); }

bool IsAsciiSpace(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v';
}

// Trims ASCII whitespace and U+00A0 (NO-BREAK SPACE, UTF-8 C2 A0) at both ends.
std::string_view Trim(std::string_view s) {
  while (!s.empty()) {
    if (IsAsciiSpace(s.front())) {
      s.remove_prefix(1);
    } else if (s.size() >= 2 && s[0] == '\xC2' && s[1] == '\xA0') {
      s.remove_prefix(2);
    } else {
      break;
    }
  }
  while (!s.empty()) {
    if (IsAsciiSpace(s.back())) {
      s.remove_suffix(1);
    } else if (s.size() >= 2 && s[s.size() - 2] == '\xC2' && s.back() == '\xA0') {
      s.remove_suffix(2);
    } else {
      break;
    }
  }
  return s;
}

bool IsAscii(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return static_cast<unsigned char>(c) < 0x80; });
}

bool HasAsciiUpper(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](char c) { return c >= 'A' && c <= 'Z'; });
}

char AsciiToLower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

void AsciiLowerInPlace(std::string& s) {
  for (char& c : s) c = AsciiToLower(c);
}

// Strict UTF-8 (RFC 3629): no overlong forms, no surrogates, nothing above U+10FFFF.
bool IsValidUtf8(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const auto* const end = p + s.size();
  while (p < end) {
    const unsigned char c = *p;
    if (c < 0x80) {
      ++p;
      continue;
    }
    size_t extra;
    uint32_t min;
    uint32_t cp;
    if ((c & 0xE0) == 0xC0) {
      extra = 1, min = 0x80, cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      extra = 2, min = 0x800, cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      extra = 3, min = 0x10000, cp = c & 0x07;
    } else {
      return false;  // A continuation byte in lead position, or 0xF8..0xFF.
    }
    if (static_cast<size_t>(end - p) <= extra) return false;
    for (size_t i = 1; i <= extra; ++i) {
      if ((p[i] & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (p[i] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    p += extra + 1;
  }
  return true;
}

// ICU full case folding (ß -> ss, Σ/ς -> σ, ...). Input must be valid UTF-8.
bool FoldCaseUnicode(std::string_view s, std::string* out) {
  icu::UnicodeString text =
      icu::UnicodeString::fromUTF8(icu::StringPiece(s.data(), static_cast<int32_t>(s.size())));
  text.foldCase(U_FOLD_CASE_DEFAULT);
  if (text.isBogus()) return false;
  out->clear();
  text.toUTF8String(*out);
  return true;
}

bool ContainsWhitespace(std::string_view s) {
  for (size_t i = 0; i < s.size(); ++i) {
    if (IsAsciiSpace(s[i])) return true;
    if (s[i] == '\xC2' && i + 1 < s.size() && s[i + 1] == '\xA0') return true;
  }
  return false;
}

PhoneNumberUtil& Phones() {
  static PhoneNumberUtil* const util = [] {
    PhoneNumberUtil* u = PhoneNumberUtil::GetInstance();
    // libphonenumber logs every parse failure to stderr; our callers report failures themselves.
    u->SetLogger(new i18n::phonenumbers::NullLogger());  // Takes ownership.
    return u;
  }();
  return *util;
}

const std::set<std::string>& SupportedRegions() {
  static const std::set<std::string>* const regions = [] {
    auto* r = new std::set<std::string>();
    Phones().GetSupportedRegions(r);
    return r;
  }();
  return *regions;
}

std::string_view ParseErrorReason(PhoneNumberUtil::ErrorType error) {
  switch (error) {
    case PhoneNumberUtil::INVALID_COUNTRY_CODE_ERROR:
      return "unknown country calling code";
    case PhoneNumberUtil::NOT_A_NUMBER:
      return "not a phone number";
    case PhoneNumberUtil::TOO_SHORT_AFTER_IDD:
      return "too short after the international dialling prefix";
    case PhoneNumberUtil::TOO_SHORT_NSN:
      return "too short to be a phone number";
    case PhoneNumberUtil::TOO_LONG_NSN:
      return "too long to be a phone number";
    case PhoneNumberUtil::NO_PARSING_ERROR:
      break;
  }
  return "not a phone number";
}

NormalizedValue Invalid(std::string reason) {
  NormalizedValue result;
  result.outcome = NormalizedValue::Outcome::kInvalid;
  result.reason = std::move(reason);
  return result;
}

std::string UnsupportedRegion(std::string_view what, std::string_view region) {
  return absl::StrCat(
      ToAbsl(what), ": \"", ToAbsl(region),
      "\" is not a region libphonenumber supports; expected an upper-case ISO 3166-1 alpha-2 code "
      "such as \"US\" or \"KR\"");
}

std::string SourceKey(std::string_view space, std::string_view source) {
  return absl::StrCat(ToAbsl(space), absl::string_view("\0", 1), ToAbsl(source));
}

// Why IsPossibleNumberWithReason refused a number, for messages.
std::string_view PossibleReason(PhoneNumberUtil::ValidationResult result) {
  switch (result) {
    case PhoneNumberUtil::IS_POSSIBLE:
      return "possible";
    case PhoneNumberUtil::IS_POSSIBLE_LOCAL_ONLY:
      return "a local number without its area code";
    case PhoneNumberUtil::INVALID_COUNTRY_CODE:
      return "unknown country calling code";
    case PhoneNumberUtil::TOO_SHORT:
      return "too short";
    case PhoneNumberUtil::INVALID_LENGTH:
      return "a length no number of that country has";
    case PhoneNumberUtil::TOO_LONG:
      return "too long";
  }
  return "not possible";
}

// A national number that is one digit repeated (1111111111) or a run along the keyboard's digit
// row (1234567890, 9876543210): what forms get when someone types anything to get past them.
bool IsPlaceholder(const PhoneNumber& number) {
  const std::string digits = std::to_string(number.national_number());
  if (digits.size() < 5) return false;
  if (digits.find_first_not_of(digits[0]) == std::string::npos) return true;
  return std::string_view("01234567890").find(digits) != std::string_view::npos ||
         std::string_view("09876543210").find(digits) != std::string_view::npos;
}

}  // namespace

absl::StatusOr<std::unique_ptr<Normalizer>> Normalizer::Create(NormalizerOptions options) {
  if (!IsSupportedPhoneRegion(options.default_phone_region)) {
    return absl::InvalidArgumentError(
        UnsupportedRegion("default_phone_region", options.default_phone_region));
  }

  std::unique_ptr<Normalizer> normalizer(new Normalizer(std::move(options)));
  const NormalizerOptions& opts = normalizer->options_;

  for (size_t i = 0; i < opts.source_phone_regions.size(); ++i) {
    const SourcePhoneRegion& source = opts.source_phone_regions[i];
    const std::string what =
        absl::StrCat("phone_region of source \"", source.source, "\" (space ", source.space, ")");
    if (!IsSupportedPhoneRegion(source.region))
      return absl::InvalidArgumentError(UnsupportedRegion(what, source.region));
    auto [it, inserted] =
        normalizer->source_regions_.emplace(SourceKey(source.space, source.source), source.region);
    if (!inserted && it->second != source.region) {
      return absl::InvalidArgumentError(
          absl::StrCat(what, ": both \"", it->second, "\" and \"", source.region,
                       "\"; events name only their source, so it can have one"));
    }
  }

  for (std::string_view value : kBuiltInBlocked) normalizer->blocked_.emplace(value);
  for (size_t i = 0; i < opts.blocked_values.size(); ++i) {
    const std::string_view value = Trim(opts.blocked_values[i]);
    if (!IsValidUtf8(value)) {
      return absl::InvalidArgumentError(
          absl::StrCat("blocked_values[", i, "]: not valid UTF-8, so it could never match a value"));
    }
    std::string lowered(value);
    AsciiLowerInPlace(lowered);
    // Emails are compared in their case-folded form, so a non-ASCII blocked value is also kept folded.
    if (!IsAscii(value)) {
      std::string folded;
      if (FoldCaseUnicode(value, &folded)) normalizer->blocked_.insert(std::move(folded));
    }
    normalizer->blocked_.insert(std::move(lowered));
  }

  normalizer->blocked_patterns_.reserve(opts.blocked_patterns.size());
  for (size_t i = 0; i < opts.blocked_patterns.size(); ++i) {
    const std::string& pattern = opts.blocked_patterns[i];
    try {
      normalizer->blocked_patterns_.emplace_back(pattern, std::regex::ECMAScript | std::regex::optimize);
    } catch (const std::regex_error& e) {
      return absl::InvalidArgumentError(absl::StrCat("blocked_patterns[", i, "]: \"", pattern,
                                                     "\" is not a valid ECMAScript regex: ", e.what()));
    }
  }
  return normalizer;
}

namespace {

// Why `value` (already normalized) is blocked, or an empty string if it is not.
// Allocates only for the reason, or for a lower-cased copy of an unusually long value.
std::string BlockedReason(std::string_view value, const absl::flat_hash_set<std::string>& blocked,
                          const std::vector<std::regex>& patterns,
                          const std::vector<std::string>& pattern_texts) {
  if (value.empty()) return "empty value is blocked";

  if (value.size() >= kMinAllZeroLength &&
      std::all_of(value.begin(), value.end(), [](char c) { return c == '0' || c == '-'; })) {
    return absl::StrCat("\"", ToAbsl(value), "\" is a blocked value (all-zero id)");
  }

  bool listed;
  if (!HasAsciiUpper(value)) {
    listed = blocked.contains(ToAbsl(value));
  } else if (value.size() <= kMaxValueBytes) {
    char lowered[kMaxValueBytes];
    std::transform(value.begin(), value.end(), lowered, AsciiToLower);
    listed = blocked.contains(absl::string_view(lowered, value.size()));
  } else {  // Case folding made an email longer than the trim limit.
    std::string lowered(value);
    AsciiLowerInPlace(lowered);
    listed = blocked.contains(lowered);
  }
  if (listed) return absl::StrCat("\"", ToAbsl(value), "\" is a blocked value");

  for (size_t i = 0; i < patterns.size(); ++i) {
    if (std::regex_match(value.begin(), value.end(), patterns[i])) {
      return absl::StrCat("\"", ToAbsl(value), "\" matches blocked pattern \"", pattern_texts[i], "\"");
    }
  }
  return {};
}

}  // namespace

NormalizedValue Normalizer::Normalize(std::string_view type, std::string_view raw,
                                      const PhoneContext& phone) const {
  using Outcome = NormalizedValue::Outcome;
  const std::string_view trimmed = Trim(raw);

  NormalizedValue result;
  if (trimmed.empty()) {
    result.outcome = Outcome::kBlocked;
    result.reason = "empty value is blocked";
    return result;
  }
  if (trimmed.size() > kMaxValueBytes) {
    return Invalid(absl::StrCat("value is ", trimmed.size(), " bytes long; the limit is ", kMaxValueBytes));
  }
  if (!IsValidUtf8(trimmed)) return Invalid("value is not valid UTF-8");

  if (type == identifier_type::kEmail) {
    if (IsAscii(trimmed)) {
      result.value.assign(trimmed);
      AsciiLowerInPlace(result.value);
    } else if (!FoldCaseUnicode(trimmed, &result.value)) {
      return Invalid("email address could not be case-folded");
    }
    std::string& email = result.value;
    const size_t at = email.rfind('@');
    if (at == std::string::npos || at == 0 || at + 1 == email.size() ||
        ContainsWhitespace(std::string_view(email).substr(at + 1))) {
      result.value.clear();
      result.outcome = Outcome::kInvalid;
      result.reason = "not an email address (expected local-part@domain)";
    } else {
      size_t local_end = at;
      if (options_.email_strip_plus_tag) {
        const size_t plus = email.find('+');
        // "+tag@x.com" has nothing left to identify anyone; keep it as written.
        if (plus != std::string::npos && plus > 0 && plus < local_end) {
          email.erase(plus, local_end - plus);
          local_end = plus;
        }
      }
      if (options_.email_strip_gmail_dots) {
        const std::string_view domain = std::string_view(email).substr(local_end + 1);
        const bool googlemail = domain == "googlemail.com";
        if (googlemail || domain == "gmail.com") {
          const auto local_begin = email.begin();
          // A local part made only of dots keeps them: removing all would leave no one to identify.
          if (std::any_of(local_begin, local_begin + local_end, [](char c) { return c != '.'; })) {
            const auto dots_end = std::remove(local_begin, local_begin + local_end, '.');
            const size_t new_local_end = static_cast<size_t>(dots_end - local_begin);
            email.erase(new_local_end, local_end - new_local_end);
            local_end = new_local_end;
          }
          if (googlemail) email.replace(local_end + 1, std::string::npos, "gmail.com");
        }
      }
    }
  } else if (type == identifier_type::kPhone) {
    result = NormalizePhone(trimmed, phone);
  } else if (type == identifier_type::kDeviceId || type == identifier_type::kIdfa ||
             type == identifier_type::kGaid) {
    result.value.assign(trimmed);
    AsciiLowerInPlace(result.value);
  } else {
    // user_id, anonymous_id and custom types are case-sensitive: trim only.
    result.value.assign(trimmed);
  }

  if (result.outcome == Outcome::kInvalid) {
    // "null", "0", "n/a"... sent as an email or phone are the usual junk, not a malformed identifier:
    // report them as blocked (silently ignored) rather than invalid (a warning on the event).
    std::string blocked = BlockedReason(trimmed, blocked_, blocked_patterns_, options_.blocked_patterns);
    if (!blocked.empty()) {
      result.outcome = Outcome::kBlocked;
      result.value.assign(trimmed);
      result.reason = std::move(blocked);
    }
    return result;
  }

  std::string blocked = BlockedReason(result.value, blocked_, blocked_patterns_, options_.blocked_patterns);
  if (!blocked.empty()) {
    result.outcome = Outcome::kBlocked;
    result.reason = std::move(blocked);
  }
  return result;
}

std::vector<std::string> Normalizer::PhoneRegions(const PhoneContext& phone) const {
  std::vector<std::string> regions;
  regions.reserve(4);
  auto add = [&regions](std::string region) {
    if (IsSupportedPhoneRegion(region) &&
        std::find(regions.begin(), regions.end(), region) == regions.end()) {
      regions.push_back(std::move(region));
    }
  };
  if (!phone.locale.empty()) {
    if (std::optional<std::string> region = RegionOfLocale(phone.locale)) add(*std::move(region));
  }
  if (!phone.country.empty()) {
    if (std::optional<std::string> region = RegionOfCountry(phone.country)) add(*std::move(region));
  }
  if (!source_regions_.empty()) {
    if (auto it = source_regions_.find(SourceKey(phone.space, phone.source)); it != source_regions_.end()) {
      add(it->second);
    }
  }
  add(options_.default_phone_region);
  return regions;
}

NormalizedValue Normalizer::NormalizePhone(std::string_view trimmed, const PhoneContext& phone) const {
  PhoneNumberUtil& phones = Phones();
  const std::string text(trimmed);
  NormalizedValue result;
  std::string region;  // Where `number` was read; empty when the number carried its country code.
  PhoneNumber number;

  // Parsed in the default region first: with a '+' the region plays no part, and the regions of
  // the context (ICU lookups) are only worked out for numbers that need them.
  PhoneNumber in_default;
  const PhoneNumberUtil::ErrorType default_error =
      phones.ParseAndKeepRawInput(text, options_.default_phone_region, &in_default);
  const bool international = default_error == PhoneNumberUtil::NO_PARSING_ERROR &&
                             in_default.country_code_source() == PhoneNumber::FROM_NUMBER_WITH_PLUS_SIGN;
  if (international) {
    number = std::move(in_default);
    const PhoneNumberUtil::ValidationResult possible = phones.IsPossibleNumberWithReason(number);
    if (possible != PhoneNumberUtil::IS_POSSIBLE) {
      return Invalid(absl::StrCat("not a possible phone number for country code +", number.country_code(),
                                  ": ", ToAbsl(PossibleReason(possible))));
    }
  } else {
    // The first region in which the metadata knows the number, else the first in which it is
    // possible: a national number that is possible in several countries is most likely from the
    // one whose plan has it.
    std::vector<std::pair<std::string, std::string_view>> refusals;  // region, why
    std::optional<std::pair<std::string, PhoneNumber>> first_possible;
    bool found = false;
    for (std::string& candidate : PhoneRegions(phone)) {
      PhoneNumberUtil::ErrorType error = default_error;
      if (candidate == options_.default_phone_region) {
        number = in_default;
      } else {
        number.Clear();
        error = phones.ParseAndKeepRawInput(text, candidate, &number);
      }
      if (error != PhoneNumberUtil::NO_PARSING_ERROR) {
        refusals.emplace_back(std::move(candidate), ParseErrorReason(error));
        continue;
      }
      const PhoneNumberUtil::ValidationResult possible = phones.IsPossibleNumberWithReason(number);
      if (possible != PhoneNumberUtil::IS_POSSIBLE || number.national_number() == 0) {
        refusals.emplace_back(std::move(candidate), number.national_number() == 0 ? "not a phone number"
                                                                                  : PossibleReason(possible));
        continue;
      }
      if (phones.IsValidNumber(number)) {
        region = std::move(candidate);
        found = true;
        break;
      }
      if (!first_possible) first_possible.emplace(std::move(candidate), number);
    }
    if (!found && first_possible) {
      region = std::move(first_possible->first);
      number = std::move(first_possible->second);
      found = true;
    }
    if (!found) {
      const bool same_reason = std::all_of(refusals.begin(), refusals.end(), [&](const auto& refusal) {
        return refusal.second == refusals[0].second;
      });
      std::string reason = "not a possible phone number";
      if (same_reason) {
        absl::StrAppend(&reason, ": ", ToAbsl(refusals[0].second),
                        refusals.size() == 1 ? " (region " : " (regions ");
        for (size_t i = 0; i < refusals.size(); ++i)
          absl::StrAppend(&reason, i == 0 ? "" : ", ", refusals[i].first);
        reason.push_back(')');
      } else {
        reason.append(" (");
        for (size_t i = 0; i < refusals.size(); ++i) {
          absl::StrAppend(&reason, i == 0 ? "" : "; ", refusals[i].first, ": ", ToAbsl(refusals[i].second));
        }
        reason.push_back(')');
      }
      return Invalid(std::move(reason));
    }
  }

  if (number.national_number() == 0) return Invalid("not a phone number");
  result.valid = phones.IsValidNumber(number);
  // Accepting what the metadata does not know must not let "+1 111-111-1111" link strangers.
  const bool placeholder = !result.valid && IsPlaceholder(number);
  phones.Format(number, PhoneNumberUtil::E164, &result.value);
  result.phone_region = std::move(region);
  if (placeholder) {
    result.outcome = NormalizedValue::Outcome::kBlocked;
    result.reason = absl::StrCat("\"", result.value, "\" is a blocked value (a placeholder number)");
  }
  return result;
}

bool Normalizer::IsValidPhoneNumber(std::string_view e164) {
  PhoneNumberUtil& phones = Phones();
  PhoneNumber number;
  // "ZZ": the value carries its country code; no region may change how it is read.
  if (phones.Parse(std::string(e164), "ZZ", &number) != PhoneNumberUtil::NO_PARSING_ERROR) return false;
  return phones.IsValidNumber(number);
}

bool Normalizer::IsSupportedPhoneRegion(std::string_view region) {
  const bool well_formed = region.size() == 2 && std::all_of(region.begin(), region.end(),
                                                             [](char c) { return c >= 'A' && c <= 'Z'; });
  return well_formed && SupportedRegions().contains(std::string(region));
}

}  // namespace tessera::identity
