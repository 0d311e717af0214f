#pragma once

// Consent purposes: the names under which a profile keeps a person's consent ("analytics",
// "marketing_email", "sms", ...). There is no fixed list: any name of 1 to 64 of [a-z0-9_] is a
// purpose. Names from events (Segment's categoryPreferences such as "Advertising" or
// "Functional Cookies"), from audience definitions and from export requests are all brought to that
// form by one function, so that the same purpose is spelled one way everywhere.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace tessera::privacy {

inline constexpr size_t kMaxConsentPurposeLength = 64;

// `name` lower-cased (ASCII), with spaces and dashes turned into '_'; nullopt unless the result is
// 1 to 64 of [a-z0-9_]. "Marketing Email" -> "marketing_email"; "e-mail!" -> nullopt.
std::optional<std::string> NormalizeConsentPurpose(std::string_view name);

// The sentence error messages use for a name NormalizeConsentPurpose refuses.
inline constexpr std::string_view kConsentPurposeForm =
    "a consent purpose is 1 to 64 of a-z, 0-9 and _ (upper case is lowered, spaces and dashes become _)";

}  // namespace tessera::privacy
