#pragma once

// TimeZone: a fixed UTC offset ("+09:00", "-0530", "Z") or an IANA zone ("Europe/Berlin") through
// ICU, so that daylight saving time applies to each instant as it was then. Used where local
// clock times matter: CSV timestamps without an offset, calendar-day windows of audiences.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "base/time.h"

namespace tessera::base {

class TimeZone {
 public:
  // Nullopt for text that is neither a fixed offset nor a zone ICU knows.
  static std::optional<TimeZone> Parse(std::string_view text);

  // The instant at which this zone's clocks showed `local` (a wall-clock time written as if UTC).
  Timestamp ToUtc(Timestamp local) const;
  // What this zone's clocks showed at `instant` (as if UTC).
  Timestamp ToLocal(Timestamp instant) const;
  // The instant of local midnight starting the local day that contains `instant`, `days_back`
  // days earlier (0 = today).
  Timestamp StartOfLocalDay(Timestamp instant, int64_t days_back = 0) const;

  const std::string& name() const { return name_; }
  friend bool operator==(const TimeZone& a, const TimeZone& b) { return a.name_ == b.name_; }

 private:
  std::string name_;
  std::chrono::minutes fixed_{0};
  struct Named;  // The ICU zone (time_zone.cc), so that ICU's headers stay out of this one.
  std::shared_ptr<const Named> named_;
};

// "+09:00", "+0900", "+09", "-05:30", "Z", "UTC" -> offset; nullopt otherwise.
std::optional<std::chrono::minutes> ParseFixedOffset(std::string_view text);
// The same forms at `pos` inside longer text (a timestamp's "%z"): on success advances `pos` past
// the offset; on failure leaves it unchanged.
std::optional<std::chrono::minutes> ReadFixedOffset(std::string_view text, size_t& pos);

}  // namespace tessera::base
