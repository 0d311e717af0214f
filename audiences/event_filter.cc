// The event filter of a definition (audiences/internal/event_filter.h): which events an
// aggregate counts.

#include "audiences/internal/event_filter.h"

#include <algorithm>
#include <array>
#include <string>
#include <string_view>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "audiences/definitions.h"
#include "audiences/internal/parsing.h"

namespace tessera::audiences::internal {
namespace {

constexpr std::array<std::string_view, 6> kEventTypes = {"track",  "identify", "page",
                                                         "screen", "group",    "alias"};

}  // namespace

absl::Status ReadFilter(const Members& members, std::string_view path, EventFilter& filter) {
  if (const auto type = members.Get("type")) {
    const std::string type_path = ChildPath(path, "type");
    auto text = ReadString(*type, type_path);
    if (!text.ok()) return text.status();
    if (std::find(kEventTypes.begin(), kEventTypes.end(), *text) == kEventTypes.end()) {
      return Invalid(type_path, absl::StrCat(Quote(*text), " is not one of ", JoinNames(kEventTypes)));
    }
    filter.type = *std::move(text);
  }
  if (const auto event = members.Get("event")) {
    auto text = ReadString(*event, ChildPath(path, "event"), /*allow_empty=*/true);
    if (!text.ok()) return text.status();
    filter.event = *std::move(text);
  }
  if (const auto channel = members.Get("channel")) {
    auto text = ReadString(*channel, ChildPath(path, "channel"));
    if (!text.ok()) return text.status();
    filter.channel = *std::move(text);
  }
  if (!filter.event.empty()) {
    if (filter.type.empty()) {
      filter.type = "track";
    } else if (filter.type != "track") {
      return Invalid(ChildPath(path, "type"),
                     absl::StrCat("only track events have an event name; ", Quote(filter.type),
                                  " cannot be combined with event ", Quote(filter.event)));
    }
  }
  return absl::OkStatus();
}

}  // namespace tessera::audiences::internal
