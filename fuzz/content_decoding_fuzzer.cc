// Fuzzes the decoding of compressed request bodies (api/content_decoding.h): the first byte picks
// the Content-Encoding and the limit, the rest is the body. Whatever the bytes, decoding must end
// with a body no longer than the limit or one of the three documented errors, and leave the body
// as it was on an error.

#include <zlib.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "api/content_decoding.h"
#include "fuzz/fuzz_checks.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  static constexpr std::array<std::string_view, 6> kEncodings = {"gzip",          "deflate",  "x-gzip",
                                                                 "gzip, deflate", "identity", "br"};
  const std::string_view encoding = kEncodings[data[0] % kEncodings.size()];
  const size_t limit = 1 + (data[0] >> 3) * 512;  // 1 byte to 16 KiB.
  const std::string original(reinterpret_cast<const char*>(data) + 1, size - 1);
  std::string body = original;
  const absl::Status status = tessera::api::DecodeContent(encoding, body, limit);
  if (status.ok()) {
    if (encoding != "identity" && body.size() > limit) tessera::fuzz::Fail("decoded body over the limit");
    if (encoding == "identity" && body != original) tessera::fuzz::Fail("identity changed the body");
    return 0;
  }
  if (!absl::IsResourceExhausted(status) && !absl::IsInvalidArgument(status) &&
      !absl::IsUnimplemented(status)) {
    tessera::fuzz::Fail("undocumented error", status.ToString());
  }
  if (body != original) tessera::fuzz::Fail("an error changed the body");
  if (encoding == "br" && !absl::IsUnimplemented(status)) tessera::fuzz::Fail("br is not supported");
  return 0;
}
