#include "profile_store/profile_time.h"

#include <charconv>
#include <cstdint>

namespace tessera::profile_store {
namespace {

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

void AppendIsoTimestamp(std::string& out, Timestamp time) {
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

std::string FormatIsoTimestamp(Timestamp time) {
  std::string out;
  out.reserve(32);
  AppendIsoTimestamp(out, time);
  return out;
}

}  // namespace tessera::profile_store
