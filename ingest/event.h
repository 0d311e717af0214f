#pragma once

// The canonical event: what every channel's payload becomes, and what the accepted-event log
// stores. Field names follow the Segment spec; JSON sub-documents (traits, properties, context,
// integrations) are kept as validated, minified JSON text so they can be stored and served
// without another round of parsing.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/time.h"

namespace tessera::ingest {

using Timestamp = base::Timestamp;

enum class EventType : uint8_t { kTrack, kIdentify, kPage, kScreen, kGroup, kAlias };

// "track", "identify", ... as in the Segment spec.
std::string_view EventTypeName(EventType type);
// The inverse of EventTypeName; nullopt for anything else (including different case).
std::optional<EventType> ParseEventType(std::string_view name);

// The authenticated origin of a request, from its write key: every event of the request is stamped
// with its space, name and channel.
struct SourceRef {
  std::string name;
  std::string space;
  std::string channel;
  // Service sources only: whether the free-text properties of its events (ingest/free_text.h) are
  // logged; without it the pipeline removes them first (config sources[i].keep_free_text).
  bool keep_free_text = false;
};

struct CanonicalEvent {
  std::string message_id;
  bool message_id_generated = false;  // True when the client sent none and Tessera derived it.
  EventType type = EventType::kTrack;

  // Where it came from: the write key's source decides these, never the payload.
  std::string space;
  std::string source;   // The source's name.
  std::string channel;  // web, app, pos, email, social, server, service.

  std::string user_id;
  std::string anonymous_id;
  std::string previous_id;  // alias
  std::string group_id;     // group
  std::string event;        // track: the event name
  std::string name;         // page / screen name
  std::string category;     // page category

  // Minified JSON objects; empty when absent.
  std::string traits;
  std::string properties;
  std::string context;
  std::string integrations;

  Timestamp timestamp{};                    // Event time, corrected for client clock skew.
  std::optional<Timestamp> original_timestamp;  // The client's own timestamp, if it sent one.
  std::optional<Timestamp> sent_at;             // When the client sent it, if it said.
  Timestamp received_at{};                  // When Tessera received the request.
};

}  // namespace tessera::ingest
