#include "resolve/service_recorder.h"

#include <algorithm>
#include <optional>
#include <string>
#include <string_view>

#include "absl/strings/ascii.h"
#include "simdjson.h"

namespace tessera::resolve {
namespace {

namespace dom = simdjson::dom;

enum class ServiceEvent { kNone, kTicket, kCall, kChat, kOtherContact };

struct Classified {
  ServiceEvent kind = ServiceEvent::kNone;
  std::string_view outcome;  // Of a contact: "completed", "missed", "not_connected".
};

Classified Classify(std::string_view name) {
  if (name == "Ticket Created" || name == "Ticket Updated" || name == "Ticket Solved") return {ServiceEvent::kTicket, ""};
  if (name == "Call Completed") return {ServiceEvent::kCall, "completed"};
  if (name == "Call Missed") return {ServiceEvent::kCall, "missed"};
  if (name == "Call Not Connected") return {ServiceEvent::kCall, "not_connected"};
  if (name == "Chat Completed") return {ServiceEvent::kChat, "completed"};
  if (name == "Chat Missed") return {ServiceEvent::kChat, "missed"};
  if (name == "Contact Completed") return {ServiceEvent::kOtherContact, "completed"};
  if (name == "Contact Missed") return {ServiceEvent::kOtherContact, "missed"};
  return {};
}

// The properties object's members as text: strings as they are, numbers as written (ticket ids
// arrive as either); anything else is absent.
class Properties {
 public:
  explicit Properties(std::string_view json) {
    thread_local dom::parser parser;
    if (json.empty() || parser.parse(json.data(), json.size()).get(object_) != simdjson::SUCCESS) valid_ = false;
  }

  std::string Text(std::string_view name) const {
    dom::element value;
    if (!valid_ || object_.at_key(name).get(value) != simdjson::SUCCESS) return {};
    std::string_view text;
    if (value.get(text) == simdjson::SUCCESS) return std::string(text);
    int64_t integer = 0;
    if (value.get(integer) == simdjson::SUCCESS) return std::to_string(integer);
    uint64_t unsigned_integer = 0;
    if (value.get(unsigned_integer) == simdjson::SUCCESS) return std::to_string(unsigned_integer);
    return {};
  }

  // properties.csat 1 / 0, else satisfaction "good" / "bad".
  std::optional<uint8_t> Score() const {
    dom::element value;
    if (valid_ && object_.at_key("csat").get(value) == simdjson::SUCCESS) {
      double number = -1;
      if (value.is_number() && value.get(number) == simdjson::SUCCESS && (number == 0 || number == 1)) {
        return static_cast<uint8_t>(number);
      }
    }
    const std::string satisfaction = Text("satisfaction");
    if (satisfaction == "good") return 1;
    if (satisfaction == "bad") return 0;
    return std::nullopt;
  }

 private:
  dom::object object_;
  bool valid_ = true;
};

std::string Lower(std::string text) {
  absl::AsciiStrToLower(&text);
  return text;
}

// Twilio's outbound-api and outbound-dial are outbound calls too.
std::string Direction(std::string text) {
  text = Lower(std::move(text));
  if (text.starts_with("outbound")) return "outbound";
  if (text.starts_with("inbound")) return "inbound";
  return text;
}

}  // namespace

bool RecordServiceEvent(const ingest::CanonicalEvent& event, uint64_t sequence, profile_store::Profile& profile) {
  if (event.type != ingest::EventType::kTrack || event.channel != "service") return false;
  const Classified classified = Classify(event.event);
  if (classified.kind == ServiceEvent::kNone) return false;
  const Properties properties(event.properties);
  std::string provider = properties.Text("provider");
  if (provider.empty()) provider = event.source;
  const std::optional<uint8_t> score = properties.Score();

  if (classified.kind == ServiceEvent::kTicket) {
    const std::string id = properties.Text("ticket_id");
    if (id.empty()) return false;
    std::string status = Lower(properties.Text("status"));
    if (status.empty()) status = event.event == "Ticket Solved" ? "solved" : "open";
    profile.service.RecordTicket(provider, id, status, properties.Text("subject"), Lower(properties.Text("priority")),
                                 event.timestamp, sequence);
    if (score) profile.service.RecordRating(profile_store::TicketKey(provider, id), *score, event.timestamp, sequence);
    return true;
  }

  std::string id = properties.Text(classified.kind == ServiceEvent::kCall ? "call_sid" : "contact_id");
  if (id.empty()) id = properties.Text("contact_id");
  if (id.empty()) id = event.message_id;
  std::string kind = "call";
  if (classified.kind != ServiceEvent::kCall) {
    kind = Lower(properties.Text("contact_type"));
    if (kind.empty()) kind = classified.kind == ServiceEvent::kChat ? "chat" : "other";
  }
  std::string reason = properties.Text("reason");
  if (reason.empty()) reason = properties.Text("queue");
  std::string key = classified.kind == ServiceEvent::kCall ? "call:" : "contact:";
  key.append(provider).append(":").append(id);
  if (score) profile.service.RecordRating(key, *score, event.timestamp, sequence);
  profile.service.RecordContact(profile_store::ServiceContact{.time = event.timestamp,
                                                              .sequence = sequence,
                                                              .key = std::move(key),
                                                              .kind = std::move(kind),
                                                              .provider = std::move(provider),
                                                              .direction = Direction(properties.Text("direction")),
                                                              .outcome = std::string(classified.outcome),
                                                              .reason = std::move(reason)});
  return true;
}

}  // namespace tessera::resolve
