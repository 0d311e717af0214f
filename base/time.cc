#include "base/time.h"

#include <charconv>
#include <cstdint>

namespace tessera::base {
namespace {

constexpr bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// Reads exactly `count` decimal digits at `text[pos]`; false if any is missing or not a digit.
bool ReadDigits(std::string_view text, size_t pos, size_t count, int& out) {
  if (pos + count > text.size()) return false;
  int value = 0;
  for (size_t i = pos; i < pos + count; ++i) {
    if (!IsDigit(text[i])) return false;
    value = value * 10 + (text[i] - '0');
  }
  out = value;
  return true;
}

// Writes `value` (0 <= value < 10^width) as exactly `width` digits.
void AppendPadded(std::string& out, int64_t value, int width) {
  char buffer[8];
  for (int i = width - 1; i >= 0; --i) {
    buffer[i] = static_cast<char>('0' + value % 10);
    value /= 10;
  }
  out.append(buffer, static_cast<size_t>(width));
}

}  // namespace

std::optional<Timestamp> ParseIso8601(std::string_view text) {
  using namespace std::chrono;
  // The fixed-width part: "YYYY-MM-DDTHH:MM:SS" is 19 characters.
  int year_value, month_value, day_value, hour, minute, second;
  if (!ReadDigits(text, 0, 4, year_value) || text.size() < 19 || text[4] != '-' ||
      !ReadDigits(text, 5, 2, month_value) || text[7] != '-' || !ReadDigits(text, 8, 2, day_value)) {
    return std::nullopt;
  }
  const char separator = text[10];
  if (separator != 'T' && separator != 't' && separator != ' ') return std::nullopt;
  if (!ReadDigits(text, 11, 2, hour) || text[13] != ':' || !ReadDigits(text, 14, 2, minute) ||
      text[16] != ':' || !ReadDigits(text, 17, 2, second)) {
    return std::nullopt;
  }
  // 24:00 and leap seconds (:60) are rejected: neither maps to one instant in sys_time.
  if (hour > 23 || minute > 59 || second > 59) return std::nullopt;
  const year_month_day date{year{year_value}, month{static_cast<unsigned>(month_value)},
                            day{static_cast<unsigned>(day_value)}};
  if (!date.ok()) return std::nullopt;  // Feb 30, Feb 29 outside leap years, month 13, day 00...

  size_t pos = 19;
  int64_t micros = 0;
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    const size_t digits_start = pos;
    while (pos < text.size() && IsDigit(text[pos])) {
      if (pos - digits_start < 6) micros = micros * 10 + (text[pos] - '0');  // Truncate past µs.
      ++pos;
    }
    const size_t digits = pos - digits_start;
    if (digits == 0 || digits > 9) return std::nullopt;
    for (size_t i = digits; i < 6; ++i) micros *= 10;
  }

  int offset_minutes = 0;
  if (pos < text.size()) {
    const char c = text[pos];
    if (c == 'Z' || c == 'z') {
      ++pos;
    } else if (c == '+' || c == '-') {
      ++pos;
      int offset_hours = 0;
      int offset_mins = 0;
      if (!ReadDigits(text, pos, 2, offset_hours)) return std::nullopt;
      pos += 2;
      if (pos < text.size()) {
        if (text[pos] == ':') ++pos;  // ±HH:MM; otherwise ±HHMM.
        if (!ReadDigits(text, pos, 2, offset_mins)) return std::nullopt;
        pos += 2;
      }
      if (offset_hours > 23 || offset_mins > 59) return std::nullopt;
      offset_minutes = (offset_hours * 60 + offset_mins) * (c == '-' ? -1 : 1);
    } else {
      return std::nullopt;
    }
  }
  if (pos != text.size()) return std::nullopt;

  // The text names local time at `offset`; UTC is that minus the offset.
  return Timestamp{sys_days{date}} + hours{hour} + minutes{minute - offset_minutes} + seconds{second} +
         microseconds{micros};
}

void AppendIso8601(std::string& out, Timestamp time) {
  using namespace std::chrono;
  const auto day_start = floor<days>(time);
  const year_month_day date{day_start};
  const int64_t micros_of_day = (time - day_start).count();

  int year_value = static_cast<int>(date.year());
  if (year_value < 0) {
    out.push_back('-');
    year_value = -year_value;
  }
  if (year_value > 9999) {
    char buffer[8];
    const auto result = std::to_chars(buffer, buffer + sizeof(buffer), year_value);
    out.append(buffer, result.ptr);
  } else {
    AppendPadded(out, year_value, 4);
  }
  out.push_back('-');
  AppendPadded(out, static_cast<unsigned>(date.month()), 2);
  out.push_back('-');
  AppendPadded(out, static_cast<unsigned>(date.day()), 2);
  out.push_back('T');
  const int64_t seconds_of_day = micros_of_day / 1'000'000;
  AppendPadded(out, seconds_of_day / 3600, 2);
  out.push_back(':');
  AppendPadded(out, seconds_of_day / 60 % 60, 2);
  out.push_back(':');
  AppendPadded(out, seconds_of_day % 60, 2);
  out.push_back('.');
  const int64_t fraction = micros_of_day % 1'000'000;
  if (fraction % 1000 == 0) {
    AppendPadded(out, fraction / 1000, 3);
  } else {
    AppendPadded(out, fraction, 6);
  }
  out.push_back('Z');
}

std::string FormatIso8601(Timestamp time) {
  std::string out;
  out.reserve(32);
  AppendIso8601(out, time);
  return out;
}

}  // namespace tessera::base
