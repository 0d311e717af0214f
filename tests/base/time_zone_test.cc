#include "base/time_zone.h"

#include <gtest/gtest.h>

#include <chrono>
#include <optional>
#include <string>

namespace tessera::base {
namespace {

using std::chrono::hours;
using std::chrono::minutes;

// A wall-clock or UTC time written as if UTC.
Timestamp At(int year, unsigned month, unsigned day, int hour = 0, int minute = 0) {
  const std::chrono::year_month_day date{std::chrono::year(year), std::chrono::month(month),
                                         std::chrono::day(day)};
  return Timestamp(std::chrono::sys_days(date)) + hours(hour) + minutes(minute);
}

TimeZone Zone(std::string_view text) {
  std::optional<TimeZone> zone = TimeZone::Parse(text);
  EXPECT_TRUE(zone.has_value()) << "\"" << text << "\" should parse";
  return zone.value_or(TimeZone());
}

TEST(TimeZoneTest, ParsesFixedOffsets) {
  EXPECT_EQ(ParseFixedOffset("+09:00"), minutes(9 * 60));
  EXPECT_EQ(ParseFixedOffset("+0900"), minutes(9 * 60));
  EXPECT_EQ(ParseFixedOffset("+09"), minutes(9 * 60));
  EXPECT_EQ(ParseFixedOffset("-05:30"), minutes(-(5 * 60 + 30)));
  EXPECT_EQ(ParseFixedOffset("Z"), minutes(0));
  EXPECT_EQ(ParseFixedOffset("z"), minutes(0));
  EXPECT_EQ(ParseFixedOffset("UTC"), minutes(0));
  for (const char* bad :
       {"", "+9", "+09:", "+09:0", "+24:00", "+09:60", "09:00", "+09:00 ", "UTC+1", "+0900x"}) {
    EXPECT_EQ(ParseFixedOffset(bad), std::nullopt) << "\"" << bad << "\" is not an offset";
  }
}

TEST(TimeZoneTest, ReadFixedOffsetStopsAfterTheOffset) {
  size_t pos = 3;
  EXPECT_EQ(ReadFixedOffset("10 +02:00 rest", pos), minutes(120));
  EXPECT_EQ(pos, 9u);
  pos = 0;
  EXPECT_EQ(ReadFixedOffset("+2", pos), std::nullopt);
  EXPECT_EQ(pos, 0u) << "a failed read leaves the position alone";
}

TEST(TimeZoneTest, FixedOffsetZones) {
  const TimeZone tokyo = Zone("+09:00");
  EXPECT_EQ(tokyo.name(), "+09:00");
  EXPECT_EQ(tokyo.ToUtc(At(2024, 1, 1, 9)), At(2024, 1, 1, 0));
  EXPECT_EQ(tokyo.ToLocal(At(2024, 1, 1, 20)), At(2024, 1, 2, 5));
  EXPECT_EQ(tokyo.StartOfLocalDay(At(2024, 1, 1, 20)), At(2024, 1, 1, 15)) << "local 2024-01-02 00:00";
  EXPECT_EQ(tokyo.StartOfLocalDay(At(2024, 1, 1, 20), 2), At(2023, 12, 30, 15));

  const TimeZone india = Zone("-0530");
  EXPECT_EQ(india.ToUtc(At(2024, 6, 1, 0)), At(2024, 6, 1, 5, 30));
  EXPECT_EQ(india.StartOfLocalDay(At(2024, 6, 1, 3)), At(2024, 5, 31, 5, 30)) << "still May 31 there";
}

TEST(TimeZoneTest, RejectsUnknownText) {
  for (const char* bad : {"", "Europe/Atlantis", "Not a zone", "+25:00", "Berlin"}) {
    EXPECT_FALSE(TimeZone::Parse(bad).has_value()) << "\"" << bad << "\" should not parse";
  }
}

TEST(TimeZoneTest, UtcIsTheIdentity) {
  for (const char* name : {"UTC", "Z", "Etc/UTC"}) {
    const TimeZone utc = Zone(name);
    EXPECT_EQ(utc.name(), name);
    EXPECT_EQ(utc.ToUtc(At(2024, 3, 31, 2, 30)), At(2024, 3, 31, 2, 30)) << name;
    EXPECT_EQ(utc.ToLocal(At(2024, 3, 31, 2, 30)), At(2024, 3, 31, 2, 30)) << name;
    EXPECT_EQ(utc.StartOfLocalDay(At(2024, 3, 31, 23, 59), 1), At(2024, 3, 30)) << name;
  }
}

TEST(TimeZoneTest, SeoulHasNoDaylightSavingTime) {
  const TimeZone seoul = Zone("Asia/Seoul");
  EXPECT_EQ(seoul.name(), "Asia/Seoul");
  EXPECT_EQ(seoul.ToUtc(At(2024, 1, 15, 9)), At(2024, 1, 15, 0));
  EXPECT_EQ(seoul.ToUtc(At(2024, 7, 15, 9)), At(2024, 7, 15, 0));
  EXPECT_EQ(seoul.ToLocal(At(2024, 7, 15, 20)), At(2024, 7, 16, 5));
  EXPECT_EQ(seoul.StartOfLocalDay(At(2024, 7, 15, 20)), At(2024, 7, 15, 15));
  EXPECT_EQ(seoul.StartOfLocalDay(At(2024, 7, 15, 14)), At(2024, 7, 14, 15));
}

TEST(TimeZoneTest, BerlinSpringForward) {
  // 2024-03-31: clocks go from 02:00 CET (UTC+1) to 03:00 CEST (UTC+2), at 01:00 UTC.
  const TimeZone berlin = Zone("Europe/Berlin");
  EXPECT_EQ(berlin.ToUtc(At(2024, 3, 31, 1, 30)), At(2024, 3, 31, 0, 30)) << "before the change";
  EXPECT_EQ(berlin.ToUtc(At(2024, 3, 31, 3, 30)), At(2024, 3, 31, 1, 30)) << "after the change";
  EXPECT_EQ(berlin.ToUtc(At(2024, 3, 31, 2, 30)), At(2024, 3, 31, 1, 30))
      << "a skipped wall time reads with the offset before the change";
  EXPECT_EQ(berlin.ToLocal(At(2024, 3, 31, 0, 59)), At(2024, 3, 31, 1, 59));
  EXPECT_EQ(berlin.ToLocal(At(2024, 3, 31, 1, 0)), At(2024, 3, 31, 3, 0));

  // The day lasts 23 hours: it starts at 23:00 UTC the day before, the next at 22:00 UTC.
  EXPECT_EQ(berlin.StartOfLocalDay(At(2024, 3, 31, 12)), At(2024, 3, 30, 23));
  EXPECT_EQ(berlin.StartOfLocalDay(At(2024, 3, 31, 22, 30)), At(2024, 3, 31, 22)) << "already April 1 there";
  EXPECT_EQ(berlin.StartOfLocalDay(At(2024, 4, 1, 12), 1), At(2024, 3, 30, 23)) << "one day back";
  EXPECT_EQ(berlin.StartOfLocalDay(At(2024, 4, 1, 12), 2), At(2024, 3, 29, 23)) << "two days back";
}

TEST(TimeZoneTest, BerlinFallBack) {
  // 2024-10-27: clocks go from 03:00 CEST (UTC+2) back to 02:00 CET (UTC+1), at 01:00 UTC.
  const TimeZone berlin = Zone("Europe/Berlin");
  EXPECT_EQ(berlin.ToUtc(At(2024, 10, 27, 1, 30)), At(2024, 10, 26, 23, 30));
  EXPECT_EQ(berlin.ToUtc(At(2024, 10, 27, 3, 30)), At(2024, 10, 27, 2, 30));
  EXPECT_EQ(berlin.ToUtc(At(2024, 10, 27, 2, 30)), At(2024, 10, 27, 1, 30))
      << "a repeated wall time reads as the later one (standard time)";
  EXPECT_EQ(berlin.ToLocal(At(2024, 10, 27, 0, 30)), At(2024, 10, 27, 2, 30)) << "the first 02:30";
  EXPECT_EQ(berlin.ToLocal(At(2024, 10, 27, 1, 30)), At(2024, 10, 27, 2, 30)) << "the second 02:30";

  // The day lasts 25 hours: it starts at 22:00 UTC the day before, the next at 23:00 UTC.
  EXPECT_EQ(berlin.StartOfLocalDay(At(2024, 10, 27, 12)), At(2024, 10, 26, 22));
  EXPECT_EQ(berlin.StartOfLocalDay(At(2024, 10, 27, 22, 59)), At(2024, 10, 26, 22)) << "still Oct 27 there";
  EXPECT_EQ(berlin.StartOfLocalDay(At(2024, 10, 27, 23)), At(2024, 10, 27, 23)) << "Oct 28 begins";
  EXPECT_EQ(berlin.StartOfLocalDay(At(2024, 10, 28, 12), 1), At(2024, 10, 26, 22)) << "one day back";
  EXPECT_EQ(berlin.StartOfLocalDay(At(2024, 10, 28, 12), 2), At(2024, 10, 25, 22))
      << "two days back, in CEST";
}

TEST(TimeZoneTest, EqualityFollowsTheName) {
  EXPECT_EQ(Zone("Europe/Berlin"), Zone("Europe/Berlin"));
  EXPECT_FALSE(Zone("Europe/Berlin") == Zone("Europe/Paris"));
  EXPECT_FALSE(Zone("+01:00") == Zone("+0100")) << "names as given";
}

}  // namespace
}  // namespace tessera::base
