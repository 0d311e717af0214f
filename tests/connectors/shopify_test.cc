#include "connectors/shopify.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "base/time.h"
#include "connectors/signatures.h"
#include "simdjson.h"
#include "tests/connectors/sample_payloads.h"

namespace tessera::connectors {
namespace {

constexpr std::string_view kSecret = "hush-test-secret";

using testing::ReadSample;

std::string Sign(std::string_view body, std::string_view secret = kSecret) {
  const std::string digest = HmacSha256(secret, body);
  return absl::Base64Escape(absl::string_view(digest.data(), digest.size()));
}

// A delivery of `body` with the given signature header (none when empty).
WebhookRequest Delivery(const std::string& body, std::string signature, ingest::Timestamp received_at = {}) {
  WebhookRequest request;
  request.body = body;
  request.header = [signature = std::move(signature)](std::string_view name) {
    return absl::EqualsIgnoreCase(absl::string_view(name.data(), name.size()), "x-shopify-hmac-sha256")
               ? std::string_view(signature)
               : std::string_view();
  };
  request.received_at = received_at;
  return request;
}

absl::StatusOr<ingest::ParsedRequest> TranslateSigned(const std::string& body) {
  return TranslateShopifyOrder(Delivery(body, Sign(body)), ShopifyOptions{std::string(kSecret)});
}

ingest::Timestamp Iso(std::string_view text) { return base::ParseIso8601(text).value(); }

// The only event of a translation that must have succeeded.
ingest::CanonicalEvent OnlyEvent(const absl::StatusOr<ingest::ParsedRequest>& result) {
  EXPECT_TRUE(result.ok()) << result.status();
  EXPECT_FALSE(result->request_error.has_value())
      << result->request_error->field << ": " << result->request_error->message;
  EXPECT_EQ(result->events.size(), 1u);
  if (!result.ok() || result->events.empty()) return {};
  return result->events.front();
}

// The request_error of a translation that must have been refused as malformed.
ingest::FieldError RequestError(const absl::StatusOr<ingest::ParsedRequest>& result) {
  EXPECT_TRUE(result.ok()) << result.status();
  if (!result.ok() || !result->request_error) {
    ADD_FAILURE() << "expected a request_error";
    return {};
  }
  EXPECT_TRUE(result->events.empty());
  return *result->request_error;
}

TEST(ShopifyOrderTest, TranslatesTheSampleOrderIntoOrderCompleted) {
  const std::string body = ReadSample("shopify/order.json");
  const ingest::Timestamp received = Iso("2024-05-01T12:00:00Z");
  const absl::StatusOr<ingest::ParsedRequest> result =
      TranslateShopifyOrder(Delivery(body, Sign(body), received), ShopifyOptions{std::string(kSecret)});
  const ingest::CanonicalEvent event = OnlyEvent(result);

  EXPECT_EQ(event.message_id, "shopify-order-450789469");
  EXPECT_EQ(event.type, ingest::EventType::kTrack);
  EXPECT_EQ(event.event, "Order Completed");
  EXPECT_TRUE(event.space.empty() && event.source.empty() && event.channel.empty())
      << "the pipeline stamps these";
  EXPECT_EQ(event.timestamp, Iso("2008-01-10T16:00:00Z")) << "created_at, as the sample has no processed_at";
  EXPECT_EQ(event.original_timestamp, Iso("2008-01-10T16:00:00Z"));
  EXPECT_EQ(event.received_at, received);

  simdjson::dom::parser parser;
  simdjson::dom::element properties = parser.parse(event.properties);
  EXPECT_EQ(std::string_view(properties["order_id"]), "450789469");
  EXPECT_EQ(std::string_view(properties["checkout_id"]), "450789469");
  EXPECT_EQ(int64_t(properties["order_number"]), 1001);
  EXPECT_DOUBLE_EQ(double(properties["total"]), 409.94);
  EXPECT_DOUBLE_EQ(double(properties["subtotal"]), 398.0);
  EXPECT_DOUBLE_EQ(double(properties["revenue"]), 398.0);
  EXPECT_DOUBLE_EQ(double(properties["tax"]), 11.94);
  EXPECT_DOUBLE_EQ(double(properties["discount"]), 0.0);
  EXPECT_DOUBLE_EQ(double(properties["shipping"]), 0.0);
  EXPECT_EQ(std::string_view(properties["coupon"]), "TENOFF");
  EXPECT_EQ(std::string_view(properties["currency"]), "USD");
  EXPECT_EQ(std::string_view(properties["source_name"]), "web");
  simdjson::dom::array products = properties["products"];
  ASSERT_EQ(products.size(), 3u) << event.properties;
  simdjson::dom::element third = products.at(2);
  EXPECT_EQ(std::string_view(third["product_id"]), "632910392");
  EXPECT_EQ(std::string_view(third["sku"]), "IPOD2008BLACK");
  EXPECT_EQ(std::string_view(third["name"]), "IPod Nano - 8gb - black");
  EXPECT_DOUBLE_EQ(double(third["price"]), 199.0);
  EXPECT_EQ(int64_t(third["quantity"]), 1);
  EXPECT_EQ(std::string_view(third["variant"]), "black");

  simdjson::dom::parser context_parser;
  simdjson::dom::element context = context_parser.parse(event.context);
  simdjson::dom::element external = context["externalIds"].at(0);
  EXPECT_EQ(std::string_view(external["id"]), "207119551");
  EXPECT_EQ(std::string_view(external["type"]), "shopify_customer_id");
  EXPECT_EQ(std::string_view(external["collection"]), "users");
  EXPECT_EQ(std::string_view(external["encoding"]), "none");
  EXPECT_EQ(std::string_view(context["traits"]["email"]), "bob.norman@hostmail.com");
  EXPECT_EQ(std::string_view(context["traits"]["phone"]), "555-625-1199") << "the billing address's phone";
  EXPECT_EQ(std::string_view(context["traits"]["firstName"]), "Bob");
  EXPECT_EQ(std::string_view(context["traits"]["lastName"]), "Norman");
}

TEST(ShopifyOrderTest, AcceptsABareOrderBodyAsWebhooksSendIt) {
  // orders.json's first order, as an orders/create webhook body (no wrapper).
  const std::string list = ReadSample("shopify/orders.json");
  simdjson::dom::parser parser;
  const std::string body = simdjson::minify(parser.parse(list)["orders"].at(0));
  const ingest::CanonicalEvent event = OnlyEvent(TranslateSigned(body));
  EXPECT_EQ(event.message_id, "shopify-order-450789469");
  EXPECT_EQ(event.timestamp, Iso("2008-01-10T16:00:00Z")) << "processed_at";
  simdjson::dom::parser context_parser;
  simdjson::dom::element context = context_parser.parse(event.context);
  EXPECT_EQ(std::string_view(context["traits"]["phone"]), "+557734881234")
      << "the order's own phone comes first";
  simdjson::dom::parser properties_parser;
  simdjson::dom::element properties = properties_parser.parse(event.properties);
  EXPECT_DOUBLE_EQ(double(properties["total"]), 598.94);
  EXPECT_DOUBLE_EQ(double(properties["discount"]), 10.0);
}

TEST(ShopifyOrderTest, ReplayedWebhookKeepsTheSameMessageId) {
  const std::string body = ReadSample("shopify/order.json");
  const absl::StatusOr<ingest::ParsedRequest> first = TranslateShopifyOrder(
      Delivery(body, Sign(body), Iso("2024-05-01T12:00:00Z")), ShopifyOptions{std::string(kSecret)});
  const absl::StatusOr<ingest::ParsedRequest> replay = TranslateShopifyOrder(
      Delivery(body, Sign(body), Iso("2024-05-01T12:05:00Z")), ShopifyOptions{std::string(kSecret)});
  EXPECT_EQ(OnlyEvent(first).message_id, OnlyEvent(replay).message_id);
  EXPECT_EQ(OnlyEvent(first).timestamp, OnlyEvent(replay).timestamp) << "event time comes from the order";
}

TEST(ShopifySignatureTest, RefusesAWrongSignature) {
  const std::string body = ReadSample("shopify/order.json");
  const absl::StatusOr<ingest::ParsedRequest> result = TranslateShopifyOrder(
      Delivery(body, Sign(body, "another-secret")), ShopifyOptions{std::string(kSecret)});
  ASSERT_TRUE(absl::IsUnauthenticated(result.status())) << result.status();
  EXPECT_TRUE(absl::StrContains(result.status().message(), "does not match")) << result.status();
}

TEST(ShopifySignatureTest, RefusesATamperedBody) {
  const std::string body = ReadSample("shopify/order.json");
  std::string tampered = body;
  tampered.replace(tampered.find("409.94"), 6, "009.94");
  const absl::StatusOr<ingest::ParsedRequest> result =
      TranslateShopifyOrder(Delivery(tampered, Sign(body)), ShopifyOptions{std::string(kSecret)});
  EXPECT_TRUE(absl::IsUnauthenticated(result.status())) << result.status();
}

TEST(ShopifySignatureTest, RefusesAMissingHeader) {
  const std::string body = ReadSample("shopify/order.json");
  const absl::StatusOr<ingest::ParsedRequest> result =
      TranslateShopifyOrder(Delivery(body, ""), ShopifyOptions{std::string(kSecret)});
  ASSERT_TRUE(absl::IsUnauthenticated(result.status())) << result.status();
  EXPECT_TRUE(absl::StrContains(result.status().message(), "missing X-Shopify-Hmac-Sha256"))
      << result.status();
}

TEST(ShopifySignatureTest, RefusesEverythingWithoutAConfiguredSecret) {
  const std::string body = ReadSample("shopify/order.json");
  const absl::StatusOr<ingest::ParsedRequest> result =
      TranslateShopifyOrder(Delivery(body, Sign(body, "")), ShopifyOptions{});
  ASSERT_TRUE(absl::IsUnauthenticated(result.status())) << result.status();
  EXPECT_TRUE(absl::StrContains(result.status().message(), "no secret configured")) << result.status();
}

TEST(ShopifySignatureTest, ChecksTheSignatureBeforeParsing) {
  const absl::StatusOr<ingest::ParsedRequest> result =
      TranslateShopifyOrder(Delivery("not json", "AAAA"), ShopifyOptions{std::string(kSecret)});
  EXPECT_TRUE(absl::IsUnauthenticated(result.status())) << result.status();
}

TEST(ShopifyIdentityTest, OrderWithoutCustomerButWithEmail) {
  const ingest::CanonicalEvent event =
      OnlyEvent(TranslateSigned(R"({"id":1,"email":"guest@example.com","total_price":"5.00"})"));
  EXPECT_EQ(event.message_id, "shopify-order-1");
  EXPECT_EQ(event.context, R"({"traits":{"email":"guest@example.com"}})");
  EXPECT_EQ(event.properties, R"({"order_id":"1","total":5})");
}

TEST(ShopifyIdentityTest, CustomerIdAloneIsEnough) {
  const ingest::CanonicalEvent event = OnlyEvent(
      TranslateSigned(R"({"id":2,"email":null,"phone":null,"customer":{"id":207119551,"email":null}})"));
  EXPECT_EQ(event.context,
            R"({"externalIds":[{"id":"207119551","type":"shopify_customer_id","collection":"users",)"
            R"("encoding":"none"}],"traits":{}})");
}

TEST(ShopifyIdentityTest, CustomerEmailIsUsedWhenTheOrderHasNone) {
  const ingest::CanonicalEvent event = OnlyEvent(
      TranslateSigned(R"({"id":3,"customer":{"id":9,"email":"c@example.com","phone":"+4915112345678"}})"));
  EXPECT_TRUE(absl::StrContains(event.context, R"("email":"c@example.com")")) << event.context;
  EXPECT_TRUE(absl::StrContains(event.context, R"("phone":"+4915112345678")")) << event.context;
}

TEST(ShopifyIdentityTest, OrderNobodyCanBeFoundByIsRefused) {
  const ingest::FieldError error =
      RequestError(TranslateSigned(R"({"id":4,"email":"","customer":null,"billing_address":{"city":"X"}})"));
  EXPECT_EQ(error.code, ingest::error_code::kMissingIdentity);
  EXPECT_EQ(error.field, "customer");
}

TEST(ShopifyMalformedTest, NotJson) {
  const ingest::FieldError error = RequestError(TranslateSigned("{\"id\":"));
  EXPECT_EQ(error.code, ingest::error_code::kInvalidJson);
}

TEST(ShopifyMalformedTest, NotAnObject) {
  const ingest::FieldError error = RequestError(TranslateSigned("[1,2]"));
  EXPECT_EQ(error.code, ingest::error_code::kInvalidType);
  EXPECT_TRUE(absl::StrContains(error.message, "got an array")) << error.message;
}

TEST(ShopifyMalformedTest, MissingIdNamesThePath) {
  ingest::FieldError error = RequestError(TranslateSigned(R"({"email":"a@b.c"})"));
  EXPECT_EQ(error.code, ingest::error_code::kMissingField);
  EXPECT_EQ(error.field, "id");
  error = RequestError(TranslateSigned(R"({"order":{"email":"a@b.c"}})"));
  EXPECT_EQ(error.code, ingest::error_code::kMissingField);
  EXPECT_EQ(error.field, "order.id");
}

TEST(ShopifyMalformedTest, BadPriceNamesTheLineItem) {
  std::string body = ReadSample("shopify/order.json");
  size_t position = 0;
  for (int occurrence = 0; occurrence < 3; ++occurrence) {
    position = body.find("\"price\": \"199.00\"", position + 1);
  }
  ASSERT_NE(position, std::string::npos);
  body.replace(position, 17, "\"price\": \"19x.00\"");
  const ingest::FieldError error = RequestError(TranslateSigned(body));
  EXPECT_EQ(error.code, ingest::error_code::kInvalidValue);
  EXPECT_EQ(error.field, "order.line_items[2].price");
  EXPECT_TRUE(absl::StrContains(error.message, "19x.00")) << error.message;
}

TEST(ShopifyMalformedTest, WrongTypesNameTheField) {
  ingest::FieldError error =
      RequestError(TranslateSigned(R"({"id":5,"email":"a@b.c","line_items":[{"quantity":"2"}]})"));
  EXPECT_EQ(error.code, ingest::error_code::kInvalidType);
  EXPECT_EQ(error.field, "line_items[0].quantity");

  error = RequestError(TranslateSigned(R"({"id":5,"customer":"bob"})"));
  EXPECT_EQ(error.code, ingest::error_code::kInvalidType);
  EXPECT_EQ(error.field, "customer");

  error = RequestError(TranslateSigned(R"({"id":{"x":1},"email":"a@b.c"})"));
  EXPECT_EQ(error.code, ingest::error_code::kInvalidType);
  EXPECT_EQ(error.field, "id");

  error = RequestError(TranslateSigned(R"({"id":5,"email":"a@b.c","total_price":true})"));
  EXPECT_EQ(error.code, ingest::error_code::kInvalidType);
  EXPECT_EQ(error.field, "total_price");
}

TEST(ShopifyMalformedTest, BadTimestamp) {
  const ingest::FieldError error =
      RequestError(TranslateSigned(R"({"id":6,"email":"a@b.c","created_at":"yesterday"})"));
  EXPECT_EQ(error.code, ingest::error_code::kInvalidTimestamp);
  EXPECT_EQ(error.field, "created_at");
}

TEST(ShopifyOrderTest, IgnoresUnknownMembersAndFallsBackToReceivedAt) {
  const ingest::Timestamp received = Iso("2024-05-01T12:00:00Z");
  const std::string body = R"({"id":7,"email":"a@b.c","brand_new_field":{"x":[1,2]},"line_items":[]})";
  const ingest::CanonicalEvent event = OnlyEvent(
      TranslateShopifyOrder(Delivery(body, Sign(body), received), ShopifyOptions{std::string(kSecret)}));
  EXPECT_EQ(event.properties, R"({"order_id":"7","products":[]})");
  EXPECT_EQ(event.timestamp, received);
  EXPECT_FALSE(event.original_timestamp.has_value());
}

}  // namespace
}  // namespace tessera::connectors
