#include "api/audience_handler.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <future>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "api/profile_handler.h"
#include "profile_store/profile_reader.h"
#include "tests/api/pipeline_fixture.h"

namespace tessera::api {
namespace {

using namespace std::chrono_literals;

constexpr std::string_view kAdmin = "Bearer ak";
constexpr std::string_view kRead = "Bearer rk";
constexpr std::string_view kWrite = "Bearer wk";

bool Contains(const std::string& text, std::string_view part) { return text.find(part) != std::string::npos; }

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(start, end - start);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    lines.push_back(std::move(line));
    start = end + 1;
  }
  return lines;
}

class AudienceHandlerTest : public testing::PipelineFixture {
 protected:
  void SetUp() override {
    config_.read_keys = {"rk"};
    config_.admin_keys = {"ak"};
    pipeline::PipelineOptions options;
    options.spaces = {"default"};
    options.definitions["default"].computed_traits = {
        {"config_orders", R"({"kind":"count","event":"Order Completed"})"}};
    options.definitions["default"].audiences = {
        {"config_buyers",
         R"({"description":"from the file","condition":{"computed":"config_orders","op":"gte","value":1}})"}};
    StartPipeline({{.name = "website", .write_key = "wk", .space = "default", .channel = "web"}},
                  std::move(options));
    handler_ = std::make_unique<AudienceHandler>(
        *keys_, *store_, [this](std::string_view space) { return pipeline_->audiences(space); });
  }

  HttpReply Call(Method method, RouteId route, std::string_view path, std::string_view body = {},
                 std::string_view authorization = kAdmin, std::string_view query = {}) {
    return handler_->Handle(AudienceRequest{.method = method,
                                            .route = route,
                                            .path = path,
                                            .query = query,
                                            .authorization = authorization,
                                            .body = body});
  }
  HttpReply Audiences(Method method, std::string_view path, std::string_view body = {},
                      std::string_view authorization = kAdmin, std::string_view query = {}) {
    return Call(method, RouteId::kAudiences, path, body, authorization, query);
  }
  HttpReply Traits(Method method, std::string_view path, std::string_view body = {},
                   std::string_view authorization = kAdmin) {
    return Call(method, RouteId::kComputedTraits, path, body, authorization);
  }

  // Sends a Segment batch through the real tracking path and waits until it is durable.
  void Ingest(std::string body) {
    TrackingHandler tracking(*keys_, *pipeline_, ingest::SegmentParserOptions{});
    ingest::EnsurePadding(body);
    std::promise<HttpReply> promise;
    tracking.Handle({.route = RouteId::kBatch, .authorization = BasicFor("wk"), .body = &body},
                    [&](HttpReply reply) { promise.set_value(reply); });
    HttpReply reply = promise.get_future().get();
    ASSERT_EQ(reply.status, 200) << reply.body;
  }

  // Waits (with a deadline) until the resolver reports `size` members of `audience`.
  void WaitForSize(const std::string& audience, int64_t size) {
    audiences::SpaceAudiences* space = pipeline_->audiences("default");
    ASSERT_NE(space, nullptr);
    const auto deadline = std::chrono::steady_clock::now() + 30s;
    int64_t last = -1;
    while (std::chrono::steady_clock::now() < deadline) {
      std::optional<audiences::AudienceStatus> status = space->Status(audience);
      last = status ? status->counters.size : -1;
      if (last == size) return;
      std::this_thread::sleep_for(10ms);
    }
    FAIL() << "audience " << audience << " never reached " << size << " members (last: " << last << ")";
  }

  // Reads a streamed reply to its end.
  static std::string Drain(const HttpReply& reply) {
    EXPECT_NE(reply.stream, nullptr) << "expected a streamed reply: " << reply.body;
    if (reply.stream == nullptr) return {};
    std::string body;
    for (int chunks = 0; chunks < 10'000; ++chunks) {
      std::string chunk;
      absl::StatusOr<bool> more = reply.stream->Next(chunk);
      EXPECT_TRUE(more.ok()) << more.status();
      body += chunk;
      if (!more.ok() || !*more) break;
    }
    return body;
  }

  static std::string Header(const HttpReply& reply, std::string_view name) {
    for (const auto& [key, value] : reply.headers) {
      if (key == name) return value;
    }
    return {};
  }

  // Two buyers (u1 twice, u2 once) and a visitor who never bought (u3).
  void IngestPurchases() {
    Ingest(R"({"batch":[
      {"type":"identify","userId":"u1","traits":{"email":"ada@example.com","plan":"pro"}},
      {"type":"track","userId":"u1","event":"Order Completed","properties":{"total":30}},
      {"type":"track","userId":"u1","event":"Order Completed","properties":{"total":12}},
      {"type":"identify","userId":"u2","traits":{"email":"bo@example.com","plan":"free, \"legacy\""}},
      {"type":"track","userId":"u2","event":"Order Completed","properties":{"total":5}},
      {"type":"identify","userId":"u3","traits":{"email":"cy@example.com"}}]})");
  }

  std::unique_ptr<AudienceHandler> handler_;
};

constexpr std::string_view kBuyers =
    R"({"description":"bought anything","condition":{"event":"Order Completed"}})";

TEST_F(AudienceHandlerTest, PutDefinesAnAudienceAndAnswersItsStatus) {
  HttpReply reply = Audiences(Method::kPut, "buyers", kBuyers);
  ASSERT_EQ(reply.status, 200) << reply.body;
  EXPECT_TRUE(Contains(reply.body, R"("name":"buyers","description":"bought anything")")) << reply.body;
  EXPECT_TRUE(Contains(reply.body, R"("condition":{"event":"Order Completed"})"))
      << "the condition as given: " << reply.body;
  EXPECT_TRUE(Contains(reply.body, R"("size":0,"entered":0,"left":0)")) << reply.body;
  EXPECT_TRUE(Contains(reply.body, R"("lastChange":null)")) << reply.body;
  EXPECT_TRUE(Contains(reply.body, R"("timeDependent":false,"fromConfig":false)")) << reply.body;

  HttpReply windowed =
      Audiences(Method::kPut, "recent", R"({"condition":{"event":"Order Completed","window":"30d"}})");
  ASSERT_EQ(windowed.status, 200) << windowed.body;
  EXPECT_TRUE(Contains(windowed.body, R"("description":"")")) << windowed.body;
  EXPECT_TRUE(Contains(windowed.body, R"("timeDependent":true)")) << windowed.body;
}

TEST_F(AudienceHandlerTest, InvalidDefinitionNamesTheBadNode) {
  HttpReply reply =
      Audiences(Method::kPut, "bad",
                R"({"condition":{"all":[{"event":"x"},{"trait":"plan","op":"bigger","value":1}]}})");
  EXPECT_EQ(reply.status, 400) << reply.body;
  EXPECT_TRUE(Contains(reply.body, R"("code":"invalid_definition")")) << reply.body;
  EXPECT_TRUE(Contains(reply.body, R"("message":"condition.all[1].op: )")) << reply.body;
  EXPECT_TRUE(Contains(reply.body, R"("field":"condition.all[1].op")")) << reply.body;

  HttpReply unknown_computed =
      Audiences(Method::kPut, "bad", R"({"condition":{"computed":"nope","op":"gt","value":1}})");
  EXPECT_EQ(unknown_computed.status, 400) << unknown_computed.body;
  EXPECT_TRUE(Contains(unknown_computed.body, R"("field":"condition.computed")")) << unknown_computed.body;

  HttpReply not_json = Audiences(Method::kPut, "bad", "{");
  EXPECT_EQ(not_json.status, 400) << not_json.body;
  EXPECT_TRUE(Contains(not_json.body, R"("code":"invalid_definition")")) << not_json.body;
  EXPECT_TRUE(Contains(not_json.body, R"("field":"")")) << "no node to name: " << not_json.body;

  EXPECT_EQ(Audiences(Method::kGet, "bad").status, 404) << "nothing was defined";
}

TEST_F(AudienceHandlerTest, BadNamesAndOversizedBodiesAreRefused) {
  HttpReply spaces = Audiences(Method::kPut, "two%20words", kBuyers);
  EXPECT_EQ(spaces.status, 400) << spaces.body;
  EXPECT_TRUE(Contains(spaces.body, R"("code":"invalid_name")")) << spaces.body;
  EXPECT_TRUE(Contains(spaces.body, R"("field":"name")")) << spaces.body;
  EXPECT_EQ(Audiences(Method::kPut, std::string(65, 'a'), kBuyers).status, 400) << "65 characters";
  EXPECT_EQ(Audiences(Method::kPut, std::string(64, 'a'), kBuyers).status, 200) << "64 characters";
  EXPECT_EQ(Traits(Method::kPut, "with-dash", R"({"kind":"count"})").status, 400)
      << "computed trait names have no dashes";

  std::string huge = R"({"description":")" + std::string(AudienceHandler::kMaxBodyBytes, 'x') +
                     R"(","condition":{"event":"x"}})";
  HttpReply too_large = Audiences(Method::kPut, "huge", huge);
  EXPECT_EQ(too_large.status, 413) << too_large.body;
  EXPECT_TRUE(Contains(too_large.body, R"("code":"payload_too_large")")) << too_large.body;
}

TEST_F(AudienceHandlerTest, ReadsNeedAReadOrAdminKeyAndChangesAnAdminKey) {
  ASSERT_EQ(Audiences(Method::kPut, "buyers", kBuyers).status, 200);
  struct Case {
    Method method;
    std::string_view authorization;
    int status;
  };
  const Case cases[] = {
      {Method::kGet, "", 401},           {Method::kGet, "Bearer ", 401}, {Method::kGet, "Bearer nope", 401},
      {Method::kGet, "Basic d2s6", 401}, {Method::kGet, kWrite, 403},    {Method::kGet, kRead, 200},
      {Method::kGet, kAdmin, 200},       {Method::kPut, "", 401},        {Method::kPut, "Bearer nope", 401},
      {Method::kPut, kWrite, 403},       {Method::kPut, kRead, 403},     {Method::kPut, kAdmin, 200},
      {Method::kDelete, "", 401},        {Method::kDelete, kWrite, 403}, {Method::kDelete, kRead, 403},
  };
  for (const Case& c : cases) {
    HttpReply reply = Audiences(c.method, "buyers", kBuyers, c.authorization);
    EXPECT_EQ(reply.status, c.status)
        << "method " << static_cast<int>(c.method) << " with \"" << c.authorization << "\": " << reply.body;
    HttpReply traits = Traits(c.method, c.method == Method::kGet ? "" : "orders",
                              R"({"kind":"count","event":"Order Completed"})", c.authorization);
    EXPECT_EQ(traits.status, c.status) << "computed traits, method " << static_cast<int>(c.method)
                                       << " with \"" << c.authorization << "\": " << traits.body;
  }
  EXPECT_EQ(Audiences(Method::kDelete, "buyers", {}, kAdmin).status, 200);
  HttpReply members = Audiences(Method::kGet, "buyers/members", {}, kWrite);
  EXPECT_EQ(members.status, 403) << "a write key cannot download members";
}

TEST_F(AudienceHandlerTest, ConfigDefinitionsCannotBeChangedThroughTheApi) {
  HttpReply put = Audiences(Method::kPut, "config_buyers", kBuyers);
  EXPECT_EQ(put.status, 409) << put.body;
  EXPECT_TRUE(Contains(put.body, R"("code":"defined_in_config")")) << put.body;
  HttpReply del = Audiences(Method::kDelete, "config_buyers");
  EXPECT_EQ(del.status, 409) << del.body;
  EXPECT_TRUE(Contains(del.body, R"("code":"defined_in_config")")) << del.body;

  HttpReply put_trait = Traits(Method::kPut, "config_orders", R"({"kind":"count"})");
  EXPECT_EQ(put_trait.status, 409) << put_trait.body;
  EXPECT_TRUE(Contains(put_trait.body, R"("code":"defined_in_config")")) << put_trait.body;

  HttpReply status = Audiences(Method::kGet, "config_buyers");
  ASSERT_EQ(status.status, 200) << status.body;
  EXPECT_TRUE(Contains(status.body, R"("fromConfig":true)")) << status.body;
  EXPECT_TRUE(Contains(status.body, R"("condition":{"computed":"config_orders","op":"gte","value":1})"))
      << status.body;
}

TEST_F(AudienceHandlerTest, AComputedTraitInUseCannotBeDeleted) {
  HttpReply trait = Traits(Method::kPut, "orders", R"({"kind":"count","event":"Order Completed"})");
  ASSERT_EQ(trait.status, 200) << trait.body;
  EXPECT_EQ(trait.body, R"({"name":"orders","definition":{"kind":"count","event":"Order Completed"}})");
  ASSERT_EQ(
      Audiences(Method::kPut, "loyal", R"({"condition":{"computed":"orders","op":"gte","value":2}})").status,
      200);

  HttpReply in_use = Traits(Method::kDelete, "orders");
  EXPECT_EQ(in_use.status, 409) << in_use.body;
  EXPECT_TRUE(Contains(in_use.body, R"("code":"in_use")")) << in_use.body;
  EXPECT_TRUE(Contains(in_use.body, "loyal")) << "the message names the audience: " << in_use.body;

  ASSERT_EQ(Audiences(Method::kDelete, "loyal").status, 200);
  HttpReply deleted = Traits(Method::kDelete, "orders");
  EXPECT_EQ(deleted.status, 200) << deleted.body;
  EXPECT_EQ(deleted.body, R"({"deleted":"orders"})");
  HttpReply again = Traits(Method::kDelete, "orders");
  EXPECT_EQ(again.status, 404) << again.body;
  EXPECT_TRUE(Contains(again.body, R"("code":"unknown_computed_trait")")) << again.body;
}

TEST_F(AudienceHandlerTest, ComputedTraitsAreListedWithTheirDefinitions) {
  HttpReply mismatch = Traits(Method::kPut, "orders", R"({"name":"other","kind":"count"})");
  EXPECT_EQ(mismatch.status, 400) << mismatch.body;
  EXPECT_TRUE(Contains(mismatch.body, R"("field":"name")")) << mismatch.body;
  HttpReply bad_kind = Traits(Method::kPut, "orders", R"({"kind":"median"})");
  EXPECT_EQ(bad_kind.status, 400) << bad_kind.body;
  EXPECT_TRUE(Contains(bad_kind.body, R"("field":"kind")")) << bad_kind.body;

  ASSERT_EQ(Traits(Method::kPut, "revenue",
                   R"({"kind":"sum","event":"Order Completed","property":"properties.total"})")
                .status,
            200);
  HttpReply list = Traits(Method::kGet, "", {}, kRead);
  ASSERT_EQ(list.status, 200) << list.body;
  EXPECT_EQ(
      list.body,
      R"({"computedTraits":[)"
      R"({"name":"config_orders","definition":{"kind":"count","event":"Order Completed"},"fromConfig":true},)"
            R"({"name":"csat_avg_90d","definition":{"kind":"csat_average","window":"90d"},"fromConfig":false,"builtIn":true},)"
            R"({"name":"expected_purchases_90d","definition":{"kind":"expected_purchases","horizonDays":90},)"
            R"("fromConfig":false,"builtIn":true},)"
            R"({"name":"last_contact_at","definition":{"kind":"last_contact_at"},"fromConfig":false,"builtIn":true},)"
            R"({"name":"open_tickets","definition":{"kind":"open_tickets"},"fromConfig":false,"builtIn":true},)"
            R"({"name":"p_alive","definition":{"kind":"p_alive"},"fromConfig":false,"builtIn":true},)"
            R"({"name":"predicted_clv_365d","definition":{"kind":"predicted_clv","horizonDays":365},)"
            R"("fromConfig":false,"builtIn":true},)"
      R"({"name":"revenue","definition":{"kind":"sum","event":"Order Completed","property":"properties.total"},)"
      R"("fromConfig":false}]})");
  HttpReply one = Traits(Method::kGet, "revenue", {}, kRead);
  EXPECT_EQ(one.status, 200) << one.body;
  EXPECT_EQ(Traits(Method::kGet, "nope", {}, kRead).status, 404);
  EXPECT_EQ(Traits(Method::kPut, "", R"({"kind":"count"})").status, 405) << "PUT needs a name";
}

TEST_F(AudienceHandlerTest, ListGetAndDelete) {
  ASSERT_EQ(Audiences(Method::kPut, "zeta", kBuyers).status, 200);
  ASSERT_EQ(Audiences(Method::kPut, "alpha", kBuyers).status, 200);

  HttpReply list = Audiences(Method::kGet, "", {}, kRead);
  ASSERT_EQ(list.status, 200) << list.body;
  const size_t alpha = list.body.find(R"("name":"alpha")");
  const size_t config = list.body.find(R"("name":"config_buyers")");
  const size_t zeta = list.body.find(R"("name":"zeta")");
  EXPECT_TRUE(list.body.starts_with(R"({"audiences":[{"name":)")) << list.body;
  EXPECT_TRUE(alpha < config && config < zeta && zeta != std::string::npos) << "by name: " << list.body;

  HttpReply one = Audiences(Method::kGet, "zeta", {}, kRead);
  ASSERT_EQ(one.status, 200) << one.body;
  EXPECT_TRUE(one.body.starts_with(R"({"name":"zeta")")) << one.body;

  HttpReply deleted = Audiences(Method::kDelete, "zeta");
  EXPECT_EQ(deleted.status, 200) << deleted.body;
  EXPECT_EQ(deleted.body, R"({"deleted":"zeta"})");
  HttpReply gone = Audiences(Method::kGet, "zeta", {}, kRead);
  EXPECT_EQ(gone.status, 404) << gone.body;
  EXPECT_TRUE(Contains(gone.body, R"("code":"unknown_audience")")) << gone.body;
  EXPECT_EQ(Audiences(Method::kDelete, "zeta").status, 404) << "deleting twice";
  EXPECT_EQ(Audiences(Method::kGet, "alpha/other", {}, kRead).status, 404) << "unknown subresource";
  EXPECT_EQ(Audiences(Method::kPut, "alpha/members", kBuyers).status, 405) << "members are read-only";
  EXPECT_EQ(Audiences(Method::kDelete, "").status, 405) << "the collection cannot be deleted";
}

TEST_F(AudienceHandlerTest, UnknownSpaceIs404) {
  HttpReply reply = Audiences(Method::kGet, "", {}, kRead, "space=nowhere");
  EXPECT_EQ(reply.status, 404) << reply.body;
  EXPECT_TRUE(Contains(reply.body, R"("code":"unknown_space")")) << reply.body;
  EXPECT_EQ(Audiences(Method::kGet, "", {}, kRead, "space=default").status, 200);
}

TEST_F(AudienceHandlerTest, MembersDownloadAsCsvAndNdjsonOnceTheResolverCaughtUp) {
  ASSERT_EQ(Audiences(Method::kPut, "buyers", kBuyers).status, 200);
  IngestPurchases();
  WaitForSize("buyers", 2);

  HttpReply status = Audiences(Method::kGet, "buyers", {}, kRead);
  EXPECT_TRUE(Contains(status.body, R"("size":2,"entered":2,"left":0)")) << status.body;
  EXPECT_FALSE(Contains(status.body, R"("lastChange":null)")) << status.body;

  HttpReply csv =
      Audiences(Method::kGet, "buyers/members", {}, kRead, "format=csv&fields=email,traits.plan,user_id");
  ASSERT_EQ(csv.status, 200) << csv.body;
  EXPECT_EQ(Header(csv, "Content-Type"), "text/csv; charset=utf-8");
  EXPECT_EQ(Header(csv, "Content-Disposition"), R"(attachment; filename="buyers.csv")");
  const std::vector<std::string> rows = Lines(Drain(csv));
  ASSERT_EQ(rows.size(), 3u) << "a header and two members";
  EXPECT_EQ(rows[0], "email,traits.plan,user_id");
  std::vector<std::string> members(rows.begin() + 1, rows.end());
  std::sort(members.begin(), members.end());
  EXPECT_EQ(members[0], "ada@example.com,pro,u1");
  EXPECT_EQ(members[1], R"(bo@example.com,"free, ""legacy""",u2)") << "RFC 4180 quoting";

  HttpReply ndjson = Audiences(Method::kGet, "buyers/members", {}, kRead, "format=ndjson&fields=id%2Cemail");
  ASSERT_EQ(ndjson.status, 200) << ndjson.body;
  EXPECT_EQ(Header(ndjson, "Content-Type"), "application/x-ndjson");
  EXPECT_EQ(Header(ndjson, "Content-Disposition"), R"(attachment; filename="buyers.ndjson")");
  const std::vector<std::string> lines = Lines(Drain(ndjson));
  ASSERT_EQ(lines.size(), 2u);
  for (const std::string& line : lines) {
    EXPECT_TRUE(line.starts_with(R"({"id":"p)")) << line;
    EXPECT_TRUE(Contains(line, R"("email":["ada@example.com"])") ||
                Contains(line, R"("email":["bo@example.com"])"))
        << line;
  }

  HttpReply defaults = Audiences(Method::kGet, "buyers/members", {}, kRead);
  ASSERT_EQ(defaults.status, 200) << defaults.body;
  EXPECT_EQ(Header(defaults, "Content-Type"), "application/x-ndjson") << "NDJSON by default";
  EXPECT_EQ(Lines(Drain(defaults)).size(), 2u);
}

TEST_F(AudienceHandlerTest, MemberDownloadRejectsBadFormatAndFields) {
  ASSERT_EQ(Audiences(Method::kPut, "buyers", kBuyers).status, 200);
  HttpReply format = Audiences(Method::kGet, "buyers/members", {}, kRead, "format=xml");
  EXPECT_EQ(format.status, 400) << format.body;
  EXPECT_TRUE(Contains(format.body, R"("field":"format")")) << format.body;
  EXPECT_EQ(format.stream, nullptr);
  HttpReply fields = Audiences(Method::kGet, "buyers/members", {}, kRead, "fields=id,computed.nope");
  EXPECT_EQ(fields.status, 400) << fields.body;
  EXPECT_TRUE(Contains(fields.body, R"("field":"fields")")) << fields.body;
  HttpReply unknown = Audiences(Method::kGet, "nobody/members", {}, kRead);
  EXPECT_EQ(unknown.status, 404) << unknown.body;
  EXPECT_TRUE(Contains(unknown.body, R"("code":"unknown_audience")")) << unknown.body;
}

TEST_F(AudienceHandlerTest, MemberDownloadRejectsABadConsentPurpose) {
  ASSERT_EQ(Audiences(Method::kPut, "buyers", kBuyers).status, 200);
  for (std::string_view query : {"consent=sms!", "consent=", "consent", "consent=sms,,email", "consent=%ZZ",
                                 "format=csv&consent=marketing%20email%3F"}) {
    HttpReply reply = Audiences(Method::kGet, "buyers/members", {}, kRead, query);
    EXPECT_EQ(reply.status, 400) << query << ": " << reply.body;
    EXPECT_TRUE(Contains(reply.body, R"("code":"invalid_value")")) << query << ": " << reply.body;
    EXPECT_TRUE(Contains(reply.body, R"("field":"consent")")) << query << ": " << reply.body;
    EXPECT_EQ(reply.stream, nullptr) << query << ": nothing may be streamed";
  }
  HttpReply named = Audiences(Method::kGet, "buyers/members", {}, kRead, "consent=sms!");
  EXPECT_TRUE(Contains(named.body, R"(\"sms!\" is not a consent purpose)")) << named.body;
  EXPECT_EQ(Audiences(Method::kGet, "buyers/members", {}, kRead, "consent=Marketing%20Email").status, 200)
      << "a category name is normalized, as events' are";
}

TEST_F(AudienceHandlerTest, MemberDownloadWithConsentHasOnlyTheConsentingMembers) {
  ASSERT_EQ(Audiences(Method::kPut, "buyers", kBuyers).status, 200);
  IngestPurchases();
  Ingest(R"({"batch":[
    {"type":"track","userId":"u1","event":"Viewed","context":{"consent":{"categoryPreferences":{"Marketing Email":true}}}},
    {"type":"identify","userId":"u2","traits":{"consent":{"marketing_email":false,"sms":true}}},
    {"type":"track","userId":"u3","event":"Viewed","context":{"consent":{"marketing_email":true}}}]})");
  WaitForSize("buyers", 2);
  // The consent events come after the purchases in the log: once u3's profile shows its consent,
  // the resolver has applied all of them.
  profile_store::ProfileReader reader(*store_);
  const ProfileHandler profiles(*keys_, reader, *pipeline_->normalizer(), {"user_id", "email"}, {"default"},
                                [this](std::string_view space) { return pipeline_->audiences(space); });
  HttpReply u3;
  for (const auto deadline = std::chrono::steady_clock::now() + 30s;
       std::chrono::steady_clock::now() < deadline;) {
    u3 = profiles.Handle(
        {.path = "user_id:u3", .query = "fields=consent", .authorization = kRead, .if_none_match = ""});
    if (Contains(u3.body, "marketing_email")) break;
    std::this_thread::sleep_for(10ms);
  }
  EXPECT_TRUE(Contains(u3.body, R"("consent":{"marketing_email":{"granted":true,"at":")")) << u3.body;
  EXPECT_TRUE(Contains(u3.body, R"(","source":"website","channel":"web"}})")) << u3.body;
  EXPECT_FALSE(Contains(u3.body, "identities")) << "fields=consent trims the rest: " << u3.body;

  HttpReply email = Audiences(Method::kGet, "buyers/members", {}, kRead,
                              "format=csv&fields=user_id,consent.marketing_email&consent=marketing_email");
  ASSERT_EQ(email.status, 200) << email.body;
  EXPECT_EQ(Lines(Drain(email)), (std::vector<std::string>{"user_id,consent.marketing_email", "u1,true"}))
      << "u2 withdrew and u3 is not a buyer";
  HttpReply sms =
      Audiences(Method::kGet, "buyers/members", {}, kRead, "format=csv&fields=user_id&consent=sms");
  EXPECT_EQ(Lines(Drain(sms)), (std::vector<std::string>{"user_id", "u2"}));
  HttpReply both = Audiences(Method::kGet, "buyers/members", {}, kRead,
                             "format=csv&fields=user_id&consent=sms%2Cmarketing_email");
  EXPECT_EQ(Lines(Drain(both)), (std::vector<std::string>{"user_id"})) << "nobody granted both";
}

TEST_F(AudienceHandlerTest, ProfilesShowComputedTraitsAndAudiences) {
  ASSERT_EQ(Audiences(Method::kPut, "buyers", kBuyers).status, 200);
  ASSERT_EQ(Audiences(Method::kPut, "big_spenders",
                      R"({"condition":{"trait":"plan","op":"eq","value":"enterprise"}})")
                .status,
            200);
  IngestPurchases();
  WaitForSize("buyers", 2);
  WaitForSize("config_buyers", 2);

  profile_store::ProfileReader reader(*store_);
  ASSERT_NE(pipeline_->normalizer(), nullptr);
  const ProfileHandler profiles(*keys_, reader, *pipeline_->normalizer(), {"user_id", "email"}, {"default"},
                                [this](std::string_view space) { return pipeline_->audiences(space); });
  HttpReply u1 =
      profiles.Handle({.path = "user_id:u1", .query = "", .authorization = kRead, .if_none_match = ""});
  ASSERT_EQ(u1.status, 200) << u1.body;
  EXPECT_TRUE(Contains(u1.body, R"("computedTraits":{"config_orders":2,"open_tickets":0})")) << u1.body;
  EXPECT_TRUE(Contains(u1.body, R"("audiences":{"buyers":{"enteredAt":")")) << u1.body;
  EXPECT_TRUE(Contains(u1.body, R"("config_buyers":{"enteredAt":")")) << u1.body;
  EXPECT_FALSE(Contains(u1.body, "big_spenders")) << u1.body;

  HttpReply u3 =
      profiles.Handle({.path = "user_id:u3", .query = "", .authorization = kRead, .if_none_match = ""});
  ASSERT_EQ(u3.status, 200) << u3.body;
  EXPECT_TRUE(Contains(u3.body, R"("computedTraits":{"config_orders":0,"open_tickets":0})"))
      << u3.body;
  EXPECT_TRUE(Contains(u3.body, R"("audiences":{})")) << u3.body;

  HttpReply trimmed = profiles.Handle(
      {.path = "user_id:u1", .query = "fields=audiences", .authorization = kRead, .if_none_match = ""});
  ASSERT_EQ(trimmed.status, 200) << trimmed.body;
  EXPECT_TRUE(trimmed.body.starts_with(R"({"profileId":"p)")) << trimmed.body;
  EXPECT_TRUE(Contains(trimmed.body, R"("audiences":{"buyers":)")) << trimmed.body;
  EXPECT_FALSE(Contains(trimmed.body, "computedTraits")) << trimmed.body;
  EXPECT_FALSE(Contains(trimmed.body, "traits\":{")) << trimmed.body;

  // A deleted audience disappears from profiles at once, before the resolver drops its rows.
  ASSERT_EQ(Audiences(Method::kDelete, "buyers").status, 200);
  HttpReply after = profiles.Handle(
      {.path = "user_id:u1", .query = "fields=audiences", .authorization = kRead, .if_none_match = ""});
  EXPECT_FALSE(Contains(after.body, "\"buyers\"")) << after.body;
  EXPECT_TRUE(Contains(after.body, "\"config_buyers\"")) << after.body;
}

}  // namespace
}  // namespace tessera::api
