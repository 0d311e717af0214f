// Fuzzes the Meta (Messenger, Instagram) webhook translation and the subscription handshake's
// query parsing. TranslateMetaWebhook checks X-Hub-Signature-256 first and has no separate
// translation step, so every input is signed with the fuzzer's app secret; the same bytes are
// also read as the handshake's raw query string.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "connectors/meta_webhooks.h"
#include "connectors/signatures.h"
#include "fuzz/fuzz_checks.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace tessera::connectors;
  static const MetaOptions options{.app_secret = "fuzz-meta-secret", .verify_token = "fuzz-token"};
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  const std::string signature = "sha256=" + HexEncode(HmacSha256(options.app_secret, body));
  WebhookRequest request;
  request.body = body;
  request.header = [&signature](std::string_view name) {
    return name == "X-Hub-Signature-256" ? std::string_view(signature) : std::string_view();
  };
  request.received_at = tessera::ingest::Timestamp(std::chrono::seconds(1'717'200'000));
  const absl::StatusOr<tessera::ingest::ParsedRequest> parsed = TranslateMetaWebhook(request, options);
  if (!parsed.ok()) tessera::fuzz::Fail("signed body refused", parsed.status().ToString());
  tessera::fuzz::CheckParsedRequest(*parsed);

  const absl::StatusOr<std::string> challenge = MetaVerificationChallenge(body, options);
  if (challenge.ok() && challenge->size() > body.size()) tessera::fuzz::Fail("challenge longer than the query");
  return 0;
}
