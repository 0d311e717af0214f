#pragma once

// EventPreparer does the part of applying a log record that needs nothing of the identity graph:
// decode the record, find its identifiers and normalize them, read the traits it sets and the
// consent it reports. The resolver's apply stage then needs only the graph and the profile. Being a
// pure function of the record (and the configuration), it can run ahead of the apply stage on
// another thread (resolve/log_prefetcher.h) without changing what is applied or in which order.
//
// Thread-safety: Prepare is const and may run on any one thread at a time per preparer (the
// normalizer and extractor it holds are safe to share).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "identity/normalizer.h"
#include "ingest/event.h"
#include "ingest/identifier_extractor.h"
#include "ingest/log_command.h"
#include "ingest/stewardship_command.h"
#include "privacy/consent_extractor.h"

namespace tessera::resolve {

struct PreparedIdentifier {
  std::string field;  // Where the event carried it, for warnings ("traits.email").
  std::string type;   // Its type, or ingest::kPreviousIdType for an alias's previousId.
  identity::NormalizedValue normalized;  // For every type but previous_id.
  // previous_id only: the value read as a user id and as an anonymous id; the apply stage picks one
  // by what the graph already knows.
  identity::NormalizedValue as_user_id;
  identity::NormalizedValue as_anonymous_id;
};

// One trait write, in the order the profile must see them (see Prepare).
struct TraitWrite {
  std::string name;
  std::string json;  // The value as minified JSON.
  bool set_once = false;
};

struct PreparedEvent {
  uint64_t sequence = 0;
  // Set for a command record (ingest/log_command.h), which is carried out rather than applied;
  // nothing below is then set. A damaged command is undecodable like a damaged event.
  std::optional<ingest::ErasureCommand> command;
  // Set for a stewardship command (ingest/stewardship_command.h), likewise carried out.
  std::optional<ingest::StewardshipCommand> decision;
  absl::Status decode_status;  // Not OK: the record could not be decoded and is dead-lettered.
  std::string undecodable;     // When decode_status is not OK: the record's bytes, for the dead letter.
  ingest::CanonicalEvent event;
  std::vector<PreparedIdentifier> identifiers;  // In the extractor's order.
  std::vector<std::string> warnings;            // The extractor's warnings.
  std::vector<TraitWrite> traits;
  bool traits_ok = true;  // False when a traits member was not a JSON object.
  privacy::ExtractedConsent consent;
};

class EventPreparer {
 public:
  EventPreparer(const identity::Normalizer& normalizer, const ingest::IdentifierExtractor& extractor)
      : normalizer_(normalizer), extractor_(extractor) {}

  // Trait writes come in this order: an identify event's `traits` members (their `$set_once`
  // members after the others, as set-once writes), then `context.$set_once` members (set-once),
  // then `context.traits` members (whose own `$set_once` is ignored).
  PreparedEvent Prepare(uint64_t sequence, std::string_view record) const;

 private:
  const identity::Normalizer& normalizer_;
  const ingest::IdentifierExtractor& extractor_;
};

}  // namespace tessera::resolve
