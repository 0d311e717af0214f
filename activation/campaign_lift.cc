#include "activation/campaign_lift.h"

#include <map>
#include <string>

#include "absl/strings/str_split.h"
#include "activation/holdout.h"
#include "ingest/event_codec.h"
#include "profile_store/audience_store.h"
#include "profile_store/profile_reader.h"
#include "simdjson.h"

namespace tessera::activation {
namespace {

using profile_store::ColumnFamily;
using profile_store::ProfileId;

// The number at a dotted path of an event's JSON; 0 when absent or not a number (a numeric string
// counts: some sources send "12.50").
double NumberAt(simdjson::dom::parser& parser, const std::string& json, const std::string& path) {
  simdjson::dom::element node;
  if (parser.parse(json).get(node) != simdjson::SUCCESS) return 0;
  for (absl::string_view segment : absl::StrSplit(path, '.')) {
    simdjson::dom::element child;
    if (node.at_key(std::string_view(segment.data(), segment.size())).get(child) != simdjson::SUCCESS) return 0;
    node = child;
  }
  double value = 0;
  if (node.get_double().get(value) == simdjson::SUCCESS) return value;
  int64_t whole = 0;
  if (node.get_int64().get(whole) == simdjson::SUCCESS) return static_cast<double>(whole);
  std::string_view text;
  if (node.get_string().get(text) == simdjson::SUCCESS) {
    try {
      return std::stod(std::string(text));
    } catch (...) {
      return 0;
    }
  }
  return 0;
}

}  // namespace

absl::StatusOr<LiftReport> MeasureLift(profile_store::Store& store, std::string_view space,
                                       const audiences::Audience& audience, base::Timestamp since,
                                       base::Timestamp until, base::Timestamp now) {
  // First entry per profile in the period. Keys: prefix, time (u64 BE), profile id (u64 BE).
  std::map<uint64_t, base::Timestamp> entered;
  const std::string prefix = profile_store::AudienceChangePrefix(space, audience.name);
  absl::Status scanned = store.ScanPrefix(
      ColumnFamily::kAudienceChanges, prefix, [&](std::string_view key, std::string_view value) {
        if (key.size() < prefix.size() + 16) return;
        if (value.find("\"change\":\"enter\"") == std::string_view::npos) return;
        const base::Timestamp time(std::chrono::microseconds(
            static_cast<int64_t>(profile_store::ReadBigEndian64(key.substr(prefix.size(), 8)))));
        if (time < since || time >= until) return;
        const uint64_t profile = profile_store::ReadBigEndian64(key.substr(prefix.size() + 8, 8));
        entered.try_emplace(profile, time);  // Keys are in time order: the first one stays.
      });
  if (!scanned.ok()) return scanned;

  LiftReport report;
  report.entries = entered.size();
  profile_store::ProfileReader reader(store);
  simdjson::dom::parser parser;
  const auto window = std::chrono::hours(24) * audience.conversion.within_days;
  for (const auto& [id, time] : entered) {
    absl::StatusOr<std::optional<profile_store::Profile>> profile = reader.Load(space, ProfileId{id});
    if (!profile.ok()) return profile.status();
    if (!profile->has_value()) {
      ++report.erased;
      continue;
    }
    if (time + window > now) ++report.window_not_over;
    GroupOutcome& group =
        InHoldout(space, audience.name, profile_store::FormatProfileId(ProfileId{id}), audience.holdout)
            ? report.holdout
            : report.treated;
    ++group.members;
    profile_store::TimelineFilter filter;
    filter.types = {"track"};
    filter.events = {audience.conversion.event};
    filter.since = time;
    filter.until = time + window;
    bool converted = false;
    std::optional<profile_store::TimelineCursor> after;
    do {
      absl::StatusOr<profile_store::TimelinePage> page = reader.Timeline(space, **profile, filter, 100, after);
      if (!page.ok()) return page.status();
      for (const profile_store::TimelineEntry& entry : page->entries) {
        converted = true;
        absl::StatusOr<std::optional<std::string>> record = reader.LogRecord(space, entry.sequence);
        if (!record.ok()) return record.status();
        if (!record->has_value()) continue;  // Left the log by retention: counted, without its revenue.
        absl::StatusOr<std::string> json = ingest::RecordAsJson(**record);
        if (json.ok()) group.revenue += NumberAt(parser, *json, audience.conversion.revenue);
      }
      after = page->next;
    } while (after);
    if (converted) ++group.converted;
  }
  report.lift = ComputeLift(report.treated, report.holdout);
  return report;
}

}  // namespace tessera::activation
