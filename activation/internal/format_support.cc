#include "activation/internal/format_support.h"

#include <algorithm>
#include <cctype>

#include "absl/strings/str_cat.h"
#include "activation/request_format.h"
#include "ingest/free_text.h"

namespace tessera::activation::internal {
namespace {

constexpr char kHex[] = "0123456789ABCDEF";

void AppendEscaped(std::string& out, unsigned char c) {
  out.push_back('%');
  out.push_back(kHex[c >> 4]);
  out.push_back(kHex[c & 15]);
}

std::string OptionName(std::string_view key) { return absl::StrCat("options.", std::string(key)); }

}  // namespace

absl::StatusOr<OptionsReader> OptionsReader::Parse(const DestinationSpec& destination) {
  OptionsReader reader;
  simdjson::dom::element root;
  if (reader.parser_->parse(destination.options_json).get(root) != simdjson::SUCCESS ||
      root.get(reader.root_) != simdjson::SUCCESS) {
    return absl::InvalidArgumentError("options: not a JSON object");
  }
  return reader;
}

absl::StatusOr<std::string> OptionsReader::String(std::string_view key, std::string_view what, bool required) const {
  simdjson::dom::element value;
  if (root_[key].get(value) != simdjson::SUCCESS) {
    if (!required) return std::string();
    return absl::InvalidArgumentError(absl::StrCat(OptionName(key), ": ", std::string(what), " is required"));
  }
  std::string_view text;
  if (value.get(text) != simdjson::SUCCESS) {
    return absl::InvalidArgumentError(absl::StrCat(OptionName(key), ": ", std::string(what), " must be a string"));
  }
  if (text.empty() && required) {
    return absl::InvalidArgumentError(absl::StrCat(OptionName(key), ": ", std::string(what), " is required"));
  }
  return std::string(text);
}

absl::StatusOr<bool> OptionsReader::Bool(std::string_view key) const {
  simdjson::dom::element value;
  if (root_[key].get(value) != simdjson::SUCCESS) return false;
  bool flag = false;
  if (value.get(flag) != simdjson::SUCCESS) {
    return absl::InvalidArgumentError(absl::StrCat(OptionName(key), ": must be true or false"));
  }
  return flag;
}

absl::StatusOr<std::optional<simdjson::dom::object>> OptionsReader::Object(std::string_view key) const {
  simdjson::dom::element value;
  if (root_[key].get(value) != simdjson::SUCCESS) return std::optional<simdjson::dom::object>();
  simdjson::dom::object object;
  if (value.get(object) != simdjson::SUCCESS) {
    return absl::InvalidArgumentError(absl::StrCat(OptionName(key), ": must be an object"));
  }
  return std::optional<simdjson::dom::object>(object);
}

void AppendFormEncoded(std::string& out, std::string_view text) {
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '*' || c == '-' || c == '.' || c == '_') {
      out.push_back(static_cast<char>(c));
    } else if (c == ' ') {
      out.push_back('+');
    } else {
      AppendEscaped(out, c);
    }
  }
}

void AppendPercentEncoded(std::string& out, std::string_view text) {
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~' || c == '@') {
      out.push_back(static_cast<char>(c));
    } else {
      AppendEscaped(out, c);
    }
  }
}

std::vector<std::string> IdentifiersOf(const OutboxItem& item, std::string_view type) {
  std::vector<std::string> values;
  for (const auto& [kind, value] : item.identifiers) {
    if (kind == type && std::find(values.begin(), values.end(), value) == values.end()) values.push_back(value);
  }
  return values;
}

std::string JoinTarget(std::string_view base_target, std::string_view path) {
  std::string target(base_target);
  while (!target.empty() && target.back() == '/') target.pop_back();
  target.append(path);
  return target;
}

absl::StatusOr<std::string> ItemAsEvent(const DestinationSpec& destination, const OutboxItem& item) {
  if (item.kind == OutboxKind::kEvent) {
    absl::StatusOr<std::optional<std::string>> stripped =
        ingest::EventJsonWithoutFreeText(item.event_json, destination.free_text);
    if (!stripped.ok()) return EventUnreadable(item, stripped.status());
    return stripped->has_value() ? **std::move(stripped) : item.event_json;
  }
  std::string json;
  AppendAudienceChangeEvent(destination.space, item, json);
  return json;
}

absl::Status EventUnreadable(const OutboxItem& item, const absl::Status& why) {
  return absl::InvalidArgumentError(absl::StrCat("event ", item.message_id, " at log position ", item.log_sequence,
                                                 ": cannot remove its free text: ", std::string(why.message())));
}

std::optional<std::string> TextAtPath(std::string_view json, std::string_view dotted_path) {
  simdjson::dom::parser parser;
  simdjson::dom::element value;
  if (parser.parse(json.data(), json.size()).get(value) != simdjson::SUCCESS) return std::nullopt;
  std::string_view rest = dotted_path;
  while (!rest.empty()) {
    const size_t dot = rest.find('.');
    const std::string_view key = rest.substr(0, dot);
    simdjson::dom::object object;
    if (value.get(object) != simdjson::SUCCESS || object[key].get(value) != simdjson::SUCCESS) return std::nullopt;
    rest = dot == std::string_view::npos ? std::string_view() : rest.substr(dot + 1);
  }
  std::string_view text;
  if (value.get(text) == simdjson::SUCCESS) return std::string(text);
  if (value.is_number() || value.is_bool()) return simdjson::minify(value);
  return std::nullopt;
}

bool AllDigits(std::string_view text, size_t max) {
  return !text.empty() && text.size() <= max &&
         std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

absl::Status RefuseEvents(const DestinationSpec& destination, std::string_view provider) {
  if (destination.event_types.empty()) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat("events: ", std::string(provider), " takes audience entries and exits only"));
}

}  // namespace tessera::activation::internal
