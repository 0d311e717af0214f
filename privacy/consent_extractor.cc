#include "privacy/consent_extractor.h"

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "base/json_reading.h"
#include "base/json_writer.h"
#include "privacy/consent_purpose.h"
#include "simdjson.h"

namespace tessera::privacy {
namespace {

namespace od = simdjson::ondemand;

constexpr std::string_view kConsent = "consent";
constexpr std::string_view kCategoryPreferences = "categoryPreferences";

constexpr size_t kMaxShownValue = 40;

// The value as the sender wrote it (shortened), for a warning: `"yes"`, `null`, `["Advertising"]`.
std::string Describe(od::value value) {
  std::string_view raw;
  if (base::RawJsonOf(value, raw)) return "an unreadable value";
  if (raw.size() <= kMaxShownValue) return std::string(raw);
  return std::string(raw.substr(0, kMaxShownValue)) + "...";
}

// Collects the reports of one event, the later of two reports for a purpose winning.
class Collector {
 public:
  // Reads the members of `object` (at `path`) as purpose -> boolean. With `categories`, a
  // "categoryPreferences" member is read as such a map itself.
  void ReadMap(od::object object, std::string_view path, bool categories) {
    // Applied after the loop, so that plain members win over categoryPreferences wherever it stands.
    std::vector<std::pair<std::string, bool>> plain;
    for (auto field : object) {
      std::string_view key;
      od::value value;
      if (field.unescaped_key().get(key) || field.value().get(value)) {
        warnings_.push_back(absl::StrCat(std::string(path), ": not readable; ignored"));
        return;
      }
      if (categories && key == kCategoryPreferences) {
        const std::string category_path =
            absl::StrCat(std::string(path), ".", std::string(kCategoryPreferences));
        od::object preferences;
        if (value.get_object().get(preferences)) {
          warnings_.push_back(absl::StrCat(category_path, ": expected an object of booleans, got ",
                                           Describe(value), "; ignored"));
          continue;
        }
        ReadMap(preferences, category_path, /*categories=*/false);
        continue;
      }
      const std::optional<std::string> purpose = privacy::NormalizeConsentPurpose(key);
      if (!purpose) {
        std::string name_shown;  // Escaped: the name may hold anything.
        base::AppendJsonString(name_shown, key);
        warnings_.push_back(absl::StrCat(std::string(path), ": ", name_shown, " is not a consent purpose (",
                                         std::string(privacy::kConsentPurposeForm), "); ignored"));
        continue;
      }
      bool granted = false;
      if (value.get_bool().get(granted)) {
        warnings_.push_back(absl::StrCat(std::string(path), ".", std::string(key),
                                         ": expected true or false, got ", Describe(value), "; ignored"));
        continue;
      }
      plain.emplace_back(*purpose, granted);
    }
    for (auto& [purpose, granted] : plain) reports_.insert_or_assign(std::move(purpose), granted);
  }

  // Reads member "consent" of the JSON object `json` (stored, minified; empty = absent).
  void ReadConsentOf(std::string_view json, std::string_view root, bool categories) {
    if (json.empty()) return;
    thread_local base::ReusableJsonParser parser;
    od::document doc;
    od::object object;
    if (parser.Iterate(json).get(doc) || doc.get_object().get(object)) return;  // Reported as traits are.
    od::value consent;
    const simdjson::error_code found = object.find_field_unordered(kConsent).get(consent);
    if (found == simdjson::NO_SUCH_FIELD) return;
    const std::string path = absl::StrCat(std::string(root), ".", std::string(kConsent));
    od::object map;
    if (found || consent.get_object().get(map)) {
      warnings_.push_back(absl::StrCat(path, ": expected an object of booleans, got ",
                                       found ? std::string("an unreadable value") : Describe(consent),
                                       "; ignored"));
      return;
    }
    ReadMap(map, path, categories);
  }

  ExtractedConsent Take() && {
    ExtractedConsent extracted;
    for (auto& [purpose, granted] : reports_) extracted.reports.push_back({purpose, granted});
    extracted.warnings = std::move(warnings_);
    return extracted;
  }

 private:
  std::map<std::string, bool> reports_;
  std::vector<std::string> warnings_;
};

}  // namespace

ExtractedConsent ExtractConsent(const ingest::CanonicalEvent& event) {
  Collector collector;
  collector.ReadConsentOf(event.context, "context", /*categories=*/true);
  // Like the other traits, only an identify event's traits describe the person.
  if (event.type == ingest::EventType::kIdentify)
    collector.ReadConsentOf(event.traits, "traits", /*categories=*/false);
  return std::move(collector).Take();
}

}  // namespace tessera::privacy
