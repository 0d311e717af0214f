// The console's static files (api/console_handler.h): routing, content types, caching, the
// Content-Security-Policy, and the files really embedded in this build.

#include "api/console_handler.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <array>
#include <string>

#include "api/router.h"

namespace tessera::api {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// Sorted by path, as the generated table is.
constexpr std::array<StaticAsset, 3> kAssets = {{
    {"assets/index-abc123.css", "body{}"},
    {"assets/index-abc123.js", "console.log(1)"},
    {"index.html", "<!doctype html><title>console</title>"},
}};

std::string Header(const HttpReply& reply, std::string_view name) {
  for (const auto& [key, value] : reply.headers) {
    if (key == name) return value;
  }
  return "<absent>";
}

TEST(ConsoleRouteTest, ConsolePathsRouteToTheConsoleKeepingTheSlash) {
  RouteMatch bare = MatchRoute(Method::kGet, "/console");
  EXPECT_EQ(bare.route, RouteId::kConsole);
  EXPECT_EQ(bare.rest, "");
  RouteMatch root = MatchRoute(Method::kGet, "/console/?x=1");
  EXPECT_EQ(root.route, RouteId::kConsole);
  EXPECT_EQ(root.rest, "/") << "the trailing slash tells the page from the redirect";
  EXPECT_EQ(root.query, "x=1");
  EXPECT_EQ(MatchRoute(Method::kGet, "/console/assets/a.js").rest, "/assets/a.js");
  EXPECT_EQ(MatchRoute(Method::kGet, "/consoles").route, RouteId::kNotFound);
  RouteMatch post = MatchRoute(Method::kPost, "/console/");
  EXPECT_FALSE(post.method_allowed);
  EXPECT_EQ(post.allow, "GET, HEAD");
  EXPECT_EQ(MatchRoute(Method::kGet, "/v1/tail").route, RouteId::kTail);
}

TEST(ConsoleHandlerTest, BarePathRedirectsToTheDirectoryKeepingTheQuery) {
  ConsoleHandler handler(kAssets);
  HttpReply reply = handler.Handle(Method::kGet, "", "", "127.0.0.1:8080");
  EXPECT_EQ(reply.status, 308);
  EXPECT_EQ(Header(reply, "Location"), "/console/");
  EXPECT_EQ(Header(handler.Handle(Method::kGet, "", "a=b", "h"), "Location"), "/console/?a=b");
}

TEST(ConsoleHandlerTest, IndexIsHtmlNeverCachedWithAStrictPolicy) {
  ConsoleHandler handler(kAssets);
  HttpReply reply = handler.Handle(Method::kGet, "/", "", "127.0.0.1:8080");
  ASSERT_EQ(reply.status, 200);
  EXPECT_EQ(reply.body, "<!doctype html><title>console</title>");
  EXPECT_EQ(Header(reply, "Content-Type"), "text/html; charset=utf-8");
  EXPECT_EQ(Header(reply, "Cache-Control"), "no-cache") << "a new build must be picked up at once";
  const std::string policy = Header(reply, "Content-Security-Policy");
  EXPECT_THAT(policy, HasSubstr("default-src 'self'"));
  EXPECT_THAT(policy, HasSubstr("connect-src 'self' ws://127.0.0.1:8080 wss://127.0.0.1:8080"));
  EXPECT_THAT(policy, HasSubstr("frame-ancestors 'none'"));
  EXPECT_THAT(policy, Not(HasSubstr("unsafe-inline")));
  EXPECT_EQ(Header(reply, "X-Content-Type-Options"), "nosniff");
}

TEST(ConsoleHandlerTest, HashedAssetsAreImmutableWithTheirContentType) {
  ConsoleHandler handler(kAssets);
  HttpReply js = handler.Handle(Method::kGet, "/assets/index-abc123.js", "", "h");
  ASSERT_EQ(js.status, 200);
  EXPECT_EQ(js.body, "console.log(1)");
  EXPECT_EQ(Header(js, "Content-Type"), "text/javascript; charset=utf-8");
  EXPECT_EQ(Header(js, "Cache-Control"), "public, max-age=31536000, immutable");
  EXPECT_EQ(Header(handler.Handle(Method::kGet, "/assets/index-abc123.css", "", "h"), "Content-Type"),
            "text/css; charset=utf-8");
}

TEST(ConsoleHandlerTest, UnknownFileIs404ButAClientRouteGetsThePage) {
  ConsoleHandler handler(kAssets);
  HttpReply missing = handler.Handle(Method::kGet, "/assets/index-gone.js", "", "h");
  EXPECT_EQ(missing.status, 404);
  EXPECT_THAT(Header(missing, "Content-Security-Policy"), HasSubstr("default-src 'self'"));
  EXPECT_EQ(handler.Handle(Method::kGet, "/assets/../../etc/hosts.txt", "", "h").status, 404)
      << "there is no file system behind the console, only the embedded names";
}

TEST(ConsoleHandlerTest, PathsWithoutAnExtensionFallBackToTheIndex) {
  ConsoleHandler handler(kAssets);
  EXPECT_EQ(handler.Handle(Method::kGet, "/profile/id:p0000000000000001", "", "h").status, 200);
  HttpReply deep = handler.Handle(Method::kGet, "/audiences/new", "", "h");
  EXPECT_EQ(deep.status, 200);
  EXPECT_EQ(Header(deep, "Content-Type"), "text/html; charset=utf-8");
  EXPECT_EQ(Header(deep, "Cache-Control"), "no-cache");
}

TEST(ConsoleHandlerTest, AHostThatIsNotPlainIsLeftOutOfThePolicy) {
  EXPECT_EQ(ConsoleContentSecurityPolicy("evil.example; script-src *").find("evil"), std::string::npos);
  EXPECT_THAT(ConsoleContentSecurityPolicy("[::1]:9000"), HasSubstr("ws://[::1]:9000"));
}

TEST(ConsoleHandlerTest, WithoutEmbeddedFilesTheConsoleSaysItWasNotBuilt) {
  ConsoleHandler handler(std::span<const StaticAsset>{});
  HttpReply reply = handler.Handle(Method::kGet, "/", "", "h");
  EXPECT_EQ(reply.status, 404);
  EXPECT_THAT(reply.body, HasSubstr("not built"));
}

TEST(ConsoleAssetsTest, TheBuiltConsoleIsEmbeddedSortedWithHashedAssets) {
  std::span<const StaticAsset> assets = ConsoleAssets();
  if (assets.empty()) GTEST_SKIP() << "built with TESSERA_CONSOLE=OFF";
  bool index = false;
  bool script = false;
  for (size_t i = 0; i < assets.size(); ++i) {
    if (i > 0) {
      EXPECT_LT(assets[i - 1].path, assets[i].path) << "lookups are binary searches";
    }
    index = index || assets[i].path == "index.html";
    script = script || (assets[i].path.starts_with("assets/") && assets[i].path.ends_with(".js"));
    // Nothing in the bundle may point at another host (the policy would block it anyway).
    EXPECT_EQ(assets[i].data.find("https://"), std::string_view::npos) << assets[i].path;
  }
  EXPECT_TRUE(index);
  EXPECT_TRUE(script);
  HttpReply page = ConsoleHandler().Handle(Method::kGet, "/", "", "h");
  EXPECT_THAT(page.body, HasSubstr("/console/assets/"));
}

}  // namespace
}  // namespace tessera::api
