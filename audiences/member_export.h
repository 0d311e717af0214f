#pragma once

// MemberExport writes an audience's members as NDJSON or CSV, a chunk at a time, from one store
// snapshot (profile_store::MemberScan): memory stays constant however large the audience, and
// ingestion goes on meanwhile. The API streams its chunks as a chunked HTTP response; `tessera
// export` writes them to a file.
//
// Fields (`fields=` / `--fields`, comma-separated; default kDefaultFields):
//   id             the profile id ("p000000000000002a")
//   enteredAt      when the profile entered the audience (ISO-8601 UTC)
//   <type>         every identifier of that type the profile holds (email, phone, user_id, ...):
//                  a JSON array in NDJSON, values joined by '|' in CSV
//   traits.<path>  a trait (dots descend into objects): its JSON value in NDJSON; in CSV strings
//                  as they are, other values as JSON text
//   computed.<name>  a computed trait's value at export time
// NDJSON: one object per line with the fields as members (absent values are null). CSV (RFC
// 4180): a header row of the field names, then one row per member; absent values are empty.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "audiences/definitions.h"
#include "audiences/evaluation.h"
#include "profile_store/audience_store.h"
#include "profile_store/store.h"

namespace tessera::audiences {

inline constexpr std::string_view kDefaultFields = "id,enteredAt,user_id,email,phone";

enum class ExportFormat { kNdjson, kCsv };

// "ndjson" or "csv"; nullopt otherwise.
std::optional<ExportFormat> ParseExportFormat(std::string_view text);

struct ExportField {
  enum class Kind { kProfileId, kEnteredAt, kIdentifier, kTrait, kComputed };
  Kind kind = Kind::kProfileId;
  std::string label;  // As requested ("traits.plan"); the NDJSON member and CSV column name.
  std::string name;   // Identifier type, trait path or computed trait name.
};

// Parses a field list. InvalidArgument naming the bad field (unknown computed trait, empty name,
// malformed type, more than 100 fields, duplicates).
absl::StatusOr<std::vector<ExportField>> ParseExportFields(std::string_view list, const DefinitionSet& definitions);

class MemberExport {
 public:
  MemberExport(const profile_store::Store& store, std::string space, std::string audience,
               std::vector<ExportField> fields, ExportFormat format,
               std::shared_ptr<const DefinitionSet> definitions, RfmTable rfm, profile_store::Timestamp now);

  // Appends whole rows (the CSV header first) to `out` until it holds at least `max_bytes` or the
  // members end. Returns false once everything was written (`out` may still have received rows).
  absl::StatusOr<bool> Next(std::string& out, size_t max_bytes = 64 << 10);

  uint64_t rows() const { return rows_; }

 private:
  void AppendRow(const profile_store::Member& member, std::string& out) const;

  profile_store::MemberScan scan_;
  const std::vector<ExportField> fields_;
  const ExportFormat format_;
  const std::shared_ptr<const DefinitionSet> definitions_;
  const RfmTable rfm_;
  const profile_store::Timestamp now_;
  bool header_written_ = false;
  bool done_ = false;
  uint64_t rows_ = 0;
};

}  // namespace tessera::audiences
