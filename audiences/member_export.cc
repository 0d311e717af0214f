#include "audiences/member_export.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "base/json_reading.h"
#include "base/json_writer.h"
#include "base/time.h"
#include "privacy/consent_purpose.h"
#include "simdjson.h"

namespace tessera::audiences {
namespace {

namespace od = simdjson::ondemand;
using base::JsonWriter;

constexpr size_t kMaxFields = 100;
constexpr size_t kMaxIdentifierTypeLength = 64;
constexpr std::string_view kTraitsPrefix = "traits.";
constexpr std::string_view kComputedPrefix = "computed.";
constexpr std::string_view kConsentPrefix = "consent.";

std::string Quote(std::string_view text) { return absl::StrCat("\"", std::string(text), "\""); }

std::string_view TrimSpaces(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

// [a-z0-9_]{1,64}, the form of identifier types.
bool IsIdentifierType(std::string_view name) {
  if (name.empty() || name.size() > kMaxIdentifierTypeLength) return false;
  return std::all_of(name.begin(), name.end(),
                     [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'; });
}

absl::StatusOr<ExportField> ParseField(std::string_view label, const DefinitionSet& definitions) {
  ExportField field{.kind = ExportField::Kind::kProfileId, .label = std::string(label), .name = {}};
  if (label == "id") return field;
  if (label == "enteredAt") {
    field.kind = ExportField::Kind::kEnteredAt;
    return field;
  }
  if (label.starts_with(kTraitsPrefix)) {
    const std::string_view path = label.substr(kTraitsPrefix.size());
    if (path.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat(Quote(label), ": expected a trait path after \"traits.\""));
    }
    if (path.front() == '.' || path.back() == '.' || path.find("..") != std::string_view::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat(Quote(label), ": the trait path has an empty member name"));
    }
    field.kind = ExportField::Kind::kTrait;
    field.name = std::string(path);
    return field;
  }
  if (label.starts_with(kComputedPrefix)) {
    const std::string_view name = label.substr(kComputedPrefix.size());
    if (name.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat(Quote(label), ": expected a computed trait name after \"computed.\""));
    }
    if (definitions.FindComputed(name) == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat(Quote(label), ": no computed trait ", Quote(name), " is defined"));
    }
    field.kind = ExportField::Kind::kComputed;
    field.name = std::string(name);
    return field;
  }
  if (label.starts_with(kConsentPrefix)) {
    const std::string_view name = label.substr(kConsentPrefix.size());
    std::optional<std::string> purpose = privacy::NormalizeConsentPurpose(name);
    if (!purpose) {
      return absl::InvalidArgumentError(absl::StrCat(Quote(label), ": ", Quote(name),
                                                     " is not a consent purpose; ",
                                                     std::string(privacy::kConsentPurposeForm)));
    }
    field.kind = ExportField::Kind::kConsent;
    field.name = *std::move(purpose);
    return field;
  }
  if (!IsIdentifierType(label)) {
    return absl::InvalidArgumentError(absl::StrCat(
        Quote(label),
        ": not a field; expected id, enteredAt, traits.<path>, computed.<name>, consent.<purpose> or an "
        "identifier type (1 to 64 of a-z, 0-9 and _)"));
  }
  field.kind = ExportField::Kind::kIdentifier;
  field.name = std::string(label);
  return field;
}

// The items of a comma-separated list, spaces around them trimmed. An empty item is an error
// naming it: "<what> 2 is empty: list <how>".
absl::StatusOr<std::vector<std::string_view>> SplitList(std::string_view list, std::string_view what,
                                                        std::string_view how) {
  std::vector<std::string_view> items;
  for (size_t start = 0;;) {
    const size_t comma = std::min(list.find(',', start), list.size());
    const std::string_view item = TrimSpaces(list.substr(start, comma - start));
    if (item.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat(std::string(what), " ", items.size() + 1, " is empty: list ", std::string(how)));
    }
    items.push_back(item);
    if (comma == list.size()) return items;
    start = comma + 1;
  }
}

// RFC 4180: a field with a comma, quote, CR or LF is quoted, quotes inside doubled.
void AppendCsvField(std::string& out, std::string_view value) {
  if (value.find_first_of(",\"\r\n") == std::string_view::npos) {
    out.append(value);
    return;
  }
  out.push_back('"');
  for (char c : value) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  out.push_back('"');
}

// The value at `path` (members separated by dots; empty = the whole value) inside stored JSON.
// The text is wrapped in an array so that a scalar at the top ("pro") reads like any member.
// One per thread: each Find invalidates the views of the previous one.
class JsonPathReader {
 public:
  bool Find(std::string_view json, std::string_view path, od::value& out) {
    if (json.empty()) return false;
    wrapped_.assign("[").append(json).push_back(']');
    if (parser_.Iterate(wrapped_).get(document_) || document_.at(0).get(out)) return false;
    while (!path.empty()) {
      const size_t dot = path.find('.');
      const std::string_view member = path.substr(0, dot);
      path = dot == std::string_view::npos ? std::string_view() : path.substr(dot + 1);
      od::object object;
      if (out.get_object().get(object) || object.find_field_unordered(member).get(out)) return false;
    }
    return true;
  }

 private:
  base::ReusableJsonParser parser_;
  od::document document_;  // Values found point into it: it lives until the next Find.
  std::string wrapped_;
};

JsonPathReader& ThreadReader() {
  thread_local JsonPathReader reader;
  return reader;
}

// Writes the value at `path` of `json` as one field: NDJSON as JSON (null when absent), CSV
// strings unescaped and other values as JSON text (empty when absent or null).
void AppendJsonValue(std::string_view json, std::string_view path, ExportFormat format, JsonWriter& writer,
                     std::string& out) {
  od::value value;
  const bool found = ThreadReader().Find(json, path, value);
  std::string_view raw;
  if (format == ExportFormat::kNdjson) {
    if (!found || base::RawJsonOf(value, raw)) {
      writer.Null();
    } else {
      writer.Raw(raw);
    }
    return;
  }
  od::json_type type;
  if (!found || value.type().get(type) || type == od::json_type::null) return;
  if (type == od::json_type::string) {
    std::string_view text;
    if (!value.get_string().get(text)) AppendCsvField(out, text);
    return;
  }
  if (!base::RawJsonOf(value, raw)) AppendCsvField(out, raw);
}

// The trait record named by the longest dotted prefix of `path` that is a trait name, and the
// rest of the path inside its value: "address.city" is the trait "address.city" if there is
// one, else member "city" of trait "address" (as audience trait conditions read it).
const profile_store::TraitRecord* FindTrait(const profile_store::Profile& profile, std::string_view path,
                                            std::string_view& rest) {
  std::string_view name = path;
  for (;;) {
    if (auto it = profile.traits.find(std::string(name)); it != profile.traits.end()) {
      rest = name.size() < path.size() ? path.substr(name.size() + 1) : std::string_view();
      return &it->second;
    }
    const size_t dot = name.rfind('.');
    if (dot == std::string_view::npos) return nullptr;
    name = name.substr(0, dot);
  }
}

}  // namespace

std::optional<ExportFormat> ParseExportFormat(std::string_view text) {
  if (text == "ndjson") return ExportFormat::kNdjson;
  if (text == "csv") return ExportFormat::kCsv;
  return std::nullopt;
}

absl::StatusOr<std::vector<ExportField>> ParseExportFields(std::string_view list,
                                                           const DefinitionSet& definitions) {
  absl::StatusOr<std::vector<std::string_view>> labels = SplitList(
      list, "field", absl::StrCat("fields separated by single commas, e.g. ", std::string(kDefaultFields)));
  if (!labels.ok()) return labels.status();
  if (labels->size() > kMaxFields)
    return absl::InvalidArgumentError(absl::StrCat("more than ", kMaxFields, " fields"));
  std::vector<ExportField> fields;
  for (std::string_view label : *labels) {
    absl::StatusOr<ExportField> field = ParseField(label, definitions);
    if (!field.ok()) return field.status();
    if (std::any_of(fields.begin(), fields.end(), [&](const ExportField& f) { return f.label == label; })) {
      return absl::InvalidArgumentError(absl::StrCat(Quote(label), " is listed twice"));
    }
    fields.push_back(*std::move(field));
  }
  return fields;
}

absl::StatusOr<std::vector<std::string>> ParseConsentPurposes(std::string_view list) {
  absl::StatusOr<std::vector<std::string_view>> names =
      SplitList(list, "consent purpose", "purposes separated by single commas, e.g. marketing_email,sms");
  if (!names.ok()) return names.status();
  std::vector<std::string> purposes;
  for (std::string_view name : *names) {
    std::optional<std::string> purpose = privacy::NormalizeConsentPurpose(name);
    if (!purpose) {
      return absl::InvalidArgumentError(absl::StrCat(Quote(name), " is not a consent purpose; ",
                                                     std::string(privacy::kConsentPurposeForm)));
    }
    if (std::find(purposes.begin(), purposes.end(), *purpose) == purposes.end()) {
      purposes.push_back(*std::move(purpose));
    }
  }
  return purposes;
}

MemberExport::MemberExport(const profile_store::Store& store, std::string space, std::string audience,
                           std::vector<ExportField> fields, ExportFormat format,
                           std::shared_ptr<const DefinitionSet> definitions, SpaceFigures figures,
                           base::Timestamp now, std::vector<std::string> required_consent)
    : scan_(store, std::move(space), std::move(audience)),
      fields_(std::move(fields)),
      format_(format),
      definitions_(std::move(definitions)),
      figures_(std::move(figures)),
      now_(now),
      required_consent_(std::move(required_consent)) {}

bool MemberExport::HasRequiredConsent(const profile_store::Profile& profile) const {
  return std::all_of(required_consent_.begin(), required_consent_.end(), [&](const std::string& purpose) {
    const auto it = profile.consent.find(purpose);
    return it != profile.consent.end() && it->second.granted;
  });
}

absl::StatusOr<bool> MemberExport::Next(std::string& out, size_t max_bytes) {
  if (done_) return false;
  if (!header_written_) {
    header_written_ = true;
    if (format_ == ExportFormat::kCsv) {
      for (size_t i = 0; i < fields_.size(); ++i) {
        if (i > 0) out.push_back(',');
        AppendCsvField(out, fields_[i].label);
      }
      out.append("\r\n");
    }
  }
  while (out.size() < max_bytes) {
    absl::StatusOr<std::optional<profile_store::Member>> member = scan_.Next();
    if (!member.ok()) return member.status();
    if (!member->has_value()) {
      done_ = true;
      return false;
    }
    if (!HasRequiredConsent((*member)->profile)) {
      ++skipped_;
      continue;
    }
    AppendRow(**member, out);
    ++rows_;
  }
  return true;
}

void MemberExport::AppendRow(const profile_store::Member& member, std::string& out) const {
  const bool csv = format_ == ExportFormat::kCsv;
  JsonWriter writer(out);
  if (!csv) writer.BeginObject();
  for (size_t i = 0; i < fields_.size(); ++i) {
    const ExportField& field = fields_[i];
    if (csv && i > 0) out.push_back(',');
    if (!csv) writer.Key(field.label);
    switch (field.kind) {
      case ExportField::Kind::kProfileId: {
        const std::string id = profile_store::FormatProfileId(member.id);
        if (csv) {
          out.append(id);
        } else {
          writer.String(id);
        }
        break;
      }
      case ExportField::Kind::kEnteredAt: {
        const std::string entered = base::FormatIso8601(member.entered);
        if (csv) {
          out.append(entered);
        } else {
          writer.String(entered);
        }
        break;
      }
      case ExportField::Kind::kIdentifier: {
        // Identities are sorted by (type, value): one type's values are adjacent.
        auto it =
            std::lower_bound(member.profile.identities.begin(), member.profile.identities.end(), field.name,
                             [](const profile_store::IdentityRecord& identity, const std::string& type) {
                               return identity.type < type;
                             });
        const auto end = std::find_if(
            it, member.profile.identities.end(),
            [&](const profile_store::IdentityRecord& identity) { return identity.type != field.name; });
        if (csv) {
          std::string joined;
          for (auto value = it; value != end; ++value) {
            if (value != it) joined.push_back('|');
            joined.append(value->value);
          }
          AppendCsvField(out, joined);
        } else if (it == end) {
          writer.Null();
        } else {
          writer.BeginArray();
          for (auto value = it; value != end; ++value) writer.String(value->value);
          writer.EndArray();
        }
        break;
      }
      case ExportField::Kind::kTrait: {
        std::string_view rest;
        const profile_store::TraitRecord* trait = FindTrait(member.profile, field.name, rest);
        AppendJsonValue(trait != nullptr ? std::string_view(trait->json) : std::string_view(), rest, format_,
                        writer, out);
        break;
      }
      case ExportField::Kind::kComputed: {
        const ComputedTrait* trait = definitions_ ? definitions_->FindComputed(field.name) : nullptr;
        const std::optional<std::string> value =
            trait != nullptr ? ComputedValue(*trait, member.profile, now_, figures_) : std::nullopt;
        AppendJsonValue(value ? std::string_view(*value) : std::string_view(), {}, format_, writer, out);
        break;
      }
      case ExportField::Kind::kConsent: {
        const auto it = member.profile.consent.find(field.name);
        if (it == member.profile.consent.end()) {
          if (!csv) writer.Null();
        } else if (csv) {
          out.append(it->second.granted ? "true" : "false");
        } else {
          writer.Bool(it->second.granted);
        }
        break;
      }
    }
  }
  if (csv) {
    out.append("\r\n");
  } else {
    writer.EndObject();
    out.push_back('\n');
  }
}

}  // namespace tessera::audiences
