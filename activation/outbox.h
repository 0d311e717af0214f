#pragma once

// The outbox: what each destination is still to receive, kept in the store's `outbox` family, one
// row per event or audience change, numbered per destination in the order the resolver applied
// them (so per profile too). The resolver writes rows in the same WriteBatch as the changes they
// report (activation/outbox_writer.h); a destination's delivery reads them from its cursor on,
// and deletes what was delivered in the batch that moves the cursor (activation/delivery.h). Rows
// survive kill -9 like the rest of the state: a lost unsynced tail is written again, under the
// same numbers, when the resolver replays the log.
//
// Keys (profile_store/KEYS.md):
//   outbox:                 space, 0x00, destination, 0x00, sequence (u64 BE) -> EncodeOutboxItem
//   delivery_dead_letters:  the same key -> EncodeDeliveryDeadLetter
//   meta `activation/delivered/<space>/<destination>`: the last sequence delivered or dead-lettered.

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "base/time.h"
#include "profile_store/store.h"

namespace tessera::activation {

enum class OutboxKind : uint8_t { kEvent = 0, kAudienceEntered = 1, kAudienceExited = 2 };

struct OutboxItem {
  OutboxKind kind = OutboxKind::kEvent;
  uint64_t profile_id = 0;
  uint64_t log_sequence = 0;  // The event's; 0 for audience changes.
  base::Timestamp time{};     // The event's time, or when the change happened.
  std::string message_id;     // The event's, or one derived from the change (AudienceChangeId).
  std::string audience;       // Changes only.
  std::string reason;         // Changes only: why (a merge, an erasure, consent withdrawn); may be empty.
  std::string user_id;        // The profile's user id, if any (its newest).
  std::string anonymous_id;   // The profile's anonymous id, if any and no user id.
  // The profile's identifiers (type, normalized value) when the row was written: an exit after an
  // erasure must still name whom to remove.
  std::vector<std::pair<std::string, std::string>> identifiers;
  // Events: the event as accepted (ingest::EncodeEventJson). Not in the rows the resolver writes,
  // which name the log position only; delivery reads the event from the log, and a dead letter
  // keeps it.
  std::string event_json;
  std::string traits_json;  // Changes: the profile's traits as one JSON object.
};

void EncodeOutboxItem(const OutboxItem& item, std::string& out);
// DataLoss for a damaged or unknown-version row.
absl::StatusOr<OutboxItem> DecodeOutboxItem(std::string_view row);

// A stable message id for an audience change: the same change replayed gets the same id.
std::string AudienceChangeId(std::string_view space, std::string_view audience, uint64_t profile_id, bool entered,
                             base::Timestamp time);

// "space\0destination\0" and that prefix followed by the sequence.
std::string OutboxPrefix(std::string_view space, std::string_view destination);
std::string OutboxKey(std::string_view space, std::string_view destination, uint64_t sequence);
// The sequence at the end of an outbox (or dead-letter) key; 0 when the key is not one.
uint64_t OutboxKeySequence(std::string_view key);
std::string DeliveredCursorKey(std::string_view space, std::string_view destination);

// The destination's delivered cursor (0 before the first delivery), and the sequence of its newest
// waiting row (0 when none waits): together, where the writer and the delivery start again.
absl::StatusOr<uint64_t> ReadDeliveredCursor(const profile_store::Store& store, std::string_view space,
                                             std::string_view destination);
absl::StatusOr<uint64_t> NewestOutboxRow(const profile_store::Store& store, std::string_view space,
                                         std::string_view destination);

// What a delivery that was given up on keeps: the item, why, and what the destination last said.
struct DeliveryDeadLetter {
  std::string reason;         // "HTTP 400: ...", "retried for 86400 s: HTTP 503", "timed out", ...
  int last_status = 0;        // The last HTTP status, 0 when there was none.
  std::string last_response;  // Up to 1 KiB of the last answer's body.
  uint32_t attempts = 0;
  base::Timestamp first_attempt{};
  base::Timestamp last_attempt{};
  std::string item;  // The outbox row (EncodeOutboxItem).
};

void EncodeDeliveryDeadLetter(const DeliveryDeadLetter& letter, std::string& out);
absl::StatusOr<DeliveryDeadLetter> DecodeDeliveryDeadLetter(std::string_view row);

}  // namespace tessera::activation
