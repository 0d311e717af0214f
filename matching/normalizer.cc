#include "matching/normalizer.h"

#include <unicode/translit.h>
#include <unicode/unistr.h>

#include <cctype>

#include "absl/status/status.h"
#include "matching/date_value.h"

namespace tessera::matching {

struct Normalizer::Icu {
  std::unique_ptr<icu::Transliterator> to_latin_ascii;
};

Normalizer::Normalizer(std::unique_ptr<Icu> icu) : icu_(std::move(icu)) {}
Normalizer::~Normalizer() = default;

absl::StatusOr<std::unique_ptr<Normalizer>> Normalizer::Create() {
  UErrorCode error = U_ZERO_ERROR;
  auto icu = std::make_unique<Icu>();
  icu->to_latin_ascii.reset(icu::Transliterator::createInstance(
      icu::UnicodeString::fromUTF8("Any-Latin; Latin-ASCII; Lower"), UTRANS_FORWARD, error));
  if (U_FAILURE(error) || icu->to_latin_ascii == nullptr) {
    return absl::InternalError(std::string("ICU transliterator Any-Latin; Latin-ASCII; Lower: ") +
                               u_errorName(error));
  }
  return std::unique_ptr<Normalizer>(new Normalizer(std::move(icu)));
}

std::string Normalizer::Fold(std::string_view raw, char separator) const {
  bool ascii = true;
  for (char c : raw) ascii = ascii && static_cast<unsigned char>(c) < 0x80;
  std::string latin;
  if (ascii) {
    latin.assign(raw);
  } else {
    icu::UnicodeString text = icu::UnicodeString::fromUTF8(icu::StringPiece(raw.data(), raw.size()));
    icu_->to_latin_ascii->transliterate(text);
    text.toUTF8String(latin);
  }
  std::string out;
  out.reserve(latin.size());
  bool pending_separator = false;
  for (char c : latin) {
    const unsigned char u = static_cast<unsigned char>(c);
    if (std::isalnum(u) && u < 0x80) {
      if (pending_separator && separator != '\0' && !out.empty()) out.push_back(separator);
      pending_separator = false;
      out.push_back(static_cast<char>(std::tolower(u)));
    } else {
      pending_separator = true;
    }
  }
  return out;
}

std::string Normalizer::Name(std::string_view raw) const { return Fold(raw, '\0'); }
std::string Normalizer::Text(std::string_view raw) const { return Fold(raw, ' '); }

std::string Normalizer::Email(std::string_view raw) const {
  std::string out;
  for (char c : raw) {
    if (c == ' ' || c == '\t') continue;
    out.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  }
  const size_t at = out.find('@');
  if (at == std::string::npos || at == 0 || at + 1 == out.size()) return "";
  return out;
}

std::string Normalizer::Phone(std::string_view raw) const {
  std::string digits;
  for (char c : raw) {
    if (c >= '0' && c <= '9') digits.push_back(c);
  }
  if (digits.size() < 6) return "";
  if (digits.size() > 9) digits.erase(0, digits.size() - 9);
  return digits;
}

std::string Normalizer::Postcode(std::string_view raw) const {
  std::string out;
  for (char c : raw) {
    const unsigned char u = static_cast<unsigned char>(c);
    if (std::isalnum(u) && u < 0x80) out.push_back(static_cast<char>(std::toupper(u)));
  }
  return out;
}

std::string Normalizer::Date(std::string_view raw) const {
  const std::optional<DateValue> date = ParseDate(raw);
  return date ? date->ToString() : "";
}

}  // namespace tessera::matching
