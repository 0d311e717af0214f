#pragma once

// Identifiers: the (type, value) pairs that tie events to people. Types are lower-case names
// ([a-z0-9_]{1,64}); the built-in ones are below, configuration and connectors add more.

#include <chrono>
#include <string>
#include <string_view>
#include <tuple>

namespace tessera::identity {

// Microseconds since the Unix epoch, UTC (the same representation as ingest::Timestamp).
using Timestamp = std::chrono::sys_time<std::chrono::microseconds>;

namespace identifier_type {
inline constexpr std::string_view kUserId = "user_id";
inline constexpr std::string_view kAnonymousId = "anonymous_id";
inline constexpr std::string_view kEmail = "email";
inline constexpr std::string_view kPhone = "phone";
inline constexpr std::string_view kDeviceId = "device_id";
inline constexpr std::string_view kIdfa = "idfa";
inline constexpr std::string_view kGaid = "gaid";
inline constexpr std::string_view kLoyaltyId = "loyalty_id";
inline constexpr std::string_view kFacebookPsid = "fb_psid";
inline constexpr std::string_view kInstagramSid = "ig_sid";
inline constexpr std::string_view kShopifyCustomerId = "shopify_customer_id";  // From the Shopify connector.
// From the service channel's connectors: the helpdesk's requester ids, and the call a Twilio
// callback is about (so a recording's callback, which carries no number, joins its call's person).
inline constexpr std::string_view kZendeskUserId = "zendesk_user_id";
inline constexpr std::string_view kFreshdeskContactId = "freshdesk_contact_id";
inline constexpr std::string_view kTwilioCallSid = "twilio_call_sid";
}  // namespace identifier_type

// A normalized identifier: what the graph links.
struct Identifier {
  std::string type;
  std::string value;

  friend bool operator==(const Identifier&, const Identifier&) = default;
  friend auto operator<=>(const Identifier& a, const Identifier& b) {
    return std::tie(a.type, a.value) <=> std::tie(b.type, b.value);
  }
  template <typename H>
  friend H AbslHashValue(H state, const Identifier& id) {
    return H::combine(std::move(state), id.type, id.value);
  }
};

// An identifier as found in an event, before normalization.
struct RawIdentifier {
  std::string type;
  std::string value;
  std::string field;  // Where it was found, e.g. "context.traits.email" (for warnings).
};

// "type:value", the form used in APIs and messages.
inline std::string ToString(const Identifier& id) { return id.type + ":" + id.value; }

}  // namespace tessera::identity
