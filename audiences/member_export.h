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
//   consent.<purpose>  whether the person granted the purpose: true / false, null (NDJSON) or
//                  empty (CSV) when never given
// A consent restriction (`consent=` / `--consent`, a comma list of purposes) keeps only the members
// whose newest consent to every listed purpose is granted; the others are skipped, not exported.
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
  enum class Kind { kProfileId, kEnteredAt, kIdentifier, kTrait, kComputed, kConsent };
  Kind kind = Kind::kProfileId;
  std::string label;  // As requested ("traits.plan"); the NDJSON member and CSV column name.
  std::string name;   // Identifier type, trait path, computed trait name or consent purpose.
};

// Parses a field list. InvalidArgument naming the bad field (unknown computed trait, empty name,
// malformed type, more than 100 fields, duplicates).
absl::StatusOr<std::vector<ExportField>> ParseExportFields(std::string_view list, const DefinitionSet& definitions);

// Parses a consent restriction: purposes separated by commas, each normalized
// (privacy/consent_purpose.h); duplicates count once. InvalidArgument naming the bad purpose.
absl::StatusOr<std::vector<std::string>> ParseConsentPurposes(std::string_view list);

class MemberExport {
 public:
  MemberExport(const profile_store::Store& store, std::string space, std::string audience,
               std::vector<ExportField> fields, ExportFormat format,
               std::shared_ptr<const DefinitionSet> definitions, SpaceFigures figures, base::Timestamp now,
               std::vector<std::string> required_consent = {});

  // Appends whole rows (the CSV header first) to `out` until it holds at least `max_bytes` or the
  // members end. Returns false once everything was written (`out` may still have received rows).
  absl::StatusOr<bool> Next(std::string& out, size_t max_bytes = 64 << 10);

  uint64_t rows() const { return rows_; }
  // Members left out for lacking a consent the restriction asks for.
  uint64_t skipped() const { return skipped_; }

 private:
  void AppendRow(const profile_store::Member& member, std::string& out) const;
  bool HasRequiredConsent(const profile_store::Profile& profile) const;

  profile_store::MemberScan scan_;
  const std::vector<ExportField> fields_;
  const ExportFormat format_;
  const std::shared_ptr<const DefinitionSet> definitions_;
  const SpaceFigures figures_;
  const base::Timestamp now_;
  const std::vector<std::string> required_consent_;
  bool header_written_ = false;
  bool done_ = false;
  uint64_t rows_ = 0;
  uint64_t skipped_ = 0;
};

}  // namespace tessera::audiences
