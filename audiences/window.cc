// Windows of time in definitions: parsing them (audiences/internal/window.h), the retention they
// need, and Window::Start.

#include "audiences/internal/window.h"

#include <charconv>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "audiences/definitions.h"
#include "audiences/internal/parsing.h"
#include "base/time_zone.h"
#include "simdjson.h"

namespace tessera::audiences {
namespace internal {

using std::chrono::hours;
using std::chrono::microseconds;
using std::chrono::minutes;

microseconds RetentionOf(const Window& window) {
  if (window.calendar_zone) return hours(24) * (window.calendar_days + 1);
  return window.length;
}

absl::StatusOr<Window> ParseWindow(element value, std::string_view path) {
  Window window;
  if (value.type() == element_type::STRING) {
    const std::string_view text = value.get_string().value_unsafe();
    const std::string error = absl::StrCat(Quote(text), ": expected a number followed by d, h or m");
    if (text.size() < 2) return Invalid(path, error);
    int64_t count = 0;
    const char* end = text.data() + text.size() - 1;
    const auto [ptr, ec] = std::from_chars(text.data(), end, count);
    if (ec != std::errc() || ptr != end || !(text.front() >= '0' && text.front() <= '9'))
      return Invalid(path, error);
    int64_t max = 0;
    std::string_view unit;
    microseconds unit_length{0};
    switch (text.back()) {
      case 'd':
        max = kMaxWindowDays;
        unit = "days";
        unit_length = hours(24);
        break;
      case 'h':
        max = kMaxWindowDays * 24;
        unit = "hours";
        unit_length = hours(1);
        break;
      case 'm':
        max = kMaxWindowDays * 24 * 60;
        unit = "minutes";
        unit_length = minutes(1);
        break;
      default:
        return Invalid(path, error);
    }
    if (count < 1 || count > max) {
      return Invalid(path, absl::StrCat(Quote(text), ": expected 1 to ", max, " ", ToAbsl(unit)));
    }
    window.length = unit_length * count;
    return window;
  }
  if (value.type() != element_type::OBJECT) {
    return Expected(path, "a string like \"30d\" or an object {\"days\":N,\"timeZone\":\"...\"}", value);
  }
  auto members = Members::Read(value, path, "an object", {"days", "timeZone"});
  if (!members.ok()) return members.status();
  const std::string days_path = ChildPath(path, "days");
  const std::optional<element> days = members->Get("days");
  if (!days) return Invalid(days_path, "required");
  int64_t count = 0;
  if (days->get_int64().get(count) != simdjson::SUCCESS || count < 1 || count > kMaxWindowDays) {
    return Expected(days_path, absl::StrCat("an integer from 1 to ", kMaxWindowDays), *days);
  }
  std::string zone_name = "UTC";
  if (const std::optional<element> zone = members->Get("timeZone")) {
    auto name = ReadString(*zone, ChildPath(path, "timeZone"));
    if (!name.ok()) return name.status();
    zone_name = *std::move(name);
  }
  window.calendar_zone = base::TimeZone::Parse(zone_name);
  if (!window.calendar_zone) {
    return Invalid(ChildPath(path, "timeZone"), absl::StrCat(Quote(zone_name), " is not a known time zone"));
  }
  window.calendar_days = count;
  window.length = hours(24) * count;
  return window;
}

}  // namespace internal

base::Timestamp Window::Start(base::Timestamp now) const {
  if (calendar_zone) return calendar_zone->StartOfLocalDay(now, calendar_days - 1);
  return now - length;
}

}  // namespace tessera::audiences
