// The computed_traits, audiences and audience_sweep sections: definitions kept as JSON, and the
// checks on their envelopes.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "config/config.h"

namespace tessera::config {
namespace {

TEST(ParseConfigTest, DefinitionsKeepTheirJsonWithoutSpace) {
  absl::StatusOr<Config> config = ParseConfig(R"({
    "sources": [{"write_key": "k", "space": "eu"}],
    "computed_traits": [{"space": "eu", "name": "orders", "kind": "count", "event": "Order Completed"}],
    "audiences": [{"space": "eu", "name": "buyers", "description": "d", "condition": {"event": "Order Completed"}}],
    "audience_sweep": {"interval_ms": 1000, "chunk_profiles": 10}})");
  ASSERT_TRUE(config.ok()) << config.status();
  ASSERT_EQ(config->computed_traits.size(), 1u);
  EXPECT_EQ(config->computed_traits[0].space, "eu");
  EXPECT_EQ(config->computed_traits[0].name, "orders");
  EXPECT_EQ(config->computed_traits[0].json, R"({"name":"orders","kind":"count","event":"Order Completed"})");
  ASSERT_EQ(config->audiences.size(), 1u);
  // Audience bodies are what PUT /v1/audiences/{name} takes: the name is not part of them.
  EXPECT_EQ(config->audiences[0].json, R"({"description":"d","condition":{"event":"Order Completed"}})");
  EXPECT_EQ(config->audience_sweep.interval, std::chrono::milliseconds(1000));
  EXPECT_EQ(config->audience_sweep.chunk_profiles, 10u);
}

TEST(ParseConfigTest, DefinitionEnvelopesAreChecked) {
  const std::pair<std::string, std::string> cases[] = {
      {R"({"sources":[{"write_key":"k"}],"audiences":[{"condition":{}}]})", "audiences[0].name: missing"},
      {R"({"sources":[{"write_key":"k"}],"audiences":[{"name":"a","space":"eu","condition":{}}]})",
       "audiences[0].space: \"eu\" is the space of no source"},
      {R"({"sources":[{"write_key":"k"}],"computed_traits":[{"name":"a","kind":"count"},{"name":"a","kind":"sum"}]})",
       "computed_traits[1].name: \"a\" is already defined by computed_traits[0]"},
      {R"({"sources":[{"write_key":"k"}],"computed_traits":["orders"]})",
       "computed_traits[0]: expected an object"},
      {R"({"sources":[{"write_key":"k"}],"audience_sweep":{"interval_ms":5}})", "audience_sweep.interval_ms"},
  };
  for (const auto& [json, expected] : cases) {
    absl::StatusOr<Config> config = ParseConfig(json);
    ASSERT_FALSE(config.ok()) << json;
    EXPECT_THAT(std::string(config.status().message()), ::testing::HasSubstr(expected)) << json;
  }
}

}  // namespace
}  // namespace tessera::config
