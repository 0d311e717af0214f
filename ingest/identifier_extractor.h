#pragma once

// IdentifierExtractor finds every identifier an event carries, as raw (not yet normalized) values:
//   userId -> user_id, anonymousId -> anonymous_id, previousId (alias) -> see below,
//   traits.email / context.traits.email -> email, traits.phone / context.traits.phone -> phone,
//   context.device.id -> device_id,
//   context.device.advertisingId -> idfa (iOS) or gaid (Android), decided by context.os.name
//     ("iOS", "iPadOS", "tvOS", "watchOS" -> idfa; "Android" -> gaid; else context.device.type
//     "ios"/"android"); skipped when context.device.adTrackingEnabled is false,
//   context.externalIds[] ({id, type, collection, encoding}) -> type as given (lower-cased,
//     non-[a-z0-9_] characters replaced by '_'; "email"/"phone"/"user_id" etc. map to the built-ins),
//   plus configured mappings {type, field} where field is a dotted path into the event, e.g.
//     "context.traits.loyaltyCard" or "properties.loyalty_id".
// Values that are strings are taken as they are; integer numbers as their decimal text (except for
// email); anything else at a mapped path is reported as a warning, never an error. Empty strings and
// nulls count as absent. Only identify events' traits are read (a group's traits describe the
// group, not the person); context.traits is read for every type. Each JSON sub-document is parsed
// at most once, and only when something is looked up in it.
//
// Where the event's phone numbers are from, for numbers without a country code: context.locale and
// context.location.country, when they are strings (anything else there is ignored), kept as they
// are; PhoneContextOf hands them to the normalizer with the event's space and source.
//
// previousId is reported with type "previous_id": the resolver decides whether it names a user or
// an anonymous visitor (it is whichever of the two is already known, else an anonymous id).
//
// Thread-safety: Extract keeps a per-thread parser; the object itself is immutable.

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "identity/identifier.h"
#include "identity/normalizer.h"
#include "ingest/event.h"

namespace tessera::ingest {

struct IdentifierMapping {
  std::string type;   // identifier type, [a-z0-9_]{1,64}
  std::string field;  // dotted path: traits.x, context.x.y, properties.x (top-level members too)
};

struct ExtractedIdentifiers {
  std::vector<identity::RawIdentifier> identifiers;  // in the order above; duplicates removed
  std::vector<std::string> warnings;                 // e.g. "context.externalIds[2]: missing id"
  std::string locale;                                // context.locale, e.g. "ko-KR"; empty if none
  std::string location_country;                      // context.location.country, e.g. "South Korea"
};

// What the normalizer needs to read the event's phone numbers: the hints above and the source.
// The result borrows from its arguments.
identity::PhoneContext PhoneContextOf(std::string_view space, std::string_view source,
                                      const ExtractedIdentifiers& extracted);
inline identity::PhoneContext PhoneContextOf(const CanonicalEvent& event,
                                             const ExtractedIdentifiers& extracted) {
  return PhoneContextOf(event.space, event.source, extracted);
}

// The pseudo-type of alias previousId values (see above).
inline constexpr std::string_view kPreviousIdType = "previous_id";

class IdentifierExtractor {
 public:
  explicit IdentifierExtractor(std::vector<IdentifierMapping> mappings = {});

  ExtractedIdentifiers Extract(const CanonicalEvent& event) const;

 private:
  struct Plan;  // The lookups per sub-document, built once from the mappings.
  std::shared_ptr<const Plan> plan_;
};

}  // namespace tessera::ingest
