#include "identity/phone_region.h"

#include <unicode/locid.h>
#include <unicode/stringpiece.h>
#include <unicode/uchar.h>  // U_FOLD_CASE_DEFAULT
#include <unicode/unistr.h>

#include <string>
#include <unordered_map>
#include <unordered_set>

namespace tessera::identity {
namespace {

// Longer values are not locales or country names; they are not worth ICU's time.
constexpr size_t kMaxHintBytes = 100;

std::string_view TrimAscii(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r' || s.front() == '\n')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n')) {
    s.remove_suffix(1);
  }
  return s;
}

std::string AsciiUpper(std::string_view s) {
  std::string upper(s);
  for (char& c : upper) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return upper;
}

bool IsAsciiLetters(std::string_view s) {
  for (char c : s) {
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))) return false;
  }
  return true;
}

std::string FoldCase(std::string_view s) {
  icu::UnicodeString text =
      icu::UnicodeString::fromUTF8(icu::StringPiece(s.data(), static_cast<int32_t>(s.size())));
  text.foldCase(U_FOLD_CASE_DEFAULT);
  std::string folded;
  text.toUTF8String(folded);
  return folded;
}

// ICU's ISO 3166 countries, with their alpha-3 codes and case-folded English names, built once.
struct Countries {
  std::unordered_set<std::string> alpha2;
  std::unordered_map<std::string, std::string> alpha3;  // "KOR" -> "KR"
  std::unordered_map<std::string, std::string> names;   // "south korea" -> "KR"
};

const Countries& AllCountries() {
  static const Countries* const countries = [] {
    auto* built = new Countries();
    for (const char* const* code = icu::Locale::getISOCountries(); *code != nullptr; ++code) {
      const icu::Locale locale("", *code);
      built->alpha2.insert(*code);
      if (const char* alpha3 = locale.getISO3Country(); alpha3 != nullptr && alpha3[0] != '\0') {
        built->alpha3.emplace(alpha3, *code);
      }
      icu::UnicodeString name;
      locale.getDisplayCountry(icu::Locale::getEnglish(), name);
      std::string utf8;
      name.toUTF8String(utf8);
      // ICU answers the code itself for a country it has no English name for.
      if (!utf8.empty() && utf8 != *code) built->names.emplace(FoldCase(utf8), *code);
    }
    return built;
  }();
  return *countries;
}

}  // namespace

std::optional<std::string> RegionOfLocale(std::string_view locale) {
  locale = TrimAscii(locale);
  // POSIX ids carry a charset and a modifier ("ko_KR.UTF-8@euro"); neither says where.
  locale = locale.substr(0, locale.find_first_of(".@"));
  if (locale.empty() || locale.size() > kMaxHintBytes) return std::nullopt;
  std::string tag(locale);
  for (char& c : tag) {
    if (c == '_') c = '-';
  }
  UErrorCode status = U_ZERO_ERROR;
  icu::Locale parsed =
      icu::Locale::forLanguageTag(icu::StringPiece(tag.data(), static_cast<int32_t>(tag.size())), status);
  if (U_FAILURE(status) || parsed.isBogus()) return std::nullopt;
  std::string region = parsed.getCountry();
  if (region.empty()) {
    // "und" (or nothing) would be made en_Latn_US: a guess about nobody, not a language's country.
    if (std::string_view(parsed.getLanguage()).empty()) return std::nullopt;
    parsed.addLikelySubtags(status);
    if (U_FAILURE(status)) return std::nullopt;
    region = parsed.getCountry();
  }
  // Numeric UN M.49 areas ("419") and unknown codes are not countries.
  if (!AllCountries().alpha2.contains(region)) return std::nullopt;
  return region;
}

std::optional<std::string> RegionOfCountry(std::string_view country) {
  country = TrimAscii(country);
  if (country.empty() || country.size() > kMaxHintBytes) return std::nullopt;
  const Countries& countries = AllCountries();
  if (IsAsciiLetters(country) && country.size() == 2) {
    std::string code = AsciiUpper(country);
    if (countries.alpha2.contains(code)) return code;
    return std::nullopt;
  }
  if (IsAsciiLetters(country) && country.size() == 3) {
    if (auto it = countries.alpha3.find(AsciiUpper(country)); it != countries.alpha3.end()) return it->second;
  }
  if (auto it = countries.names.find(FoldCase(country)); it != countries.names.end()) return it->second;
  return std::nullopt;
}

}  // namespace tessera::identity
