#pragma once

// ExtractConsent reads the consent an event reports, per purpose (privacy/consent_purpose.h):
//   context.consent.categoryPreferences  Segment's Consent Management format, e.g.
//                                        {"Advertising": true, "Analytics": false}
//   context.consent.<purpose>            a plain map of booleans, e.g. {"marketing_email": true}
//   traits.consent.<purpose>             the same plain map, on identify events only (as traits)
// Names are normalized ("Functional Cookies" -> "functional_cookies"). When one event names a
// purpose more than once, the last of the order above wins. Anything that is not a boolean under a
// valid purpose name (a string "yes", null, a name with other characters, a consent member that is
// not an object) is reported as a warning naming the field and ignored: consent is never guessed,
// and a malformed consent member never rejects the event.
//
// Thread-safety: a pure function with a per-thread parser.

#include <string>
#include <vector>

#include "ingest/event.h"

namespace tessera::privacy {

struct ConsentReport {
  std::string purpose;  // Normalized.
  bool granted = false;
};

struct ExtractedConsent {
  std::vector<ConsentReport> reports;  // One per purpose, sorted by purpose.
  // e.g. `context.consent.sms: expected true or false, got "yes"; ignored`
  std::vector<std::string> warnings;
};

ExtractedConsent ExtractConsent(const ingest::CanonicalEvent& event);

}  // namespace tessera::privacy
