// Fuzzes the Shopify order webhook translation. The connector verifies the HMAC before it looks
// at the body and exposes no separate translation step, so every input is signed with the
// fuzzer's secret: the fuzzer then reaches the JSON translation with any body.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "absl/strings/escaping.h"
#include "connectors/shopify.h"
#include "connectors/signatures.h"
#include "fuzz/fuzz_checks.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace tessera::connectors;
  static const ShopifyOptions options{.secret = "fuzz-shopify-secret"};
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  const std::string signature = absl::Base64Escape(HmacSha256(options.secret, body));
  WebhookRequest request;
  request.body = body;
  request.header = [&signature](std::string_view name) {
    return name == kShopifyHmacHeader ? std::string_view(signature) : std::string_view();
  };
  request.received_at = tessera::ingest::Timestamp(std::chrono::seconds(1'717'200'000));
  const absl::StatusOr<tessera::ingest::ParsedRequest> parsed = TranslateShopifyOrder(request, options);
  if (!parsed.ok()) tessera::fuzz::Fail("signed body refused", parsed.status().ToString());
  tessera::fuzz::CheckParsedRequest(*parsed);
  if (parsed->events.size() > 1) tessera::fuzz::Fail("more than one event from one order");
  return 0;
}
