// The cluster section: NATS servers, roles and the JetStream settings.

#include <gtest/gtest.h>

#include <string>

#include "absl/status/status.h"
#include "config/config.h"

namespace tessera::config {
namespace {

absl::Status ErrorOf(const std::string& cluster_json) {
  return ParseConfig(R"({"cluster": )" + cluster_json + "}").status();
}

TEST(ClusterSectionTest, WithoutTheSectionTheProcessIsEmbedded) {
  absl::StatusOr<Config> config = ParseConfig("{}");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_FALSE(config->cluster.has_value());
}

TEST(ClusterSectionTest, OneRoleOrAListAndEverySetting) {
  absl::StatusOr<Config> config = ParseConfig(R"({"cluster": {
      "nats_urls": ["nats://10.0.0.1:4222", "nats://10.0.0.2:4222"], "role": "gateway"}})");
  ASSERT_TRUE(config.ok()) << config.status();
  ASSERT_TRUE(config->cluster.has_value());
  EXPECT_EQ(config->cluster->roles, std::vector<std::string>{"gateway"});
  EXPECT_EQ(config->cluster->nats_urls.size(), 2u);
  EXPECT_EQ(config->cluster->stream_replicas, 3) << "three copies unless told otherwise";

  config = ParseConfig(R"({"cluster": {"nats_urls": ["nats://n1:4222"], "role": ["gateway", "resolver"],
      "name": "host-1:8080", "stream_replicas": 5, "duplicate_window_seconds": 600, "publish_timeout_ms": 2500,
      "lease_ttl_seconds": 15, "shed_at_percent": 90, "stream_max_bytes": 1073741824}})");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->cluster->roles, (std::vector<std::string>{"gateway", "resolver"}));
  EXPECT_EQ(config->cluster->name, "host-1:8080");
  EXPECT_EQ(config->cluster->stream_replicas, 5);
  EXPECT_EQ(config->cluster->duplicate_window, std::chrono::seconds(600));
  EXPECT_EQ(config->cluster->publish_timeout, std::chrono::milliseconds(2500));
  EXPECT_EQ(config->cluster->lease_ttl, std::chrono::seconds(15));
  EXPECT_EQ(config->cluster->shed_at_percent, 90u);
  EXPECT_EQ(config->cluster->stream_max_bytes, int64_t{1} << 30);
}

TEST(ClusterSectionTest, MistakesAreNamedByTheirKey) {
  struct Case {
    std::string json;
    std::string expected;
  };
  const Case cases[] = {
      {R"({"role": "gateway"})", "cluster.nats_urls: is required"},
      {R"({"nats_urls": ["nats://a:4222"]})", "cluster.role: is required"},
      {R"({"nats_urls": [], "role": "gateway"})", "cluster.nats_urls: must name at least one"},
      {R"({"nats_urls": ["http://a:4222"], "role": "gateway"})", "cluster.nats_urls[0]: \"http://a:4222\" must start with nats://"},
      {R"({"nats_urls": ["nats://a:4222", "tls://b:4222"], "role": "gateway"})", "cluster.nats_urls[1]: \"tls://b:4222\" must start with nats://"},
      {R"({"nats_urls": ["nats://a:4222"], "role": "leader"})", "cluster.role: \"leader\" is not one of gateway, resolver, replica"},
      {R"({"nats_urls": ["nats://a:4222"], "role": ["gateway", "gateway"]})", "cluster.role[1]: \"gateway\" is listed twice"},
      {R"({"nats_urls": ["nats://a:4222"], "role": []})", "cluster.role: must name at least one role"},
      {R"({"nats_urls": ["nats://a:4222"], "role": 3})", "cluster.role: expected a role or a list of roles"},
      {R"({"nats_urls": ["nats://a:4222"], "role": "replica", "stream_replicas": 2})", "cluster.stream_replicas: 2 is even"},
      {R"({"nats_urls": ["nats://a:4222"], "role": "replica", "stream_replicas": 7})", "cluster.stream_replicas"},
      {R"({"nats_urls": ["nats://a:4222"], "role": "replica", "name": "Host 1"})", "cluster.name: \"Host 1\" must be"},
      {R"({"nats_urls": ["nats://a:4222"], "role": "replica", "publish_timeout_ms": 10})", "cluster.publish_timeout_ms"},
      {R"({"nats_urls": ["nats://a:4222"], "role": "replica", "replicas": 3})", "cluster.replicas: unknown key"},
      {R"({"nats_urls": ["nats://a:4222"], "role": "gateway", "shed_at_percent": 40})", "cluster.shed_at_percent"},
      {R"({"nats_urls": ["nats://a:4222"], "role": "gateway", "shed_at_percent": 101})", "cluster.shed_at_percent"},
      {R"({"nats_urls": ["nats://a:4222"], "role": "gateway", "shed_at_percent": "95"})", "cluster.shed_at_percent"},
      {R"({"nats_urls": ["nats://a:4222"], "role": "gateway", "stream_max_bytes": 1000})", "cluster.stream_max_bytes"},
      {R"({"nats_urls": ["nats://a:4222"], "role": "gateway", "stream_max_bytes": -1})", "cluster.stream_max_bytes"},
  };
  for (const Case& c : cases) {
    absl::Status status = ErrorOf(c.json);
    EXPECT_TRUE(absl::IsInvalidArgument(status)) << c.json << " -> " << status;
    EXPECT_NE(std::string(status.message()).find(c.expected), std::string::npos)
        << c.json << " -> " << status.message() << "\nexpected to contain: " << c.expected;
  }
}

}  // namespace
}  // namespace tessera::config
