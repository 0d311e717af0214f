// Fuzzes the Freshdesk automation webhook translation. Freshdesk does not sign; the fuzzer
// configures no shared secret, so every input reaches the JSON translation.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "connectors/helpdesk_webhooks.h"
#include "fuzz/fuzz_checks.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace tessera::connectors;
  static const FreshdeskOptions options{};
  WebhookRequest request;
  request.body = std::string_view(reinterpret_cast<const char*>(data), size);
  request.received_at = tessera::ingest::Timestamp(std::chrono::seconds(1'717'200'000));
  const absl::StatusOr<tessera::ingest::ParsedRequest> parsed = TranslateFreshdeskWebhook(request, options);
  if (!parsed.ok()) tessera::fuzz::Fail("unsigned connector refused a body", parsed.status().ToString());
  tessera::fuzz::CheckParsedRequest(*parsed);
  if (parsed->events.size() > 1) tessera::fuzz::Fail("more than one event from one delivery");
  return 0;
}
