// End-to-end tests of the channel connectors (POST /v1/connectors/{channel}/{format}): signed
// webhooks from Shopify, Mailgun and Meta and POS CSV exports against the real server, and one
// person who touches all five channels ending as one profile.

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "connectors/signatures.h"
#include "gtest/gtest.h"
#include "tests/e2e/e2e_support.h"
#include "tests/e2e/log_reader.h"

namespace tessera::e2e {
namespace {

using namespace std::chrono_literals;

constexpr std::string_view kAppKey = "e2e-app";
constexpr std::string_view kShopKey = "e2e-shop";
constexpr std::string_view kMailKey = "e2e-mail";
constexpr std::string_view kInstaKey = "e2e-insta";
constexpr std::string_view kTillKey = "e2e-till";
constexpr std::string_view kShopifySecret = "shp-secret";
constexpr std::string_view kMailgunKey = "mg-key";
constexpr std::string_view kMetaSecret = "meta-secret";

constexpr std::string_view kOrder = R"({"id":820982911946154508,"email":"lea@example.com","phone":"+49 151 12345678",
  "created_at":"2026-11-20T10:00:00+01:00","currency":"EUR","total_price":"25.00","subtotal_price":"25.00",
  "line_items":[{"id":1,"product_id":2,"title":"Mug","price":"25.00","quantity":1}],
  "customer":{"id":555,"email":"lea@example.com","first_name":"Lea"}})";

std::string MailgunOpened(std::string_view recipient, std::string_view event_id) {
  const std::string timestamp = "1732440000";
  const std::string token = "tok-" + std::string(event_id);
  const std::string signature = connectors::HexEncode(connectors::HmacSha256(kMailgunKey, timestamp + token));
  return R"({"signature":{"timestamp":")" + timestamp + R"(","token":")" + token + R"(","signature":")" + signature +
         R"("},"event-data":{"event":"opened","id":")" + std::string(event_id) +
         R"(","timestamp":1732440000.5,"recipient":")" + std::string(recipient) + R"("}})";
}

constexpr std::string_view kInstagramMessage = R"({"object":"instagram","entry":[{"id":"17841400000","time":1732440000000,
  "messaging":[{"sender":{"id":"IGSID-77"},"recipient":{"id":"17841400000"},"timestamp":1732440000000,
  "message":{"mid":"mid.ig.1","text":"is the mug dishwasher safe?"}}]}]})";

class ConnectorsE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string sources =
        std::string(R"({"name":"app","write_key":")") + std::string(kAppKey) + R"(","channel":"app"},)" +
        R"({"name":"shop","write_key":")" + std::string(kShopKey) +
        R"(","channel":"pos","connectors":{"shopify":{"secret":")" + std::string(kShopifySecret) + R"("}}},)" +
        R"({"name":"mail","write_key":")" + std::string(kMailKey) +
        R"(","channel":"email","connectors":{"mailgun":{"signing_key":")" + std::string(kMailgunKey) + R"("}}},)" +
        R"({"name":"insta","write_key":")" + std::string(kInstaKey) +
        R"(","channel":"social","connectors":{"meta":{"app_secret":")" + std::string(kMetaSecret) +
        R"(","verify_token":"vt-1"}}},)" +
        R"({"name":"till","write_key":")" + std::string(kTillKey) +
        R"(","channel":"pos","connectors":{"csv":{"columns":{"receipt_id":"Receipt","loyalty_card":"Card",)"
        R"("email":"Email","amount":"Total","store":"Store","timestamp":"Date"},"default_currency":"EUR",)"
        R"("timestamp_format":"%Y-%m-%d %H:%M:%S","timezone":"+01:00"}}})";
    auto started = ServerProcess::Start({.data_dir = data_dir(), .extra_sources = sources});
    ASSERT_TRUE(started.ok()) << started.status();
    server_ = std::move(*started);
    client_ = std::make_unique<HttpClient>(server_->port());
  }

  std::string data_dir() const { return temp_.path() + "/data"; }

  HttpResponse Post(std::string_view connector, std::string_view key, std::string_view body,
                    const std::map<std::string, std::string>& headers) {
    auto response = client_->Request("POST", "/v1/connectors/" + std::string(connector) + "?writeKey=" + std::string(key),
                                     body, headers);
    EXPECT_TRUE(response.ok()) << response.status();
    return response.ok() ? *response : HttpResponse{};
  }

  HttpResponse PostShopify(std::string_view body, std::string_view secret = kShopifySecret) {
    return Post("pos/shopify", kShopKey, body,
                {{"X-Shopify-Hmac-Sha256", Base64(connectors::HmacSha256(secret, body))},
                 {"Content-Type", "application/json"}});
  }

  HttpResponse PostMeta(std::string_view body) {
    return Post("social/meta", kInstaKey, body,
                {{"X-Hub-Signature-256", "sha256=" + connectors::HexEncode(connectors::HmacSha256(kMetaSecret, body))}});
  }

  void Track(std::string_view key, const std::string& body) {
    auto response = client_->PostJson("/v1/batch", body, key);
    ASSERT_TRUE(response.ok()) << response.status();
    ASSERT_EQ(response->status, 200) << response->body;
  }

  absl::StatusOr<HttpResponse> Profile(const std::string& ref) {
    return client_->Request("GET", "/v1/profiles/" + ref, {}, {{"Authorization", "Bearer " + std::string(kReadKey)}});
  }

  TempDir temp_;
  std::unique_ptr<ServerProcess> server_;
  std::unique_ptr<HttpClient> client_;
};

TEST_F(ConnectorsE2eTest, OnePersonAcrossAllFiveChannelsIsOneProfile) {
  // Web: anonymous browsing, then a login on the website.
  Track(kWriteKey, R"({"batch":[{"type":"page","anonymousId":"anon-w1","name":"Mugs"},
      {"type":"identify","anonymousId":"anon-w1","userId":"u-lea"}]})");
  // App: login with the email.
  Track(kAppKey, R"({"batch":[{"type":"identify","userId":"u-lea","traits":{"email":"Lea@Example.com"}}]})");
  // POS: a Shopify order carrying the email and a phone.
  HttpResponse order = PostShopify(kOrder);
  ASSERT_EQ(order.status, 200) << order.body;
  // Email: Mailgun reports an open.
  HttpResponse opened = Post("email/mailgun", kMailKey, MailgunOpened("lea@example.com", "mg-1"), {});
  ASSERT_EQ(opened.status, 200) << opened.body;
  // Social: an Instagram message from a scoped id nobody knows yet...
  HttpResponse message = PostMeta(kInstagramMessage);
  ASSERT_EQ(message.status, 200) << message.body;
  // ...linked later by an identify that carries both.
  Track(kAppKey, R"({"batch":[{"type":"identify","userId":"u-lea","context":{"externalIds":[
      {"id":"17841400000:IGSID-77","type":"ig_sid","collection":"users","encoding":"none"}]}}]})");

  std::string last;
  ASSERT_TRUE(WaitFor(
      [&] {
        auto profile = Profile("user_id:u-lea");
        if (!profile.ok() || profile->status != 200) return false;
        last = profile->body;
        return last.find("\"eventCount\":7") != std::string::npos;
      },
      30s))
      << "the profile never held the 7 events; last answer: " << last;
  for (const char* channel : {"\"web\":", "\"app\":", "\"pos\":", "\"email\":", "\"social\":"}) {
    EXPECT_NE(last.find(channel), std::string::npos) << "the channel summary lacks " << channel << ": " << last;
  }
  const std::string profile_id = JsonStringMember(last, "profileId");
  ASSERT_FALSE(profile_id.empty()) << last;
  for (const std::string ref : {"email:lea%40example.com", "phone:%2B4915112345678", "anonymous_id:anon-w1",
                                "shopify_customer_id:555", "ig_sid:17841400000:IGSID-77"}) {
    auto found = Profile(ref);
    ASSERT_TRUE(found.ok()) << found.status();
    EXPECT_EQ(found->status, 200) << ref << ": " << found->body;
    EXPECT_EQ(JsonStringMember(found->body, "profileId"), profile_id) << ref << " belongs to another profile";
  }
}

TEST_F(ConnectorsE2eTest, BadSignaturesAreRefusedAndStoreNothing) {
  HttpResponse forged = PostShopify(kOrder, "not-the-secret");
  EXPECT_EQ(forged.status, 401) << forged.body;
  EXPECT_NE(forged.body.find("invalid_signature"), std::string::npos) << forged.body;
  HttpResponse unsigned_order = Post("pos/shopify", kShopKey, kOrder, {});
  EXPECT_EQ(unsigned_order.status, 401) << unsigned_order.body;
  HttpResponse tampered = Post("social/meta", kInstaKey, kInstagramMessage,
                               {{"X-Hub-Signature-256", "sha256=" + std::string(64, '0')}});
  EXPECT_EQ(tampered.status, 401) << tampered.body;
  // A source without the connector configured cannot use it, even with a valid-looking signature.
  HttpResponse unconfigured = Post("pos/shopify", kAppKey, kOrder,
                                   {{"X-Shopify-Hmac-Sha256", Base64(connectors::HmacSha256("", kOrder))}});
  EXPECT_EQ(unconfigured.status, 401) << unconfigured.body;

  auto exit_code = server_->Terminate();
  ASSERT_TRUE(exit_code.ok()) << exit_code.status();
  EXPECT_TRUE(ReadLog(data_dir()).empty()) << "a refused webhook must store nothing";
}

TEST_F(ConnectorsE2eTest, ReplayedWebhooksAreStoredOnceAndMalformedOnesNameTheField) {
  for (int i = 0; i < 3; ++i) {
    HttpResponse order = PostShopify(kOrder);
    EXPECT_EQ(order.status, 200) << order.body;
    HttpResponse opened = Post("email/mailgun", kMailKey, MailgunOpened("lea@example.com", "mg-2"), {});
    EXPECT_EQ(opened.status, 200) << opened.body;
  }
  HttpResponse no_id = PostShopify(R"({"email":"x@example.com","total_price":"1.00"})");
  EXPECT_EQ(no_id.status, 400) << no_id.body;
  EXPECT_NE(no_id.body.find(R"("field":"id")"), std::string::npos) << no_id.body;
  HttpResponse not_json = PostShopify("{nope");
  EXPECT_EQ(not_json.status, 400) << not_json.body;
  EXPECT_NE(not_json.body.find("invalid_json"), std::string::npos) << not_json.body;

  auto exit_code = server_->Terminate();
  ASSERT_TRUE(exit_code.ok()) << exit_code.status();
  std::map<std::string, int> counts;
  for (const auto& event : ReadLog(data_dir())) ++counts[event.message_id];
  EXPECT_EQ(counts, (std::map<std::string, int>{{"shopify-order-820982911946154508", 1}, {"mailgun-mg-2", 1}}));
}

TEST_F(ConnectorsE2eTest, WebhookBodiesHaveTheirOwnLimitAboveTheTrackingOne) {
  // Email providers post batches larger than a tracking request may be: 700 KB passes the webhook
  // limit (4 MiB by default) though it is over limits.max_request_bytes (500 KB).
  std::string big_order(kOrder);
  big_order.insert(big_order.size() - 1, R"(,"note":")" + std::string(700 * 1024, 'n') + "\"");
  HttpResponse accepted = PostShopify(big_order);
  EXPECT_EQ(accepted.status, 200) << accepted.body.substr(0, 300);

  std::string huge_order(kOrder);
  huge_order.insert(huge_order.size() - 1, R"(,"note":")" + std::string(5 << 20, 'n') + "\"");
  HttpResponse refused = PostShopify(huge_order);
  EXPECT_EQ(refused.status, 413) << refused.body.substr(0, 300);
  EXPECT_NE(refused.body.find("payload_too_large"), std::string::npos) << refused.body.substr(0, 300);
}

TEST_F(ConnectorsE2eTest, MetaHandshakeEchoesTheChallengeOnlyForTheRightToken) {
  auto ok = client_->Request("GET", "/v1/connectors/social/meta?writeKey=" + std::string(kInstaKey) +
                                        "&hub.mode=subscribe&hub.verify_token=vt-1&hub.challenge=15%2B09");
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(ok->status, 200) << ok->body;
  EXPECT_EQ(ok->body, "15+09");
  EXPECT_EQ(ok->headers["content-type"], "text/plain; charset=utf-8");

  auto wrong = client_->Request("GET", "/v1/connectors/social/meta?writeKey=" + std::string(kInstaKey) +
                                           "&hub.mode=subscribe&hub.verify_token=guess&hub.challenge=1");
  ASSERT_TRUE(wrong.ok());
  EXPECT_EQ(wrong->status, 403) << wrong->body;

  auto unknown = client_->Request("POST", "/v1/connectors/pos/square?writeKey=" + std::string(kShopKey), "{}");
  ASSERT_TRUE(unknown.ok());
  EXPECT_EQ(unknown->status, 404) << unknown->body;
  auto no_key = client_->Request("POST", "/v1/connectors/pos/shopify", std::string(kOrder));
  ASSERT_TRUE(no_key.ok());
  EXPECT_EQ(no_key->status, 401) << no_key->body;
}

TEST_F(ConnectorsE2eTest, PosCsvRowsAreStoredOnceAndBadRowsAreReportedByLine) {
  // A BOM, CRLF line ends, a quoted field with a comma, and one row (line 3) whose amount is no number.
  const std::string csv =
      "\xEF\xBB\xBFReceipt,Card,Email,Total,Store,Date,Note\r\n"
      "R-1,L-1,lea@example.com,12.50,S1,2024-03-01 10:15:00,\"hello, world\"\r\n"
      "R-2,L-2,,twelve,S1,2024-03-01 10:16:00,x\r\n"
      "R-3,,max@example.com,3.00,S2,2024-03-01 10:17:00,y\r\n";
  HttpResponse first = Post("pos/csv", kTillKey, csv, {{"Content-Type", "text/csv"}});
  ASSERT_EQ(first.status, 200) << first.body;
  EXPECT_NE(first.body.find(R"("accepted":2)"), std::string::npos) << first.body;
  EXPECT_NE(first.body.find(R"("index":3)"), std::string::npos) << "the bad row is line 3: " << first.body;
  EXPECT_NE(first.body.find(R"("code":"invalid_value")"), std::string::npos) << first.body;
  EXPECT_NE(first.body.find(R"("field":"Total")"), std::string::npos) << first.body;

  HttpResponse again = Post("pos/csv", kTillKey, csv, {{"Content-Type", "text/csv"}});
  ASSERT_EQ(again.status, 200) << again.body;
  EXPECT_NE(again.body.find(R"("accepted":0,"duplicates":2)"), std::string::npos) << again.body;

  // A source without connectors.csv cannot post CSV; a header that lacks a mapped column is a 400.
  HttpResponse unconfigured = Post("pos/csv", kShopKey, csv, {});
  EXPECT_EQ(unconfigured.status, 400) << unconfigured.body;
  EXPECT_NE(unconfigured.body.find("connector_not_configured"), std::string::npos) << unconfigured.body;
  HttpResponse no_date = Post("pos/csv", kTillKey, "Receipt,Card,Email,Total,Store\nR-9,L-9,,1,S1\n", {});
  EXPECT_EQ(no_date.status, 400) << no_date.body;
  EXPECT_NE(no_date.body.find("Date"), std::string::npos) << "the error names the missing column: " << no_date.body;
  HttpResponse no_key = Post("pos/csv", "not-a-key", csv, {});
  EXPECT_EQ(no_key.status, 401) << no_key.body;

  auto exit_code = server_->Terminate();
  ASSERT_TRUE(exit_code.ok()) << exit_code.status();
  std::map<std::string, int> counts;
  std::string first_properties;
  for (const auto& event : ReadLog(data_dir())) {
    ++counts[event.message_id];
    if (event.message_id == "pos-receipt-R-1") first_properties = event.properties;
    EXPECT_EQ(event.channel, "pos");
    EXPECT_EQ(event.event, "Order Completed");
  }
  EXPECT_EQ(counts, (std::map<std::string, int>{{"pos-receipt-R-1", 1}, {"pos-receipt-R-3", 1}}));
  EXPECT_NE(first_properties.find(R"("Note":"hello, world")"), std::string::npos)
      << "the quoted comma stays inside the field: " << first_properties;
}

}  // namespace
}  // namespace tessera::e2e
