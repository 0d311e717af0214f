#include "matching/date_value.h"

#include <cstdio>

namespace tessera::matching {
namespace {

bool IsLeap(int year) { return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0; }

int DaysInMonth(int year, int month) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return month == 2 && IsLeap(year) ? 29 : kDays[month - 1];
}

// Reads exactly `n` digits at `text[at]`; -1 when they are not all digits.
int Digits(std::string_view text, size_t at, size_t n) {
  if (at + n > text.size()) return -1;
  int value = 0;
  for (size_t i = at; i < at + n; ++i) {
    if (text[i] < '0' || text[i] > '9') return -1;
    value = value * 10 + (text[i] - '0');
  }
  return value;
}

bool IsSeparator(char c) { return c == '-' || c == '/' || c == '.'; }

std::optional<DateValue> Valid(int year, int month, int day) {
  if (year < 1000 || year > 2999 || month < 1 || month > 12 || day < 1) return std::nullopt;
  if (day > DaysInMonth(year, month)) return std::nullopt;
  return DateValue{year, month, day};
}

}  // namespace

int DateValue::DaysSinceEpoch() const {
  // Howard Hinnant's days_from_civil.
  const int y = year - (month <= 2 ? 1 : 0);
  const int era = (y >= 0 ? y : y - 399) / 400;
  const int yoe = y - era * 400;
  const int doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1;
  const int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

std::string DateValue::ToString() const {
  char buffer[16];
  std::snprintf(buffer, sizeof buffer, "%04d-%02d-%02d", year, month, day);
  return buffer;
}

std::optional<DateValue> ParseDate(std::string_view text) {
  while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
  if (text.size() == 8) {
    const int year = Digits(text, 0, 4), month = Digits(text, 4, 2), day = Digits(text, 6, 2);
    if (year < 0 || month < 0 || day < 0) return std::nullopt;
    return Valid(year, month, day);
  }
  if (text.size() != 10) return std::nullopt;
  if (IsSeparator(text[4]) && text[7] == text[4]) {
    return Valid(Digits(text, 0, 4), Digits(text, 5, 2), Digits(text, 8, 2));
  }
  if (IsSeparator(text[2]) && text[5] == text[2]) {
    return Valid(Digits(text, 6, 4), Digits(text, 3, 2), Digits(text, 0, 2));
  }
  return std::nullopt;
}

}  // namespace tessera::matching
