#include "api/cors.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "api/sdk_settings_handler.h"
#include "simdjson.h"

namespace tessera::api {
namespace {

std::string HeaderOf(const HttpReply& reply, std::string_view name) {
  for (const auto& [key, value] : reply.headers) {
    if (key == name) return value;
  }
  return "<absent>";
}

class CorsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    config_.sources = {
        {.name = "website",
         .write_key = "wk-web",
         .channel = "web",
         .allowed_origins = {"https://shop.example.com"}},
        {.name = "landing",
         .write_key = "wk-landing",
         .channel = "web",
         .allowed_origins = {"https://*.brand.kr"}},
    };
    config_.read_keys = {"rk"};
    keys_ = std::make_unique<KeyRegistry>(config_);
    cors_ = std::make_unique<CorsPolicy>(*keys_, std::vector<std::string>{"https://crm.example.com"});
  }

  HttpReply Preflight(std::string_view target, std::string_view origin, std::string_view headers = {}) {
    return cors_->Options(MatchRoute(Method::kOptions, target),
                          {.origin = origin, .request_method = "POST", .request_headers = headers});
  }

  config::Config config_;
  std::unique_ptr<KeyRegistry> keys_;
  std::unique_ptr<CorsPolicy> cors_;
};

TEST_F(CorsTest, PreflightOfAnAllowedOriginIsAnsweredWithWhatTheBrowserAsked) {
  const HttpReply reply =
      Preflight("/v1/t", "https://shop.example.com", "authorization,content-type,x-retry-count");
  EXPECT_EQ(reply.status, 204);
  EXPECT_EQ(HeaderOf(reply, "Access-Control-Allow-Origin"), "https://shop.example.com") << "echoed, never *";
  EXPECT_EQ(HeaderOf(reply, "Access-Control-Allow-Methods"), "POST");
  EXPECT_EQ(HeaderOf(reply, "Access-Control-Allow-Headers"), "authorization,content-type,x-retry-count");
  EXPECT_EQ(HeaderOf(reply, "Access-Control-Max-Age"), "7200");
  EXPECT_EQ(HeaderOf(reply, "Access-Control-Allow-Credentials"), "true");
}

TEST_F(CorsTest, PreflightWithoutListedHeadersGetsTheSdkHeaders) {
  const HttpReply reply = Preflight("/v1/batch", "https://www.brand.kr");
  EXPECT_EQ(reply.status, 204);
  EXPECT_NE(HeaderOf(reply, "Access-Control-Allow-Headers").find("Authorization"), std::string::npos);
  EXPECT_NE(HeaderOf(reply, "Access-Control-Allow-Headers").find("AnonymousId"), std::string::npos);
  const HttpReply odd = Preflight("/v1/batch", "https://www.brand.kr", "x-a\r\nSet-Cookie: a=b");
  EXPECT_EQ(HeaderOf(odd, "Access-Control-Allow-Headers").find("Set-Cookie"), std::string::npos)
      << "request text that is not a header list is not echoed";
}

TEST_F(CorsTest, PreflightFromADisallowedOriginGetsNoAllowHeader) {
  const HttpReply reply = Preflight("/v1/track", "https://evil.example");
  EXPECT_EQ(reply.status, 403);
  EXPECT_EQ(HeaderOf(reply, "Access-Control-Allow-Origin"), "<absent>");
  EXPECT_NE(reply.body.find("origin_not_allowed"), std::string::npos) << reply.body;
}

TEST_F(CorsTest, AWriteKeyInTheQueryNarrowsThePreflightToItsSource) {
  EXPECT_EQ(Preflight("/beacon/v1/batch?writeKey=wk-landing", "https://www.brand.kr").status, 204);
  EXPECT_EQ(Preflight("/beacon/v1/batch?writeKey=wk-landing", "https://shop.example.com").status, 403)
      << "another source's origin";
}

TEST_F(CorsTest, ReadAndAdminPathsFollowTheApiOrigins) {
  EXPECT_EQ(cors_
                ->Options(MatchRoute(Method::kOptions, "/v1/profiles/email:a@b.co"),
                          {.origin = "https://crm.example.com", .request_method = "GET"})
                .status,
            204);
  const HttpReply refused = cors_->Options(MatchRoute(Method::kOptions, "/v1/profiles/email:a@b.co"),
                                           {.origin = "https://shop.example.com", .request_method = "GET"});
  EXPECT_EQ(refused.status, 403) << "a tracking origin may not read profiles";
  EXPECT_EQ(HeaderOf(refused, "Access-Control-Allow-Origin"), "<absent>");
  EXPECT_EQ(cors_
                ->Options(MatchRoute(Method::kOptions, "/metrics"),
                          {.origin = "https://crm.example.com", .request_method = "GET"})
                .status,
            403);
}

TEST_F(CorsTest, PlainOptionsSaysWhatThePathTakes) {
  const HttpReply reply = cors_->Options(MatchRoute(Method::kOptions, "/v1/batch"), {});
  EXPECT_EQ(reply.status, 204);
  EXPECT_EQ(HeaderOf(reply, "Allow"), "POST, OPTIONS");
}

TEST_F(CorsTest, ResponsesCarryTheAllowHeadersOnlyForAllowedOrigins) {
  HttpReply tracked{.status = 200};
  cors_->AddResponseHeaders(RouteId::kTrack, "https://shop.example.com", tracked);
  EXPECT_EQ(HeaderOf(tracked, "Access-Control-Allow-Origin"), "https://shop.example.com");
  EXPECT_EQ(HeaderOf(tracked, "Access-Control-Expose-Headers"), "Retry-After, Tessera-Position");
  EXPECT_EQ(HeaderOf(tracked, "Vary"), "Origin");

  HttpReply foreign{.status = 200};
  cors_->AddResponseHeaders(RouteId::kTrack, "https://evil.example", foreign);
  EXPECT_EQ(HeaderOf(foreign, "Access-Control-Allow-Origin"), "<absent>");

  HttpReply profile{.status = 200};
  cors_->AddResponseHeaders(RouteId::kProfiles, "https://shop.example.com", profile);
  EXPECT_EQ(HeaderOf(profile, "Access-Control-Allow-Origin"), "<absent>");

  HttpReply crm{.status = 200};
  cors_->AddResponseHeaders(RouteId::kProfiles, "https://crm.example.com", crm);
  EXPECT_EQ(HeaderOf(crm, "Access-Control-Allow-Origin"), "https://crm.example.com");
  EXPECT_EQ(HeaderOf(crm, "Access-Control-Allow-Credentials"), "<absent>")
      << "the API takes keys, never a visitor's cookies";

  HttpReply server{.status = 200};
  cors_->AddResponseHeaders(RouteId::kTrack, "", server);
  EXPECT_TRUE(server.headers.empty()) << "no Origin, no CORS headers";
}

TEST_F(CorsTest, SameOriginIsSchemeAndHostAsTheBrowserAddressedUs) {
  EXPECT_TRUE(CorsPolicy::IsSameOrigin("http://127.0.0.1:8080", "127.0.0.1:8080", false));
  EXPECT_TRUE(CorsPolicy::IsSameOrigin("https://CDP.example.com", "cdp.example.com", true));
  EXPECT_FALSE(CorsPolicy::IsSameOrigin("http://cdp.example.com", "cdp.example.com", true));
  EXPECT_FALSE(CorsPolicy::IsSameOrigin("http://cdp.example.com.evil", "cdp.example.com", false));
  EXPECT_FALSE(CorsPolicy::IsSameOrigin("http://x", "", false));
}

TEST_F(CorsTest, IngestIsAllowedPerSource) {
  const ingest::SourceRef* web = keys_->FindSource("wk-web");
  ASSERT_NE(web, nullptr);
  EXPECT_TRUE(cors_->AllowsIngest(web, "https://shop.example.com"));
  EXPECT_FALSE(cors_->AllowsIngest(web, "https://www.brand.kr"));
  EXPECT_TRUE(cors_->AllowsIngest(nullptr, "https://www.brand.kr")) << "some source allows it";
}

// The SDK settings documents (api/sdk_settings_handler.h), which share the sources and the policy.
TEST_F(CorsTest, SegmentSettingsSendToThisServer) {
  const SdkSettingsHandler handler(*keys_, *cors_);
  const HttpReply reply = handler.Handle({.route = RouteId::kSdkSettings,
                                          .write_key_segment = "wk-web",
                                          .host = "cdp.example.com:8443",
                                          .tls = true});
  ASSERT_EQ(reply.status, 200) << reply.body;
  simdjson::dom::parser parser;
  simdjson::dom::element settings = parser.parse(reply.body);
  simdjson::dom::element segment = settings["integrations"]["Segment.io"];
  EXPECT_EQ(std::string_view(segment["apiKey"]), "wk-web");
  EXPECT_EQ(std::string_view(segment["apiHost"]), "cdp.example.com:8443/v1");
  EXPECT_EQ(std::string_view(segment["protocol"]), "https");
  EXPECT_EQ(settings["integrations"].get_object().value().size(), 1u) << "no other destination to load";
  EXPECT_EQ(int64_t(settings["metrics"]["sampleRate"]), 0);
  EXPECT_EQ(reply.body.find("wk-landing"), std::string::npos) << "names no other source";
}

TEST_F(CorsTest, SettingsOfUnknownKeysAreNotFound) {
  const SdkSettingsHandler handler(*keys_, *cors_);
  for (std::string_view key : {"nope", "rk", "wk%2"}) {
    const HttpReply reply =
        handler.Handle({.route = RouteId::kSdkSettings, .write_key_segment = key, .host = "h:1"});
    EXPECT_EQ(reply.status, 404) << key << ": a read key is not a source either";
  }
  EXPECT_EQ(handler.Handle({.route = RouteId::kSourceConfig, .query = "writeKey=nope", .host = "h"}).status,
            404);
  EXPECT_EQ(handler.Handle({.route = RouteId::kSourceConfig, .query = "p=npm", .host = "h"}).status, 400);
  EXPECT_EQ(handler
                .Handle({.route = RouteId::kSdkSettings,
                         .write_key_segment = "wk-web",
                         .host = "h:1",
                         .origin = "https://evil.example"})
                .status,
            403);
  EXPECT_EQ(
      handler.Handle({.route = RouteId::kSdkSettings, .write_key_segment = "wk-web", .host = "a b"}).status,
      400)
      << "a Host that is not a host is not echoed into the settings";
}

TEST_F(CorsTest, RudderSourceConfigIsAnEnabledSourceWithoutDestinations) {
  const SdkSettingsHandler handler(*keys_, *cors_);
  const HttpReply reply = handler.Handle(
      {.route = RouteId::kSourceConfig, .query = "p=npm&v=3.34.1&writeKey=wk-landing", .host = "h"});
  ASSERT_EQ(reply.status, 200) << reply.body;
  simdjson::dom::parser parser;
  simdjson::dom::element source = parser.parse(reply.body)["source"];
  EXPECT_EQ(std::string_view(source["writeKey"]), "wk-landing");
  EXPECT_EQ(std::string_view(source["name"]), "landing");
  EXPECT_TRUE(bool(source["enabled"]));
  EXPECT_TRUE(source["config"].is_object());
  EXPECT_EQ(source["destinations"].get_array().value().size(), 0u);
}

}  // namespace
}  // namespace tessera::api
