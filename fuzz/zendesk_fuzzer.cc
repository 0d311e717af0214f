// Fuzzes the Zendesk webhook translation (trigger and event-subscription shapes). The connector
// verifies X-Zendesk-Webhook-Signature over timestamp + body before it reads the body and has no
// separate translation step, so every input is signed with the fuzzer's secret and a timestamp
// equal to the request's receive time: the fuzzer then reaches the JSON translation with any body.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "connectors/helpdesk_webhooks.h"
#include "connectors/signatures.h"
#include "fuzz/fuzz_checks.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace tessera::connectors;
  static const ZendeskOptions options{.secret = "fuzz-zendesk-secret", .max_age_seconds = 300};
  static constexpr std::string_view kTimestamp = "2024-06-01T00:00:00Z";  // 1717200000
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  const std::string signature =
      Base64Encode(HmacSha256(options.secret, std::string(kTimestamp) + std::string(body)));
  WebhookRequest request;
  request.body = body;
  request.header = [&signature](std::string_view name) {
    if (name == kZendeskSignatureHeader) return std::string_view(signature);
    if (name == kZendeskTimestampHeader) return kTimestamp;
    return std::string_view();
  };
  request.received_at = tessera::ingest::Timestamp(std::chrono::seconds(1'717'200'000));
  const absl::StatusOr<tessera::ingest::ParsedRequest> parsed = TranslateZendeskWebhook(request, options);
  if (!parsed.ok()) tessera::fuzz::Fail("signed body refused", parsed.status().ToString());
  tessera::fuzz::CheckParsedRequest(*parsed);
  if (parsed->events.size() > 1) tessera::fuzz::Fail("more than one event from one delivery");
  return 0;
}
