#pragma once

// Internal to the Segment parser (ingest/segment_*.cc): how a field is checked and how its error is
// phrased. JSON text helpers, FieldError construction, and the readers of the typed members of an
// event or envelope (strings, ids, timestamps, the event type). Defined in ingest/segment_fields.cc.

#include <optional>
#include <string>
#include <string_view>

#include "ingest/event.h"
#include "ingest/segment_parser.h"
#include "simdjson.h"

namespace tessera::ingest {

// simdjson's On-Demand API, for the parser's files (the only ones that include this header).
namespace od = simdjson::ondemand;

namespace internal {

// The JSON type as an error message names it: "an object", "a string", "null"...
std::string_view DescribeType(od::json_type type);

constexpr bool IsJsonWhitespace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

inline std::string_view TrimJsonWhitespace(std::string_view text) {
  while (!text.empty() && IsJsonWhitespace(text.front())) text.remove_prefix(1);
  while (!text.empty() && IsJsonWhitespace(text.back())) text.remove_suffix(1);
  return text;
}

// -?(0|[1-9][0-9]*): an integer as JSON writes it, of any magnitude.
bool IsJsonInteger(std::string_view token);

// `prefix`.`field`, or whichever of the two is not empty.
std::string JoinPath(std::string_view prefix, std::string_view field);

// A FieldError whose message is "<field>: <detail>" (just the detail when `field` is empty).
FieldError MakeError(std::string_view code, std::string field, std::string_view detail);

// "not valid JSON (<simdjson's message>)".
std::string InvalidJsonDetail(simdjson::error_code error);

// `value` as a JSON string for an error message, cut short (with "...") beyond 64 bytes.
std::string QuoteForMessage(std::string_view value);

// Reads a literal null, which simdjson only fully checks when asked ("nul" and "nullx" are not null).
bool IsValidNull(od::value& value);

// Reads a string member; null leaves `out` empty.
bool ReadString(od::value value, std::string_view prefix, std::string_view name, std::string& out,
                FieldError& error);

// Reads userId / anonymousId / previousId / groupId: Segment allows a string or an integer, which
// becomes its decimal text. Null leaves `out` empty.
bool ReadId(od::value value, std::string_view prefix, std::string_view name, std::string& out,
            FieldError& error);

// Reads sentAt / timestamp / originalTimestamp: an ISO-8601 date-time string.
bool ReadTimestamp(od::value value, std::string_view prefix, std::string_view name,
                   std::optional<Timestamp>& out, FieldError& error);

// Reads "type": one of the six Segment calls.
bool ReadEventType(od::value value, std::string_view prefix, std::optional<EventType>& out,
                   FieldError& error);

// After a failed pass over `doc`: the string member `name` of its top-level object, or "" when it
// is absent, not a string, or cannot be reached.
std::string_view FindTopLevelString(od::document& doc, std::string_view name);

// Reads a member's key and value; anything but SUCCESS means the JSON is broken there.
// (`field` is what iterating an object yields: a field or the error found there.)
template <typename FieldResult>
simdjson::error_code KeyAndValue(FieldResult& field, std::string_view& key, od::value& value) {
  simdjson::error_code e = field.unescaped_key().get(key);
  if (e == simdjson::SUCCESS) e = field.value().get(value);
  return e;
}

}  // namespace internal
}  // namespace tessera::ingest
