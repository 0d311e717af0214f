#include "resolve/identity_links.h"

#include <algorithm>
#include <map>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "ingest/event_codec.h"

namespace tessera::resolve {
namespace {

// Timeline entries read per page while scanning.
constexpr size_t kPage = 200;

}  // namespace

std::string IdentifierKey(std::string_view type, std::string_view value) {
  return absl::StrCat(std::string(type), ":", std::string(value));
}

absl::StatusOr<IdentityLinks> FindIdentityLinks(const profile_store::ProfileReader& reader,
                                                std::string_view space, const profile_store::Profile& profile,
                                                const ingest::IdentifierExtractor& extractor,
                                                const identity::Normalizer& normalizer, size_t max_events) {
  std::set<std::pair<std::string, std::string>> known;
  std::set<std::string> user_ids;
  for (const profile_store::IdentityRecord& identity : profile.identities) {
    known.emplace(identity.type, identity.value);
    if (identity.type == "user_id") user_ids.insert(identity.value);
  }

  IdentityLinks result;
  std::map<std::pair<std::string, std::string>, IdentityLink> links;
  std::optional<profile_store::TimelineCursor> after;
  while (result.scanned_events < max_events) {
    absl::StatusOr<profile_store::TimelinePage> page =
        reader.Timeline(space, profile, {}, std::min(kPage, max_events - result.scanned_events), after);
    if (!page.ok()) return page.status();
    for (const profile_store::TimelineEntry& entry : page->entries) {
      ++result.scanned_events;
      absl::StatusOr<std::optional<std::string>> record = reader.LogRecord(space, entry.sequence);
      if (!record.ok()) return record.status();
      if (!record->has_value()) continue;  // Removed by retention: what it linked is not known any more.
      absl::StatusOr<ingest::CanonicalEvent> event = ingest::DecodeEvent(**record);
      if (!event.ok())
        continue;  // Unreadable records were dead-lettered, never applied: they linked nothing.
      std::vector<std::string> ids;
      const ingest::ExtractedIdentifiers extracted = extractor.Extract(*event);
      const identity::PhoneContext phone = ingest::PhoneContextOf(*event, extracted);
      for (const identity::RawIdentifier& raw : extracted.identifiers) {
        std::string type = raw.type;
        identity::NormalizedValue normalized;
        if (type == ingest::kPreviousIdType) {
          // The resolver reads previousId as a user id when that user is known, else as an
          // anonymous id; for this person, that is whichever of the two they hold.
          normalized = normalizer.Normalize("user_id", raw.value);
          type = user_ids.contains(normalized.value) ? "user_id" : "anonymous_id";
          if (type == "anonymous_id") normalized = normalizer.Normalize(type, raw.value);
        } else {
          normalized = normalizer.Normalize(type, raw.value, phone);
        }
        if (normalized.outcome != identity::NormalizedValue::Outcome::kOk) continue;
        if (!known.contains({type, normalized.value})) continue;
        std::string key = IdentifierKey(type, normalized.value);
        if (std::find(ids.begin(), ids.end(), key) == ids.end()) ids.push_back(std::move(key));
      }
      for (size_t i = 1; i < ids.size(); ++i) {
        IdentityLink& link = links[{ids[0], ids[i]}];
        const std::string name =
            !event->event.empty() ? event->event : std::string(ingest::EventTypeName(event->type));
        if (link.event_names.size() < kMaxLinkNames) link.event_names.insert(name);
        link.sources.insert(event->source);
        link.channels.insert(event->channel);
        // Newest first: each event seen is older than those before it.
        if (link.events == 0) link.last = entry.time;
        link.first = entry.time;
        link.first_message_id = event->message_id;
        ++link.events;
      }
    }
    if (!page->next) break;
    after = page->next;
    if (result.scanned_events >= max_events) result.complete = false;
  }
  result.links.reserve(links.size());
  for (auto& [ends, link] : links) {
    link.from = ends.first;
    link.to = ends.second;
    result.links.push_back(std::move(link));
  }
  return result;
}

}  // namespace tessera::resolve
