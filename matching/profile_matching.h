#pragma once

// Profile matching: the offline Fellegi-Sunter matcher applied to one profile's person traits, for
// finding duplicate profiles online (docs/duplicates.md). It reads a person record (name, birth
// date, e-mail, phone, city, postcode, street address) from a profile's traits by configurable
// trait names, normalizes it as PrepareRecords does, makes its blocking keys with the offline
// blocking code (a key per rule; two records sharing one are candidates), and scores a pair with a
// MatchModel, explaining each comparison: its level, its weight log2(m/u) and both sides' values.
//
// The built-in model (DefaultProfileModel) has hand-set priors, each explained where it is built;
// a model trained with `tessera match --model` can replace the parameters of the comparisons it
// has (ProfileModelFrom). Term-frequency adjustment is not applied online: the population's value
// frequencies are not at hand, and scores must not depend on which profiles happen to be loaded.
//
// Pure and deterministic (no threads, no randomness, no clock). A ProfileMatcher is immutable and
// thread-safe; the Normalizer it is given is not (one per thread).

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "matching/comparison.h"
#include "matching/match_model.h"
#include "matching/normalizer.h"

namespace tessera::matching {

// Which traits hold each person field; the first that holds a value wins.
struct PersonTraitNames {
  std::vector<std::string> name = {"name", "full_name", "fullName"};  // A whole name.
  // Used when no whole name is set: given name and family name, joined with a space.
  std::vector<std::string> first_name = {"first_name", "firstName"};
  std::vector<std::string> last_name = {"last_name", "lastName"};
  std::vector<std::string> birth_date = {"birthday", "birth_date", "birthDate", "dob"};
  std::vector<std::string> email = {"email"};
  std::vector<std::string> phone = {"phone"};
  // Also read from an `address` object's members (Segment's spec: street, city, postal_code).
  std::vector<std::string> city = {"city"};
  std::vector<std::string> postcode = {"postcode", "postal_code", "postalCode", "zip"};
  std::vector<std::string> address = {"street", "address"};
};

// A person's fields as the traits hold them (display values; "" when absent).
struct PersonRecord {
  std::string name;
  std::string birth_date;
  std::string email;
  std::string phone;
  std::string city;
  std::string postcode;
  std::string address;

  bool Empty() const;
  friend bool operator==(const PersonRecord&, const PersonRecord&) = default;
};

// The JSON text of a trait, or null when the profile has no such trait.
using TraitLookup = std::function<const std::string*(std::string_view name)>;

// Reads a person record from traits: strings as they are, numbers as their text (a numeric zip),
// an `address` object's street / city / postal code; other values are left out. Values are cut to
// 200 bytes (at a character boundary) so that a huge trait cannot make huge keys.
PersonRecord PersonRecordFromTraits(const TraitLookup& traits, const PersonTraitNames& names);
// Whether a trait name is one `names` reads (an event that writes none cannot change the record).
bool IsPersonTrait(std::string_view trait, const PersonTraitNames& names);

// A record normalized for comparing and blocking (Normalizer's forms; "" when missing).
struct NormalizedPerson {
  std::vector<std::string> values;  // One per ProfileColumns() column.
  int birth_days = 0;               // Days since epoch of the birth date, when it has one.
  // A 64-bit FNV-1a hash of the values: equal records have equal fingerprints.
  uint64_t Fingerprint() const;
};

// One comparison of an explained pair.
struct FieldExplanation {
  std::string comparison;  // "name", "birth_date", "email", "phone", "city", "postcode", "address"
  std::string level;       // The level's label ("exact", "jaro_winkler>=0.92", ...) or "null".
  double weight = 0;       // log2(m/u) of that level; 0 at "null".
  std::string left;        // Both sides' values as the traits hold them.
  std::string right;
};

struct PairExplanation {
  double prior_weight = 0;  // log2(lambda / (1 - lambda))
  double match_weight = 0;  // prior_weight + the fields' weights
  double match_probability = 0;
  std::vector<FieldExplanation> fields;  // In ProfileColumns() order.
};

// The compared columns: name (person_name), birth_date, email, phone, city, postcode, address.
const Schema& ProfileColumns();
// The built-in model for ProfileColumns() (levels from ComparisonsFor; m, u and lambda in the .cc).
MatchModel DefaultProfileModel();
// The built-in model with every comparison `trained` has for a kind of ProfileColumns() (same kind
// and the same levels) taken from it, and its lambda. InvalidArgument when it has none of them, or
// one of a kind with other levels.
absl::StatusOr<MatchModel> ProfileModelFrom(const MatchModel& trained);

class ProfileMatcher {
 public:
  // `model` must compare ProfileColumns() (DefaultProfileModel or ProfileModelFrom); checked.
  static absl::StatusOr<ProfileMatcher> Create(MatchModel model);
  static ProfileMatcher Default();

  NormalizedPerson Normalize(const PersonRecord& record, const Normalizer& normalizer) const;

  // Blocking keys, sorted and unique, each "<rule>:<key>" without 0x00 bytes:
  //   ny: whole name + birth year          (finds typos in the birth date)
  //   ns: name sound key + birth date, day and month in either order  (typos in the name, day/month swapped)
  //   nt: last four letters of the name + birth date, either order    (a different first letter:
  //       "Gim"/"Kim" from Hangul or romanized input)
  //   eu: e-mail user name                 (the same person at another provider)
  //   ph: phone, last nine digits
  //   ap: street address + postcode
  // A rule whose fields are missing gives no key.
  std::vector<std::string> BlockingKeys(const NormalizedPerson& person) const;

  // Scores `left` against `right` (records and their normalized forms) and explains each field.
  PairExplanation Explain(const PersonRecord& left, const NormalizedPerson& left_normalized,
                          const PersonRecord& right, const NormalizedPerson& right_normalized) const;

  const MatchModel& model() const { return model_; }

 private:
  explicit ProfileMatcher(MatchModel model);

  MatchModel model_;
  std::vector<Comparison> comparisons_;
};

}  // namespace tessera::matching
