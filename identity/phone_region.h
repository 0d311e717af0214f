#pragma once

// What an event's metadata says about the country its phone numbers are from, read with ICU:
//   RegionOfLocale   a BCP 47 tag ("ko-KR"), an ICU/POSIX id ("ko_KR", "ko_KR.UTF-8"), or a bare
//                    language ("ko", "ja"), whose region ICU's likely subtags supply (ko -> KR,
//                    ja -> JP, en -> US, pt -> BR, zh -> CN).
//   RegionOfCountry  an ISO 3166-1 alpha-2 or alpha-3 code in any case ("KR", "kor") or the
//                    country's English name as ICU spells it, compared case-insensitively
//                    ("South Korea", "united states").
// Both answer an upper-case ISO 3166-1 alpha-2 code, or nothing for what they cannot map: an empty
// or malformed value, an undetermined language ("und"), or a region that is not a country
// ("es-419", Latin America). Whether libphonenumber knows the region is the caller's question.
//
// Thread-safety: both may be called from any thread.

#include <optional>
#include <string>
#include <string_view>

namespace tessera::identity {

std::optional<std::string> RegionOfLocale(std::string_view locale);
std::optional<std::string> RegionOfCountry(std::string_view country);

}  // namespace tessera::identity
