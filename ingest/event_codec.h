#pragma once

// The accepted-event log's record format, and the JSON form of an event that users see.
//
// A record's first byte is its version:
//
//   v1 (0x01), what EncodeEvent writes: binary, with the primitives of base/coding.h.
//     0x01
//     flags        1 byte: bits 0-2 the type (0 track, 1 identify, 2 page, 3 screen, 4 group,
//                  5 alias), bit 3 messageIdGenerated, bit 4 originalTimestamp follows,
//                  bit 5 sentAt follows; bits 6-7 zero
//     present      varint: bit i set when optional field i (list below) follows; no other bits
//     receivedAt   signed varint (zig-zag): microseconds since the Unix epoch
//     timestamp    signed varint: microseconds after receivedAt (negative: before)
//     [originalTimestamp]  signed varint, microseconds after receivedAt, when flags bit 4
//     [sentAt]             signed varint, microseconds after receivedAt, when flags bit 5
//     messageId    varint length, bytes
//     then each present optional field in this order, as varint length and bytes:
//       0 space, 1 source, 2 channel, 3 userId, 4 anonymousId, 5 previousId, 6 groupId, 7 event,
//       8 name, 9 category, 10 traits, 11 properties, 12 context, 13 integrations
//     and nothing after the last one. Absent means empty; EncodeEvent leaves empty strings out.
//     traits .. integrations are the minified JSON text of the object, as the API serves it. The
//     other strings are well-formed UTF-8: EncodeEvent replaces ill-formed sequences with U+FFFD,
//     as the JSON record did, so a decoded event is the same in either version.
//     Times relative to receivedAt keep the usual record small (an event's times are within
//     seconds of its arrival); the differences wrap modulo 2^64, so every time round-trips.
//
//   v0 (the byte '{'), written before: one JSON object with Segment's field names plus Tessera's
//     own (messageIdGenerated, space, source, channel, receivedAt, originalTimestamp); times as
//     ISO-8601 text. DecodeEvent still reads it, so stores written before keep working; nothing
//     writes it to the log any more, and EncodeEventJson writes exactly this text for the edges.
//
// Any other first byte is refused: a record from a newer build is reported, never misread.

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "ingest/event.h"

namespace tessera::ingest {

// Appends the log record (v1) for `event` to `out`.
void EncodeEvent(const CanonicalEvent& event, std::string& out);

// Decodes a record of any version above; InvalidArgument naming the field when it is damaged, or
// naming the version byte when it is none this build knows.
absl::StatusOr<CanonicalEvent> DecodeEvent(std::string_view record);

// Appends `event` as one JSON object (the v0 text: empty fields and unset times left out), the
// form the API, `tessera log` and dead letters show.
void EncodeEventJson(const CanonicalEvent& event, std::string& out);

// The JSON object users see for a record: a v0 record's text as it is stored, a v1 record decoded
// and written by EncodeEventJson. The same text for the same event in either version.
absl::StatusOr<std::string> RecordAsJson(std::string_view record);

}  // namespace tessera::ingest
