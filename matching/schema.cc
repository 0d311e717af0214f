#include "matching/schema.h"

#include <simdjson.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <utility>

#include "absl/status/status.h"

namespace tessera::matching {
namespace {

constexpr std::array<std::pair<std::string_view, ColumnKind>, 10> kKindNames = {{
    {"first_name", ColumnKind::kFirstName},
    {"surname", ColumnKind::kSurname},
    {"person_name", ColumnKind::kPersonName},
    {"date_of_birth", ColumnKind::kDateOfBirth},
    {"email", ColumnKind::kEmail},
    {"phone", ColumnKind::kPhone},
    {"postcode", ColumnKind::kPostcode},
    {"city", ColumnKind::kCity},
    {"address", ColumnKind::kAddress},
    {"free_text", ColumnKind::kFreeText},
}};

// Lower case, '_' for spaces and dashes.
std::string Simplified(std::string_view name) {
  std::string out;
  for (char c : name) {
    if (c == ' ' || c == '-') {
      out.push_back('_');
    } else {
      out.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
    }
  }
  return out;
}

std::optional<ColumnKind> KindFromColumnName(std::string_view raw) {
  const std::string name = Simplified(raw);
  auto any_of = [&](std::initializer_list<std::string_view> names) {
    return std::find(names.begin(), names.end(), name) != names.end();
  };
  if (any_of({"first_name", "firstname", "given_name", "givenname", "forename", "first"})) {
    return ColumnKind::kFirstName;
  }
  if (any_of({"surname", "last_name", "lastname", "family_name", "familyname", "last"}))
    return ColumnKind::kSurname;
  if (any_of({"name", "full_name", "fullname", "person_name"})) return ColumnKind::kPersonName;
  if (any_of({"dob", "date_of_birth", "birth_date", "birthdate", "birthday"}))
    return ColumnKind::kDateOfBirth;
  if (any_of({"email", "e_mail", "email_address", "mail"})) return ColumnKind::kEmail;
  if (any_of({"phone", "phone_number", "mobile", "telephone", "tel"})) return ColumnKind::kPhone;
  if (any_of({"postcode", "post_code", "postal_code", "zip", "zipcode", "zip_code"}))
    return ColumnKind::kPostcode;
  if (any_of({"city", "town", "suburb", "locality"})) return ColumnKind::kCity;
  if (name.starts_with("address") || name.starts_with("street_address") || name == "street") {
    return ColumnKind::kAddress;
  }
  if (any_of({"state", "country", "region", "soc_sec_id", "ssn", "street_number", "house_number"})) {
    return ColumnKind::kFreeText;
  }
  return std::nullopt;
}

}  // namespace

std::string_view ColumnKindName(ColumnKind kind) {
  for (const auto& [name, k] : kKindNames) {
    if (k == kind) return name;
  }
  return "free_text";
}

std::optional<ColumnKind> ColumnKindFromName(std::string_view name) {
  for (const auto& [n, k] : kKindNames) {
    if (n == name) return k;
  }
  return std::nullopt;
}

absl::StatusOr<Schema> InferSchema(std::span<const std::string> header, std::string_view id_column) {
  Schema schema;
  for (const std::string& column : header) {
    if (column == id_column) continue;
    if (std::optional<ColumnKind> kind = KindFromColumnName(column))
      schema.columns.push_back({column, *kind});
  }
  if (schema.columns.empty()) {
    return absl::InvalidArgumentError(
        "no column to compare: name them in a schema file (--schema), e.g. "
        "{\"columns\":{\"name\":\"person_name\"}}");
  }
  return schema;
}

absl::StatusOr<Schema> ParseSchemaJson(std::string_view json, std::span<const std::string> header) {
  simdjson::ondemand::parser parser;
  simdjson::padded_string padded(json);
  simdjson::ondemand::document document;
  if (parser.iterate(padded).get(document) != simdjson::SUCCESS) {
    return absl::InvalidArgumentError("schema: not valid JSON");
  }
  simdjson::ondemand::object columns;
  if (document["columns"].get_object().get(columns) != simdjson::SUCCESS) {
    return absl::InvalidArgumentError("schema: expected an object \"columns\" mapping column names to kinds");
  }
  Schema schema;
  for (auto field : columns) {
    std::string_view key, value;
    if (field.unescaped_key().get(key) != simdjson::SUCCESS ||
        field.value().get_string().get(value) != simdjson::SUCCESS) {
      return absl::InvalidArgumentError("schema: columns.<name> must be a string naming a kind");
    }
    if (std::find(header.begin(), header.end(), key) == header.end()) {
      return absl::InvalidArgumentError("schema: columns." + std::string(key) +
                                        ": no such column in the input");
    }
    const std::optional<ColumnKind> kind = ColumnKindFromName(value);
    if (!kind) {
      return absl::InvalidArgumentError("schema: columns." + std::string(key) + ": unknown kind \"" +
                                        std::string(value) +
                                        "\" (first_name, surname, person_name, date_of_birth, email, phone, "
                                        "postcode, city, address, free_text)");
    }
    schema.columns.push_back({std::string(key), *kind});
  }
  if (schema.columns.empty()) return absl::InvalidArgumentError("schema: \"columns\" names no column");
  return schema;
}

}  // namespace tessera::matching
