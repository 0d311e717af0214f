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
#include <set>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "identity/identifier.h"
#include "identity/normalizer.h"

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

}  // namespace

absl::StatusOr<std::unique_ptr<Normalizer>> Normalizer::Create(NormalizerOptions options) {
  const std::string& region = options.default_phone_region;
  const bool well_formed = region.size() == 2 && std::all_of(region.begin(), region.end(),
                                                             [](char c) { return c >= 'A' && c <= 'Z'; });
  if (!well_formed || !SupportedRegions().contains(region)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "default_phone_region: \"", region,
        "\" is not a region libphonenumber supports; expected an upper-case ISO 3166-1 alpha-2 code such as "
        "\"US\" or \"KR\""));
  }

  std::unique_ptr<Normalizer> normalizer(new Normalizer(std::move(options)));
  const NormalizerOptions& opts = normalizer->options_;

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

NormalizedValue Normalizer::Normalize(std::string_view type, std::string_view raw) const {
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
    PhoneNumberUtil& phones = Phones();
    PhoneNumber number;
    const PhoneNumberUtil::ErrorType error =
        phones.Parse(std::string(trimmed), options_.default_phone_region, &number);
    if (error != PhoneNumberUtil::NO_PARSING_ERROR) {
      result.outcome = Outcome::kInvalid;
      result.reason = absl::StrCat("not a valid phone number: ", ToAbsl(ParseErrorReason(error)),
                                   " (default region ", options_.default_phone_region, ")");
    } else if (!phones.IsValidNumber(number)) {
      result.outcome = Outcome::kInvalid;
      if (number.country_code() == phones.GetCountryCodeForRegion(options_.default_phone_region)) {
        result.reason = absl::StrCat("not a valid phone number for region ", options_.default_phone_region);
      } else {
        result.reason = absl::StrCat("not a valid phone number for country code +", number.country_code());
      }
    } else {
      phones.Format(number, PhoneNumberUtil::E164, &result.value);
    }
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

}  // namespace tessera::identity
