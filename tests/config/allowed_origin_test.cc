#include "config/allowed_origin.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace tessera::config {
namespace {

std::string Normalized(std::string_view entry) {
  absl::StatusOr<std::string> normalized = NormalizeAllowedOrigin(entry);
  EXPECT_TRUE(normalized.ok()) << entry << ": " << normalized.status();
  return normalized.ok() ? *normalized : std::string();
}

TEST(AllowedOriginTest, EntriesAreCanonicalLowerCase) {
  EXPECT_EQ(Normalized("*"), "*");
  EXPECT_EQ(Normalized("https://Shop.Example.COM"), "https://shop.example.com");
  EXPECT_EQ(Normalized("http://localhost:5173"), "http://localhost:5173");
  EXPECT_EQ(Normalized("https://*.example.com"), "https://*.example.com");
  EXPECT_EQ(Normalized("http://[::1]:8080"), "http://[::1]:8080");
  EXPECT_EQ(Normalized("https://shop.example.com:443"), "https://shop.example.com")
      << "browsers leave the default port out of Origin";
  EXPECT_EQ(Normalized("http://shop.example.com:80"), "http://shop.example.com");
  EXPECT_EQ(Normalized("http://shop.example.com:443"), "http://shop.example.com:443");
}

TEST(AllowedOriginTest, MalformedEntriesSayWhatIsWrong) {
  const std::pair<std::string_view, std::string_view> cases[] = {
      {"shop.example.com", "is not an origin"},
      {"https://shop.example.com/", "has a path"},
      {"https://shop.example.com/cart", "has a path"},
      {"https://shop.example.com:80a", "is not a port"},
      {"https://", "is not a host name"},
      {"https://a.*.example.com", "is not a host name"},
      {"https://sho p.com", "is not a host name"},
      {"ht tp://a.com", "scheme"},
      {"http://[::1", "no closing"},
      {"https://*.com", "at least two labels"},
  };
  for (const auto& [entry, reason] : cases) {
    absl::StatusOr<std::string> normalized = NormalizeAllowedOrigin(entry);
    ASSERT_FALSE(normalized.ok()) << entry << " was accepted";
    EXPECT_NE(std::string(normalized.status().message()).find(reason), std::string::npos)
        << entry << ": " << normalized.status().message();
  }
}

TEST(AllowedOriginTest, OriginsMatchExactlyOrBySubdomainWildcard) {
  const std::vector<std::string> entries = {"https://shop.example.com", "https://*.brand.kr",
                                            "http://localhost:3000"};
  EXPECT_TRUE(OriginAllowed(entries, "https://shop.example.com"));
  EXPECT_TRUE(OriginAllowed(entries, "HTTPS://SHOP.EXAMPLE.COM")) << "case-insensitive";
  EXPECT_FALSE(OriginAllowed(entries, "http://shop.example.com")) << "the scheme is part of the origin";
  EXPECT_FALSE(OriginAllowed(entries, "https://shop.example.com:8443")) << "so is the port";
  EXPECT_FALSE(OriginAllowed(entries, "https://shop.example.com.evil.io"));
  EXPECT_TRUE(OriginAllowed(entries, "https://www.brand.kr"));
  EXPECT_TRUE(OriginAllowed(entries, "https://m.shop.brand.kr"));
  EXPECT_FALSE(OriginAllowed(entries, "https://brand.kr")) << "a wildcard needs a subdomain";
  EXPECT_FALSE(OriginAllowed(entries, "https://evilbrand.kr"));
  EXPECT_FALSE(OriginAllowed(entries, "http://www.brand.kr"));
  EXPECT_TRUE(OriginAllowed(entries, "http://localhost:3000"));
  EXPECT_FALSE(OriginAllowed(entries, "null")) << "opaque origins only under *";
  EXPECT_FALSE(OriginAllowed(entries, ""));
}

TEST(AllowedOriginTest, StarAllowsEveryOriginIncludingOpaqueOnes) {
  const std::vector<std::string> any = {"*"};
  EXPECT_TRUE(OriginAllowed(any, "https://anything.example"));
  EXPECT_TRUE(OriginAllowed(any, "null"));
  EXPECT_FALSE(OriginAllowed(any, "")) << "no Origin header is not a browser page";
  EXPECT_FALSE(OriginAllowed(any, "https://a.com Set-Cookie: x=1")) << "only real origins are ever echoed";
  EXPECT_FALSE(OriginAllowed(any, "https://a.com/path"));
  EXPECT_FALSE(OriginAllowed(any, "https://*.a.com"));
  EXPECT_FALSE(OriginAllowed({}, "https://a.com")) << "an empty list allows nothing";
}

}  // namespace
}  // namespace tessera::config
