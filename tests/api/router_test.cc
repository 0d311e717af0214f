#include "api/router.h"

#include "api/profile_handler.h"

#include <gtest/gtest.h>

namespace tessera::api {
namespace {

TEST(RouterTest, TrackingEndpointsArePostOnly) {
  RouteMatch match = MatchRoute(Method::kPost, "/v1/track");
  EXPECT_EQ(match.route, RouteId::kTrack);
  EXPECT_TRUE(match.method_allowed);
  RouteMatch get = MatchRoute(Method::kGet, "/v1/batch");
  EXPECT_EQ(get.route, RouteId::kBatch);
  EXPECT_FALSE(get.method_allowed);
  EXPECT_EQ(get.allow, "POST");
}

TEST(RouterTest, AdminBackupIsPostOnly) {
  RouteMatch match = MatchRoute(Method::kPost, "/v1/admin/backup");
  EXPECT_EQ(match.route, RouteId::kAdminBackup);
  EXPECT_TRUE(match.method_allowed);
  RouteMatch get = MatchRoute(Method::kGet, "/v1/admin/backup");
  EXPECT_FALSE(get.method_allowed);
  EXPECT_EQ(get.allow, "POST");
  EXPECT_EQ(RouteLabel(RouteId::kAdminBackup), "/v1/admin/backup");
}

TEST(RouterTest, EveryTrackingCallHasItsEndpoint) {
  EXPECT_EQ(TrackingEndpoint(MatchRoute(Method::kPost, "/v1/identify").route), ingest::Endpoint::kIdentify);
  EXPECT_EQ(TrackingEndpoint(MatchRoute(Method::kPost, "/v1/page").route), ingest::Endpoint::kPage);
  EXPECT_EQ(TrackingEndpoint(MatchRoute(Method::kPost, "/v1/screen").route), ingest::Endpoint::kScreen);
  EXPECT_EQ(TrackingEndpoint(MatchRoute(Method::kPost, "/v1/group").route), ingest::Endpoint::kGroup);
  EXPECT_EQ(TrackingEndpoint(MatchRoute(Method::kPost, "/v1/alias").route), ingest::Endpoint::kAlias);
  EXPECT_EQ(TrackingEndpoint(MatchRoute(Method::kPost, "/v1/batch").route), ingest::Endpoint::kBatch);
  EXPECT_TRUE(IsTrackingRoute(RouteId::kBatch));
  EXPECT_FALSE(IsTrackingRoute(RouteId::kMetrics));
}

TEST(RouterTest, QueryAndTrailingSlashAreNotPartOfThePath) {
  RouteMatch match = MatchRoute(Method::kPost, "/v1/batch/?strict=true&x=1");
  EXPECT_EQ(match.route, RouteId::kBatch);
  EXPECT_EQ(match.query, "strict=true&x=1");
  EXPECT_EQ(QueryParam(match.query, "strict"), "true");
  EXPECT_EQ(QueryParam(match.query, "x"), "1");
  EXPECT_EQ(QueryParam(match.query, "missing"), "");
  EXPECT_EQ(QueryParam("stricter=1", "strict"), "") << "a parameter name must match whole";
}

TEST(RouterTest, OperationsEndpointsAllowGetAndHead) {
  EXPECT_TRUE(MatchRoute(Method::kGet, "/healthz").method_allowed);
  EXPECT_TRUE(MatchRoute(Method::kHead, "/metrics").method_allowed);
  EXPECT_FALSE(MatchRoute(Method::kPost, "/readyz").method_allowed);
}

TEST(RouterTest, StreamIsAGetUpgradeWithItsQuery) {
  const RouteMatch match = MatchRoute(Method::kGet, "/v1/stream?writeKey=k&strict=true");
  EXPECT_EQ(match.route, RouteId::kStream);
  EXPECT_TRUE(match.method_allowed);
  EXPECT_EQ(QueryParam(match.query, "writeKey"), "k");
  EXPECT_FALSE(IsTrackingRoute(RouteId::kStream));
  const RouteMatch post = MatchRoute(Method::kPost, "/v1/stream");
  EXPECT_FALSE(post.method_allowed);
  EXPECT_EQ(post.allow, "GET");
}

TEST(RouterTest, ConnectorsArePrefixRoutesForGetAndPost) {
  const RouteMatch match = MatchRoute(Method::kPost, "/v1/connectors/pos/shopify?writeKey=k");
  EXPECT_EQ(match.route, RouteId::kConnectors);
  EXPECT_EQ(match.rest, "pos/shopify");
  EXPECT_EQ(match.query, "writeKey=k");
  EXPECT_TRUE(match.method_allowed);
  EXPECT_TRUE(MatchRoute(Method::kGet, "/v1/connectors/social/meta").method_allowed) << "Meta's handshake";
  EXPECT_FALSE(MatchRoute(Method::kDelete, "/v1/connectors/social/meta").method_allowed);
  EXPECT_EQ(MatchRoute(Method::kPost, "/v1/connectors/").route, RouteId::kNotFound);
}

TEST(RouterTest, SegmentShortPathsAndTheBeaconPathAreTheTrackingRoutes) {
  const std::pair<std::string_view, RouteId> aliases[] = {
      {"/v1/t", RouteId::kTrack},  {"/v1/i", RouteId::kIdentify}, {"/v1/p", RouteId::kPage},
      {"/v1/s", RouteId::kScreen}, {"/v1/g", RouteId::kGroup},    {"/v1/a", RouteId::kAlias},
      {"/v1/b", RouteId::kBatch},  {"/beacon/v1/batch", RouteId::kBatch},
  };
  for (const auto& [path, route] : aliases) {
    const RouteMatch match = MatchRoute(Method::kPost, path);
    EXPECT_EQ(match.route, route) << path;
    EXPECT_TRUE(match.method_allowed) << path;
  }
  EXPECT_EQ(RouteLabel(MatchRoute(Method::kPost, "/v1/t").route), "/v1/track") << "metrics keep one label per call";
  EXPECT_EQ(MatchRoute(Method::kPost, "/beacon/v1/batch?writeKey=k").query, "writeKey=k");
}

TEST(RouterTest, SdkSettingsDocumentsAndTheRootAreGets) {
  const RouteMatch settings = MatchRoute(Method::kGet, "/v1/projects/wk%20one/settings");
  EXPECT_EQ(settings.route, RouteId::kSdkSettings);
  EXPECT_EQ(settings.rest, "wk%20one");
  EXPECT_TRUE(settings.method_allowed);
  EXPECT_FALSE(MatchRoute(Method::kPost, "/v1/projects/wk/settings").method_allowed);
  const RouteMatch source_config = MatchRoute(Method::kGet, "/sourceConfig/?p=npm&writeKey=wk");
  EXPECT_EQ(source_config.route, RouteId::kSourceConfig);
  EXPECT_EQ(QueryParam(source_config.query, "writeKey"), "wk");
  EXPECT_EQ(MatchRoute(Method::kGet, "/").route, RouteId::kRoot);
  EXPECT_TRUE(MatchRoute(Method::kHead, "/").method_allowed);
}

TEST(RouterTest, UnknownPathsAreNotFound) {
  EXPECT_EQ(MatchRoute(Method::kPost, "/v1/trackx").route, RouteId::kNotFound);
  EXPECT_EQ(MatchRoute(Method::kGet, "/index.html").route, RouteId::kNotFound);
  EXPECT_EQ(MatchRoute(Method::kPost, "/v1/x").route, RouteId::kNotFound) << "only the call types' letters";
  EXPECT_EQ(MatchRoute(Method::kGet, "/v1/projects/a/b/settings").route, RouteId::kNotFound)
      << "a write key is one path segment";
  EXPECT_EQ(MatchRoute(Method::kGet, "/v1/projects//settings").route, RouteId::kNotFound);
  EXPECT_EQ(MatchRoute(Method::kPost, "/V1/TRACK").route, RouteId::kNotFound) << "paths are case-sensitive";
  EXPECT_EQ(RouteLabel(RouteId::kNotFound), "other");
}

}  // namespace
}  // namespace tessera::api

namespace tessera::api {
namespace {

TEST(RouterTest, ProfilesArePrefixRoutesForGetAndHead) {
  RouteMatch match = MatchRoute(Method::kGet, "/v1/profiles/email:a%40b.c/events?limit=5");
  EXPECT_EQ(match.route, RouteId::kProfiles);
  EXPECT_TRUE(match.method_allowed);
  EXPECT_EQ(match.rest, "email:a%40b.c/events");
  EXPECT_EQ(match.query, "limit=5");
  EXPECT_FALSE(MatchRoute(Method::kPost, "/v1/profiles/user_id:u").method_allowed);
  EXPECT_EQ(MatchRoute(Method::kGet, "/v1/profiles/").route, RouteId::kNotFound) << "a profile reference is required";
  EXPECT_EQ(RouteLabel(RouteId::kProfiles), "/v1/profiles") << "metrics must not get one label per profile";
}

TEST(UrlDecodeTest, DecodesPercentEscapesAndRejectsBrokenOnes) {
  EXPECT_EQ(UrlDecode("ada%40example.com"), "ada@example.com");
  EXPECT_EQ(UrlDecode("%2B821012345678"), "+821012345678");
  EXPECT_EQ(UrlDecode("a+b"), "a+b") << "'+' is not a space in a path";
  EXPECT_EQ(UrlDecode("%E2%9C%93"), "\xE2\x9C\x93");
  EXPECT_EQ(UrlDecode("bad%2"), std::nullopt);
  EXPECT_EQ(UrlDecode("bad%zz"), std::nullopt);
}

}  // namespace
}  // namespace tessera::api

namespace tessera::api {
namespace {

TEST(RouterTest, AudiencesAreACollectionForGetPutAndDelete) {
  const RouteMatch list = MatchRoute(Method::kGet, "/v1/audiences?space=shop");
  EXPECT_EQ(list.route, RouteId::kAudiences);
  EXPECT_TRUE(list.method_allowed);
  EXPECT_EQ(list.rest, "") << "the collection itself has no rest";
  EXPECT_EQ(list.query, "space=shop");
  EXPECT_EQ(MatchRoute(Method::kGet, "/v1/audiences/").rest, "") << "a trailing slash is the collection too";

  const RouteMatch members = MatchRoute(Method::kGet, "/v1/audiences/vip-buyers/members?format=csv");
  EXPECT_EQ(members.route, RouteId::kAudiences);
  EXPECT_EQ(members.rest, "vip-buyers/members");
  EXPECT_EQ(members.query, "format=csv");

  EXPECT_TRUE(MatchRoute(Method::kPut, "/v1/audiences/vip").method_allowed);
  EXPECT_TRUE(MatchRoute(Method::kDelete, "/v1/audiences/vip").method_allowed);
  const RouteMatch post = MatchRoute(Method::kPost, "/v1/audiences/vip");
  EXPECT_EQ(post.route, RouteId::kAudiences);
  EXPECT_FALSE(post.method_allowed) << "POST must be 405";
  EXPECT_EQ(post.allow, "GET, PUT, DELETE");
  EXPECT_FALSE(MatchRoute(Method::kHead, "/v1/audiences").method_allowed);

  EXPECT_EQ(MatchRoute(Method::kGet, "/v1/audiencesx").route, RouteId::kNotFound) << "the prefix must end at a '/'";
  EXPECT_EQ(RouteLabel(RouteId::kAudiences), "/v1/audiences") << "metrics must not get one label per audience";
}

TEST(RouterTest, ComputedTraitsAreACollectionForGetPutAndDelete) {
  const RouteMatch list = MatchRoute(Method::kGet, "/v1/computed-traits");
  EXPECT_EQ(list.route, RouteId::kComputedTraits);
  EXPECT_TRUE(list.method_allowed);
  EXPECT_EQ(list.rest, "");
  const RouteMatch one = MatchRoute(Method::kPut, "/v1/computed-traits/order_count?space=shop");
  EXPECT_EQ(one.route, RouteId::kComputedTraits);
  EXPECT_TRUE(one.method_allowed);
  EXPECT_EQ(one.rest, "order_count");
  EXPECT_EQ(one.query, "space=shop");
  EXPECT_TRUE(MatchRoute(Method::kDelete, "/v1/computed-traits/order_count").method_allowed);
  const RouteMatch post = MatchRoute(Method::kPost, "/v1/computed-traits");
  EXPECT_FALSE(post.method_allowed);
  EXPECT_EQ(post.allow, "GET, PUT, DELETE");
  EXPECT_EQ(MatchRoute(Method::kGet, "/v1/computed-trait").route, RouteId::kNotFound);
  EXPECT_EQ(RouteLabel(RouteId::kComputedTraits), "/v1/computed-traits");
}

}  // namespace
}  // namespace tessera::api
