#include "activation/destination.h"

#include <algorithm>
#include <array>
#include <utility>

namespace tessera::activation {
namespace {

constexpr std::array<std::pair<DestinationType, std::string_view>, 7> kTypeNames = {{
    {DestinationType::kWebhook, "webhook"},
    {DestinationType::kMetaCustomAudience, "meta_custom_audience"},
    {DestinationType::kGoogleCustomerMatch, "google_customer_match"},
    {DestinationType::kSendgridContacts, "sendgrid_contacts"},
    {DestinationType::kMailgunList, "mailgun_list"},
    {DestinationType::kKakaoAlimtalk, "kakao_alimtalk"},
    {DestinationType::kNats, "nats"},
}};

bool Contains(const std::vector<std::string>& list, std::string_view value) {
  return std::find(list.begin(), list.end(), value) != list.end();
}

}  // namespace

std::string_view DestinationTypeName(DestinationType type) {
  for (const auto& [known, name] : kTypeNames) {
    if (known == type) return name;
  }
  return "unknown";
}

bool ParseDestinationType(std::string_view name, DestinationType& type) {
  for (const auto& [known, known_name] : kTypeNames) {
    if (known_name == name) {
      type = known;
      return true;
    }
  }
  return false;
}

bool DestinationSpec::WantsEvent(std::string_view type, std::string_view event_name) const {
  if (!Contains(event_types, type)) return false;
  return type != "track" || event_names.empty() || Contains(event_names, event_name);
}

bool DestinationSpec::WantsAudience(std::string_view audience) const { return Contains(audiences, audience); }

}  // namespace tessera::activation
