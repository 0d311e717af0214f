#pragma once

// What the wire formats (activation/*_format.cc) share: reading a destination's `options`,
// URL and form encoding, the member's emails and phones, and the Segment-style JSON of an item.
//
// Thread-safety: pure functions; an OptionsReader is used by one thread.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "activation/destination.h"
#include "activation/outbox.h"
#include "simdjson.h"

namespace tessera::activation::internal {

// The destination's `options` object, read once.
class OptionsReader {
 public:
  // InvalidArgument when options is not a JSON object.
  static absl::StatusOr<OptionsReader> Parse(const DestinationSpec& destination);

  // The string at `key`: InvalidArgument naming `options.<key>` and `what` when it is missing (or
  // empty) and required, or not a string.
  absl::StatusOr<std::string> String(std::string_view key, std::string_view what, bool required = true) const;
  // False when absent; InvalidArgument when not a boolean.
  absl::StatusOr<bool> Bool(std::string_view key) const;
  // The object at `key` (nullopt when absent); InvalidArgument when not an object.
  absl::StatusOr<std::optional<simdjson::dom::object>> Object(std::string_view key) const;

 private:
  OptionsReader() : parser_(std::make_unique<simdjson::dom::parser>()) {}
  std::unique_ptr<simdjson::dom::parser> parser_;
  simdjson::dom::object root_;
};

// application/x-www-form-urlencoded (WHATWG URL standard): [A-Za-z0-9*-._] as they are, ' ' as
// '+', every other byte %XX.
void AppendFormEncoded(std::string& out, std::string_view text);
// A URL path segment or query value (RFC 3986): unreserved bytes and '@' (which a path segment
// may hold, as Mailgun's list addresses do) as they are, the rest %XX.
void AppendPercentEncoded(std::string& out, std::string_view text);

// The member's identifiers of one type (identity/identifier.h), in the order the profile lists them.
std::vector<std::string> IdentifiersOf(const OutboxItem& item, std::string_view type);

// `target` of the destination's URL joined with `path` (which starts with '/').
std::string JoinTarget(std::string_view base_target, std::string_view path);

// The item as a Segment event for `destination`: an event as accepted, less the free-text
// properties of a service event that destination.free_text does not name (ingest/free_text.h); an
// audience change as its track event. An error (EventUnreadable) when the event cannot be read.
absl::StatusOr<std::string> ItemAsEvent(const DestinationSpec& destination, const OutboxItem& item);

// InvalidArgument naming the event (its log position and message id) whose JSON could not be read
// to remove its free text: sending it as it is could forward text nobody allowed.
absl::Status EventUnreadable(const OutboxItem& item, const absl::Status& why);

// The text of the value at `dotted_path` ("properties.order_id", "context.traits.name") in
// `json`: a string as it is, a number or boolean as JSON writes it; nullopt when absent or an
// object, array or null.
std::optional<std::string> TextAtPath(std::string_view json, std::string_view dotted_path);

// InvalidArgument when an audience-only destination (`provider`) has an `events` section.
absl::Status RefuseEvents(const DestinationSpec& destination, std::string_view provider);

// Whether `text` is 1 to `max` of [0-9].
bool AllDigits(std::string_view text, size_t max = 20);

}  // namespace tessera::activation::internal
