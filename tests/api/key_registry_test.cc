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

TEST(KeyRegistryTest, KeysGivenAsDigestsMatchTheirSecret) {
  config::Config config;
  // printf %s wk-pos | sha256sum, and the same for "rk" and "ak".
  config.sources.push_back(
      {.name = "till",
       .write_key = "sha256:af86583143cf0a87b0bf6c41db8868be7fab1563d831311b2807ad56f307d371",
       .channel = "pos"});
  config.read_keys = {"sha256:da8d176f739559b1fb9c2b64cbe793ce280732f2ef239090d75df41dc9054e7c"};
  config.admin_keys = {"sha256:7f093592aebbb47767b5655699cdab8c86c4b24f5c93e3b22a3c2538856e9bf1"};
  KeyRegistry keys(config);
  const KeyIdentity till = keys.Identify("wk-pos");
  EXPECT_EQ(till.scope, KeyScope::kWrite);
  ASSERT_NE(till.source, nullptr);
  EXPECT_EQ(till.source->name, "till");
  EXPECT_EQ(keys.Identify("rk").scope, KeyScope::kRead);
  EXPECT_EQ(keys.Identify("ak").scope, KeyScope::kAdmin);
  EXPECT_EQ(keys.Identify(config.admin_keys[0]).scope, KeyScope::kUnknown)
      << "the digest is not a key: presenting it must not work";
  EXPECT_EQ(keys.Identify("").scope, KeyScope::kUnknown);
  EXPECT_EQ(keys.Identify("wk-po").scope, KeyScope::kUnknown);
}

TEST(KeyRegistryTest, AKeyInBothReadAndAdminListsIsAnAdminKey) {
  config::Config config;
  config.read_keys = {"k"};
  config.admin_keys = {"k"};
  EXPECT_EQ(KeyRegistry(config).Identify("k").scope, KeyScope::kAdmin);
}

TEST(KeyRegistryTest, KeyLabelNamesAKeyWithoutRevealingIt) {
  KeyRegistry keys(TwoSources());
  // The first 12 hex digits of the SHA-256 of "ak", "rk" and "nope".
  EXPECT_EQ(keys.KeyLabel("ak"), "admin:7f093592aebb");
  EXPECT_EQ(keys.KeyLabel("rk"), "read:da8d176f7395");
  EXPECT_EQ(keys.KeyLabel("wk-pos"), "write:till") << "a write key is named by its source";
  EXPECT_EQ(keys.KeyLabel("nope"),
            "unknown:" + config::HexOfDigest(config::DigestOfKey("nope")).substr(0, 12));
  EXPECT_EQ(keys.KeyLabel("nope").find("nope"), std::string::npos);
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
