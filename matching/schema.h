#pragma once

// Schema: what each input column holds, which decides how it is normalized, compared and blocked
// on. Given as JSON (`{"columns": {"given": "first_name", "dob": "date_of_birth"}}`) or inferred from
// the column names; columns it does not name are ignored (so an id or a label column never leaks
// into the match).

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace tessera::matching {

enum class ColumnKind {
  kFirstName,   // a given name (a person name that blocking uses for initials)
  kSurname,     // a family name (a person name that blocking uses for its sound key)
  kPersonName,  // a whole name in one column
  kDateOfBirth,
  kEmail,
  kPhone,
  kPostcode,
  kCity,
  kAddress,
  kFreeText,
};

// The spelling used in schema files and the model summary: first_name, surname, person_name,
// date_of_birth, email, phone, postcode, city, address, free_text.
std::string_view ColumnKindName(ColumnKind kind);
std::optional<ColumnKind> ColumnKindFromName(std::string_view name);

struct SchemaColumn {
  std::string name;  // the column's header, as written in the input
  ColumnKind kind = ColumnKind::kFreeText;
};

struct Schema {
  std::vector<SchemaColumn> columns;  // in input order; only the columns to compare
};

// Kinds from the column names (case and spaces ignored): first_name/given_name/forename,
// surname/last_name/family_name, name/full_name, dob/date_of_birth/birth_date, email, phone/mobile,
// postcode/zip/postal_code, city/town/suburb, address*/street*, and state/country/soc_sec_id/
// street_number as free text. `id_column` is never compared. InvalidArgument when nothing is left.
absl::StatusOr<Schema> InferSchema(std::span<const std::string> header, std::string_view id_column);

// A schema file's text: {"columns": {"<header>": "<kind>", ...}}. InvalidArgument naming the column
// that is not in `header` or the kind that is not one.
absl::StatusOr<Schema> ParseSchemaJson(std::string_view json, std::span<const std::string> header);

}  // namespace tessera::matching
