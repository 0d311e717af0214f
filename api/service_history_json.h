#pragma once

// The "service" member of a profile (GET /v1/profiles/{ref}): the person's service history at one
// moment, for CRM front ends and the console's profile page.
//
//   {"openTickets": 1, "solvedTickets": 2,
//    "tickets": [{"provider", "id", "status", "open", "subject", "priority", "openedAt", "updatedAt",
//                 "satisfaction": "good" | "bad" | null}, ...]   newest update first
//    "lastContact": {"at", "kind", "provider", "direction", "outcome", "reason"} | null,
//    "calls30d": 2, "contacts30d": 3,          contacts at or after now - 30 days
//    "csatAvg90d": 0.5 | null, "ratings90d": 2}  satisfaction ratings at or after now - 90 days
//
// Every profile has it; a person who never contacted service has zeros, [] and nulls.

#include "base/json_writer.h"
#include "base/time.h"
#include "profile_store/service_history.h"

namespace tessera::api {

void WriteServiceHistory(base::JsonWriter& json, const profile_store::ServiceHistory& service, base::Timestamp now);

}  // namespace tessera::api
