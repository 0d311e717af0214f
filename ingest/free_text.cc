#include "ingest/free_text.h"

#include <algorithm>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/json_writer.h"
#include "simdjson.h"

namespace tessera::ingest {
namespace {

namespace od = simdjson::ondemand;

struct Member {
  std::string_view key;    // Unescaped; points into the parser's buffer.
  std::string_view value;  // The value's JSON text; points into the padded copy of the document.
};

std::string_view TrimTrailingSpace(std::string_view text) {
  while (!text.empty() && (text.back() == ' ' || text.back() == '\n' || text.back() == '\r' || text.back() == '\t')) {
    text.remove_suffix(1);
  }
  return text;
}

// The top-level members of the object in `document`, each with its value's text as written.
// Keys and values stay valid while `parser` and `document` live.
absl::StatusOr<std::vector<Member>> ReadMembers(od::parser& parser, const simdjson::padded_string& document,
                                                std::string_view what) {
  const auto not_object = [what](simdjson::error_code error) {
    return absl::InvalidArgumentError(
        absl::StrCat(std::string(what), ": not a JSON object (", simdjson::error_message(error), ")"));
  };
  od::document doc;
  if (auto error = parser.iterate(document).get(doc)) return not_object(error);
  od::object object;
  if (auto error = doc.get_object().get(object)) return not_object(error);
  std::vector<Member> members;
  for (auto field : object) {
    Member member;
    if (auto error = field.unescaped_key().get(member.key)) return not_object(error);
    od::value value;
    if (auto error = field.value().get(value)) return not_object(error);
    od::json_type type;
    if (auto error = value.type().get(type)) return not_object(error);
    simdjson::error_code error = simdjson::SUCCESS;
    if (type == od::json_type::object) {
      od::object child;
      error = value.get_object().get(child);
      if (!error) error = child.raw_json().get(member.value);
    } else if (type == od::json_type::array) {
      od::array child;
      error = value.get_array().get(child);
      if (!error) error = child.raw_json().get(member.value);
    } else {
      member.value = TrimTrailingSpace(value.raw_json_token());
    }
    if (error) return not_object(error);
    members.push_back(member);
  }
  return members;
}

// Whether `text` holds `name` as a quoted string: the cheap test before any parsing.
bool MentionsKey(std::string_view text, std::string_view name) {
  for (size_t at = text.find(name); at != std::string_view::npos; at = text.find(name, at + 1)) {
    if (at > 0 && text[at - 1] == '"' && at + name.size() < text.size() && text[at + name.size()] == '"') return true;
  }
  return false;
}

bool MentionsAny(std::string_view text, std::span<const std::string_view> names) {
  return std::any_of(names.begin(), names.end(), [text](std::string_view name) { return MentionsKey(text, name); });
}

// The free-text names not in `keep`.
std::vector<std::string_view> FreeTextExcept(std::span<const std::string> keep) {
  std::vector<std::string_view> names;
  for (std::string_view name : kFreeTextProperties) {
    if (std::find(keep.begin(), keep.end(), name) == keep.end()) names.push_back(name);
  }
  return names;
}

bool Named(std::span<const std::string_view> names, std::string_view key) {
  return std::find(names.begin(), names.end(), key) != names.end();
}

}  // namespace

bool IsFreeTextProperty(std::string_view name) {
  return std::find(std::begin(kFreeTextProperties), std::end(kFreeTextProperties), name) !=
         std::end(kFreeTextProperties);
}

std::string FreeTextPropertyList() {
  return absl::StrJoin(kFreeTextProperties, ", ",
                       [](std::string* out, std::string_view name) { out->append(name); });
}

absl::StatusOr<bool> RemoveMembers(std::string& object_json, std::span<const std::string_view> names) {
  if (object_json.empty() || names.empty() || !MentionsAny(object_json, names)) return false;
  const simdjson::padded_string document(object_json);
  od::parser parser;
  absl::StatusOr<std::vector<Member>> members = ReadMembers(parser, document, "properties");
  if (!members.ok()) return members.status();
  if (std::none_of(members->begin(), members->end(), [names](const Member& m) { return Named(names, m.key); })) {
    return false;  // The name was only in a value or a nested object.
  }
  std::string kept;
  kept.reserve(object_json.size());
  base::JsonWriter writer(kept);
  writer.BeginObject();
  for (const Member& member : *members) {
    if (!Named(names, member.key)) writer.Key(member.key).Raw(member.value);
  }
  writer.EndObject();
  object_json = std::move(kept);
  return true;
}

absl::StatusOr<bool> RemoveFreeText(std::string& properties_json, std::span<const std::string> keep) {
  const std::vector<std::string_view> names = FreeTextExcept(keep);
  return RemoveMembers(properties_json, names);
}

absl::StatusOr<std::optional<std::string>> EventJsonWithoutFreeText(std::string_view event_json,
                                                                    std::span<const std::string> keep) {
  const std::vector<std::string_view> names = FreeTextExcept(keep);
  if (names.empty() || !MentionsAny(event_json, names)) return std::nullopt;
  const simdjson::padded_string document(event_json);
  od::parser parser;
  absl::StatusOr<std::vector<Member>> members = ReadMembers(parser, document, "event");
  if (!members.ok()) return members.status();
  const auto member = [&members](std::string_view key) -> const Member* {
    for (const Member& m : *members) {
      if (m.key == key) return &m;
    }
    return nullptr;
  };
  const Member* channel = member("channel");
  const Member* properties = member("properties");
  if (channel == nullptr || properties == nullptr) return std::nullopt;
  // The channel as JsonWriter wrote it: "service" needs no escaping.
  if (channel->value != absl::StrCat("\"", std::string(kFreeTextChannel), "\"")) return std::nullopt;
  std::string kept_properties(properties->value);
  absl::StatusOr<bool> removed = RemoveMembers(kept_properties, names);
  if (!removed.ok()) return removed.status();
  if (!*removed) return std::nullopt;
  std::string event;
  event.reserve(event_json.size());
  base::JsonWriter writer(event);
  writer.BeginObject();
  for (const Member& m : *members) {
    writer.Key(m.key).Raw(&m == properties ? std::string_view(kept_properties) : m.value);
  }
  writer.EndObject();
  return event;
}

}  // namespace tessera::ingest
