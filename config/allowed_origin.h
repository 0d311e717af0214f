#pragma once

// Allowed origins: which web pages may call Tessera from a browser (CORS). The configuration lists
// them per source (`sources[i].allowed_origins`, for the tracking paths) and once for the read and
// admin API (`cors.api_origins`). Each entry is one of
//   "*"                          any origin
//   "https://shop.example.com"   exactly that origin (scheme, host, optional port; no path)
//   "https://*.example.com"      any subdomain of example.com (not example.com itself), same scheme
// Schemes and hosts compare case-insensitively, as browsers serialize origins in lower case.

#include <span>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace tessera::config {

// The entry in its canonical (lower-case) form, or InvalidArgument saying what is wrong with it
// ("has a path", "is not scheme://host[:port]", ...); the caller adds the configuration key.
absl::StatusOr<std::string> NormalizeAllowedOrigin(std::string_view entry);

// Whether the `Origin` header value `origin` matches one of the canonical entries. The opaque
// origin "null" (sandboxed frames, file: pages) matches only "*".
bool OriginAllowed(std::span<const std::string> entries, std::string_view origin);

}  // namespace tessera::config
