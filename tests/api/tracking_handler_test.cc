#include "api/tracking_handler.h"

#include <gtest/gtest.h>

#include <future>

#include "tests/api/pipeline_fixture.h"

namespace tessera::api {
namespace {

class TrackingHandlerTest : public testing::PipelineFixture {
 protected:
  void SetUp() override {
    StartPipeline({{.name = "website", .write_key = "wk", .space = "default", .channel = "web"}});
    handler_ = std::make_unique<TrackingHandler>(*keys_, *pipeline_, ingest::SegmentParserOptions{});
  }

  HttpReply Call(RouteId route, std::string body, std::string_view authorization = BasicFor("wk"),
                 std::string_view query = {}) {
    ingest::EnsurePadding(body);
    std::promise<HttpReply> promise;
    handler_->Handle({.route = route, .authorization = authorization, .query = query, .body = &body},
                     [&](HttpReply reply) { promise.set_value(reply); });
    return promise.get_future().get();
  }

  std::unique_ptr<TrackingHandler> handler_;
};

TEST_F(TrackingHandlerTest, AcceptedTrackAnswersSuccess) {
  HttpReply reply = Call(RouteId::kTrack, R"({"userId":"u1","event":"Signed Up","messageId":"m1"})");
  EXPECT_EQ(reply.status, 200) << reply.body;
  EXPECT_EQ(reply.body, R"({"success":true})");
  EXPECT_EQ(LoggedCount(), 1u);
}

TEST_F(TrackingHandlerTest, WriteKeyInTheBodyAuthenticates) {
  HttpReply reply = Call(RouteId::kIdentify, R"({"writeKey":"wk","userId":"u1","traits":{"plan":"pro"}})", "");
  EXPECT_EQ(reply.status, 200) << reply.body;
}

TEST_F(TrackingHandlerTest, MissingAndUnknownKeysAre401AndStoreNothing) {
  HttpReply missing = Call(RouteId::kTrack, R"({"userId":"u1","event":"x"})", "");
  EXPECT_EQ(missing.status, 401);
  EXPECT_NE(missing.body.find(R"("code":"unauthorized")"), std::string::npos) << missing.body;
  HttpReply unknown = Call(RouteId::kTrack, R"({"userId":"u1","event":"x"})", BasicFor("nope"));
  EXPECT_EQ(unknown.status, 401);
  HttpReply unknown_body = Call(RouteId::kTrack, R"({"writeKey":"nope","userId":"u1","event":"x"})", "");
  EXPECT_EQ(unknown_body.status, 401);
  HttpReply not_basic = Call(RouteId::kTrack, R"({"writeKey":"wk","userId":"u1","event":"x"})", "Bearer wk");
  EXPECT_EQ(not_basic.status, 401) << "a wrong header is not rescued by a key in the body";
  EXPECT_EQ(LoggedCount(), 0u);
}

TEST_F(TrackingHandlerTest, WriteKeyInTheQueryAuthenticatesBeacons) {
  // navigator.sendBeacon can set no header: RudderStack puts the key in the URL.
  HttpReply reply = Call(RouteId::kBatch, R"({"batch":[{"type":"track","anonymousId":"a1","event":"x"}]})", "",
                         "writeKey=wk");
  EXPECT_EQ(reply.status, 200) << reply.body;
  HttpReply unknown = Call(RouteId::kBatch, R"({"batch":[{"type":"track","anonymousId":"a1","event":"y"}]})", "",
                           "writeKey=nope");
  EXPECT_EQ(unknown.status, 401);
  HttpReply garbled = Call(RouteId::kBatch, R"({"batch":[{"type":"track","anonymousId":"a1","event":"y"}]})", "",
                           "writeKey=%zz");
  EXPECT_EQ(garbled.status, 401);
  EXPECT_NE(garbled.body.find("percent-encoded"), std::string::npos) << garbled.body;
  EXPECT_EQ(LoggedCount(), 1u);
}

TEST_F(TrackingHandlerTest, PagesOfOriginsTheSourceDoesNotAllowAreRefusedAndStoreNothing) {
  config::Config config;
  config.sources = {{.name = "shop", .write_key = "wk-shop", .channel = "web",
                     .allowed_origins = {"https://shop.example.com"}}};
  const KeyRegistry keys(config);
  const CorsPolicy cors(keys, {});
  TrackingHandler handler(keys, *pipeline_, ingest::SegmentParserOptions{}, &cors);
  auto call = [&](std::string_view origin) {
    std::string body = R"({"writeKey":"wk-shop","anonymousId":"a1","event":"x"})";
    ingest::EnsurePadding(body);
    std::promise<HttpReply> promise;
    handler.Handle({.route = RouteId::kTrack, .origin = origin, .body = &body},
                   [&](HttpReply reply) { promise.set_value(reply); });
    return promise.get_future().get();
  };
  const HttpReply refused = call("https://copycat.example");
  EXPECT_EQ(refused.status, 403);
  EXPECT_NE(refused.body.find("origin_not_allowed"), std::string::npos) << refused.body;
  EXPECT_EQ(LoggedCount(), 0u);
  EXPECT_EQ(call("https://shop.example.com").status, 200);
  EXPECT_EQ(call("").status, 200) << "servers and apps send no Origin";
  EXPECT_EQ(LoggedCount(), 1u) << "the second call is a duplicate of the first";
}

TEST_F(TrackingHandlerTest, InvalidSingleEventNamesTheField) {
  HttpReply reply = Call(RouteId::kTrack, R"({"userId":{},"event":"x"})");
  EXPECT_EQ(reply.status, 400);
  EXPECT_NE(reply.body.find(R"("code":"invalid_type")"), std::string::npos) << reply.body;
  EXPECT_NE(reply.body.find(R"("field":"userId")"), std::string::npos) << reply.body;
  EXPECT_EQ(metrics_.events_rejected.load(), 1u);
}

TEST_F(TrackingHandlerTest, BatchReportsBadEventsByIndexAndKeepsTheGoodOnes) {
  HttpReply reply = Call(RouteId::kBatch, R"({"batch":[
      {"type":"track","userId":"u1","event":"a","messageId":"g1"},
      {"type":"track","event":"b","messageId":"bad"},
      {"type":"page","anonymousId":"anon","messageId":"g2"}]})");
  EXPECT_EQ(reply.status, 200) << reply.body;
  EXPECT_NE(reply.body.find(R"("accepted":2)"), std::string::npos) << reply.body;
  EXPECT_NE(reply.body.find(R"("index":1)"), std::string::npos) << reply.body;
  EXPECT_NE(reply.body.find(R"("messageId":"bad")"), std::string::npos) << reply.body;
  EXPECT_EQ(LoggedCount(), 2u);
}

TEST_F(TrackingHandlerTest, StrictBatchIsAllOrNothing) {
  HttpReply reply = Call(RouteId::kBatch,
                         R"({"batch":[{"type":"track","userId":"u1","event":"a"},{"type":"nope","userId":"u1"}]})",
                         BasicFor("wk"), "strict=true");
  EXPECT_EQ(reply.status, 400) << reply.body;
  EXPECT_NE(reply.body.find(R"("code":"unknown_type")"), std::string::npos) << reply.body;
  EXPECT_NE(reply.body.find(R"("rejected":[)"), std::string::npos) << reply.body;
  EXPECT_EQ(LoggedCount(), 0u);
}

TEST_F(TrackingHandlerTest, MalformedJsonIs400) {
  HttpReply reply = Call(RouteId::kTrack, R"({"userId":"u1",)");
  EXPECT_EQ(reply.status, 400) << reply.body;
  EXPECT_NE(reply.body.find(R"("code":"invalid_json")"), std::string::npos) << reply.body;
}

TEST_F(TrackingHandlerTest, DuplicateStillAnswersSuccess) {
  const std::string body = R"({"userId":"u1","event":"x","messageId":"same"})";
  EXPECT_EQ(Call(RouteId::kTrack, body).status, 200);
  HttpReply again = Call(RouteId::kTrack, body);
  EXPECT_EQ(again.status, 200);
  EXPECT_EQ(again.body, R"({"success":true})");
  EXPECT_EQ(LoggedCount(), 1u);
}

TEST(ErrorReplyTest, EscapesTheMessage) {
  HttpReply reply = ErrorReply(400, "invalid_value", "bad \"quote\"\n", "traits.a");
  EXPECT_EQ(reply.body, R"({"error":{"code":"invalid_value","message":"bad \"quote\"\n","field":"traits.a"}})");
}

}  // namespace
}  // namespace tessera::api
