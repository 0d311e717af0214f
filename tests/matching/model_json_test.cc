#include "matching/model_json.h"

#include <gtest/gtest.h>

namespace tessera::matching {
namespace {

TEST(ModelJsonTest, RoundTripAndFit) {
  Schema schema{{{"first_name", ColumnKind::kFirstName}, {"dob", ColumnKind::kDateOfBirth}}};
  const std::vector<Comparison> comparisons = ComparisonsFor(schema);
  MatchModel model;
  model.lambda = 0.0025;
  for (const Comparison& c : comparisons) {
    ComparisonParameters p{.column = c.column_name,
                           .kind = c.kind,
                           .levels = c.levels,
                           .m = {},
                           .u = {},
                           .term_frequency_on_exact = c.term_frequency_on_exact};
    for (size_t k = 0; k < c.levels.size(); ++k) {
      p.m.push_back(1.0 / static_cast<double>(c.levels.size()));
      p.u.push_back(0.125 * static_cast<double>(k + 1) / 8.0);
    }
    model.comparisons.push_back(p);
  }
  auto back = ModelFromJson(ModelToJson(model));
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_DOUBLE_EQ(back->lambda, model.lambda);
  ASSERT_EQ(back->comparisons.size(), 2u);
  EXPECT_EQ(back->comparisons[1].levels, comparisons[1].levels);
  EXPECT_DOUBLE_EQ(back->comparisons[1].u[3], model.comparisons[1].u[3]);
  EXPECT_TRUE(back->comparisons[0].term_frequency_on_exact);
  EXPECT_TRUE(CheckModelFits(*back, comparisons).ok());

  Schema other{{{"first_name", ColumnKind::kFirstName}, {"email", ColumnKind::kEmail}}};
  EXPECT_FALSE(CheckModelFits(*back, ComparisonsFor(other)).ok());
  EXPECT_FALSE(ModelFromJson("{\"lambda\": 2, \"comparisons\": []}").ok());
  EXPECT_FALSE(ModelFromJson("not json").ok());
}

}  // namespace
}  // namespace tessera::matching
