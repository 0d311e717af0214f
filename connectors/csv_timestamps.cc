#include "connectors/csv_timestamps.h"

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "absl/status/status.h"
#include "base/time.h"
#include "connectors/internal/text.h"

namespace tessera::connectors {
namespace {

using base::TimeZone;

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

char AsciiLower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

// Reads exactly `min`..`max` digits at `pos`.
std::optional<int> ReadDigits(std::string_view text, size_t& pos, size_t min, size_t max) {
  size_t count = 0;
  int value = 0;
  while (pos + count < text.size() && count < max && IsDigit(text[pos + count])) {
    value = value * 10 + (text[pos + count] - '0');
    ++count;
  }
  if (count < min) return std::nullopt;
  pos += count;
  return value;
}

constexpr std::string_view kMonthAbbreviations[] = {"jan", "feb", "mar", "apr", "may", "jun",
                                                    "jul", "aug", "sep", "oct", "nov", "dec"};

// A strftime-like pattern, expanded (%F, %T) and checked once.
struct TimestampPattern {
  std::string pattern;  // Only single-letter directives and literals remain.
};

absl::StatusOr<TimestampPattern> CompileTimestampPattern(std::string_view format) {
  TimestampPattern compiled;
  bool has_year = false, has_month = false, has_day = false, has_hour12 = false, has_ampm = false;
  for (size_t i = 0; i < format.size(); ++i) {
    if (format[i] != '%') {
      compiled.pattern.push_back(format[i]);
      continue;
    }
    if (i + 1 >= format.size()) {
      return absl::InvalidArgumentError("mapping.timestamp_format: a lone '%' at the end of \"" +
                                        std::string(format) + "\"");
    }
    const char directive = format[++i];
    switch (directive) {
      case 'F':
        compiled.pattern.append("%Y-%m-%d");
        has_year = has_month = has_day = true;
        break;
      case 'T':
        compiled.pattern.append("%H:%M:%S");
        break;
      case 'Y':
        has_year = true;
        compiled.pattern.append("%Y");
        break;
      case 'm':
      case 'b':
        has_month = true;
        compiled.pattern.append({'%', directive});
        break;
      case 'd':
        has_day = true;
        compiled.pattern.append("%d");
        break;
      case 'I':
        has_hour12 = true;
        compiled.pattern.append("%I");
        break;
      case 'p':
        has_ampm = true;
        compiled.pattern.append("%p");
        break;
      case 'H':
      case 'M':
      case 'S':
      case 'f':
      case 'z':
      case '%':
        compiled.pattern.append({'%', directive});
        break;
      default:
        return absl::InvalidArgumentError(std::string("mapping.timestamp_format: unsupported directive %") +
                                          directive + " in \"" + std::string(format) +
                                          "\"; supported: %Y %m %d %H %I %M %S %f %p %b %z %F %T %%");
    }
  }
  if (!has_year || !has_month || !has_day) {
    return absl::InvalidArgumentError("mapping.timestamp_format: \"" + std::string(format) +
                                      "\" needs a year (%Y), a month (%m or %b) and a day (%d)");
  }
  if (has_hour12 != has_ampm) {
    return absl::InvalidArgumentError("mapping.timestamp_format: \"" + std::string(format) +
                                      "\": %I (12-hour clock) and %p (AM/PM) go together");
  }
  return compiled;
}

// `pattern` is a compiled one: every '%' is followed by a directive.
std::optional<ingest::Timestamp> ParseWithPattern(std::string_view text, std::string_view pattern,
                                                  const TimeZone& default_zone) {
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  int64_t micros = 0;
  bool pm = false, has_ampm = false;
  std::optional<std::chrono::minutes> offset;
  size_t pos = 0;
  for (size_t i = 0; i < pattern.size(); ++i) {
    if (pattern[i] != '%' || pattern[i + 1] == '%') {
      if (pattern[i] == '%') ++i;
      if (pos >= text.size() || text[pos] != pattern[i]) return std::nullopt;
      ++pos;
      continue;
    }
    const char directive = pattern[++i];
    std::optional<int> value;
    switch (directive) {
      case 'Y':
        value = ReadDigits(text, pos, 4, 4);
        year = value.value_or(0);
        break;
      case 'm':
        value = ReadDigits(text, pos, 1, 2);
        month = value.value_or(0);
        break;
      case 'd':
        value = ReadDigits(text, pos, 1, 2);
        day = value.value_or(0);
        break;
      case 'H':
      case 'I':
        value = ReadDigits(text, pos, 1, 2);
        hour = value.value_or(0);
        break;
      case 'M':
        value = ReadDigits(text, pos, 1, 2);
        minute = value.value_or(0);
        break;
      case 'S':
        value = ReadDigits(text, pos, 1, 2);
        second = value.value_or(0);
        break;
      case 'f': {
        const size_t start = pos;
        while (pos < text.size() && IsDigit(text[pos])) ++pos;
        if (pos == start) return std::nullopt;
        for (size_t k = 0; k < 6; ++k) micros = micros * 10 + (start + k < pos ? text[start + k] - '0' : 0);
        value = 0;
        break;
      }
      case 'p': {
        const std::string_view word = text.substr(pos, 2);
        if (word.size() == 2 && AsciiLower(word[1]) == 'm' &&
            (AsciiLower(word[0]) == 'a' || AsciiLower(word[0]) == 'p')) {
          pm = AsciiLower(word[0]) == 'p';
          has_ampm = true;
          pos += 2;
          value = 0;
        }
        break;
      }
      case 'b': {
        const std::string_view word = text.substr(pos, 3);
        for (int k = 0; k < 12 && word.size() == 3; ++k) {
          const std::string_view name = kMonthAbbreviations[k];
          if (AsciiLower(word[0]) == name[0] && AsciiLower(word[1]) == name[1] &&
              AsciiLower(word[2]) == name[2]) {
            month = k + 1;
            pos += 3;
            value = 0;
            break;
          }
        }
        break;
      }
      case 'z':
        offset = base::ReadFixedOffset(text, pos);
        if (offset) value = 0;
        break;
      default:
        return std::nullopt;
    }
    if (!value) return std::nullopt;
  }
  if (pos != text.size()) return std::nullopt;
  if (has_ampm) {
    if (hour < 1 || hour > 12) return std::nullopt;
    hour = hour % 12 + (pm ? 12 : 0);
  }
  if (hour > 23 || minute > 59 || second > 59) return std::nullopt;
  const std::chrono::year_month_day date{std::chrono::year(year),
                                         std::chrono::month(static_cast<unsigned>(month)),
                                         std::chrono::day(static_cast<unsigned>(day))};
  if (!date.ok()) return std::nullopt;
  const auto local = std::chrono::sys_days(date) + std::chrono::hours(hour) + std::chrono::minutes(minute) +
                     std::chrono::seconds(second) + std::chrono::microseconds(micros);
  if (offset) return ingest::Timestamp(local - *offset);
  return default_zone.ToUtc(ingest::Timestamp(local));
}

// ISO-8601 in a column: with an offset as written, without one in the configured offset.
std::optional<ingest::Timestamp> ParseIsoWithDefault(std::string_view text, const TimeZone& default_zone) {
  std::optional<ingest::Timestamp> parsed = base::ParseIso8601(text);
  if (!parsed) return std::nullopt;
  // The date part ("2024-03-01") holds the only '-' before the time; an offset comes after it.
  const bool has_offset = text.size() > 10 && (AsciiLower(text.back()) == 'z' ||
                                               text.find_first_of("+-", 10) != std::string_view::npos);
  if (has_offset) return parsed;
  return default_zone.ToUtc(*parsed);
}

}  // namespace

absl::StatusOr<CsvTimestampFormat> CsvTimestampFormat::Create(std::string_view format,
                                                              std::string_view timezone) {
  CsvTimestampFormat compiled;
  compiled.format_ = std::string(format);
  compiled.iso8601_ = format == "iso8601";
  if (!compiled.iso8601_) {
    absl::StatusOr<TimestampPattern> pattern = CompileTimestampPattern(format);
    if (!pattern.ok()) return pattern.status();
    compiled.pattern_ = std::move(pattern->pattern);
  }
  std::optional<TimeZone> zone = TimeZone::Parse(timezone);
  if (!zone) {
    return absl::InvalidArgumentError(
        "mapping.timezone: " + internal::QuoteForError(timezone) +
        " is neither an offset (\"Z\", \"UTC\", \"+HH:MM\", \"-HHMM\") nor a known "
        "IANA time zone such as \"Europe/Berlin\"");
  }
  compiled.default_zone_ = *std::move(zone);
  return compiled;
}

std::optional<ingest::Timestamp> CsvTimestampFormat::Parse(std::string_view text) const {
  if (iso8601_) return ParseIsoWithDefault(text, default_zone_);
  return ParseWithPattern(text, pattern_, default_zone_);
}

}  // namespace tessera::connectors
