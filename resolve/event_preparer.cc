#include "resolve/event_preparer.h"

#include <utility>

#include "base/json_reading.h"
#include "ingest/event_codec.h"
#include "simdjson.h"

namespace tessera::resolve {
namespace {

namespace od = simdjson::ondemand;

constexpr std::string_view kSetOnce = "$set_once";

// Calls `visit(name, raw_json)` for each member of the JSON object `json` (minified, as stored).
template <typename Visit>
bool ForEachMember(std::string_view json, Visit&& visit) {
  if (json.empty()) return true;
  thread_local base::ReusableJsonParser parser;
  od::document doc;
  if (parser.Iterate(json).get(doc)) return false;
  od::object object;
  if (doc.get_object().get(object)) return false;
  for (auto field : object) {
    std::string_view name;
    od::value value;
    std::string_view raw;
    if (field.unescaped_key().get(name) || field.value().get(value) ||
        base::RawJsonOf(value, raw) != simdjson::SUCCESS)
      return false;
    visit(name, raw);
  }
  return true;
}

// The value of member `name` of a JSON object, as raw JSON; empty when absent.
std::string MemberOf(std::string_view json, std::string_view name) {
  std::string found;
  ForEachMember(json, [&](std::string_view member, std::string_view raw) {
    if (member == name && found.empty()) found.assign(raw);
  });
  return found;
}

// A traits object: plain members as they come, then the members of its "$set_once" member (when
// allowed) as set-once writes.
bool ReadTraits(std::string_view traits, bool allow_set_once, std::vector<TraitWrite>& out) {
  std::vector<std::string> set_once_objects;
  bool ok = ForEachMember(traits, [&](std::string_view name, std::string_view raw) {
    if (name == kSetOnce) {
      if (allow_set_once) set_once_objects.emplace_back(raw);
      return;
    }
    out.push_back(TraitWrite{.name = std::string(name), .json = std::string(raw), .set_once = false});
  });
  for (const std::string& raw : set_once_objects) {
    ok &= ForEachMember(raw, [&](std::string_view name, std::string_view value) {
      out.push_back(TraitWrite{.name = std::string(name), .json = std::string(value), .set_once = true});
    });
  }
  return ok;
}

}  // namespace

PreparedEvent EventPreparer::Prepare(uint64_t sequence, std::string_view record) const {
  PreparedEvent prepared;
  prepared.sequence = sequence;
  if (ingest::IsStewardshipCommand(record)) {
    absl::StatusOr<ingest::StewardshipCommand> decision = ingest::DecodeStewardshipCommand(record);
    if (decision.ok()) {
      prepared.decision = *std::move(decision);
    } else {
      prepared.decode_status = decision.status();
      prepared.undecodable = "(a stewardship command that could not be read; its bytes are not kept)";
    }
    return prepared;
  }
  if (ingest::IsCommandRecord(record)) {
    absl::StatusOr<ingest::ErasureCommand> command = ingest::DecodeErasureCommand(record);
    if (command.ok()) {
      prepared.command = *std::move(command);
    } else {
      // Dead-lettered without its bytes: they may hold an identifier's value, which a dead letter
      // (searched by erasure for decodable events only) would keep out of erasure's reach.
      prepared.decode_status = command.status();
      prepared.undecodable = "(an erasure command that could not be read; its bytes are not kept)";
    }
    return prepared;
  }
  absl::StatusOr<ingest::CanonicalEvent> decoded = ingest::DecodeEvent(record);
  if (!decoded.ok()) {
    prepared.decode_status = decoded.status();
    prepared.undecodable.assign(record);  // Only then: a decoded event is dead-lettered as JSON.
    return prepared;
  }
  prepared.event = *std::move(decoded);
  const ingest::CanonicalEvent& event = prepared.event;

  ingest::ExtractedIdentifiers extracted = extractor_.Extract(event);
  const identity::PhoneContext phone_context = ingest::PhoneContextOf(event, extracted);
  prepared.warnings = std::move(extracted.warnings);
  prepared.identifiers.reserve(extracted.identifiers.size());
  for (identity::RawIdentifier& raw : extracted.identifiers) {
    PreparedIdentifier identifier;
    identifier.field = std::move(raw.field);
    identifier.type = std::move(raw.type);
    if (identifier.type == ingest::kPreviousIdType) {
      identifier.as_user_id = normalizer_.Normalize(identity::identifier_type::kUserId, raw.value);
      identifier.as_anonymous_id =
          normalizer_.Normalize(identity::identifier_type::kAnonymousId, raw.value, phone_context);
    } else {
      identifier.normalized = normalizer_.Normalize(identifier.type, raw.value, phone_context);
    }
    prepared.identifiers.push_back(std::move(identifier));
  }

  if (event.type == ingest::EventType::kIdentify) {
    prepared.traits_ok &= ReadTraits(event.traits, /*allow_set_once=*/true, prepared.traits);
    const std::string set_once = MemberOf(event.context, kSetOnce);
    if (!set_once.empty()) {
      prepared.traits_ok &= ForEachMember(set_once, [&](std::string_view name, std::string_view raw) {
        prepared.traits.push_back(TraitWrite{.name = std::string(name), .json = std::string(raw), .set_once = true});
      });
    }
  }
  const std::string context_traits = MemberOf(event.context, "traits");
  if (!context_traits.empty()) {
    prepared.traits_ok &= ReadTraits(context_traits, /*allow_set_once=*/false, prepared.traits);
  }
  prepared.consent = privacy::ExtractConsent(event);
  return prepared;
}

}  // namespace tessera::resolve
