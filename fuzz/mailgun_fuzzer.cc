// Fuzzes the Mailgun webhook translation. Mailgun signs only signature.timestamp + token (inside
// the body), so the seed corpus carries a signature block made with the fuzzer's signing key
// (timestamp "1700000000", token "fuzz-token"): mutations of the rest of the body keep it valid and
// reach the translation of event-data; mutations of the block exercise the signature checks.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "connectors/email_webhooks.h"
#include "fuzz/fuzz_checks.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace tessera::connectors;
  static const MailgunOptions options{.signing_key = "fuzz-mailgun-key"};
  WebhookRequest request;
  request.body = std::string_view(reinterpret_cast<const char*>(data), size);
  request.received_at = tessera::ingest::Timestamp(std::chrono::seconds(1'717'200'000));
  const absl::StatusOr<tessera::ingest::ParsedRequest> parsed = TranslateMailgunEvent(request, options);
  if (!parsed.ok()) {
    if (!absl::IsUnauthenticated(parsed.status())) tessera::fuzz::Fail("unexpected status", parsed.status().ToString());
    return 0;
  }
  tessera::fuzz::CheckParsedRequest(*parsed);
  if (parsed->events.size() > 1) tessera::fuzz::Fail("more than one event from one delivery");
  return 0;
}
