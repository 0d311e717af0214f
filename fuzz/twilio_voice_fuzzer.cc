// Fuzzes the Twilio Voice callback translation: form decoding, the signature's parameter sorting,
// RFC 2822 timestamps and the mapping. The input is split at its first newline into the raw query
// string and the form body; when the body decodes, it is signed over the fuzzer's public URL and
// that query with the fuzzer's auth token, as Twilio would, so that the mapping is reached.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "connectors/twilio_voice.h"
#include "fuzz/fuzz_checks.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace tessera::connectors;
  static const TwilioVoiceOptions options{
      .auth_token = "fuzz-twilio-token",
      .public_url = "https://cdp.example.com/v1/connectors/service/twilio-voice"};
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const size_t newline = input.find('\n');
  const std::string_view query =
      newline == std::string_view::npos ? std::string_view() : input.substr(0, newline);
  const std::string_view body = newline == std::string_view::npos ? input : input.substr(newline + 1);

  const std::optional<std::vector<FormParam>> params = DecodeForm(body);
  std::string signature;
  if (params) {
    signature = TwilioSignature(
        options.auth_token, options.public_url + (query.empty() ? "" : "?" + std::string(query)), *params);
  }
  WebhookRequest request;
  request.body = body;
  request.query = query;
  request.header = [&signature](std::string_view name) {
    return name == kTwilioSignatureHeader ? std::string_view(signature) : std::string_view();
  };
  request.received_at = tessera::ingest::Timestamp(std::chrono::seconds(1'717'200'000));
  const absl::StatusOr<tessera::ingest::ParsedRequest> parsed =
      TranslateTwilioVoiceCallback(request, options);
  if (!parsed.ok()) tessera::fuzz::Fail("signed callback refused", parsed.status().ToString());
  if (!params && !parsed->request_error) tessera::fuzz::Fail("undecodable body accepted");
  tessera::fuzz::CheckParsedRequest(*parsed);
  if (parsed->events.size() > 1) tessera::fuzz::Fail("more than one event from one callback");
  return 0;
}
