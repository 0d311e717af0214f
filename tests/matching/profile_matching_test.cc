// Profile matching (matching/profile_matching.h): person records read from traits, the built-in
// model's explanation of a pair (levels and weights), blocking keys that still meet when one field
// has a typo, and models trained by `tessera match` fitted onto the profile columns.

#include "matching/profile_matching.h"

#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <memory>
#include <string>

#include "matching/model_json.h"

namespace tessera::matching {
namespace {

class ProfileMatchingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto normalizer = Normalizer::Create();
    ASSERT_TRUE(normalizer.ok()) << normalizer.status();
    normalizer_ = *std::move(normalizer);
  }

  // Traits as the profile stores them: name -> JSON text.
  static PersonRecord FromTraits(const std::map<std::string, std::string>& traits) {
    return PersonRecordFromTraits(
        [&](std::string_view name) -> const std::string* {
          auto it = traits.find(std::string(name));
          return it == traits.end() ? nullptr : &it->second;
        },
        PersonTraitNames());
  }

  PairExplanation Explain(const PersonRecord& left, const PersonRecord& right) const {
    return matcher_.Explain(left, matcher_.Normalize(left, *normalizer_), right,
                            matcher_.Normalize(right, *normalizer_));
  }

  std::vector<std::string> Keys(const PersonRecord& record) const {
    return matcher_.BlockingKeys(matcher_.Normalize(record, *normalizer_));
  }

  static const FieldExplanation& Field(const PairExplanation& explanation, std::string_view comparison) {
    for (const FieldExplanation& field : explanation.fields) {
      if (field.comparison == comparison) return field;
    }
    ADD_FAILURE() << "no comparison " << comparison;
    return explanation.fields.front();
  }

  // log2(m/u) of a level of the built-in model.
  static double Weight(std::string_view comparison, std::string_view level) {
    const MatchModel model = DefaultProfileModel();
    for (const ComparisonParameters& p : model.comparisons) {
      if (p.column != comparison) continue;
      for (size_t k = 0; k < p.levels.size(); ++k) {
        if (p.levels[k] == level) return std::log2(p.m[k] / p.u[k]);
      }
    }
    ADD_FAILURE() << "no level " << level << " of " << comparison;
    return 0;
  }

  static bool Share(const std::vector<std::string>& a, const std::vector<std::string>& b) {
    for (const std::string& key : a) {
      if (std::find(b.begin(), b.end(), key) != b.end()) return true;
    }
    return false;
  }

  std::unique_ptr<Normalizer> normalizer_;
  ProfileMatcher matcher_ = ProfileMatcher::Default();
};

TEST_F(ProfileMatchingTest, ReadsPersonFieldsFromTraits) {
  const PersonRecord flat = FromTraits({{"firstName", R"("Ada")"},
                                        {"lastName", R"("Lovelace")"},
                                        {"birthday", R"("1815-12-10T00:00:00.000Z")"},
                                        {"email", R"("ada@example.com")"},
                                        {"phone", R"("010-1234-5678")"},
                                        {"zip", "12345"},
                                        {"plan", R"("pro")"}});
  EXPECT_EQ(flat.name, "Ada Lovelace") << "first and last name are joined when there is no whole name";
  EXPECT_EQ(flat.birth_date, "1815-12-10T00:00:00.000Z");
  EXPECT_EQ(flat.postcode, "12345") << "a numeric zip is read as its text";
  EXPECT_EQ(flat.city, "");

  const PersonRecord nested = FromTraits(
      {{"name", R"("Kim Min-jun")"},
       {"address", R"({"street":"12 Sejong-daero","city":"Seoul","postal_code":"04524","country":"KR"})"}});
  EXPECT_EQ(nested.name, "Kim Min-jun");
  EXPECT_EQ(nested.address, "12 Sejong-daero") << "Segment's address object gives the street";
  EXPECT_EQ(nested.city, "Seoul");
  EXPECT_EQ(nested.postcode, "04524");

  EXPECT_TRUE(FromTraits({{"plan", R"("pro")"}, {"name", "null"}}).Empty()) << "no person field, no record";
  EXPECT_TRUE(IsPersonTrait("dob", PersonTraitNames()));
  EXPECT_FALSE(IsPersonTrait("plan", PersonTraitNames()));

  // The birth date's time of day is not part of it.
  const NormalizedPerson normalized = matcher_.Normalize(flat, *normalizer_);
  EXPECT_EQ(normalized.values[1], "1815-12-10");
}

TEST_F(ProfileMatchingTest, ExplainsTypoedNameTransposedDateAndMissingValues) {
  const PersonRecord left = FromTraits({{"name", R"("Jonathan Smith")"},
                                        {"birthday", R"("1990-03-05")"},
                                        {"email", R"("jon@example.com")"},
                                        {"city", R"("Busan")"}});
  const PersonRecord right = FromTraits({{"name", R"("Jonathon Smith")"},
                                         {"birthday", R"("1990-05-03")"},
                                         {"email", R"("jsmith@example.org")"}});
  const PairExplanation explanation = Explain(left, right);
  ASSERT_EQ(explanation.fields.size(), 7u);

  const FieldExplanation& name = Field(explanation, "name");
  EXPECT_EQ(name.level, "damerau_levenshtein<=1") << "one letter differs";
  EXPECT_DOUBLE_EQ(name.weight, Weight("name", "damerau_levenshtein<=1"));
  EXPECT_EQ(name.left, "Jonathan Smith");
  EXPECT_EQ(name.right, "Jonathon Smith");

  const FieldExplanation& birth = Field(explanation, "birth_date");
  EXPECT_EQ(birth.level, "day_month_transposed");
  EXPECT_GT(birth.weight, 0) << "a transposed day and month is evidence for the match";

  EXPECT_EQ(Field(explanation, "email").level, "else");
  EXPECT_LT(Field(explanation, "email").weight, 0);
  EXPECT_GT(Field(explanation, "email").weight, -1) << "duplicates the graph did not join usually differ in e-mail";

  for (std::string_view missing : {"city", "phone", "postcode", "address"}) {
    EXPECT_EQ(Field(explanation, missing).level, "null") << missing << " is missing on one side";
    EXPECT_EQ(Field(explanation, missing).weight, 0) << missing << ": a missing value carries no evidence";
  }

  double sum = explanation.prior_weight;
  for (const FieldExplanation& field : explanation.fields) sum += field.weight;
  EXPECT_NEAR(explanation.match_weight, sum, 1e-9) << "the total is the prior plus the fields' weights";
  EXPECT_NEAR(explanation.match_probability, std::exp2(sum) / (1 + std::exp2(sum)), 1e-12);
  EXPECT_NEAR(explanation.prior_weight, std::log2(1e-6 / (1 - 1e-6)), 1e-9);
}

TEST_F(ProfileMatchingTest, SameNameAndBirthDateDifferentEmailsIsLikely) {
  const PersonRecord left = FromTraits(
      {{"name", R"("Kim Min-jun")"}, {"birthday", R"("1992-07-14")"}, {"email", R"("minjun@example.com")"}});
  const PersonRecord right = FromTraits(
      {{"name", R"("KIM MINJUN")"}, {"birth_date", R"("1992-07-14")"}, {"email", R"("mj.kim@work.example")"}});
  const PairExplanation explanation = Explain(left, right);
  EXPECT_EQ(Field(explanation, "name").level, "exact") << "case, spaces and hyphens are not part of a name";
  EXPECT_EQ(Field(explanation, "birth_date").level, "exact");
  EXPECT_GT(explanation.match_probability, 0.8) << "a near-exact name and the same birth date";
  EXPECT_LT(explanation.match_probability, 0.99) << "name and birth date alone stay below the auto-merge default";

  PersonRecord same_city_left = left, same_city_right = right;
  same_city_left.city = "Seoul";
  same_city_right.city = "seoul";
  EXPECT_GT(Explain(same_city_left, same_city_right).match_probability, 0.99);

  const PersonRecord stranger =
      FromTraits({{"name", R"("Kim Min-jun")"}, {"birthday", R"("1971-01-30")"}, {"email", R"("x@example.net")"}});
  EXPECT_LT(Explain(left, stranger).match_probability, 0.01) << "a common name alone is not a match";
}

TEST_F(ProfileMatchingTest, KoreanNameInHangulAndRomanized) {
  const PersonRecord hangul = FromTraits({{"name", R"("김민준")"}, {"birthday", R"("1992-07-14")"}});
  const PersonRecord spaced = FromTraits({{"name", R"("Kim Min Jun")"}, {"birthday", R"("1992-07-14")"}});
  const PersonRecord hyphen = FromTraits({{"name", R"("Kim Min-jun")"}, {"birthday", R"("1992-07-14")"}});
  const PersonRecord joined = FromTraits({{"name", R"("Kim Minjun")"}, {"birthday", R"("1992-07-14")"}});

  EXPECT_EQ(Field(Explain(spaced, hyphen), "name").level, "exact");
  EXPECT_EQ(Field(Explain(hyphen, joined), "name").level, "exact");
  // ICU writes 김 as "gim" (Revised Romanization), where people write "Kim".
  const PairExplanation explanation = Explain(hangul, joined);
  const FieldExplanation& name = Field(explanation, "name");
  EXPECT_EQ(name.level, "damerau_levenshtein<=1") << "Hangul and romanized differ in one letter";
  EXPECT_EQ(name.left, "김민준");
  EXPECT_TRUE(Share(Keys(hangul), Keys(joined))) << "blocking must still bring them together";
  EXPECT_GT(explanation.match_probability, 0.8) << "a near-exact name and the same birth date";
}

TEST_F(ProfileMatchingTest, BlockingKeysSurviveATypoInOneField) {
  const PersonRecord base = FromTraits({{"name", R"("Jonathan Smith")"},
                                        {"birthday", R"("1990-03-05")"},
                                        {"email", R"("jon@example.com")"},
                                        {"phone", R"("+82 10-1234-5678")"}});
  PersonRecord name_typo = base;
  name_typo.name = "Jonathon Smith";
  name_typo.email = "jsmith@example.org";
  name_typo.phone = "";
  PersonRecord date_typo = base;
  date_typo.birth_date = "1990-03-15";
  date_typo.email = "";
  date_typo.phone = "";
  PersonRecord transposed = base;
  transposed.birth_date = "1990-05-03";
  transposed.name = "Jonathon Smith";
  transposed.email = "";
  transposed.phone = "";
  PersonRecord other_email = FromTraits({{"email", R"("JON@other.example")"}});
  PersonRecord local_phone = FromTraits({{"phone", R"("010-1234-5678")"}});

  const std::vector<std::string> keys = Keys(base);
  EXPECT_TRUE(Share(keys, Keys(name_typo))) << "a typo in the name";
  EXPECT_TRUE(Share(keys, Keys(date_typo))) << "a typo in the birth date";
  EXPECT_TRUE(Share(keys, Keys(transposed))) << "day and month swapped, and a typo in the name";
  EXPECT_TRUE(Share(keys, Keys(other_email))) << "the same e-mail user at another provider";
  EXPECT_TRUE(Share(keys, Keys(local_phone))) << "the same phone with and without its country code";
  EXPECT_FALSE(Share(keys, Keys(FromTraits({{"name", R"("Jane Doe")"}, {"birthday", R"("1980-01-01")"}}))));
  for (const std::string& key : keys) {
    EXPECT_EQ(key.find('\0'), std::string::npos);
    EXPECT_NE(key.find(':'), std::string::npos) << key << " starts with its rule";
  }
  EXPECT_TRUE(Keys(PersonRecord()).empty());
}

TEST_F(ProfileMatchingTest, FingerprintFollowsNormalizedValues) {
  const PersonRecord a = FromTraits({{"name", R"("Kim Min-jun")"}});
  const PersonRecord b = FromTraits({{"name", R"("KIM MINJUN")"}});
  const PersonRecord c = FromTraits({{"name", R"("Kim Minsu")"}});
  EXPECT_EQ(matcher_.Normalize(a, *normalizer_).Fingerprint(), matcher_.Normalize(b, *normalizer_).Fingerprint());
  EXPECT_NE(matcher_.Normalize(a, *normalizer_).Fingerprint(), matcher_.Normalize(c, *normalizer_).Fingerprint());
}

TEST_F(ProfileMatchingTest, DefaultModelIsAProperModel) {
  const MatchModel model = DefaultProfileModel();
  ASSERT_EQ(model.comparisons.size(), ProfileColumns().columns.size());
  for (const ComparisonParameters& p : model.comparisons) {
    double m = 0, u = 0;
    for (double value : p.m) m += value;
    for (double value : p.u) u += value;
    EXPECT_NEAR(m, 1.0, 1e-9) << p.column << ": m must sum to 1";
    EXPECT_NEAR(u, 1.0, 1e-9) << p.column << ": u must sum to 1";
    EXPECT_GT(p.m.front() / p.u.front(), p.m.back() / p.u.back()) << p.column << ": exact must outweigh else";
  }
  // Written and read back as `tessera match --model` does, then fitted onto the profile columns.
  absl::StatusOr<MatchModel> read = ModelFromJson(ModelToJson(model));
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_TRUE(ProfileMatcher::Create(*read).ok());
}

TEST_F(ProfileMatchingTest, TrainedModelReplacesTheComparisonsItHas) {
  MatchModel trained;
  trained.lambda = 0.001;
  trained.comparisons.push_back(DefaultProfileModel().comparisons[1]);  // date of birth
  trained.comparisons[0].column = "dob";
  trained.comparisons[0].m = {0.5, 0.1, 0.1, 0.1, 0.1, 0.05, 0.05};
  absl::StatusOr<MatchModel> fitted = ProfileModelFrom(trained);
  ASSERT_TRUE(fitted.ok()) << fitted.status();
  EXPECT_EQ(fitted->lambda, 0.001);
  EXPECT_EQ(fitted->comparisons[1].m, trained.comparisons[0].m);
  EXPECT_EQ(fitted->comparisons[1].column, "birth_date") << "the profile's column keeps its name";
  EXPECT_EQ(fitted->comparisons[0].m, DefaultProfileModel().comparisons[0].m) << "name keeps the built-in prior";

  MatchModel unrelated;
  unrelated.comparisons.push_back({.column = "notes", .kind = ColumnKind::kFreeText, .levels = {"exact", "else"},
                                   .m = {0.9, 0.1}, .u = {0.1, 0.9}});
  EXPECT_FALSE(ProfileModelFrom(unrelated).ok()) << "a model of none of the profile's kinds is refused";

  MatchModel other_levels = trained;
  other_levels.comparisons[0].levels = {"exact", "else"};
  other_levels.comparisons[0].m = {0.9, 0.1};
  other_levels.comparisons[0].u = {0.1, 0.9};
  EXPECT_FALSE(ProfileModelFrom(other_levels).ok()) << "levels must be the ones profile matching compares";
}

}  // namespace
}  // namespace tessera::matching
