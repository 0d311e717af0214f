#include "base/time.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace tessera::base {
namespace {

Timestamp Micros(int64_t micros_since_epoch) {
  return Timestamp{std::chrono::microseconds{micros_since_epoch}};
}

struct ValidCase {
  std::string text;
  int64_t micros;  // Expected microseconds since the epoch (computed independently of the parser).
};

TEST(ParseIso8601Test, AcceptsTheFormsSegmentClientsSend) {
  const std::vector<ValidCase> cases = {
      {"1970-01-01T00:00:00Z", 0},
      {"2015-02-23T22:28:55.111Z", 1424730535111000},
      {"2015-02-23t22:28:55.111z", 1424730535111000},  // Lower-case separator and zone.
      {"2015-02-23 22:28:55.111Z", 1424730535111000},  // Space separator.
      {"2015-02-23T22:28:55.111", 1424730535111000},   // No offset means UTC.
      {"2015-02-23T22:28:55.111+00:00", 1424730535111000},
      {"2015-02-23T22:28:55.111-00:00", 1424730535111000},
      {"2015-02-23T22:28:55+09:00", 1424698135000000},
      {"2015-02-23T22:28:55+0900", 1424698135000000},
      {"2015-02-23T22:28:55+09", 1424698135000000},
      {"2015-02-23T22:28:55.111111-05:00", 1424748535111111},
      {"2015-02-23T22:28:55.111111-0500", 1424748535111111},
      {"2015-02-23T22:28:55.111111-05", 1424748535111111},
      {"2015-02-23T22:28:55.111111+05:30", 1424748535111111 - (10 * 60 + 30) * 60 * 1000000LL},
      {"2016-02-29T12:00:00Z", 1456747200000000},  // Leap year.
      {"2000-02-29T00:00:00Z", 951782400000000},   // Divisible by 400: leap.
      {"1969-12-31T23:59:59.999Z", -1000},         // Before the epoch.
      {"9999-12-31T23:59:59.999999Z", 253402300799999999},
      {"0001-01-01T00:00:00Z", -62135596800000000},
  };
  for (const ValidCase& c : cases) {
    const std::optional<Timestamp> parsed = ParseIso8601(c.text);
    ASSERT_TRUE(parsed.has_value()) << "rejected valid date-time \"" << c.text << "\"";
    EXPECT_EQ(parsed->time_since_epoch().count(), c.micros) << "wrong instant for \"" << c.text << "\"";
  }
}

TEST(ParseIso8601Test, FractionsOfOneToNineDigitsAreTruncatedToMicroseconds) {
  const int64_t base = 1424730535000000;  // 2015-02-23T22:28:55Z
  const std::vector<std::pair<std::string, int64_t>> fractions = {
      {"1", 100000},         {"12", 120000},        {"123", 123000},     {"1234", 123400},
      {"12345", 123450},     {"123456", 123456},    {"1234567", 123456}, {"12345678", 123456},
      {"123456789", 123456}, {"999999999", 999999},
  };
  for (const auto& [digits, micros] : fractions) {
    const std::string text = "2015-02-23T22:28:55." + digits + "Z";
    const std::optional<Timestamp> parsed = ParseIso8601(text);
    ASSERT_TRUE(parsed.has_value()) << "rejected " << digits.size() << "-digit fraction in " << text;
    EXPECT_EQ(parsed->time_since_epoch().count(), base + micros) << "for " << text;
  }
}

TEST(ParseIso8601Test, RejectsMalformedAndImpossibleDateTimes) {
  const std::vector<std::string> invalid = {
      "",
      "2015",
      "2015-02-23",               // Date only: Segment always sends a time.
      "2015-02-23T22:28",         // No seconds.
      "2015-2-02T00:30:08.276Z",  // Single-digit month (as in Segment's own batch example).
      "2015-02-2T00:30:08Z",
      "15-02-23T22:28:55Z",
      "2015/02/23T22:28:55Z",
      "2015-02-23X22:28:55Z",
      "2015-02-23T22-28-55Z",
      "2015-02-30T00:00:00Z",  // Feb 30.
      "2015-02-29T00:00:00Z",  // Not a leap year.
      "1900-02-29T00:00:00Z",  // Divisible by 100 but not 400.
      "2015-04-31T00:00:00Z",  // April has 30 days.
      "2015-13-01T00:00:00Z",
      "2015-00-10T00:00:00Z",
      "2015-01-00T00:00:00Z",
      "2015-01-32T00:00:00Z",
      "2015-02-23T24:00:00Z",  // 24:00 is not accepted.
      "2015-02-23T23:60:00Z",
      "2015-02-23T23:59:60Z",             // Leap second.
      "2015-02-23T22:28:55.Z",            // Empty fraction.
      "2015-02-23T22:28:55.1234567890Z",  // Ten fraction digits.
      "2015-02-23T22:28:55,111Z",         // Comma decimal separator.
      "2015-02-23T22:28:55.111ZZ",        // Trailing junk.
      "2015-02-23T22:28:55.111Z ",
      " 2015-02-23T22:28:55.111Z",
      "2015-02-23T22:28:55.111+",
      "2015-02-23T22:28:55.111+5",
      "2015-02-23T22:28:55.111+05:",
      "2015-02-23T22:28:55.111+05:3",
      "2015-02-23T22:28:55.111+05:300",
      "2015-02-23T22:28:55.111+24:00",
      "2015-02-23T22:28:55.111+05:60",
      "2015-02-23T22:28:55.111 +05:00",
      "2015-02-23T22:28:55.111UTC",
      "２０１５-02-23T22:28:55Z",  // Full-width digits.
      "not a date at all",
  };
  for (const std::string& text : invalid) {
    EXPECT_FALSE(ParseIso8601(text).has_value()) << "accepted invalid date-time \"" << text << "\"";
  }
}

TEST(FormatIso8601Test, WritesMillisecondsUnlessMicrosecondsAreNeeded) {
  EXPECT_EQ(FormatIso8601(Micros(1424730535111000)), "2015-02-23T22:28:55.111Z");
  EXPECT_EQ(FormatIso8601(Micros(1424730535111111)), "2015-02-23T22:28:55.111111Z");
  EXPECT_EQ(FormatIso8601(Micros(1424730535000000)), "2015-02-23T22:28:55.000Z");
  EXPECT_EQ(FormatIso8601(Micros(1424730535000001)), "2015-02-23T22:28:55.000001Z");
  EXPECT_EQ(FormatIso8601(Timestamp{}), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(FormatIso8601(Micros(-1000)), "1969-12-31T23:59:59.999Z")
      << "times before the epoch floor to the day";
  EXPECT_EQ(FormatIso8601(Micros(951782400000000)), "2000-02-29T00:00:00.000Z");
}

TEST(FormatIso8601Test, AppendKeepsWhatIsAlreadyThere) {
  std::string out = "at ";
  AppendIso8601(out, Micros(1424730535111000));
  EXPECT_EQ(out, "at 2015-02-23T22:28:55.111Z");
}

TEST(FormatIso8601Test, ParseReadsBackWhatFormatWrites) {
  std::mt19937_64 random(20150223);
  // Years 0001..9999: the range both functions promise.
  std::uniform_int_distribution<int64_t> micros(-62135596800000000, 253402300799999999);
  for (int i = 0; i < 10000; ++i) {
    const Timestamp time = Micros(micros(random));
    const std::string text = FormatIso8601(time);
    const std::optional<Timestamp> parsed = ParseIso8601(text);
    ASSERT_TRUE(parsed.has_value()) << "could not parse formatted \"" << text << "\"";
    ASSERT_EQ(*parsed, time) << "round trip changed the instant for \"" << text << "\"";
  }
}

}  // namespace
}  // namespace tessera::base
