#pragma once

// Which events are contacts with customer service, and how the resolver records them in a
// profile's ServiceHistory (profile_store/service_history.h).
//
// Only track events of sources on the `service` channel count, by name (docs/connectors.md lists
// what the Zendesk, Freshdesk, Twilio Voice and contact-log connectors send; any source on the
// channel may send the same events itself):
//   "Ticket Created" / "Ticket Updated" / "Ticket Solved"   a ticket: properties.provider (else the
//       source's name), ticket_id (required), status (else "solved" for Ticket Solved, "open"),
//       subject, priority; a new ticket is a contact of kind "ticket" with its subject as reason.
//   "Call Completed" / "Call Missed" / "Call Not Connected" a call: call_sid or contact_id (else the
//       message id), direction ("outbound-api" and the like count as outbound), reason, else queue.
//   "Chat Completed" / "Chat Missed", "Contact Completed" / "Contact Missed"  a logged contact:
//       contact_id (else the message id), contact_type (else "chat" / "other"), direction, reason.
// Any of these with properties.csat 1 or 0 (else satisfaction "good" / "bad") rates its ticket or
// contact. Everything is a pure function of the event and its log sequence, so a replay records the
// same.

#include <cstdint>

#include "ingest/event.h"
#include "profile_store/profile.h"

namespace tessera::resolve {

// Records `event` in `profile.service` when it is one of the events above; true when it did.
bool RecordServiceEvent(const ingest::CanonicalEvent& event, uint64_t sequence, profile_store::Profile& profile);

}  // namespace tessera::resolve
