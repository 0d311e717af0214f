#include "base/time_zone.h"

#include <unicode/timezone.h>
#include <unicode/unistr.h>

#include <utility>

namespace tessera::base {
namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// Exactly two digits at `pos`, advancing past them.
std::optional<int> ReadTwoDigits(std::string_view text, size_t& pos) {
  if (pos + 2 > text.size() || !IsDigit(text[pos]) || !IsDigit(text[pos + 1])) return std::nullopt;
  const int value = (text[pos] - '0') * 10 + (text[pos + 1] - '0');
  pos += 2;
  return value;
}

// ICU works in milliseconds (UDate); floor so that instants before 1970 round the same way.
UDate ToUDate(Timestamp time) {
  return static_cast<UDate>(std::chrono::floor<std::chrono::milliseconds>(time.time_since_epoch()).count());
}

}  // namespace

struct TimeZone::Named {
  std::unique_ptr<const icu::TimeZone> zone;

  // The zone's total offset (raw + DST) at `time`, read as UTC (`local` false) or as this zone's
  // wall clock (`local` true; ICU then decides skipped and repeated wall times).
  std::chrono::milliseconds OffsetAt(Timestamp time, bool local) const {
    int32_t raw = 0;
    int32_t dst = 0;
    UErrorCode status = U_ZERO_ERROR;
    zone->getOffset(ToUDate(time), local, raw, dst, status);
    if (U_FAILURE(status)) return std::chrono::milliseconds(0);
    return std::chrono::milliseconds(static_cast<int64_t>(raw) + dst);
  }
};

std::optional<std::chrono::minutes> ReadFixedOffset(std::string_view text, size_t& pos) {
  if (text.substr(pos, 3) == "UTC") {
    pos += 3;
    return std::chrono::minutes(0);
  }
  if (pos < text.size() && (text[pos] == 'Z' || text[pos] == 'z')) {
    ++pos;
    return std::chrono::minutes(0);
  }
  if (pos >= text.size() || (text[pos] != '+' && text[pos] != '-')) return std::nullopt;
  const int sign = text[pos] == '-' ? -1 : 1;
  size_t cursor = pos + 1;
  const std::optional<int> hours = ReadTwoDigits(text, cursor);
  if (!hours || *hours > 23) return std::nullopt;
  int minutes = 0;
  const bool colon = cursor < text.size() && text[cursor] == ':';
  if (colon) ++cursor;
  if (cursor < text.size() && IsDigit(text[cursor])) {
    const std::optional<int> read = ReadTwoDigits(text, cursor);
    if (!read || *read > 59) return std::nullopt;
    minutes = *read;
  } else if (colon) {
    return std::nullopt;  // "+09:" without minutes.
  }
  pos = cursor;
  return std::chrono::minutes(sign * (*hours * 60 + minutes));
}

std::optional<std::chrono::minutes> ParseFixedOffset(std::string_view text) {
  size_t pos = 0;
  std::optional<std::chrono::minutes> offset = ReadFixedOffset(text, pos);
  if (!offset || pos != text.size()) return std::nullopt;
  return offset;
}

std::optional<TimeZone> TimeZone::Parse(std::string_view text) {
  TimeZone zone;
  zone.name_.assign(text);
  if (const std::optional<std::chrono::minutes> fixed = ParseFixedOffset(text)) {
    zone.fixed_ = *fixed;
    return zone;
  }
  if (text.empty()) return std::nullopt;
  std::unique_ptr<icu::TimeZone> named(icu::TimeZone::createTimeZone(
      icu::UnicodeString::fromUTF8(icu::StringPiece(text.data(), static_cast<int32_t>(text.size())))));
  // ICU answers an unknown id with the "Etc/Unknown" zone rather than null.
  if (!named || *named == icu::TimeZone::getUnknown()) return std::nullopt;
  auto holder = std::make_shared<Named>();
  holder->zone = std::move(named);
  zone.named_ = std::move(holder);
  return zone;
}

Timestamp TimeZone::ToUtc(Timestamp local) const {
  if (!named_) return local - fixed_;
  return local - named_->OffsetAt(local, /*local=*/true);
}

Timestamp TimeZone::ToLocal(Timestamp instant) const {
  if (!named_) return instant + fixed_;
  return instant + named_->OffsetAt(instant, /*local=*/false);
}

Timestamp TimeZone::StartOfLocalDay(Timestamp instant, int64_t days_back) const {
  // On local dates, not by subtracting 24 hours: a day with a DST change lasts 23 or 25 hours.
  const std::chrono::sys_days local_date = std::chrono::floor<std::chrono::days>(ToLocal(instant));
  const std::chrono::sys_days start = local_date - std::chrono::days(days_back);
  return ToUtc(Timestamp(start));
}

}  // namespace tessera::base
