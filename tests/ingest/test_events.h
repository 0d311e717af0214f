#pragma once

// Canonical events for ingest tests, built directly (no parsing involved).

#include <chrono>
#include <string>

#include "ingest/event.h"

namespace tessera::ingest::testing {

inline Timestamp FixedTime(int64_t seconds_after_2024 = 0) {
  // 2024-01-01T00:00:00Z
  return Timestamp(std::chrono::seconds(1'704'067'200 + seconds_after_2024));
}

inline CanonicalEvent TrackEvent(std::string message_id, std::string space = "default",
                                 Timestamp received_at = FixedTime()) {
  CanonicalEvent event;
  event.message_id = std::move(message_id);
  event.type = EventType::kTrack;
  event.space = std::move(space);
  event.source = "website";
  event.channel = "web";
  event.user_id = "user-1";
  event.event = "Order Completed";
  event.properties = R"({"total":42.5})";
  event.timestamp = received_at;
  event.received_at = received_at;
  return event;
}

}  // namespace tessera::ingest::testing
