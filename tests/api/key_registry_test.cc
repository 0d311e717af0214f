#include "api/key_registry.h"

#include <gtest/gtest.h>

namespace tessera::api {
namespace {

config::Config TwoSources() {
  config::Config config;
  config.sources.push_back({.name = "website", .write_key = "wk-web", .space = "default", .channel = "web"});
  config.sources.push_back({.name = "till", .write_key = "wk-pos", .space = "stores", .channel = "pos"});
  config.read_keys = {"rk"};
  config.admin_keys = {"ak"};
  return config;
}

TEST(KeyRegistryTest, WriteKeysMapToTheirSource) {
  KeyRegistry keys(TwoSources());
  const ingest::SourceRef* pos = keys.FindSource("wk-pos");
  ASSERT_NE(pos, nullptr);
  EXPECT_EQ(pos->space, "stores");
  EXPECT_EQ(pos->channel, "pos");
  EXPECT_EQ(pos->name, "till");
  EXPECT_EQ(keys.FindSource("rk"), nullptr) << "a read key is not a write key";
  EXPECT_EQ(keys.FindSource(""), nullptr);
}

TEST(KeyRegistryTest, ScopesAreDistinct) {
  KeyRegistry keys(TwoSources());
  EXPECT_TRUE(keys.IsReadKey("rk"));
  EXPECT_FALSE(keys.IsReadKey("ak"));
  EXPECT_TRUE(keys.IsAdminKey("ak"));
  EXPECT_FALSE(keys.IsAdminKey("wk-web"));
}

TEST(KeyRegistryTest, EachSourceKeepsItsOwnConnectorSettings) {
  config::Config config = TwoSources();
  config.sources[1].connectors.shopify_secret = "shp-secret";
  KeyRegistry keys(config);
  EXPECT_EQ(keys.ConnectorsOf(*keys.FindSource("wk-pos")).shopify_secret, "shp-secret");
  EXPECT_EQ(keys.ConnectorsOf(*keys.FindSource("wk-web")).shopify_secret, "");
  const ingest::SourceRef stranger{.name = "x", .space = "default", .channel = "web"};
  EXPECT_EQ(keys.ConnectorsOf(stranger).shopify_secret, "") << "a source not from the registry has no settings";
}

TEST(KeyRegistryTest, HeaderOrQueryKeyTheHeaderDecidingAlone) {
  KeyRegistry keys(TwoSources());
  auto by_query = keys.SourceFromHeaderOrQuery("", "a=1&writeKey=wk%2Dpos");
  ASSERT_TRUE(by_query.ok()) << by_query.status();
  EXPECT_EQ((*by_query)->channel, "pos");
  auto by_header = keys.SourceFromHeaderOrQuery("Basic d2std2ViOg==", "writeKey=wk-pos");
  ASSERT_TRUE(by_header.ok()) << by_header.status();
  EXPECT_EQ((*by_header)->channel, "web");
  EXPECT_TRUE(absl::IsUnauthenticated(keys.SourceFromHeaderOrQuery("Bearer x", "writeKey=wk-pos").status()));
  EXPECT_TRUE(absl::IsUnauthenticated(keys.SourceFromHeaderOrQuery("", "writeKey=").status()));
  EXPECT_TRUE(absl::IsUnauthenticated(keys.SourceFromHeaderOrQuery("", "writeKey=%zz").status()));
}

TEST(BasicAuthTest, SegmentStyleWriteKeyAsUsername) {
  // base64("wk-web:") as analytics.js sends it.
  EXPECT_EQ(BasicAuthUser("Basic d2std2ViOg=="), "wk-web");
  // Without the colon, and with a password, the username is still the key.
  EXPECT_EQ(BasicAuthUser("Basic d2std2Vi"), "wk-web");
  EXPECT_EQ(BasicAuthUser("basic d2std2ViOnNlY3JldA=="), "wk-web") << "the scheme is case-insensitive";
}

TEST(BasicAuthTest, MalformedHeadersAreRejected) {
  EXPECT_EQ(BasicAuthUser("Bearer abc"), std::nullopt);
  EXPECT_EQ(BasicAuthUser("Basic !!!not-base64!!!"), std::nullopt);
  EXPECT_EQ(BasicAuthUser("Basic"), std::nullopt);
  EXPECT_EQ(BasicAuthUser(""), std::nullopt);
}

TEST(BearerTest, ExtractsTheToken) {
  EXPECT_EQ(BearerToken("Bearer rk"), "rk");
  EXPECT_EQ(BearerToken("Basic rk"), std::nullopt);
}

}  // namespace
}  // namespace tessera::api
