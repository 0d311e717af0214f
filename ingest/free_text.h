#pragma once

// Free text of the service channel (issue 26): the event properties in which a conversation's own
// words travel (call transcripts, ticket descriptions and comments, agents' notes). They are
// personal data of a kind no trait or identifier is: kept only when a service source says so
// (config sources[i].keep_free_text; the pipeline removes them before an event is logged
// otherwise), and forwarded by a destination only when its free_text setting names them. Once
// logged they live only in the logged event (and the dead letters of deliveries), so erasure and
// log retention remove them with it. docs/privacy.md, "Free text".
//
// Only top-level members of `properties` count: a connector writes them there, and a nested
// `notes` inside an order line is no conversation. Keys are compared as stored: ingestion rewrites
// every key with base::JsonWriter, so `"comm\u0065nt"` from a client is stored as `"comment"`.
//
// Thread-safety: pure functions.

#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace tessera::ingest {

// The free-text property names, the one list every part of Tessera uses.
inline constexpr std::string_view kFreeTextProperties[] = {"transcript", "notes", "description", "comment"};

// The channel whose events carry free text; events of other channels are never touched.
inline constexpr std::string_view kFreeTextChannel = "service";

// Whether `name` is on kFreeTextProperties.
bool IsFreeTextProperty(std::string_view name);
// "transcript, notes, description, comment", for error messages.
std::string FreeTextPropertyList();

// Removes the top-level members of the JSON object `object_json` whose key is one of `names`,
// writing the rest again (base::JsonWriter, values byte for byte). Cheap when none is present: the
// text is parsed only when it holds one of the names as a quoted string. Returns whether it removed
// any. InvalidArgument when the text has to be parsed and is not a JSON object; `object_json` is
// then unchanged. Empty text (no properties) is left as it is.
absl::StatusOr<bool> RemoveMembers(std::string& object_json, std::span<const std::string_view> names);

// Removes the free-text properties, except those named in `keep`, from `properties_json` (an
// event's properties object). As RemoveMembers.
absl::StatusOr<bool> RemoveFreeText(std::string& properties_json, std::span<const std::string> keep = {});

// The same for a whole event as JSON (ingest::EncodeEventJson's form, as destinations send it):
// when its channel is service and its properties hold free text not named in `keep`, the event
// written again without it; nullopt when there is nothing to remove (the text is to be sent as it
// is: events of other channels always). Cheap when no free-text name appears in the text.
// InvalidArgument when the event has to be parsed and is not a JSON object.
absl::StatusOr<std::optional<std::string>> EventJsonWithoutFreeText(std::string_view event_json,
                                                                    std::span<const std::string> keep = {});

}  // namespace tessera::ingest
