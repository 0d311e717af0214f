#pragma once

// A calendar date read from the spellings person records use, for date-of-birth comparisons.

#include <optional>
#include <string>
#include <string_view>

namespace tessera::matching {

struct DateValue {
  int year = 0;
  int month = 0;  // 1-12
  int day = 0;    // 1-31, valid for the month

  // Days since 1970-01-01 (proleptic Gregorian), for "within a month / year" comparisons.
  int DaysSinceEpoch() const;
  // YYYY-MM-DD.
  std::string ToString() const;
  bool operator==(const DateValue&) const = default;
};

// Reads YYYY-MM-DD (also with '/' or '.'), YYYYMMDD and DD/MM/YYYY (also with '-' or '.');
// surrounding spaces are ignored. nullopt for anything else, or a date that does not exist.
std::optional<DateValue> ParseDate(std::string_view text);

}  // namespace tessera::matching
