// The matching section (config/config.h: MatchingConfig): defaults, every key read, one object or
// an array, and settings that could not work refused naming the key.

#include <gtest/gtest.h>

#include <fstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "config/config.h"
#include "tests/support/temp_dir.h"

namespace tessera::config {
namespace {

constexpr std::string_view kSources =
    R"("sources":[{"name":"web","write_key":"wk_matching_test","channel":"web"}])";

absl::StatusOr<Config> WithMatching(const std::string& matching) {
  return ParseConfig(absl::StrCat("{", std::string(kSources), R"(,"matching":)", matching, "}"));
}

TEST(MatchingSectionTest, DefaultsWhenAbsent) {
  auto config = ParseConfig(absl::StrCat("{", std::string(kSources), "}"));
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_TRUE(config->matching.empty()) << "every space then uses MatchingConfig's defaults";
  const MatchingConfig defaults;
  EXPECT_TRUE(defaults.enabled);
  EXPECT_EQ(defaults.auto_merge_probability, 0) << "auto-merge is off by default";
  EXPECT_EQ(defaults.max_block, 200u);
}

TEST(MatchingSectionTest, EveryKeyAsAnObjectOrAnArray) {
  tessera::testing::ScopedTempDir dir;
  const std::string model = dir.path() + "/model.json";
  std::ofstream(model) << R"({"lambda":0.001,"comparisons":[]})";

  auto object = WithMatching(absl::StrCat(R"({"auto_merge_probability":0.99,"model":")", model,
                                          R"(","max_block":50,"traits":{"birth_date":["dob"],"name":["fullName","name"]}})"));
  ASSERT_TRUE(object.ok()) << object.status();
  ASSERT_EQ(object->matching.size(), 1u);
  const MatchingConfig& entry = object->matching[0];
  EXPECT_EQ(entry.space, "default");
  EXPECT_DOUBLE_EQ(entry.auto_merge_probability, 0.99);
  EXPECT_EQ(entry.model, model);
  EXPECT_EQ(entry.model_json, R"({"lambda":0.001,"comparisons":[]})") << "the file is read with the config";
  EXPECT_EQ(entry.max_block, 50u);
  EXPECT_EQ(entry.traits.at("birth_date"), std::vector<std::string>{"dob"});
  EXPECT_EQ(entry.traits.at("name"), (std::vector<std::string>{"fullName", "name"}));

  auto array = WithMatching(R"([{"space":"default","enabled":false,"auto_merge_probability":1}])");
  ASSERT_TRUE(array.ok()) << array.status();
  ASSERT_EQ(array->matching.size(), 1u);
  EXPECT_FALSE(array->matching[0].enabled);
  EXPECT_DOUBLE_EQ(array->matching[0].auto_merge_probability, 1.0);
}

TEST(MatchingSectionTest, WhatCouldNotWorkIsRefusedByKey) {
  tessera::testing::ScopedTempDir dir;
  const std::string not_a_model = dir.path() + "/notes.json";
  std::ofstream(not_a_model) << R"({"hello":"world"})";
  const std::pair<std::string, std::string> cases[] = {
      {R"({"auto_merge_probability":0.5})", "matching.auto_merge_probability"},
      {R"({"auto_merge_probability":1.01})", "matching.auto_merge_probability"},
      {R"({"auto_merge_probability":-1})", "matching.auto_merge_probability"},
      {R"({"auto_merge_probability":"high"})", "matching.auto_merge_probability"},
      {R"({"model":"/nonexistent/model.json"})", "matching.model"},
      {absl::StrCat(R"({"model":")", not_a_model, R"("})"), "matching.model"},
      {R"({"max_block":1})", "matching.max_block"},
      {R"({"traits":{"shoe_size":["size"]}})", "matching.traits.shoe_size"},
      {R"({"traits":{"name":[]}})", "matching.traits.name"},
      {R"({"space":"elsewhere"})", "matching[0].space"},
      {R"([{},{"space":"default"}])", "matching[1].space"},
      {R"({"auto_merge":0.99})", "matching.auto_merge"},
  };
  for (const auto& [matching, key] : cases) {
    auto config = WithMatching(matching);
    ASSERT_FALSE(config.ok()) << matching << " must be refused";
    EXPECT_TRUE(absl::IsInvalidArgument(config.status())) << config.status();
    EXPECT_NE(std::string(config.status().message()).find(key), std::string::npos)
        << matching << ": the error must name " << key << ", got: " << config.status();
  }
}

}  // namespace
}  // namespace tessera::config
