#include "api/duplicates_handler.h"

#include <charconv>
#include <memory>
#include <utility>

#include "absl/strings/str_cat.h"
#include "api/router.h"
#include "base/json_writer.h"
#include "matching/normalizer.h"

namespace tessera::api {
namespace {

constexpr size_t kDefaultLimit = 20;
constexpr size_t kMaxLimit = 100;

// ICU transliterators are not thread-safe: one normalizer per I/O thread, made at its first use.
absl::StatusOr<const matching::Normalizer*> ThreadNormalizer() {
  thread_local std::unique_ptr<matching::Normalizer> normalizer;
  if (normalizer == nullptr) {
    absl::StatusOr<std::unique_ptr<matching::Normalizer>> created = matching::Normalizer::Create();
    if (!created.ok()) return created.status();
    normalizer = *std::move(created);
  }
  return normalizer.get();
}

void WritePerson(base::JsonWriter& json, const matching::PersonRecord& person) {
  json.BeginObject();
  const std::pair<const char*, const std::string*> fields[] = {
      {"name", &person.name}, {"birthDate", &person.birth_date}, {"email", &person.email},
      {"phone", &person.phone}, {"city", &person.city}, {"postcode", &person.postcode},
      {"address", &person.address}};
  for (const auto& [key, value] : fields) {
    if (!value->empty()) json.Key(key).String(*value);
  }
  json.EndObject();
}

}  // namespace

DuplicatesHandler::DuplicatesHandler(const profile_store::Store& store, const profile_store::ProfileReader& reader,
                                     std::map<std::string, resolve::DuplicateOptions> options)
    : store_(store), reader_(reader), options_(std::move(options)) {}

HttpReply DuplicatesHandler::Duplicates(const std::string& space, const profile_store::Profile& profile,
                                        std::string_view query) const {
  size_t limit = kDefaultLimit;
  if (std::string_view text = QueryParam(query, "limit"); !text.empty()) {
    auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), limit);
    if (error != std::errc() || end != text.data() + text.size() || limit < 1 || limit > kMaxLimit) {
      return ErrorReply(400, "invalid_value", absl::StrCat("limit must be an integer from 1 to ", kMaxLimit), "limit");
    }
  }
  double min_probability = 0;
  if (std::string_view text = QueryParam(query, "min_probability"); !text.empty()) {
    auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), min_probability);
    if (error != std::errc() || end != text.data() + text.size() || !(min_probability >= 0 && min_probability <= 1)) {
      return ErrorReply(400, "invalid_value", "min_probability must be a number from 0 to 1", "min_probability");
    }
  }
  const auto configured = options_.find(space);
  const resolve::DuplicateOptions& options = configured == options_.end() ? defaults_ : configured->second;
  if (!options.enabled) {
    return ErrorReply(404, "not_found", absl::StrCat("duplicate detection is off for space \"", space, "\""));
  }
  absl::StatusOr<const matching::Normalizer*> normalizer = ThreadNormalizer();
  if (!normalizer.ok()) return ErrorReply(500, "internal", std::string(normalizer.status().message()));
  absl::StatusOr<std::vector<resolve::DuplicateCandidate>> candidates =
      resolve::FindDuplicates(store_, reader_, space, profile, options, **normalizer, limit, min_probability);
  if (!candidates.ok()) return ErrorReply(500, "internal", std::string(candidates.status().message()));

  HttpReply reply;
  base::JsonWriter json(reply.body);
  json.BeginObject().Key("profile").String(profile_store::FormatProfileId(profile.id)).Key("candidates").BeginArray();
  for (const resolve::DuplicateCandidate& candidate : *candidates) {
    json.BeginObject()
        .Key("profile")
        .String(profile_store::FormatProfileId(candidate.profile))
        .Key("matchProbability")
        .Double(candidate.explanation.match_probability)
        .Key("matchWeight")
        .Double(candidate.explanation.match_weight)
        .Key("priorWeight")
        .Double(candidate.explanation.prior_weight)
        .Key("fields")
        .BeginArray();
    for (const matching::FieldExplanation& field : candidate.explanation.fields) {
      json.BeginObject()
          .Key("comparison")
          .String(field.comparison)
          .Key("level")
          .String(field.level)
          .Key("weight")
          .Double(field.weight)
          .Key("left")
          .String(field.left)
          .Key("right")
          .String(field.right)
          .EndObject();
    }
    json.EndArray().Key("traits");
    WritePerson(json, candidate.person);
    json.EndObject();
  }
  json.EndArray().EndObject();
  return reply;
}

}  // namespace tessera::api
