#pragma once

// A destination as delivery runs it: where a space's events and audience changes go, which of them,
// in which wire format, how fast, and for how long a failing request is retried. tools/ builds these
// from the configuration's `destinations` section (config/config.h: DestinationConfig).

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace tessera::activation {

enum class DestinationType { kWebhook, kMetaCustomAudience, kGoogleCustomerMatch, kSendgridContacts,
                             kMailgunList, kKakaoAlimtalk, kNats };

// "webhook", "meta_custom_audience", ... (the configuration's spelling).
std::string_view DestinationTypeName(DestinationType type);
// False for an unknown name.
bool ParseDestinationType(std::string_view name, DestinationType& type);

struct DestinationSpec {
  std::string name = {};  // Unique in the server: 1 to 64 of a-z, 0-9, '_' and '-'.
  std::string space = "default";
  DestinationType type = DestinationType::kWebhook;
  std::string url = {};
  std::string secret = {};
  std::vector<std::string> event_types = {};  // Empty: no events, only audience changes.
  std::vector<std::string> event_names = {};  // For track events: only these (empty: all).
  std::vector<std::string> audiences = {};    // Whose entries and exits are sent.
  std::string consent = {};                   // Purpose a profile must have granted (empty: none).
  size_t batch_events = 100;
  size_t requests_per_second = 10;
  std::chrono::milliseconds timeout{10'000};
  std::chrono::seconds dead_letter_after{86'400};
  std::string options_json = "{}";
  std::chrono::milliseconds retry_initial{500};  // The first back-off's ceiling (then doubling).
  std::chrono::milliseconds retry_max{60'000};   // The longest back-off.
  std::string ca_file = {};  // PEM roots an https server must chain to (empty: the system's).
  // The free-text properties (ingest/free_text.h) of service events this destination is sent;
  // every format removes the others from the events it sends. Empty: none.
  std::vector<std::string> free_text = {};

  // Whether events of this type (and track name) are sent.
  bool WantsEvent(std::string_view type, std::string_view event_name) const;
  bool WantsAudience(std::string_view audience) const;
};

}  // namespace tessera::activation
