#pragma once

// Request bodies sent with a Content-Encoding (RFC 9110 section 8.4), as RudderStack's Node SDK
// sends every batch (gzip) and as any client may: decoded with zlib before a handler sees them.
//   gzip, x-gzip   one or more gzip members
//   deflate        the zlib format, or a raw deflate stream (what some clients send instead)
//   identity       unchanged
// A list ("gzip, identity") is undone in reverse order. The decoded body is limited like the body
// itself: decoding stops as soon as the output would pass `limit`, so a decompression bomb costs
// at most `limit` bytes of output (and the compressed input, itself limited) and no more CPU than
// producing them.

#include <cstddef>
#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace tessera::api {

// Replaces `body` by its decoded form. Errors, with a message for the client:
//   ResourceExhausted   the decoded body would exceed `limit` bytes (answer 413);
//   InvalidArgument     corrupt or truncated data, or bytes after the end of the stream (400);
//   Unimplemented       an encoding other than the above (415).
// On an error `body` is left as it was.
absl::Status DecodeContent(std::string_view content_encoding, std::string& body, size_t limit);

}  // namespace tessera::api
