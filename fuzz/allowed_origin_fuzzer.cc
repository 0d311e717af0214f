// Fuzzes allowed-origin entries and Origin headers (config/allowed_origin.h): the input is split at
// its first newline into an entry and an origin. An accepted entry normalizes to itself; an origin
// that any list allows is a well-formed origin (so nothing else is ever echoed into a header); and
// an exact entry allows exactly its own origin.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "config/allowed_origin.h"
#include "fuzz/fuzz_checks.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const size_t newline = input.find('\n');
  const std::string_view entry = input.substr(0, newline);
  const std::string_view origin = newline == std::string_view::npos ? input : input.substr(newline + 1);

  absl::StatusOr<std::string> normalized = tessera::config::NormalizeAllowedOrigin(entry);
  if (normalized.ok()) {
    absl::StatusOr<std::string> again = tessera::config::NormalizeAllowedOrigin(*normalized);
    if (!again.ok() || *again != *normalized)
      tessera::fuzz::Fail("normalizing is not idempotent", *normalized);
    const std::vector<std::string> entries = {*normalized};
    if (tessera::config::OriginAllowed(entries, origin)) {
      absl::StatusOr<std::string> as_entry = tessera::config::NormalizeAllowedOrigin(origin);
      if (origin != "null" && (!as_entry.ok() || as_entry->find('*') != std::string::npos)) {
        tessera::fuzz::Fail("an allowed Origin is not an origin", std::string(origin));
      }
    }
    if (normalized->find('*') == std::string::npos && normalized->find(':') != std::string::npos &&
        !tessera::config::OriginAllowed(entries, *normalized)) {
      tessera::fuzz::Fail("an exact entry does not allow its own origin", *normalized);
    }
  }
  const std::vector<std::string> any = {"*"};
  if (tessera::config::OriginAllowed(any, origin) && origin != "null") {
    if (!tessera::config::NormalizeAllowedOrigin(origin).ok()) tessera::fuzz::Fail("* allowed a non-origin");
  }
  return 0;
}
