#include "matching/profile_matching.h"

#include <simdjson.h>

#include <algorithm>
#include <cmath>

#include "absl/status/status.h"
#include "matching/blocking.h"
#include "matching/csv_table.h"
#include "matching/prepared_records.h"

namespace tessera::matching {
namespace {

constexpr size_t kMaxValueBytes = 200;  // Per field, so that keys and explanations stay small.
constexpr size_t kMaxKeyBytes = 128;    // Per blocking key (a key longer than this is cut).

// Column indexes of ProfileColumns(), and of the extra column blocking uses.
enum Column : size_t { kName, kBirthDate, kEmail, kPhone, kCity, kPostcode, kAddress, kCompared, kNameTail = kCompared };

const char* const kColumnNames[kCompared] = {"name", "birth_date", "email", "phone", "city", "postcode", "address"};

std::string Cut(std::string_view value) {
  if (value.size() <= kMaxValueBytes) return std::string(value);
  size_t end = kMaxValueBytes;
  // Back to the start of a UTF-8 sequence, so the cut value is still well-formed.
  while (end > 0 && (static_cast<unsigned char>(value[end]) & 0xC0) == 0x80) --end;
  return std::string(value.substr(0, end));
}

// The text of a scalar trait: a string's contents, a number's token; "" for anything else.
std::string ScalarText(simdjson::dom::element value) {
  std::string_view text;
  if (value.get_string().get(text) == simdjson::SUCCESS) return Cut(text);
  if (value.is_int64() || value.is_uint64() || value.is_double()) return Cut(simdjson::minify(value));
  return "";
}

// The fields a trait value can give: a scalar, or an address object's members.
struct TraitFields {
  std::string scalar;
  std::string street, city, postcode;
};

TraitFields ReadTrait(const std::string& json) {
  thread_local simdjson::dom::parser parser;
  TraitFields fields;
  simdjson::dom::element root;
  if (parser.parse(json.data(), json.size()).get(root) != simdjson::SUCCESS) return fields;
  simdjson::dom::object object;
  if (root.get_object().get(object) != simdjson::SUCCESS) {
    fields.scalar = ScalarText(root);
    return fields;
  }
  auto member = [&](std::initializer_list<const char*> keys) {
    for (const char* key : keys) {
      simdjson::dom::element value;
      if (object[key].get(value) != simdjson::SUCCESS) continue;
      std::string text = ScalarText(value);
      if (!text.empty()) return text;
    }
    return std::string();
  };
  fields.street = member({"street", "line1", "address1"});
  fields.city = member({"city"});
  fields.postcode = member({"postal_code", "postalCode", "postcode", "zip"});
  return fields;
}

std::string FirstScalar(const TraitLookup& traits, const std::vector<std::string>& names) {
  for (const std::string& name : names) {
    const std::string* json = traits(name);
    if (json == nullptr) continue;
    std::string text = ReadTrait(*json).scalar;
    if (!text.empty()) return text;
  }
  return "";
}

// A birth date as Segment's `birthday` often is, an ISO date-time, is read as its date.
std::string_view DatePart(std::string_view text) {
  if (text.size() > 10 && (text[10] == 'T' || text[10] == ' ')) return text.substr(0, 10);
  return text;
}

ComparisonParameters Parameters(const Comparison& comparison, std::vector<double> m, std::vector<double> u) {
  return ComparisonParameters{.column = comparison.column_name,
                              .kind = comparison.kind,
                              .levels = comparison.levels,
                              .m = std::move(m),
                              .u = std::move(u),
                              .term_frequency_on_exact = false};
}

// Two normalized records as PreparedRecords, for CompareRecords and BlockingKey.
PreparedRecords AsRecords(std::initializer_list<const NormalizedPerson*> people, bool with_tail) {
  PreparedRecords records;
  records.schema = ProfileColumns();
  const size_t columns = kCompared + (with_tail ? 1 : 0);
  if (with_tail) records.schema.columns.push_back({"name_tail", ColumnKind::kFreeText});
  records.values.resize(columns);
  records.days.resize(columns);
  records.term_frequency.resize(columns);
  for (const NormalizedPerson* person : people) {
    records.ids.emplace_back();
    records.source.push_back(0);
    for (size_t c = 0; c < kCompared; ++c) {
      records.values[c].push_back(person->values[c]);
      records.days[c].push_back(c == kBirthDate && !person->values[c].empty() ? person->birth_days : kNoDate);
    }
    if (with_tail) {
      const std::string& name = person->values[kName];
      records.values[kNameTail].push_back(name.size() >= 4 ? name.substr(name.size() - 4) : "");
      records.days[kNameTail].push_back(kNoDate);
    }
  }
  return records;
}

}  // namespace

bool PersonRecord::Empty() const {
  return name.empty() && birth_date.empty() && email.empty() && phone.empty() && city.empty() && postcode.empty() &&
         address.empty();
}

PersonRecord PersonRecordFromTraits(const TraitLookup& traits, const PersonTraitNames& names) {
  PersonRecord record;
  record.name = FirstScalar(traits, names.name);
  if (record.name.empty()) {
    const std::string first = FirstScalar(traits, names.first_name);
    const std::string last = FirstScalar(traits, names.last_name);
    record.name = Cut(first.empty() || last.empty() ? first + last : first + " " + last);
  }
  record.birth_date = FirstScalar(traits, names.birth_date);
  record.email = FirstScalar(traits, names.email);
  record.phone = FirstScalar(traits, names.phone);
  record.city = FirstScalar(traits, names.city);
  record.postcode = FirstScalar(traits, names.postcode);
  record.address = FirstScalar(traits, names.address);
  // Segment's `address` trait is an object: its members fill what no flat trait gave.
  if (const std::string* json = traits("address"); json != nullptr) {
    TraitFields fields = ReadTrait(*json);
    if (record.address.empty()) record.address = std::move(fields.street);
    if (record.city.empty()) record.city = std::move(fields.city);
    if (record.postcode.empty()) record.postcode = std::move(fields.postcode);
  }
  return record;
}

bool IsPersonTrait(std::string_view trait, const PersonTraitNames& names) {
  if (trait == "address") return true;
  for (const auto* list : {&names.name, &names.first_name, &names.last_name, &names.birth_date, &names.email,
                           &names.phone, &names.city, &names.postcode, &names.address}) {
    if (std::find(list->begin(), list->end(), trait) != list->end()) return true;
  }
  return false;
}

uint64_t NormalizedPerson::Fingerprint() const {
  uint64_t hash = 14695981039346656037ull;
  auto mix = [&](unsigned char byte) {
    hash ^= byte;
    hash *= 1099511628211ull;
  };
  for (const std::string& value : values) {
    for (char c : value) mix(static_cast<unsigned char>(c));
    mix(0xFF);  // Never in a normalized value: separates the fields.
  }
  return hash;
}

const Schema& ProfileColumns() {
  static const Schema* const schema = new Schema{{{kColumnNames[kName], ColumnKind::kPersonName},
                                                  {kColumnNames[kBirthDate], ColumnKind::kDateOfBirth},
                                                  {kColumnNames[kEmail], ColumnKind::kEmail},
                                                  {kColumnNames[kPhone], ColumnKind::kPhone},
                                                  {kColumnNames[kCity], ColumnKind::kCity},
                                                  {kColumnNames[kPostcode], ColumnKind::kPostcode},
                                                  {kColumnNames[kAddress], ColumnKind::kAddress}}};
  return *schema;
}

// Priors, not fitted values (docs/duplicates.md has the table). u is the chance of the level
// between two different people, from how values spread in a population: about 1 in 2,000 share a
// whole name (Korean names are concentrated: a few surnames and popular given names), 1 in
// 22,000 a birth date (60 birth years), 1 in 20 a city. m is the chance among two profiles of
// the same person that Tessera has NOT already joined by an identifier: such duplicates mostly
// differ in e-mail and phone (otherwise the identity graph would have merged them), so the
// "else" levels of e-mail and phone keep a high m and cost little, while a shared name and birth
// date weigh most. lambda, the chance that two random profiles are one person, is 1e-6 (a
// space of about a million profiles with a few percent duplicates). With these, the same name
// and birth date alone give p ~ 0.95; with the same city too, p > 0.99.
MatchModel DefaultProfileModel() {
  const std::vector<Comparison> comparisons = ComparisonsFor(ProfileColumns());
  MatchModel model;
  model.lambda = 1e-6;
  // name: exact, damerau_levenshtein<=1, jaro_winkler>=0.92, jaro_winkler>=0.88, else
  model.comparisons.push_back(
      Parameters(comparisons[kName], {0.80, 0.10, 0.05, 0.02, 0.03}, {0.0005, 0.0003, 0.002, 0.01, 0.9872}));
  // birth_date: exact, damerau_levenshtein<=1, day_month_transposed, within_1_month, within_1_year,
  // within_10_years, else
  model.comparisons.push_back(Parameters(comparisons[kBirthDate], {0.85, 0.05, 0.02, 0.02, 0.02, 0.02, 0.02},
                                         {0.000045, 0.0005, 0.000045, 0.0025, 0.03, 0.30, 0.66691}));
  // email: exact, username_exact, jaro_winkler>=0.88, else
  model.comparisons.push_back(
      Parameters(comparisons[kEmail], {0.20, 0.05, 0.05, 0.70}, {0.00001, 0.00002, 0.001, 0.99897}));
  // phone: exact, damerau_levenshtein<=1, damerau_levenshtein<=2, else
  model.comparisons.push_back(
      Parameters(comparisons[kPhone], {0.30, 0.05, 0.02, 0.63}, {0.00001, 0.0001, 0.001, 0.99889}));
  // city: exact, damerau_levenshtein<=1, jaro_winkler>=0.88, else (people move: else keeps m 0.2)
  model.comparisons.push_back(Parameters(comparisons[kCity], {0.70, 0.05, 0.05, 0.20}, {0.05, 0.005, 0.01, 0.935}));
  // postcode: exact, damerau_levenshtein<=1, damerau_levenshtein<=2, else
  model.comparisons.push_back(
      Parameters(comparisons[kPostcode], {0.60, 0.05, 0.03, 0.32}, {0.0005, 0.005, 0.03, 0.9645}));
  // address: exact, damerau_levenshtein<=1, jaro_winkler>=0.88, else
  model.comparisons.push_back(
      Parameters(comparisons[kAddress], {0.55, 0.10, 0.10, 0.25}, {0.0001, 0.0002, 0.005, 0.9947}));
  return model;
}

absl::StatusOr<MatchModel> ProfileModelFrom(const MatchModel& trained) {
  MatchModel model = DefaultProfileModel();
  model.lambda = trained.lambda;
  size_t taken = 0;
  for (ComparisonParameters& ours : model.comparisons) {
    for (const ComparisonParameters& theirs : trained.comparisons) {
      if (theirs.kind != ours.kind) continue;
      if (theirs.levels != ours.levels || theirs.m.size() != ours.levels.size() ||
          theirs.u.size() != ours.levels.size()) {
        return absl::InvalidArgumentError("model comparison " + theirs.column + " (" +
                                          std::string(ColumnKindName(theirs.kind)) +
                                          ") has other levels than profile matching uses for " + ours.column);
      }
      ours.m = theirs.m;
      ours.u = theirs.u;
      ++taken;
      break;  // The first of a kind: a model of two name columns gives one of them.
    }
  }
  if (taken == 0) {
    return absl::InvalidArgumentError(
        "the model compares none of the kinds profile matching uses (person_name, date_of_birth, email, phone, "
        "city, postcode, address)");
  }
  return model;
}

ProfileMatcher::ProfileMatcher(MatchModel model)
    : model_(std::move(model)), comparisons_(ComparisonsFor(ProfileColumns())) {}

absl::StatusOr<ProfileMatcher> ProfileMatcher::Create(MatchModel model) {
  const std::vector<Comparison> comparisons = ComparisonsFor(ProfileColumns());
  if (model.comparisons.size() != comparisons.size()) {
    return absl::InvalidArgumentError("a profile model needs one comparison per profile column");
  }
  for (size_t c = 0; c < comparisons.size(); ++c) {
    const ComparisonParameters& p = model.comparisons[c];
    if (p.kind != comparisons[c].kind || p.levels != comparisons[c].levels || p.m.size() != p.levels.size() ||
        p.u.size() != p.levels.size()) {
      return absl::InvalidArgumentError("profile model comparison " + std::to_string(c) + " does not fit column " +
                                        comparisons[c].column_name);
    }
  }
  if (!(model.lambda > 0 && model.lambda < 1)) return absl::InvalidArgumentError("lambda must be in (0, 1)");
  return ProfileMatcher(std::move(model));
}

ProfileMatcher ProfileMatcher::Default() { return ProfileMatcher(DefaultProfileModel()); }

NormalizedPerson ProfileMatcher::Normalize(const PersonRecord& record, const Normalizer& normalizer) const {
  // Through PrepareRecords, so that online values are normalized exactly as `tessera match`'s.
  CsvTable table;
  table.header = {"id"};
  for (const char* name : kColumnNames) table.header.emplace_back(name);
  table.rows.push_back({"record", record.name, std::string(DatePart(record.birth_date)), record.email, record.phone,
                        record.city, record.postcode, record.address});
  const CsvTable* tables[] = {&table};
  NormalizedPerson person;
  absl::StatusOr<PreparedRecords> prepared = PrepareRecords(tables, "id", ProfileColumns(), normalizer);
  if (!prepared.ok()) {  // Cannot happen: the table has every column and an id.
    person.values.assign(kCompared, "");
    return person;
  }
  for (size_t c = 0; c < kCompared; ++c) person.values.push_back(std::move(prepared->values[c][0]));
  if (!person.values[kBirthDate].empty()) person.birth_days = prepared->days[kBirthDate][0];
  return person;
}

std::vector<std::string> ProfileMatcher::BlockingKeys(const NormalizedPerson& person) const {
  static const std::vector<BlockingRule>* const rules = new std::vector<BlockingRule>{
      {"ny", {{kName, KeyPart::kExact}, {kBirthDate, KeyPart::kYear}}},
      {"ns", {{kName, KeyPart::kSoundKey}, {kBirthDate, KeyPart::kDateAnyOrder}}},
      {"nt", {{kNameTail, KeyPart::kExact}, {kBirthDate, KeyPart::kDateAnyOrder}}},
      {"eu", {{kEmail, KeyPart::kEmailUser}}},
      {"ph", {{kPhone, KeyPart::kExact}}},
      {"ap", {{kAddress, KeyPart::kExact}, {kPostcode, KeyPart::kExact}}},
  };
  const PreparedRecords records = AsRecords({&person}, /*with_tail=*/true);
  std::vector<std::string> keys;
  for (const BlockingRule& rule : *rules) {
    std::string key = BlockingKey(rule, records, 0);
    if (key.empty() || key.find('\0') != std::string::npos) continue;
    key.insert(0, rule.name + ":");
    if (key.size() > kMaxKeyBytes) key.resize(kMaxKeyBytes);
    keys.push_back(std::move(key));
  }
  std::sort(keys.begin(), keys.end());
  keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
  return keys;
}

PairExplanation ProfileMatcher::Explain(const PersonRecord& left, const NormalizedPerson& left_normalized,
                                        const PersonRecord& right, const NormalizedPerson& right_normalized) const {
  const PreparedRecords records = AsRecords({&left_normalized, &right_normalized}, /*with_tail=*/false);
  const std::string* left_values[] = {&left.name, &left.birth_date, &left.email, &left.phone,
                                      &left.city, &left.postcode,   &left.address};
  const std::string* right_values[] = {&right.name, &right.birth_date, &right.email, &right.phone,
                                       &right.city, &right.postcode,   &right.address};
  PairExplanation explanation;
  explanation.prior_weight = std::log2(model_.lambda / (1.0 - model_.lambda));
  explanation.match_weight = explanation.prior_weight;
  for (size_t c = 0; c < comparisons_.size(); ++c) {
    const int level = CompareRecords(comparisons_[c], records, 0, 1);
    FieldExplanation field{.comparison = comparisons_[c].column_name,
                           .level = "null",
                           .weight = 0,
                           .left = *left_values[c],
                           .right = *right_values[c]};
    if (level != kNullLevel) {
      const ComparisonParameters& p = model_.comparisons[c];
      field.level = p.levels[level];
      field.weight = std::log2(p.m[level] / p.u[level]);
      explanation.match_weight += field.weight;
    }
    explanation.fields.push_back(std::move(field));
  }
  explanation.match_probability = ProbabilityOfWeight(explanation.match_weight);
  return explanation;
}

}  // namespace tessera::matching
