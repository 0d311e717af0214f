// The destinations section (issue 23): where a space's events and audience changes are pushed.
// Only the envelope is checked here; each type's options are activation/'s to validate.

#include <algorithm>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "config/internal/json_reader.h"
#include "config/internal/sections.h"
#include "simdjson.h"

namespace tessera::config::internal {
namespace {

constexpr std::string_view kTypes[] = {"webhook",           "meta_custom_audience", "google_customer_match",
                                       "sendgrid_contacts", "mailgun_list",         "kakao_alimtalk",
                                       "nats"};
constexpr std::string_view kEventTypes[] = {"track", "identify", "page", "screen", "group", "alias"};

template <size_t N>
bool OneOf(std::string_view value, const std::string_view (&allowed)[N]) {
  return std::find(std::begin(allowed), std::end(allowed), value) != std::end(allowed);
}

absl::Status ReadEvents(element value, const std::string& path, DestinationConfig& destination) {
  if (absl::Status s = ReadObject(value, path,
                                  {{"types", StringListReader(destination.event_types)},
                                   {"names", StringListReader(destination.event_names)}});
      !s.ok()) {
    return s;
  }
  for (size_t i = 0; i < destination.event_types.size(); ++i) {
    if (!OneOf(destination.event_types[i], kEventTypes)) {
      return Invalid(IndexPath(ChildPath(path, "types"), i),
                     absl::StrCat(Quote(destination.event_types[i]),
                                  " is not one of track, identify, page, screen, group, alias"));
    }
  }
  return absl::OkStatus();
}

absl::Status ReadRetry(element value, const std::string& path, DestinationConfig& destination) {
  if (absl::Status s = ReadObject(value, path,
                                  {{"initial_ms", DurationReader(destination.retry_initial, 10, 3'600'000)},
                                   {"max_ms", DurationReader(destination.retry_max, 10, 3'600'000)}});
      !s.ok()) {
    return s;
  }
  if (destination.retry_max < destination.retry_initial) {
    return Invalid(ChildPath(path, "max_ms"), "must be at least initial_ms");
  }
  return absl::OkStatus();
}

absl::Status ReadOptions(element value, const std::string& path, std::string& options_json) {
  simdjson::dom::object object;
  if (value.get_object().get(object) != simdjson::SUCCESS) return Expected(path, "an object", value);
  options_json = std::string(simdjson::minify(value));
  return absl::OkStatus();
}

absl::Status ReadDestination(element value, const std::string& path, DestinationConfig& destination) {
  auto text = [](std::string& out) {
    return [&out](element v, const std::string& p) { return ReadNonEmptyString(v, p, out); };
  };
  if (absl::Status s = ReadObject(
          value, path,
          {{"name", text(destination.name)},
           {"space", text(destination.space)},
           {"type", text(destination.type)},
           {"url", text(destination.url)},
           {"secret", text(destination.secret)},
           {"events", [&](element v, const std::string& p) { return ReadEvents(v, p, destination); }},
           {"audiences", StringListReader(destination.audiences)},
           {"consent", text(destination.consent)},
           {"batch_events", SizeReader(destination.batch_events, 1, 10'000)},
           {"requests_per_second", SizeReader(destination.requests_per_second, 1, 10'000)},
           {"timeout_ms", DurationReader(destination.timeout, 100, 300'000)},
           {"dead_letter_after_seconds", DurationReader(destination.dead_letter_after, 1, 30 * 86'400)},
           {"retry", [&](element v, const std::string& p) { return ReadRetry(v, p, destination); }},
           {"ca_file", text(destination.ca_file)},
           // The names are ingest's list (ingest/free_text.h), checked where tools/ builds the
           // activation::DestinationSpec: config depends on nothing that knows it.
           {"free_text", StringListReader(destination.free_text)},
           {"options", [&](element v, const std::string& p) { return ReadOptions(v, p, destination.options_json); }}});
      !s.ok()) {
    return s;
  }
  if (destination.name.empty()) return Invalid(ChildPath(path, "name"), "missing");
  if (!IsSlug(destination.name, "_-")) {
    return Invalid(ChildPath(path, "name"), absl::StrCat(Quote(destination.name), " must be 1 to 64 of a-z, 0-9, _ and -"));
  }
  if (destination.type.empty()) return Invalid(ChildPath(path, "type"), "missing");
  if (!OneOf(destination.type, kTypes)) {
    return Invalid(ChildPath(path, "type"),
                   absl::StrCat(Quote(destination.type),
                                " is not one of webhook, meta_custom_audience, google_customer_match, "
                                "sendgrid_contacts, mailgun_list, kakao_alimtalk, nats"));
  }
  if ((destination.type == "webhook" || destination.type == "nats") && destination.url.empty()) {
    return Invalid(ChildPath(path, "url"), "missing");
  }
  if (destination.type == "nats" && !absl::StartsWith(destination.url, "nats://") &&
      !absl::StartsWith(destination.url, "tls://")) {
    return Invalid(ChildPath(path, "url"), absl::StrCat(Quote(destination.url), " must start with nats:// (or tls://)"));
  }
  if (!destination.url.empty() && destination.type != "nats" && !absl::StartsWith(destination.url, "https://") &&
      !absl::StartsWith(destination.url, "http://")) {
    return Invalid(ChildPath(path, "url"), absl::StrCat(Quote(destination.url), " must start with https:// (or http://)"));
  }
  if (destination.event_types.empty() && !destination.event_names.empty()) {
    return Invalid(ChildPath(ChildPath(path, "events"), "types"), "names filter track events: list \"track\"");
  }
  if (destination.event_types.empty() && destination.audiences.empty()) {
    return Invalid(path, "sends nothing: give events.types or audiences");
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ReadDestinations(element value, const std::string& path, std::vector<DestinationConfig>& destinations) {
  if (absl::Status s = ReadArray(value, path,
                                 [&](element item, const std::string& item_path) {
                                   return ReadDestination(item, item_path, destinations.emplace_back());
                                 });
      !s.ok()) {
    return s;
  }
  for (size_t i = 0; i < destinations.size(); ++i) {
    for (size_t j = 0; j < i; ++j) {
      if (destinations[j].name == destinations[i].name) {
        return Invalid(ChildPath(IndexPath(path, i), "name"), absl::StrCat(Quote(destinations[i].name), " is used twice"));
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace tessera::config::internal
