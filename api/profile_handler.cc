#include "api/profile_handler.h"

#include <algorithm>
#include <charconv>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "api/reply_json.h"
#include "api/service_history_json.h"
#include "audiences/evaluation.h"
#include "base/json_writer.h"
#include "base/time.h"
#include "identity/identifier.h"
#include "ingest/event_codec.h"
#include "resolve/identity_links.h"
#include "xxhash.h"

namespace tessera::api {
namespace {

using base::JsonWriter;
using profile_store::FormatProfileId;
using profile_store::Profile;
using profile_store::ProfileId;

constexpr size_t kDefaultLimit = 50;
constexpr size_t kMaxLimit = 1000;

std::string Join(const std::vector<std::string>& values) {
  std::string joined;
  for (const std::string& value : values) absl::StrAppend(&joined, joined.empty() ? "" : ", ", value);
  return joined;
}

std::vector<std::string_view> SplitCommas(std::string_view text) {
  std::vector<std::string_view> parts;
  while (!text.empty()) {
    const size_t comma = text.find(',');
    std::string_view part = text.substr(0, comma);
    if (!part.empty()) parts.push_back(part);
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  return parts;
}

void WriteTime(JsonWriter& json, std::string_view key, base::Timestamp time) {
  json.Key(key).String(base::FormatIso8601(time));
}

// Phones carry "valid": whether libphonenumber's metadata knows the number's range. It is worked
// out here, from the stored E.164 value, rather than stored: it is a property of the installed
// metadata, not of the events, so a newer libphonenumber corrects it without a rebuild, and the
// profile encoding stays as it is.
void WritePhoneValidity(JsonWriter& json, const profile_store::IdentityRecord& identity) {
  if (identity.type != identity::identifier_type::kPhone) return;
  json.Key("valid").Bool(identity::Normalizer::IsValidPhoneNumber(identity.value));
}

void WriteIdentities(JsonWriter& json, const Profile& profile) {
  json.BeginArray();
  for (const profile_store::IdentityRecord& identity : profile.identities) {
    json.BeginObject();
    json.Key("type").String(identity.type);
    json.Key("value").String(identity.value);
    WritePhoneValidity(json, identity);
    WriteTime(json, "firstSeen", identity.first_seen);
    WriteTime(json, "lastSeen", identity.last_seen);
    json.Key("sources").BeginArray();
    for (const std::string& source : identity.sources) json.String(source);
    json.EndArray();
    json.EndObject();
  }
  json.EndArray();
}

void WriteTraits(JsonWriter& json, const Profile& profile) {
  json.BeginObject();
  for (const auto& [name, trait] : profile.traits) json.Key(name).Raw(trait.json);
  json.EndObject();
}

// "consent": {purpose: {"granted","at","source","channel"}}, the newest report per purpose.
void WriteConsent(JsonWriter& json, const Profile& profile) {
  json.BeginObject();
  for (const auto& [purpose, record] : profile.consent) {
    json.Key(purpose).BeginObject();
    json.Key("granted").Bool(record.granted);
    WriteTime(json, "at", record.time);
    json.Key("source").String(record.source);
    json.Key("channel").String(record.channel);
    json.EndObject();
  }
  json.EndObject();
}

// "computedTraits": each computed trait of the space that has a value for the profile now.
void WriteComputedTraits(JsonWriter& json, const Profile& profile, const audiences::SpaceAudiences* space) {
  json.BeginObject();
  if (space != nullptr) {
    const std::shared_ptr<const audiences::DefinitionSet> definitions = space->definitions();
    if (!definitions->computed.empty()) {
      const audiences::SpaceFigures figures = space->figures();
      const base::Timestamp now = ReceivedNow();
      for (const auto& trait : definitions->computed) {
        std::optional<std::string> value = audiences::ComputedValue(*trait, profile, now, figures);
        if (value) json.Key(trait->name).Raw(*value);
      }
    }
  }
  json.EndObject();
}

// "audiences": the audiences the profile is in, as the resolver recorded them, that still exist
// (a deleted audience's memberships are removed by the resolver later).
void WriteAudiences(JsonWriter& json, const Profile& profile, const audiences::SpaceAudiences* space) {
  json.BeginObject();
  if (space != nullptr && !profile.audiences.empty()) {
    const std::shared_ptr<const audiences::DefinitionSet> definitions = space->definitions();
    for (const auto& [name, entered] : profile.audiences) {
      if (definitions->FindAudience(name) == nullptr) continue;
      json.Key(name).BeginObject();
      WriteTime(json, "enteredAt", entered);
      json.EndObject();
    }
  }
  json.EndObject();
}

// The whole profile, or only the members named in `fields` (empty: all).
std::string ProfileJson(const Profile& profile, const std::vector<std::string_view>& fields,
                        const audiences::SpaceAudiences* space) {
  auto wanted = [&](std::string_view name) {
    return fields.empty() || std::find(fields.begin(), fields.end(), name) != fields.end();
  };
  std::string body;
  JsonWriter json(body);
  json.BeginObject();
  json.Key("profileId").String(FormatProfileId(profile.id));
  if (wanted("traits")) {
    json.Key("traits");
    WriteTraits(json, profile);
  }
  if (wanted("consent")) {
    json.Key("consent");
    WriteConsent(json, profile);
  }
  if (wanted("identities")) {
    json.Key("identities");
    WriteIdentities(json, profile);
  }
  if (wanted("channels")) {
    json.Key("channels").BeginObject();
    for (const auto& [name, channel] : profile.channels) {
      json.Key(name).BeginObject();
      WriteTime(json, "firstSeen", channel.first_seen);
      WriteTime(json, "lastSeen", channel.last_seen);
      json.Key("events").Uint(channel.events);
      json.EndObject();
    }
    json.EndObject();
  }
  if (wanted("service")) {
    json.Key("service");
    WriteServiceHistory(json, profile.service, ReceivedNow());
  }
  if (wanted("firstSeen")) WriteTime(json, "firstSeen", profile.first_seen);
  if (wanted("lastSeen")) WriteTime(json, "lastSeen", profile.last_seen);
  if (wanted("eventCount")) json.Key("eventCount").Uint(profile.event_count);
  if (wanted("mergedFrom")) {
    json.Key("mergedFrom").BeginArray();
    for (ProfileId id : profile.merged_from) json.String(FormatProfileId(id));
    json.EndArray();
  }
  if (wanted("computedTraits")) {
    json.Key("computedTraits");
    WriteComputedTraits(json, profile, space);
  }
  if (wanted("audiences")) {
    json.Key("audiences");
    WriteAudiences(json, profile, space);
  }
  json.EndObject();
  return body;
}

HttpReply JsonReply(std::string body) {
  HttpReply reply;
  reply.body = std::move(body);
  return reply;
}

}  // namespace

ProfileHandler::ProfileHandler(const KeyRegistry& keys, const profile_store::ProfileReader& reader,
                               const identity::Normalizer& normalizer, std::vector<std::string> known_types,
                               std::vector<std::string> spaces, SpaceLookup audiences)
    : keys_(keys),
      reader_(reader),
      normalizer_(normalizer),
      known_types_(std::move(known_types)),
      spaces_(std::move(spaces)),
      audiences_(std::move(audiences)) {
  std::sort(known_types_.begin(), known_types_.end());
  known_types_.erase(std::unique(known_types_.begin(), known_types_.end()), known_types_.end());
}

std::optional<HttpReply> ProfileHandler::Refusal(const ProfileRequest& request) const {
  // Who may read: read and admin keys. A write key is known but not allowed.
  std::optional<std::string_view> token = BearerToken(request.authorization);
  if (!token || token->empty()) {
    return ErrorReply(401, "unauthorized", "send a read key as Authorization: Bearer KEY");
  }
  // Authorized before anything is looked up, so that a wrong key learns nothing about which
  // profiles exist: its answer is the same for every path.
  const KeyScope scope = keys_.Identify(*token).scope;
  if (scope == KeyScope::kUnknown) return ErrorReply(401, "unauthorized", "unknown key");
  if (scope == KeyScope::kWrite) {
    return ErrorReply(403, "forbidden", "a write key cannot read profiles; use a read key");
  }
  std::string_view space = QueryParam(request.query, "space");
  if (space.empty()) space = "default";
  if (std::find(spaces_.begin(), spaces_.end(), space) == spaces_.end()) {
    return ErrorReply(404, "not_found", absl::StrCat("no space \"", std::string(space), "\""), "space");
  }
  return std::nullopt;
}

HttpReply ProfileHandler::Handle(const ProfileRequest& request) const {
  if (std::optional<HttpReply> refused = Refusal(request)) return *std::move(refused);
  std::string space = "default";
  if (std::string_view requested = QueryParam(request.query, "space"); !requested.empty()) space = requested;

  // "{type}:{value}[/subresource]"; a '/' inside the value is percent-encoded.
  std::string_view path = request.path;
  std::string_view subresource;
  if (size_t slash = path.find('/'); slash != std::string_view::npos) {
    subresource = path.substr(slash + 1);
    path = path.substr(0, slash);
  }
  const size_t colon = path.find(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == path.size()) {
    return ErrorReply(400, "invalid_value", "expected /v1/profiles/{type}:{value}, e.g. email:ada%40example.com",
                      "path");
  }
  const std::string type(path.substr(0, colon));
  std::optional<std::string> value = UrlDecode(path.substr(colon + 1));
  if (!value) return ErrorReply(400, "invalid_value", "the identifier value is not validly percent-encoded", "path");

  absl::StatusOr<std::optional<Profile>> loaded;
  if (type == "id") {
    std::optional<ProfileId> id = profile_store::ParseProfileId(*value);
    if (!id) return ErrorReply(400, "invalid_value", "\"" + *value + "\" is not a profile id (p + 16 hex digits)", "path");
    loaded = reader_.Load(space, *id);
  } else {
    if (!std::binary_search(known_types_.begin(), known_types_.end(), type)) {
      return ErrorReply(400, "unknown_identifier_type",
                        absl::StrCat("unknown identifier type \"", type, "\"; known types: id, ", Join(known_types_)),
                        "path");
    }
    // A phone without a country code is read in ?region= (if possible there), then in the default
    // region, as an event from a source with that phone_region would be.
    std::optional<std::string> region = UrlDecode(QueryParam(request.query, "region"));
    if (!region) return ErrorReply(400, "invalid_value", "not validly percent-encoded", "region");
    if (!region->empty() && !identity::Normalizer::IsSupportedPhoneRegion(*region)) {
      return ErrorReply(400, "invalid_value",
                        absl::StrCat("region: \"", *region,
                                     "\" is not a region libphonenumber supports; expected an upper-case ISO "
                                     "3166-1 alpha-2 code such as \"KR\""),
                        "region");
    }
    identity::NormalizedValue normalized =
        normalizer_.Normalize(type, *value, identity::PhoneContext{.country = *region});
    if (normalized.outcome == identity::NormalizedValue::Outcome::kInvalid) {
      return ErrorReply(400, "invalid_value", absl::StrCat(type, ": ", normalized.reason), "path");
    }
    if (normalized.outcome == identity::NormalizedValue::Outcome::kBlocked) {
      return ErrorReply(404, "not_found", absl::StrCat(type, ": ", normalized.reason, "; it never links a profile"));
    }
    loaded = reader_.FindByIdentifier(space, type, normalized.value);
  }
  if (!loaded.ok()) return ErrorReply(500, "internal", std::string(loaded.status().message()));
  if (!loaded->has_value()) return ErrorReply(404, "not_found", "no profile for " + type + ":" + *value);
  HttpReply reply = Respond(request, space, **loaded, subresource);
  // The audit log names the profile and how it was found, never the identifier's value.
  reply.audit_target = absl::StrCat("profile ", FormatProfileId((*loaded)->id), " by ", type,
                                    subresource.empty() ? "" : "/", std::string(subresource));
  return reply;
}

HttpReply ProfileHandler::Respond(const ProfileRequest& request, const std::string& space, const Profile& profile,
                                  std::string_view subresource) const {
  if (subresource.empty()) {
    std::vector<std::string_view> fields = SplitCommas(QueryParam(request.query, "fields"));
    const audiences::SpaceAudiences* space_audiences = audiences_ ? audiences_(space) : nullptr;
    HttpReply reply = JsonReply(ProfileJson(profile, fields, space_audiences));
    const std::string etag = absl::StrCat("\"", XXH3_64bits(reply.body.data(), reply.body.size()), "\"");
    if (!request.if_none_match.empty() && request.if_none_match == etag) {
      return HttpReply{.status = 304, .body = "", .headers = {{"ETag", etag}}};
    }
    reply.headers.emplace_back("ETag", etag);
    return reply;
  }
  if (subresource == "predictions" && predictions_) return predictions_(space, profile, request.query);
  if (subresource == "duplicates" && duplicates_) return duplicates_(space, profile, request.query);
  if (subresource == "traits") {
    std::string body;
    JsonWriter json(body);
    json.BeginObject().Key("profileId").String(FormatProfileId(profile.id)).Key("traits");
    WriteTraits(json, profile);
    json.EndObject();
    return JsonReply(std::move(body));
  }
  if (subresource == "identities") {
    std::string body;
    JsonWriter json(body);
    json.BeginObject().Key("profileId").String(FormatProfileId(profile.id)).Key("identities");
    WriteIdentities(json, profile);
    json.EndObject();
    return JsonReply(std::move(body));
  }
  if (subresource == "merges") {
    auto records = reader_.MergeRecords(space, profile);
    if (!records.ok()) return ErrorReply(500, "internal", std::string(records.status().message()));
    std::string body;
    JsonWriter json(body);
    json.BeginObject().Key("profileId").String(FormatProfileId(profile.id)).Key("merges").BeginArray();
    for (const std::string& record : *records) json.Raw(record);
    json.EndArray().EndObject();
    return JsonReply(std::move(body));
  }
  if (subresource == "graph") return Graph(request, space, profile);
  if (subresource != "events") {
    return ErrorReply(404, "not_found",
                      absl::StrCat("no such resource \"", std::string(subresource),
                                   "\"; use events, graph, identities, merges or traits"));
  }

  // Events: filters, limit and cursor.
  size_t limit = kDefaultLimit;
  if (std::string_view text = QueryParam(request.query, "limit"); !text.empty()) {
    auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), limit);
    if (error != std::errc() || end != text.data() + text.size() || limit < 1 || limit > kMaxLimit) {
      return ErrorReply(400, "invalid_value", absl::StrCat("limit must be an integer from 1 to ", kMaxLimit), "limit");
    }
  }
  std::optional<profile_store::TimelineCursor> after;
  if (std::string_view text = QueryParam(request.query, "cursor"); !text.empty()) {
    after = profile_store::DecodeCursor(text);
    if (!after) return ErrorReply(400, "invalid_cursor", "the cursor is not one this API returned", "cursor");
  }
  profile_store::TimelineFilter filter;
  for (auto [name, target] : {std::pair{"type", &filter.types}, std::pair{"event", &filter.events},
                              std::pair{"channel", &filter.channels}}) {
    std::optional<std::string> decoded = UrlDecode(QueryParam(request.query, name));
    if (!decoded) return ErrorReply(400, "invalid_value", "not validly percent-encoded", name);
    for (std::string_view part : SplitCommas(*decoded)) target->emplace_back(part);
  }
  for (auto [name, target] : {std::pair{"since", &filter.since}, std::pair{"until", &filter.until}}) {
    std::optional<std::string> decoded = UrlDecode(QueryParam(request.query, name));
    if (!decoded) return ErrorReply(400, "invalid_value", "not validly percent-encoded", name);
    if (decoded->empty()) continue;
    *target = base::ParseIso8601(*decoded);
    if (!*target) {
      return ErrorReply(400, "invalid_timestamp", absl::StrCat(name, ": expected an ISO-8601 date-time"), name);
    }
  }
  auto page = reader_.Timeline(space, profile, filter, limit, after);
  if (!page.ok()) return ErrorReply(500, "internal", std::string(page.status().message()));

  std::string body;
  JsonWriter json(body);
  json.BeginObject().Key("profileId").String(FormatProfileId(profile.id)).Key("events").BeginArray();
  for (const profile_store::TimelineEntry& entry : page->entries) {
    auto record = reader_.LogRecord(space, entry.sequence);
    if (!record.ok()) return ErrorReply(500, "internal", std::string(record.status().message()));
    json.BeginObject();
    json.Key("sequence").Uint(entry.sequence);
    std::string summary;
    profile_store::AppendTimelineSummaryJson(entry.summary, summary);
    json.Key("summary").Raw(summary);
    if (record->has_value()) {
      absl::StatusOr<std::string> event = ingest::RecordAsJson(**record);
      if (!event.ok()) return ErrorReply(500, "internal", std::string(event.status().message()));
      json.Key("event").Raw(*event);
    }
    json.EndObject();
  }
  json.EndArray();
  json.Key("next");
  if (page->next) {
    json.String(profile_store::EncodeCursor(*page->next));
  } else {
    json.Null();
  }
  json.EndObject();
  return JsonReply(std::move(body));
}

namespace {

constexpr size_t kDefaultGraphEvents = 1000;
constexpr size_t kMaxGraphEvents = 5000;

}  // namespace

// The graph: the profile's identities as nodes, the links resolve::FindIdentityLinks finds in its
// timeline as edges, and its merge records.
HttpReply ProfileHandler::Graph(const ProfileRequest& request, const std::string& space,
                                const Profile& profile) const {
  if (extractor_ == nullptr) return ErrorReply(404, "not_found", "the identity graph is not served here");
  size_t limit = kDefaultGraphEvents;
  // An empty "limit=" is refused like any other bad value, not taken for the default.
  if (std::optional<std::string_view> text = FindQueryParam(request.query, "limit")) {
    auto [end, error] = std::from_chars(text->data(), text->data() + text->size(), limit);
    if (text->empty() || error != std::errc() || end != text->data() + text->size() || limit < 1 ||
        limit > kMaxGraphEvents) {
      return ErrorReply(400, "invalid_value",
                        absl::StrCat("limit must be an integer from 1 to ", kMaxGraphEvents), "limit");
    }
  }
  absl::StatusOr<resolve::IdentityLinks> links =
      resolve::FindIdentityLinks(reader_, space, profile, *extractor_, normalizer_, limit);
  if (!links.ok()) return ErrorReply(500, "internal", std::string(links.status().message()));
  auto records = reader_.MergeRecords(space, profile);
  if (!records.ok()) return ErrorReply(500, "internal", std::string(records.status().message()));

  std::string body;
  JsonWriter json(body);
  json.BeginObject().Key("profileId").String(FormatProfileId(profile.id));
  json.Key("nodes").BeginArray();
  for (const profile_store::IdentityRecord& identity : profile.identities) {
    json.BeginObject().Key("id").String(resolve::IdentifierKey(identity.type, identity.value));
    json.Key("type").String(identity.type).Key("value").String(identity.value);
    WritePhoneValidity(json, identity);
    WriteTime(json, "firstSeen", identity.first_seen);
    WriteTime(json, "lastSeen", identity.last_seen);
    json.Key("sources").BeginArray();
    for (const std::string& source : identity.sources) json.String(source);
    json.EndArray().EndObject();
  }
  json.EndArray().Key("edges").BeginArray();
  auto strings = [&json](std::string_view key, const std::set<std::string>& values) {
    json.Key(key).BeginArray();
    for (const std::string& value : values) json.String(value);
    json.EndArray();
  };
  for (const resolve::IdentityLink& link : links->links) {
    json.BeginObject().Key("from").String(link.from).Key("to").String(link.to);
    json.Key("events").Uint(link.events);
    strings("eventNames", link.event_names);
    strings("sources", link.sources);
    strings("channels", link.channels);
    WriteTime(json, "firstSeen", link.first);
    WriteTime(json, "lastSeen", link.last);
    json.Key("firstMessageId").String(link.first_message_id);
    json.EndObject();
  }
  json.EndArray();
  json.Key("scannedEvents").Uint(links->scanned_events).Key("complete").Bool(links->complete);
  json.Key("merges").BeginArray();
  for (const std::string& record : *records) json.Raw(record);
  json.EndArray().EndObject();
  return JsonReply(std::move(body));
}

}  // namespace tessera::api
