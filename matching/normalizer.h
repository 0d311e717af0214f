#pragma once

// Normalizer turns raw column values into the forms comparisons and blocking keys use: ICU
// transliteration to Latin ASCII and lower case (so "Kim Min-jun", "KIM MINJUN" and "김민준" meet),
// punctuation and spaces removed, e-mail addresses trimmed and lower-cased, phone numbers reduced to
// their last nine digits, postcodes to upper-case letters and digits, dates to YYYY-MM-DD.
//
// Not thread-safe (it owns an ICU transliterator); create one per thread. Creating one costs a
// few milliseconds; ASCII input skips ICU.

#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace tessera::matching {

class Normalizer {
 public:
  static absl::StatusOr<std::unique_ptr<Normalizer>> Create();
  ~Normalizer();

  // Any script to Latin, accents removed, lower case, then only [a-z0-9] kept.
  std::string Name(std::string_view raw) const;
  // As Name, but word boundaries stay as single spaces (for callers that compare words; the
  // comparisons of PreparedRecords use Name's form, spaces removed).
  std::string Text(std::string_view raw) const;
  // Trimmed and lower-cased; empty when there is no '@' with text on both sides.
  std::string Email(std::string_view raw) const;
  // The last nine digits (so "+82 10-1234-5678" and "010-1234-5678" agree); empty below six digits.
  std::string Phone(std::string_view raw) const;
  // Upper-case letters and digits.
  std::string Postcode(std::string_view raw) const;
  // YYYY-MM-DD, or empty when the value is not a date ParseDate reads.
  std::string Date(std::string_view raw) const;

 private:
  struct Icu;
  explicit Normalizer(std::unique_ptr<Icu> icu);
  // Latin ASCII, lower case, every run of non-alphanumerics replaced by `separator` (or dropped
  // when it is '\0'), no separator at either end.
  std::string Fold(std::string_view raw, char separator) const;

  std::unique_ptr<Icu> icu_;
};

}  // namespace tessera::matching
