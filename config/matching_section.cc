// matching: per space, duplicate profiles (config.h, MatchingConfig; docs/duplicates.md). The
// model file is read here, so that a path that cannot be read stops start-up with the key's name;
// whether it fits profile matching is checked by tools/ when it builds the resolver's options.

#include <array>
#include <string>
#include <string_view>

#include "absl/strings/str_cat.h"
#include "config/internal/json_reader.h"
#include "config/internal/read_file.h"
#include "config/internal/sections.h"
#include "simdjson.h"

namespace tessera::config::internal {
namespace {

constexpr std::array<std::string_view, 9> kPersonFields = {"name",  "first_name", "last_name", "birth_date", "email",
                                                           "phone", "city",       "postcode",  "address"};
constexpr uint64_t kMaxBlock = 100'000;

absl::Status ReadTraits(element value, const std::string& path, std::map<std::string, std::vector<std::string>>& traits) {
  simdjson::dom::object object;
  if (value.get_object().get(object) != simdjson::SUCCESS) return Expected(path, "an object", value);
  for (auto [key, names] : object) {
    const std::string field(key);
    const std::string field_path = ChildPath(path, ToAbsl(key));
    bool known = false;
    for (std::string_view person_field : kPersonFields) known |= person_field == field;
    if (!known) {
      return Invalid(field_path, "not a person field; use name, first_name, last_name, birth_date, email, phone, "
                                 "city, postcode or address");
    }
    std::vector<std::string>& list = traits[field];
    if (absl::Status read = StringListReader(list)(names, field_path); !read.ok()) return read;
    if (list.empty()) return Invalid(field_path, "empty: name at least one trait");
    for (size_t i = 0; i < list.size(); ++i) {
      if (list[i].empty()) return Invalid(IndexPath(field_path, i), "empty trait name");
    }
  }
  return absl::OkStatus();
}

absl::Status ReadEntry(element value, const std::string& path, MatchingConfig& matching) {
  absl::Status read = ReadObject(
      value, path,
      {{"space", [&](element v, const std::string& p) { return ReadNonEmptyString(v, p, matching.space); }},
       {"enabled", [&](element v, const std::string& p) { return ReadBool(v, p, matching.enabled); }},
       {"auto_merge_probability",
        [&](element v, const std::string& p) -> absl::Status {
          double probability = 0;
          if (v.get_double().get(probability) != simdjson::SUCCESS) return Expected(p, "a number", v);
          // Below one half a merge would join pairs more likely different than the same; 0 is off.
          if (probability != 0 && !(probability > 0.5 && probability <= 1)) {
            return Invalid(p, absl::StrCat(probability, " is not in (0.5, 1]; 0 turns auto-merge off"));
          }
          matching.auto_merge_probability = probability;
          return absl::OkStatus();
        }},
       {"model", [&](element v, const std::string& p) { return ReadNonEmptyString(v, p, matching.model); }},
       {"max_block", SizeReader(matching.max_block, 2, kMaxBlock)},
       {"traits", [&](element v, const std::string& p) { return ReadTraits(v, p, matching.traits); }}});
  if (!read.ok()) return read;
  if (!matching.model.empty()) {
    const std::string model_path = ChildPath(path, "model");
    absl::StatusOr<std::string> text = ReadWholeFile(matching.model, "model file");
    if (!text.ok()) return Invalid(model_path, text.status().message());
    simdjson::dom::parser parser;
    simdjson::dom::element root;
    simdjson::dom::array comparisons;
    if (parser.parse(text->data(), text->size()).get(root) != simdjson::SUCCESS ||
        root["comparisons"].get_array().get(comparisons) != simdjson::SUCCESS) {
      return Invalid(model_path, absl::StrCat(Quote(matching.model),
                                              " is not a model written by `tessera match --model` (JSON with "
                                              "\"comparisons\")"));
    }
    matching.model_json = *std::move(text);
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ReadMatching(element value, const std::string& path, std::vector<MatchingConfig>& matching) {
  matching.clear();
  absl::Status read = value.is_object()
                          ? ReadEntry(value, path, matching.emplace_back())
                          : ReadArray(value, path, [&](element item, const std::string& item_path) {
                              return ReadEntry(item, item_path, matching.emplace_back());
                            });
  if (!read.ok()) return read;
  for (size_t i = 0; i < matching.size(); ++i) {
    for (size_t j = 0; j < i; ++j) {
      if (matching[j].space == matching[i].space) {
        return Invalid(ChildPath(IndexPath(path, i), "space"),
                       absl::StrCat(Quote(matching[i].space), " already has ", IndexPath(path, j)));
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace tessera::config::internal
